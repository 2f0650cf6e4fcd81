// The learning-rate policies of models/networks.py (get_scheduler) and
// BaseModel.update_learning_rate, on nn/lr_scheduler.h's schedulers.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sg::nn {
class Optimizer;
class Scheduler;
}  // namespace sg::nn

namespace sg::translation {

// The options get_scheduler reads, with the official names and defaults
// (options/train_options.py).
struct SchedulerOptions {
  std::string lr_policy = "linear";  // linear | step | plateau | cosine
  int64_t epoch_count = 1;           // the starting epoch (--continue_train from epoch N: N)
  int64_t n_epochs = 100;            // epochs at the initial lr
  int64_t n_epochs_decay = 100;      // epochs of linear decay to 0
  int64_t lr_decay_iters = 50;       // step: multiply by 0.1 every lr_decay_iters epochs
};

// get_scheduler(optimizer, opt):
//   linear:  LambdaLR, lr = lr0 (1 - max(0, epoch + epoch_count - n_epochs) / (n_epochs_decay + 1))
//   step:    StepLR(step_size = lr_decay_iters, gamma = 0.1)
//   plateau: ReduceLROnPlateau(mode min, factor 0.2, threshold 0.01, patience 5)
//   cosine:  CosineAnnealingLR(T_max = n_epochs, eta_min = 0)
// Another lr_policy is one error line.
std::unique_ptr<nn::Scheduler> get_scheduler(nn::Optimizer& optimizer, const SchedulerOptions& opt);

// BaseModel.update_learning_rate(), once per epoch: steps every scheduler
// (ReduceLROnPlateau with `metric`; the official models leave it 0) and
// returns the lr of `first`'s group 0 before and after (the official code
// prints "learning rate %.7f -> %.7f").
std::pair<double, double> update_learning_rate(const std::vector<nn::Scheduler*>& schedulers,
                                               const nn::Optimizer& first, double metric = 0.0);

}  // namespace sg::translation
