// torch.optim.lr_scheduler's formulas, written in torch's order of operations.
// A fused multiply-add rounds once where Python rounds twice, so this file is
// compiled with -ffp-contract=off (CMakeLists.txt): the learning rates then
// match torch's bit for bit.

#include "nn/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "tensor/error.h"

namespace sg::nn {

using namespace state_json;

namespace {

json::Value numbers_json(const std::vector<double>& v) {
  std::vector<json::Value> items;
  for (double x : v) items.push_back(json::make_number(x));
  return json::make_array(std::move(items));
}

// `key`'s numbers, one per parameter group.
std::vector<double> group_numbers(const std::string& who, const json::Value& state, const std::string& key,
                                  size_t groups) {
  std::vector<double> v = numbers(who, member(who, state, "", key), key);
  SG_CHECK(v.size() == groups, who, ": '", key, "' has ", v.size(), " values, the optimizer has ", groups,
           " parameter groups");
  return v;
}

// Every key of `state` must be one of `known`.
void check_keys(const std::string& who, const json::Value& state, const std::set<std::string>& known) {
  SG_CHECK(state.is_object(), who, ": the state must be a JSON object");
  for (const auto& [key, v] : state.object)
    SG_CHECK(known.count(key), who, ": unexpected key '", key, "'");
}

}  // namespace

std::vector<double> Scheduler::group_lrs() const {
  std::vector<double> lrs;
  for (size_t g = 0; g < optimizer_.num_param_groups(); ++g) lrs.push_back(optimizer_.lr(g));
  return lrs;
}

// ---------------- LRScheduler ----------------

LRScheduler::LRScheduler(Optimizer& optimizer, int64_t last_epoch, const std::string& name)
    : Scheduler(optimizer), name_(name) {
  SG_CHECK(last_epoch >= -1, name, ": last_epoch must be -1 (a new run) or an epoch >= 0, got ", last_epoch);
  for (size_t g = 0; g < optimizer.num_param_groups(); ++g) {
    if (last_epoch == -1 && !optimizer.initial_lr(g)) optimizer.set_initial_lr(g, optimizer.lr(g));
    SG_CHECK(optimizer.initial_lr(g), name, ": param_groups[", g,
             "] has no initial_lr, which resuming at last_epoch ", last_epoch, " needs");
    base_lrs_.push_back(*optimizer.initial_lr(g));
  }
  last_epoch_ = last_epoch;
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();
}

void LRScheduler::step() {
  ++step_count_;
  ++last_epoch_;
  const std::vector<double> lrs = get_lr();
  for (size_t g = 0; g < lrs.size(); ++g) optimizer_.set_lr(g, lrs[g]);
  last_lr_ = group_lrs();
}

json::Value LRScheduler::state_dict() const {
  std::vector<std::pair<std::string, json::Value>> members = own_state();
  members.emplace_back("base_lrs", numbers_json(base_lrs_));
  members.emplace_back("last_epoch", json::make_int(last_epoch_));
  members.emplace_back("verbose", json::make_bool(false));
  members.emplace_back("_step_count", json::make_int(step_count_));
  members.emplace_back("_get_lr_called_within_step", json::make_bool(false));
  members.emplace_back("_last_lr", numbers_json(last_lr_));
  return json::make_object(std::move(members));
}

void LRScheduler::load_state_dict(const json::Value& state) {
  const std::string who = name_ + ".load_state_dict";
  std::set<std::string> known = {"base_lrs", "last_epoch", "verbose", "_step_count", "_get_lr_called_within_step",
                                 "_last_lr"};
  for (const auto& [key, v] : own_state()) known.insert(key);
  check_keys(who, state, known);
  const size_t groups = optimizer_.num_param_groups();
  std::vector<double> base_lrs = group_numbers(who, state, "base_lrs", groups);
  const int64_t last_epoch = integer(who, member(who, state, "", "last_epoch"), "last_epoch");
  const int64_t step_count = integer(who, member(who, state, "", "_step_count"), "_step_count");
  std::vector<double> last_lr = group_numbers(who, state, "_last_lr", groups);
  load_own_state(who, state);  // parses everything before it changes anything
  base_lrs_ = std::move(base_lrs);
  last_epoch_ = last_epoch;
  step_count_ = step_count;
  last_lr_ = std::move(last_lr);
}

// ---------------- LambdaLR ----------------

LambdaLR::LambdaLR(Optimizer& optimizer, Lambda lr_lambda, int64_t last_epoch)
    : LambdaLR(optimizer, std::vector<Lambda>(optimizer.num_param_groups(), lr_lambda), last_epoch) {}

LambdaLR::LambdaLR(Optimizer& optimizer, std::vector<Lambda> lr_lambdas, int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "LambdaLR"), lr_lambdas_(std::move(lr_lambdas)) {
  SG_CHECK(lr_lambdas_.size() == optimizer.num_param_groups(), "LambdaLR: expected ", optimizer.num_param_groups(),
           " lr_lambdas (one per parameter group), got ", lr_lambdas_.size());
  for (const Lambda& f : lr_lambdas_) SG_CHECK(bool(f), "LambdaLR: an lr_lambda is empty");
  initial_step();
}

std::vector<double> LambdaLR::get_lr() const {
  std::vector<double> lrs;
  for (size_t g = 0; g < base_lrs_.size(); ++g) lrs.push_back(base_lrs_[g] * lr_lambdas_[g](last_epoch_));
  return lrs;
}

std::vector<std::pair<std::string, json::Value>> LambdaLR::own_state() const {
  // torch saves a lambda's attributes only for callable objects, never for functions.
  return {{"lr_lambdas", json::make_array(std::vector<json::Value>(lr_lambdas_.size()))}};
}

void LambdaLR::load_own_state(const std::string& who, const json::Value& state) {
  const json::Value& lambdas = member(who, state, "", "lr_lambdas");
  SG_CHECK(lambdas.is_array() && lambdas.array.size() == lr_lambdas_.size(), who, ": 'lr_lambdas' must be an array of ",
           lr_lambdas_.size(), " nulls (one per parameter group)");
  for (size_t g = 0; g < lambdas.array.size(); ++g)
    SG_CHECK(lambdas.array[g].is_null(), who, ": 'lr_lambdas.", g,
             "' holds a callable object's state; stylegrad's lambdas have none");
}

LambdaLR::Lambda cyclegan_linear_rule(int64_t epoch_count, int64_t n_epochs, int64_t n_epochs_decay) {
  SG_CHECK(n_epochs_decay >= 0, "cyclegan_linear_rule: n_epochs_decay must be >= 0, got ", n_epochs_decay);
  return [=](int64_t epoch) {
    return 1.0 - double(std::max<int64_t>(0, epoch + epoch_count - n_epochs)) / double(n_epochs_decay + 1);
  };
}

// ---------------- StepLR ----------------

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma, int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "StepLR"), step_size_(step_size), gamma_(gamma) {
  SG_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  initial_step();
}

std::vector<double> StepLR::get_lr() const {
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

std::vector<std::pair<std::string, json::Value>> StepLR::own_state() const {
  return {{"step_size", json::make_int(step_size_)}, {"gamma", json::make_number(gamma_)}};
}

void StepLR::load_own_state(const std::string& who, const json::Value& state) {
  const int64_t step_size = integer(who, member(who, state, "", "step_size"), "step_size");
  SG_CHECK(step_size > 0, who, ": 'step_size' must be positive, got ", step_size);
  gamma_ = number(who, member(who, state, "", "gamma"), "gamma");
  step_size_ = step_size;
}

// ---------------- CosineAnnealingLR ----------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min, int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "CosineAnnealingLR"), T_max_(T_max), eta_min_(eta_min) {
  SG_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be positive, got ", T_max);
  initial_step();
}

std::vector<double> CosineAnnealingLR::get_lr() const {
  const double pi = M_PI, T = double(T_max_), e = double(last_epoch_);
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0) return lrs;
  if (step_count_ == 1 && last_epoch_ > 0) {  // resumed by the constructor: the closed form
    for (size_t g = 0; g < lrs.size(); ++g)
      lrs[g] = eta_min_ + (base_lrs_[g] - eta_min_) * (1 + std::cos(e * pi / T)) / 2;
    return lrs;
  }
  if ((last_epoch_ - 1 - T_max_) % (2 * T_max_) == 0) {  // the bottom of a period: climb back
    for (size_t g = 0; g < lrs.size(); ++g) lrs[g] = lrs[g] + (base_lrs_[g] - eta_min_) * (1 - std::cos(pi / T)) / 2;
    return lrs;
  }
  for (double& lr : lrs) lr = (1 + std::cos(pi * e / T)) / (1 + std::cos(pi * (e - 1) / T)) * (lr - eta_min_) + eta_min_;
  return lrs;
}

std::vector<std::pair<std::string, json::Value>> CosineAnnealingLR::own_state() const {
  return {{"T_max", json::make_int(T_max_)}, {"eta_min", json::make_number(eta_min_)}};
}

void CosineAnnealingLR::load_own_state(const std::string& who, const json::Value& state) {
  const int64_t T_max = integer(who, member(who, state, "", "T_max"), "T_max");
  SG_CHECK(T_max > 0, who, ": 'T_max' must be positive, got ", T_max);
  eta_min_ = number(who, member(who, state, "", "eta_min"), "eta_min");
  T_max_ = T_max;
}

// ---------------- ReduceLROnPlateau ----------------

using Mode = ReduceLROnPlateauOptions::Mode;
using ThresholdMode = ReduceLROnPlateauOptions::ThresholdMode;

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, Options o) : Scheduler(optimizer), opt_(std::move(o)) {
  const size_t groups = optimizer.num_param_groups();
  SG_CHECK(opt_.factor < 1.0, "ReduceLROnPlateau: factor must be < 1, got ", opt_.factor);
  SG_CHECK(opt_.min_lrs.empty() || opt_.min_lrs.size() == groups, "ReduceLROnPlateau: expected ", groups,
           " min_lrs (one per parameter group), got ", opt_.min_lrs.size());
  min_lrs_ = opt_.min_lrs.empty() ? std::vector<double>(groups, opt_.min_lr) : opt_.min_lrs;
  best_ = mode_worse();
}

double ReduceLROnPlateau::mode_worse() const {
  return opt_.mode == Mode::min ? INFINITY : -INFINITY;
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
  if (opt_.mode == Mode::min && opt_.threshold_mode == ThresholdMode::rel) return a < best * (1. - opt_.threshold);
  if (opt_.mode == Mode::min) return a < best - opt_.threshold;
  if (opt_.threshold_mode == ThresholdMode::rel) return a > best * (opt_.threshold + 1.);
  return a > best + opt_.threshold;
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs in cooldown do not count
  }
  if (num_bad_epochs_ > opt_.patience) {
    for (size_t g = 0; g < optimizer_.num_param_groups(); ++g) {
      const double old_lr = optimizer_.lr(g);
      const double new_lr = std::max(old_lr * opt_.factor, min_lrs_[g]);
      if (old_lr - new_lr > opt_.eps) optimizer_.set_lr(g, new_lr);
    }
    cooldown_counter_ = opt_.cooldown;
    num_bad_epochs_ = 0;
  }
  last_lr_ = group_lrs();
}

json::Value ReduceLROnPlateau::state_dict() const {
  std::vector<std::pair<std::string, json::Value>> members = {
      {"factor", json::make_number(opt_.factor)},
      {"min_lrs", numbers_json(min_lrs_)},
      {"patience", json::make_int(opt_.patience)},
      {"verbose", json::make_bool(false)},
      {"cooldown", json::make_int(opt_.cooldown)},
      {"cooldown_counter", json::make_int(cooldown_counter_)},
      {"mode", json::make_string(opt_.mode == Mode::min ? "min" : "max")},
      {"threshold", json::make_number(opt_.threshold)},
      {"threshold_mode", json::make_string(opt_.threshold_mode == ThresholdMode::rel ? "rel" : "abs")},
      {"best", extended_number(best_)},
      {"num_bad_epochs", json::make_int(num_bad_epochs_)},
      {"mode_worse", extended_number(mode_worse())},
      {"eps", json::make_number(opt_.eps)},
      {"last_epoch", json::make_int(last_epoch_)}};
  if (!last_lr_.empty()) members.emplace_back("_last_lr", numbers_json(last_lr_));  // torch: set by the first step
  return json::make_object(std::move(members));
}

void ReduceLROnPlateau::load_state_dict(const json::Value& state) {
  const std::string who = "ReduceLROnPlateau.load_state_dict";
  check_keys(who, state,
             {"factor", "min_lrs", "patience", "verbose", "cooldown", "cooldown_counter", "mode", "threshold",
              "threshold_mode", "best", "num_bad_epochs", "mode_worse", "eps", "last_epoch", "_last_lr"});
  auto text = [&](const std::string& key, const char* a, const char* b) {
    const json::Value& v = member(who, state, "", key);
    SG_CHECK(v.is_string() && (v.string == a || v.string == b), who, ": '", key, "' must be \"", a, "\" or \"", b,
             "\"");
    return v.string == a;
  };
  const size_t groups = optimizer_.num_param_groups();
  Options o = opt_;
  o.factor = number(who, member(who, state, "", "factor"), "factor");
  SG_CHECK(o.factor < 1.0, who, ": 'factor' must be < 1, got ", o.factor);
  std::vector<double> min_lrs = group_numbers(who, state, "min_lrs", groups);
  o.min_lrs = min_lrs;
  o.patience = integer(who, member(who, state, "", "patience"), "patience");
  o.cooldown = integer(who, member(who, state, "", "cooldown"), "cooldown");
  const int64_t cooldown_counter = integer(who, member(who, state, "", "cooldown_counter"), "cooldown_counter");
  o.mode = text("mode", "min", "max") ? Mode::min : Mode::max;
  o.threshold = number(who, member(who, state, "", "threshold"), "threshold");
  o.threshold_mode = text("threshold_mode", "rel", "abs") ? ThresholdMode::rel : ThresholdMode::abs;
  const double best = extended_number(who, member(who, state, "", "best"), "best");
  const int64_t num_bad_epochs = integer(who, member(who, state, "", "num_bad_epochs"), "num_bad_epochs");
  o.eps = number(who, member(who, state, "", "eps"), "eps");
  const int64_t last_epoch = integer(who, member(who, state, "", "last_epoch"), "last_epoch");
  std::vector<double> last_lr;
  if (state.find("_last_lr")) last_lr = group_numbers(who, state, "_last_lr", groups);
  opt_ = o;
  min_lrs_ = std::move(min_lrs);
  cooldown_counter_ = cooldown_counter;
  best_ = best;
  num_bad_epochs_ = num_bad_epochs;
  last_epoch_ = last_epoch;
  last_lr_ = std::move(last_lr);
}

}  // namespace sg::nn
