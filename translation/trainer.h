// The training loop of the official train.py (junyanz/pytorch-CycleGAN-and-pix2pix),
// with util/visualizer.py's files and BaseModel.save_networks:
//
//   for epoch in epoch_count .. n_epochs + n_epochs_decay:
//     for each batch (batch_size consecutive items of a fresh random order per
//     epoch unless serial_batches, concatenated along dim 0; the last
//     incomplete batch dropped, as the official DataLoader's drop_last):
//       on the very first batch: the first_batch callback (CUT's
//         data_dependent_initialize, then the schedulers and --continue_train)
//       set_input, optimize_parameters
//       (epoch_iter and total_iters count images, as train.py)
//       every display_freq iterations (total): the visuals to web/ (saved when
//         total % update_html_freq == 0, or the first time in the epoch)
//       every print_freq: the losses to loss_log.txt and the print callback
//       every save_latest_freq: save "latest" (or "iter_<total>" with save_by_iter)
//     every save_epoch_freq epochs: save "latest" and "<epoch>"
//     update_learning_rate
//
// Saving a suffix writes, in <expr_dir> (every file atomically):
//   <suffix>_net_<name>.pth           each network's state_dict as torch.save writes it
//   <suffix>_checkpoint.safetensors   stylegrad's full checkpoint (nn/checkpoint.h):
//                                     networks, optimizers, schedulers, the image
//                                     pools, the generator, epoch, total iterations
// A non-finite loss (or parameter, checked before every save) stops the run
// with one error line naming it and the last good checkpoint; nothing is
// saved after it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/checkpoint.h"
#include "tensor/device.h"
#include "translation/scheduler.h"

namespace sg {
class Generator;
namespace data {
class Dataset;
}
}  // namespace sg

namespace sg::translation {

class CycleGANModel;
class Pix2PixModel;
class CUTModel;
class SinCUTModel;

// What train() uses of a model (the official BaseModel's methods).
class TrainModel {
 public:
  virtual ~TrainModel() = default;
  virtual void set_input(const Tensor& A, const Tensor& B) = 0;
  virtual void optimize_parameters() = 0;
  virtual std::vector<std::pair<std::string, double>> current_losses() const = 0;
  virtual NamedTensors current_visuals() const = 0;
  virtual void setup_schedulers(const SchedulerOptions& options) = 0;
  virtual std::pair<double, double> update_learning_rate() = 0;
  virtual std::vector<std::pair<std::string, nn::Module*>> named_networks() const = 0;
  virtual nn::Checkpoint checkpoint() const = 0;  // networks, optimizers, schedulers
};
std::unique_ptr<TrainModel> train_model(CycleGANModel& model);  // not owned
std::unique_ptr<TrainModel> train_model(Pix2PixModel& model);
std::unique_ptr<TrainModel> train_model(CUTModel& model);
std::unique_ptr<TrainModel> train_model(SinCUTModel& model);

struct TrainerOptions {
  std::string expr_dir;  // <checkpoints_dir>/<name>: where everything is written
  std::string name;      // the experiment's name (the page's title)
  int64_t epoch_count = 1, n_epochs = 100, n_epochs_decay = 100;
  int64_t batch_size = 1;  // images per iteration; the dataset must hold at least one batch
  bool serial_batches = false;
  int64_t print_freq = 100, display_freq = 400, update_html_freq = 1000;
  int64_t save_latest_freq = 5000, save_epoch_freq = 5;
  bool save_by_iter = false;
  bool no_html = false;
  int64_t display_winsize = 256;
  std::string last_good;  // a checkpoint that a failed run leaves (set when resuming)
  // Where the model is (BaseModel::to(Device)): every batch goes there before
  // set_input and first_batch; visuals and checkpoints are written from CPU copies.
  Device device = Device::cpu();
};

struct TrainCallbacks {
  std::function<void(const std::string& line)> print;  // the official prints, one line each
  // After every iteration: epoch, its iteration, the epoch's length, the losses.
  std::function<void(int64_t epoch, int64_t epoch_iter, int64_t epoch_size,
                     const std::vector<std::pair<std::string, double>>& losses)>
      iteration;
  // At every print_freq (after the loss_log line): epoch, total iterations, the losses.
  std::function<void(int64_t epoch, int64_t total_iters, const std::vector<std::pair<std::string, double>>& losses)>
      printed;
  std::function<void(int64_t epoch)> epoch_end;  // after the epoch's saves and lr update
  std::function<void(int64_t epoch)> epoch_start;  // before the epoch's order is drawn (train.py's dataset.set_epoch)
  // Once, with the first batch of the first epoch, before it is trained on:
  // train.py's "if epoch == opt.epoch_count and i == 0" (CUT's
  // data_dependent_initialize, then the schedulers and --continue_train's
  // loading). Returns true when it restored `gen` from a checkpoint: the
  // epoch's order and first batch are then drawn again, so that a resumed run
  // draws exactly what the straight run drew.
  std::function<bool(const Tensor& A, const Tensor& B)> first_batch;
};

// The file names of save_networks and of the full checkpoint.
std::string network_file(const std::string& expr_dir, const std::string& suffix, const std::string& name);
std::string checkpoint_file(const std::string& expr_dir, const std::string& suffix);

// --continue_train: loads <suffix>_checkpoint.safetensors (networks, optimizers,
// the image pools and `gen`) when it exists, else the official
// <suffix>_net_<name>.pth files (networks only, as BaseModel.load_networks).
// As in the official code, where --continue_train makes the optimizers from
// --lr and the schedulers anew from --epoch_count, the schedulers are not
// loaded (set them up afterwards) and every optimizer group's lr and
// initial_lr are set to `lr`: a saved, decayed lr is not kept.
// Returns the file(s) loaded; a missing file or a wrong architecture is one error line.
std::vector<std::string> load_for_continue(TrainModel& model, Generator& gen, const std::string& expr_dir,
                                           const std::string& suffix, double lr);

// Runs the loop; the model's schedulers must be set up (or be set up by the
// first_batch callback). `gen` draws the epochs'
// orders and is saved in the checkpoints (pass the one the dataset and the model draw from).
void train(TrainModel& model, data::Dataset& dataset, Generator& gen, const TrainerOptions& opt,
           const TrainCallbacks& callbacks);

// util.tensor2im: the first image of the batch, grey tiled to 3 channels,
// (x + 1) / 2 * 255 in float32 truncated to uint8; returned as levels / 255
// (float32 [3, H, W]), which save_image writes exactly.
Tensor tensor_to_image_levels(const Tensor& batch);

}  // namespace sg::translation
