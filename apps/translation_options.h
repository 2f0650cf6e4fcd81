// The options that `stylegrad test` and `stylegrad train` share with the
// official base_options.py (junyanz/pytorch-CycleGAN-and-pix2pix), their
// per-model defaults, and the options block train.py prints and saves.
#pragma once
#include <map>
#include <set>
#include <string>
#include <utility>

#include "data/datasets.h"

namespace sg::cli {

class ArgParser;

std::string join_path(const std::string& a, const std::string& b);  // a/b

// Registers base_options.py's options that test and train read alike (same
// names, same defaults): dataroot, name, checkpoints_dir, input_nc, output_nc,
// ngf, ndf, netG, netD, n_layers_D, norm, no_dropout, init_type, init_gain,
// dataset_mode, direction, serial_batches, batch_size, gpu_ids,
// max_dataset_size, display_winsize, num_threads, preprocess, crop_size,
// no_flip, epoch, load_iter, verbose, suffix, and stylegrad's seed.
void add_base_options(ArgParser& p);

// train_options.py's display, print and save options, which both official
// repositories share; the frequencies count images (train.py's total_iters).
// The defaults that differ: display_id (CycleGAN's 1, CUT's None) and, for
// SinCUT, the save frequencies; CUT also has evaluation_freq.
struct TrainLoopDefaults {
  std::string display_id = "1", save_latest_freq = "5000", save_epoch_freq = "5";
  bool evaluation_freq = false;
};
void add_train_loop_options(ArgParser& p, const TrainLoopDefaults& defaults);

// The generator options after the model's modify_commandline_options:
// pix2pix: netG unet_256, norm batch; cycle_gan: no dropout (store_true cannot unset it).
struct NetworkChoice {
  std::string netG, norm;
  bool use_dropout = false;
  std::string default_netG, default_norm;  // the model's defaults
};
NetworkChoice network_choice(const ArgParser& p, const std::string& model);

// The dataset options from p (phase, load_size, serial_batches and no_flip as
// the caller sets them afterwards): dataset_mode defaulting to the model's.
data::DatasetOptions dataset_options(const ArgParser& p, const std::string& model);

// "note: stylegrad runs on the CPU; --gpu_ids X is ignored" unless -1 or not given.
void note_gpu_ids(const ArgParser& p);

// BaseOptions.print_options' block, which train.py and test.py print and save
// as <checkpoints_dir>/<name>/<phase>_opt.txt: every option sorted by name, as
// "{:>25}: {:<30}" with "\t[default: D]" where the value differs, values as
// str() of what argparse holds (ints, floats as Python writes them, True/False).
// `resolved` gives (value, default) for options whose value comes from the
// model; `omitted` names options the official parser would not have.
std::string options_block(const ArgParser& p,
                          const std::map<std::string, std::pair<std::string, std::string>>& resolved,
                          const std::set<std::string>& omitted = {});

// Python's repr(float): "0.0002", "10.0", "1e-05".
std::string python_float_text(double x);

}  // namespace sg::cli
