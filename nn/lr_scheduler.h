// Learning-rate schedulers as torch.optim.lr_scheduler (torch 1.13) has them:
// the same step() semantics, last_epoch, get_last_lr(), and state_dict() with
// torch's keys, so a run resumes exactly (nn/checkpoint.h saves them).
//
// The epoch schedulers (LambdaLR, StepLR, CosineAnnealingLR) work as torch's
// _LRScheduler: constructing one with last_epoch -1 sets each group's
// initial_lr to its lr and takes a first step (to epoch 0); each step()
// advances last_epoch and sets every group's lr to get_lr(), which is torch's
// recursive ("chainable") form: it reads the groups' current lr. Call it after
// the optimizer's step, once per epoch.
//
// The lr arithmetic is torch's expression for expression, compiled without
// fused multiply-adds, so the learning rates match torch's to the last bit.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nn/optim.h"
#include "weights/json.h"

namespace sg::nn {

// What every scheduler has; what a checkpoint saves.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // The lr of each group after the last step (empty before ReduceLROnPlateau's first step).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  Optimizer& optimizer() const { return optimizer_; }

  // torch's state_dict(): the scheduler's attributes by torch's names.
  // Non-finite numbers (ReduceLROnPlateau's best) are the strings "Infinity",
  // "-Infinity", "NaN" (see state_json::extended_number).
  virtual json::Value state_dict() const = 0;
  // Restores every attribute state_dict() wrote (hyper-parameters included, as
  // torch's __dict__.update does); checks the group count first and throws one
  // line naming the key. Does not touch the optimizer: load its state_dict too.
  virtual void load_state_dict(const json::Value& state) = 0;

 protected:
  explicit Scheduler(Optimizer& optimizer) : optimizer_(optimizer) {}
  std::vector<double> group_lrs() const;  // the optimizer's lr, group by group
  Optimizer& optimizer_;
  int64_t last_epoch_ = 0;
  std::vector<double> last_lr_;
};

// torch's _LRScheduler.
class LRScheduler : public Scheduler {
 public:
  void step();
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  json::Value state_dict() const override;
  void load_state_dict(const json::Value& state) override;

 protected:
  // last_epoch -1: a new run (sets each group's initial_lr from its lr if
  // unset); >= 0: resuming, every group must have initial_lr. Derived
  // constructors call initial_step() last, as torch's base constructor does.
  LRScheduler(Optimizer& optimizer, int64_t last_epoch, const std::string& name);
  void initial_step();
  virtual std::vector<double> get_lr() const = 0;
  // The subclass's own attributes: written before the base ones, as torch's
  // __dict__ has them; read back from a state_dict.
  virtual std::vector<std::pair<std::string, json::Value>> own_state() const = 0;
  virtual void load_own_state(const std::string& who, const json::Value& state) = 0;

  std::string name_;  // "StepLR", for errors
  std::vector<double> base_lrs_;
  int64_t step_count_ = 0;  // torch's _step_count
};

// lr = base_lr * lambda(last_epoch), one lambda for all groups or one per group.
// state_dict() saves no function (torch's lr_lambdas: [None, ...]).
class LambdaLR : public LRScheduler {
 public:
  using Lambda = std::function<double(int64_t epoch)>;
  LambdaLR(Optimizer& optimizer, Lambda lr_lambda, int64_t last_epoch = -1);
  LambdaLR(Optimizer& optimizer, std::vector<Lambda> lr_lambdas, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() const override;
  std::vector<std::pair<std::string, json::Value>> own_state() const override;
  void load_own_state(const std::string& who, const json::Value& state) override;

 private:
  std::vector<Lambda> lr_lambdas_;
};

// junyanz/pytorch-CycleGAN-and-pix2pix's "linear" policy (models/networks.py,
// get_scheduler), for LambdaLR: the same lr for the first n_epochs epochs,
// then linearly down towards zero over n_epochs_decay more:
//   factor(epoch) = 1 - max(0, epoch + epoch_count - n_epochs) / (n_epochs_decay + 1)
// epoch_count is the epoch the run started at (CycleGAN's --epoch_count, 1 by default).
LambdaLR::Lambda cyclegan_linear_rule(int64_t epoch_count, int64_t n_epochs, int64_t n_epochs_decay);

// lr *= gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() const override;
  std::vector<std::pair<std::string, json::Value>> own_state() const override;
  void load_own_state(const std::string& who, const json::Value& state) override;

 private:
  int64_t step_size_;
  double gamma_;
};

// Cosine annealing from base_lr to eta_min over T_max epochs (SGDR without
// restarts), by torch's recursive formula
//   lr_t = eta_min + (lr_{t-1} - eta_min) (1 + cos(pi t / T_max)) / (1 + cos(pi (t-1) / T_max))
// (with its special cases at t = 0 and at the end of each half period), whose
// values differ from the closed form in the last bits.
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() const override;
  std::vector<std::pair<std::string, json::Value>> own_state() const override;
  void load_own_state(const std::string& who, const json::Value& state) override;

 private:
  int64_t T_max_;
  double eta_min_;
};

struct ReduceLROnPlateauOptions {
  enum class Mode { min, max };
  enum class ThresholdMode { rel, abs };
  Mode mode = Mode::min;  // min: the metric should go down (a loss); max: up (an accuracy)
  double factor = 0.1;    // lr *= factor on a plateau; must be < 1
  int64_t patience = 10;  // epochs without improvement tolerated
  double threshold = 1e-4;
  ThresholdMode threshold_mode = ThresholdMode::rel;  // rel: best * (1 -/+ threshold); abs: best -/+ threshold
  int64_t cooldown = 0;  // epochs to wait after a reduction
  double min_lr = 0;                 // for every group, unless ...
  std::vector<double> min_lrs = {};  // ... one per group is given
  double eps = 1e-8;  // a reduction smaller than this is skipped
};

// Multiplies the lr by factor when the metric passed to step() has not
// improved for more than patience epochs.
class ReduceLROnPlateau : public Scheduler {
 public:
  using Options = ReduceLROnPlateauOptions;
  explicit ReduceLROnPlateau(Optimizer& optimizer, Options o = {});
  void step(double metric);
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  json::Value state_dict() const override;
  void load_state_dict(const json::Value& state) override;

 private:
  bool is_better(double a, double best) const;
  double mode_worse() const;
  Options opt_;
  std::vector<double> min_lrs_;
  double best_;
  int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0;
};

}  // namespace sg::nn
