// Checkpoints (nn/checkpoint.h): a small GAN-like loop run straight through
// and run half, saved, loaded into brand-new objects and run the other half
// must end with identical weights, bit for bit; the file is a safetensors file
// with the documented names; wrong or missing keys give one line naming them.
// Also the Generator's state (tensor/random.h).
#include <cstring>
#include <map>
#include <set>

#include "nn/checkpoint.h"
#include "nn/layers.h"
#include "nn/lr_scheduler.h"
#include "nn/optim.h"
#include "tests/test_util.h"
#include "weights/json.h"
#include "weights/safetensors.h"

using namespace sg;
using namespace sg::test;

namespace {

// A tiny GAN: G maps noise to 4-vectors, D scores them; Dropout in both, so
// the random number generator's state matters; Adam for both; G's lr halves
// every 2 epochs (StepLR), D's follows CycleGAN's linear rule (LambdaLR).
struct TinyGan {
  std::shared_ptr<nn::Sequential> G = std::make_shared<nn::Sequential>(), D = std::make_shared<nn::Sequential>();
  std::unique_ptr<nn::Adam> opt_G, opt_D;
  std::unique_ptr<nn::StepLR> sched_G;
  std::unique_ptr<nn::LambdaLR> sched_D;

  explicit TinyGan(int64_t hidden = 16) {
    G->push_back(std::make_shared<nn::Linear>(4, hidden));
    G->push_back(std::make_shared<nn::LeakyReLU>(0.2));
    G->push_back(std::make_shared<nn::Dropout>(0.3));
    G->push_back(std::make_shared<nn::Linear>(hidden, 4));
    G->push_back(std::make_shared<nn::Tanh>());
    D->push_back(std::make_shared<nn::Linear>(4, 16));
    D->push_back(std::make_shared<nn::LeakyReLU>(0.2));
    D->push_back(std::make_shared<nn::Dropout>(0.3));
    D->push_back(std::make_shared<nn::Linear>(16, 1));
    opt_G = std::make_unique<nn::Adam>(G->parameters(), nn::Adam::Options{2e-3, 0.5, 0.999});
    opt_D = std::make_unique<nn::Adam>(D->parameters(), nn::Adam::Options{1e-3, 0.5, 0.999});
    sched_G = std::make_unique<nn::StepLR>(*opt_G, 2, 0.5);
    sched_D = std::make_unique<nn::LambdaLR>(*opt_D, nn::cyclegan_linear_rule(1, 2, 3));
  }

  nn::Checkpoint objects() {
    nn::Checkpoint c;
    c.modules = {{"G", G.get()}, {"D", D.get()}};
    c.optimizers = {{"optimizer_G", opt_G.get()}, {"optimizer_D", opt_D.get()}};
    c.schedulers = {{"scheduler_G", sched_G.get()}, {"scheduler_D", sched_D.get()}};
    c.generator = &default_generator();
    return c;
  }

  // One iteration: a G step (D frozen), then a D step on the detached fakes (least squares GAN).
  void train_iteration(int64_t iteration) {
    Generator data(1000 + uint64_t(iteration));  // the "dataset": the same batch for the same iteration
    const Tensor real = randn({8, 4}, data) * 0.5 + 1.0;
    const Tensor z = randn({8, 4});  // noise from default_generator(), as dropout's masks
    D->requires_grad_(false);
    Tensor fake = G->forward(z);
    Tensor loss_G = mse_loss(D->forward(fake), ones({8, 1}));
    opt_G->zero_grad();
    loss_G.backward();
    opt_G->step();
    D->requires_grad_(true);
    Tensor loss_D = (mse_loss(D->forward(real), ones({8, 1})) + mse_loss(D->forward(fake.detach()), zeros({8, 1}))) * 0.5;
    opt_D->zero_grad();
    loss_D.backward();
    opt_D->step();
  }

  // Epochs [first, last) of kIterationsPerEpoch iterations, the schedulers stepped after each.
  static constexpr int64_t kIterationsPerEpoch = 3;
  void train_epochs(int64_t first, int64_t last) {
    for (int64_t epoch = first; epoch < last; ++epoch) {
      for (int64_t i = 0; i < kIterationsPerEpoch; ++i) train_iteration(epoch * kIterationsPerEpoch + i);
      sched_G->step();
      sched_D->step();
    }
  }
};

constexpr int64_t kEpochs = 4;

}  // namespace

TEST_CASE("random: a Generator's state round-trips exactly, Box-Muller spare included") {
  Generator gen(5);
  gen.normal();  // leaves a spare
  const GeneratorState st = gen.state();
  CHECK(st.has_spare);
  std::vector<double> first;
  for (int i = 0; i < 5; ++i) first.push_back(gen.normal());
  first.push_back(gen.uniform());
  Generator other(99);
  other.set_state(st);
  CHECK(other.state() == st);
  std::vector<double> again;
  for (int i = 0; i < 5; ++i) again.push_back(other.normal());
  again.push_back(other.uniform());
  CHECK(std::memcmp(first.data(), again.data(), first.size() * sizeof(double)) == 0);
  CHECK(Generator(1).state() != Generator(2).state());
  CHECK(error_of([&] { other.set_state(GeneratorState{}); }) ==
        "Generator::set_state: the xoshiro256** state is all zeros");
}

TEST_CASE("checkpoint: a GAN loop resumed from a checkpoint ends with the same weights, bit for bit") {
  TempDir dir;
  const std::string path = dir.file("run.safetensors");

  manual_seed(7);
  TinyGan straight;
  straight.train_epochs(0, kEpochs);
  const GeneratorState rng_straight = default_generator().state();

  manual_seed(7);
  {
    TinyGan first_half;
    first_half.train_epochs(0, kEpochs / 2);
    nn::Checkpoint c = first_half.objects();
    c.epoch = kEpochs / 2;
    c.iteration = kEpochs / 2 * TinyGan::kIterationsPerEpoch;
    save_checkpoint(path, c);
  }

  manual_seed(12345);  // brand-new objects with other initial weights and another RNG state
  TinyGan resumed;
  nn::Checkpoint c = resumed.objects();
  load_checkpoint(path, c);
  CHECK(c.epoch == kEpochs / 2);
  CHECK(c.iteration == kEpochs / 2 * TinyGan::kIterationsPerEpoch);
  resumed.train_epochs(c.epoch, kEpochs);

  check_identical(resumed.G->state_dict(), straight.G->state_dict(), "G");
  check_identical(resumed.D->state_dict(), straight.D->state_dict(), "D");
  for (auto [got, want] : {std::pair{resumed.opt_G.get(), straight.opt_G.get()}, {resumed.opt_D.get(), straight.opt_D.get()}}) {
    const nn::StateDict g = got->state_dict(), w = want->state_dict();
    CHECK(json::write(g.json) == json::write(w.json));  // lr, initial_lr, steps
    check_identical(g.tensors, w.tensors, got->name() + " state");
  }
  CHECK(json::write(resumed.sched_G->state_dict()) == json::write(straight.sched_G->state_dict()));
  CHECK(json::write(resumed.sched_D->state_dict()) == json::write(straight.sched_D->state_dict()));
  CHECK(default_generator().state() == rng_straight);
  CHECK(resumed.opt_G->lr(0) == 2e-3 * 0.25);  // StepLR: halved at epochs 2 and 4

  // The checkpoint is a plain safetensors file with the documented names.
  const NamedTensors file = read_safetensors(path, DType::f64);
  std::set<std::string> names;
  for (const auto& [name, t] : file) names.insert(name);
  for (const char* name : {"G.0.weight", "G.3.bias", "D.3.weight", "optimizer_G.state.0.exp_avg",
                           "optimizer_D.state.3.exp_avg_sq", "rng"})
    CHECK_MESSAGE(names.count(name), name);
  CHECK(names.size() == 4 + 4 + 8 + 8 + 1);  // G, D: 2 weights, 2 biases; each Adam: exp_avg, exp_avg_sq of 4; rng
  const json::Value info = json::parse(read_safetensors_metadata(path).at("stylegrad_checkpoint"));
  CHECK(info.find("epoch")->number == 2);
  CHECK(info.find("float_dtype")->string == "float32");
  CHECK(info.find("optimizers")->find("optimizer_G")->find("param_groups"));
  CHECK(info.find("schedulers")->find("scheduler_D")->find("lr_lambdas"));
}

TEST_CASE("checkpoint: a wrong or missing key gives one line naming it") {
  TempDir dir;
  const std::string path = dir.file("run.safetensors");
  manual_seed(1);
  TinyGan gan;
  gan.train_epochs(0, 1);
  save_checkpoint(path, gan.objects());
  const std::string who = "checkpoint " + path + ": ";

  auto load_error = [&](nn::Checkpoint c, bool strict = true) { return error_of([&] { load_checkpoint(path, c, strict); }); };
  TinyGan wider(8);  // G's hidden layer has 8 units, not 16
  CHECK(load_error(wider.objects()) == who + "tensor 'G.0.weight' has shape [16, 4] in the file, module 'G' has [8, 4]");

  TinyGan other;
  nn::Checkpoint renamed = other.objects();
  renamed.modules[0].first = "G_A";
  CHECK(load_error(renamed) == who + "no module 'G_A' in the file (it has D, G)");

  nn::Checkpoint fewer = other.objects();
  fewer.schedulers.pop_back();
  CHECK(load_error(fewer) ==
        who + "the file has scheduler 'scheduler_D', which was not given (load with strict = false to skip it)");
  nn::Checkpoint only_G;
  only_G.modules = {{"G", other.G.get()}};
  CHECK(load_error(only_G, /*strict=*/false).empty());
  check_identical(other.G->state_dict(), gan.G->state_dict(), "G loaded alone");

  nn::Sequential bigger;  // D with one more layer: its keys "4.weight", "4.bias" are not in the file
  for (size_t i = 0; i < gan.D->size(); ++i) bigger.push_back((*other.D)[i]);
  bigger.push_back(std::make_shared<nn::Linear>(1, 1));
  nn::Checkpoint more_keys = other.objects();
  more_keys.modules[1].second = &bigger;
  CHECK(load_error(more_keys) == who + "missing tensor 'D.4.weight' (module 'D' has it, shape [1, 1])");

  nn::Checkpoint swapped = other.objects();
  std::swap(swapped.optimizers[0].second, swapped.optimizers[1].second);  // optimizer_G's state into D's Adam
  CHECK(load_error(swapped) == who + "optimizer 'optimizer_G': Adam.load_state_dict: tensor 'state.2.exp_avg' has "
                                     "shape [4, 16], parameter 2 has [1, 16]");

  nn::Checkpoint dotted = other.objects();
  dotted.modules[0].first = "net.G";
  CHECK(load_error(dotted) == "checkpoint: module name 'net.G' must be non-empty, without '.', and not 'rng'");

  const std::string plain = dir.file("plain.safetensors");
  write_safetensors(plain, {{"w", zeros({2})}});
  CHECK(error_of([&] {
          nn::Checkpoint c = other.objects();
          load_checkpoint(plain, c);
        }) == "checkpoint " + plain + ": not a stylegrad checkpoint (its metadata has no 'stylegrad_checkpoint')");
}

TEST_CASE("checkpoint: a tensor set (e.g. an image pool) comes back with the file's keys and shapes") {
  TempDir dir;
  const std::string path = dir.file("sets.safetensors");
  NamedTensors pool;  // 12 keys: "10" sorts before "2" in the file, the set gets them all
  for (int i = 0; i < 12; ++i) pool.emplace_back(std::to_string(i), full({1, 2, 3}, double(i), TensorOptions(DType::f32)));
  NamedTensors empty_set;
  nn::Checkpoint c;
  c.tensor_sets = {{"pool", {[&] { return pool; }, [](const NamedTensors&) {}}},
                   {"empty", {[&] { return empty_set; }, [](const NamedTensors&) {}}}};
  save_checkpoint(path, c);

  std::map<std::string, double> got;
  bool empty_loaded = false;
  nn::Checkpoint back;
  back.tensor_sets = {{"pool",
                       {[] { return NamedTensors(); },
                        [&](const NamedTensors& s) {
                          for (const auto& [key, t] : s) {
                            CHECK(t.shape() == Shape{1, 2, 3});
                            got[key] = t.to_vector()[0];
                          }
                        }}},
                      {"empty", {[] { return NamedTensors(); }, [&](const NamedTensors& s) {
                                   empty_loaded = s.empty();
                                 }}}};
  load_checkpoint(path, back);
  REQUIRE(got.size() == 12);
  for (int i = 0; i < 12; ++i) CHECK(got[std::to_string(i)] == double(i));
  CHECK(empty_loaded);

  nn::Checkpoint missing;
  missing.tensor_sets = {{"pools", back.tensor_sets[0].second}};
  CHECK(error_of([&] { load_checkpoint(path, missing, /*strict=*/false); }) ==
        "checkpoint " + path + ": no tensor set 'pools' in the file (it has empty, pool)");
  nn::Checkpoint fewer;
  fewer.tensor_sets = {back.tensor_sets[0]};
  CHECK(error_of([&] { load_checkpoint(path, fewer); }) ==
        "checkpoint " + path + ": the file has tensor set 'empty', which was not given (load with strict = false to skip it)");
}
