#include "translation/scheduler.h"

#include "nn/lr_scheduler.h"
#include "tensor/error.h"

namespace sg::translation {

std::unique_ptr<nn::Scheduler> get_scheduler(nn::Optimizer& optimizer, const SchedulerOptions& opt) {
  if (opt.lr_policy == "linear")
    return std::make_unique<nn::LambdaLR>(optimizer,
                                          nn::cyclegan_linear_rule(opt.epoch_count, opt.n_epochs, opt.n_epochs_decay));
  if (opt.lr_policy == "step") return std::make_unique<nn::StepLR>(optimizer, opt.lr_decay_iters, 0.1);
  if (opt.lr_policy == "plateau") {
    nn::ReduceLROnPlateau::Options o;
    o.mode = nn::ReduceLROnPlateau::Options::Mode::min;
    o.factor = 0.2;
    o.threshold = 0.01;
    o.patience = 5;
    return std::make_unique<nn::ReduceLROnPlateau>(optimizer, o);
  }
  if (opt.lr_policy == "cosine") return std::make_unique<nn::CosineAnnealingLR>(optimizer, opt.n_epochs, 0.0);
  SG_CHECK(false, "get_scheduler: learning rate policy '", opt.lr_policy,
           "' is not implemented: expected linear, step, plateau or cosine");
  return nullptr;
}

std::pair<double, double> update_learning_rate(const std::vector<nn::Scheduler*>& schedulers,
                                               const nn::Optimizer& first, double metric) {
  const double old_lr = first.lr(0);
  for (nn::Scheduler* s : schedulers) {
    if (auto* plateau = dynamic_cast<nn::ReduceLROnPlateau*>(s))
      plateau->step(metric);
    else if (auto* epoch_scheduler = dynamic_cast<nn::LRScheduler*>(s))
      epoch_scheduler->step();
    else
      SG_CHECK(false, "update_learning_rate: a scheduler that is neither an LRScheduler nor ReduceLROnPlateau");
  }
  return {old_lr, first.lr(0)};
}

}  // namespace sg::translation
