// Checkpoints: everything a training run needs to resume exactly, in one
// safetensors file (weights/safetensors.h, written atomically):
//
//   tensors   "<module>.<key>"            each module's state_dict    ("G_A.model.1.weight")
//             "<optimizer>.state.<i>.<n>" each optimizer's tensors   ("optimizer_G.state.0.exp_avg")
//             "<set>.<key>"               each tensor set's tensors     ("fake_A_pool.0")
//             "rng"                       the Generator's state: int64 [6] = xoshiro256** s[0..3],
//                                         has_spare, the bits of the Box-Muller spare
//   metadata  "stylegrad_checkpoint": JSON {"format": 1, "epoch": E, "iteration": I,
//             "float_dtype": "float32" | "float64", "modules": [names],
//             "optimizers": {name: state_dict JSON}, "schedulers": {name: state_dict JSON},
//             "tensor_sets": [names] (absent in older files: none), "rng": true | false}
//
// Names are the caller's (e.g. "G_A", "optimizer_G", "scheduler_G", "fake_A_pool"): unique,
// non-empty, without '.', and not "rng". load_checkpoint checks every object it is
// given against the file (a missing or unexpected key, a wrong shape: one line
// naming the key) and then loads them in the order modules, optimizers,
// schedulers, tensor sets, generator; an error while loading an optimizer or scheduler leaves
// the objects before it loaded.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "nn/optim.h"

namespace sg {
class Generator;
}

namespace sg::nn {

class Module;
class Scheduler;

// State that is neither a module's nor an optimizer's, whose keys and shapes
// the file decides (e.g. an image pool: as many images as it holds): save()
// gives the tensors to write, load() receives exactly those read back.
struct TensorSet {
  std::function<NamedTensors()> save;
  std::function<void(const NamedTensors&)> load;
};

// The objects of a training run, by name (pointers not owned), and its
// counters. Save reads them; load writes into them (and sets epoch and iteration).
struct Checkpoint {
  std::vector<std::pair<std::string, Module*>> modules;
  std::vector<std::pair<std::string, Optimizer*>> optimizers;
  std::vector<std::pair<std::string, Scheduler*>> schedulers;
  std::vector<std::pair<std::string, TensorSet>> tensor_sets;
  Generator* generator = nullptr;  // e.g. &default_generator() (dropout, noise); null: not saved
  int64_t epoch = 0, iteration = 0;
};

void save_checkpoint(const std::string& path, const Checkpoint& objects);

// strict (the default): the file must hold exactly the objects given (and the
// generator if one is given). strict = false ignores the file's other objects
// (e.g. to load only a generator network for inference).
void load_checkpoint(const std::string& path, Checkpoint& objects, bool strict = true);

// A state_dict written by torch.save(optimizer.state_dict()) (torch 1.13),
// read without Python (weights/torch_checkpoint.h) into the layout of
// nn/optim.h: tensors "state.<i>.<name>" (lists numbered), 0-d tensors and
// numbers as JSON numbers, param_groups as JSON. Pass it to load_state_dict.
StateDict read_torch_optimizer_state_dict(const std::string& path);

}  // namespace sg::nn
