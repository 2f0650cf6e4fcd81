// Optimizers with torch.optim's names, hyper-parameters and defaults.
// They update parameters in place under NoGradGuard.
//
// As in torch, an optimizer holds a list of parameter groups, each with its
// own hyper-parameters (lr and the rest); the constructors that take one list
// of tensors make a single group. Schedulers (nn/lr_scheduler.h) change a
// group's lr through set_lr().
//
// state_dict() has torch 1.13's layout and names, split the way one
// safetensors file holds it (nn/checkpoint.h writes it so):
//   tensors: "state.<i>.<name>" for parameter i counted across the groups
//            ("state.0.exp_avg"), list elements numbered ("state.0.old_dirs.3");
//   json:    {"state": {"<i>": {<scalar state, e.g. "step": 3>}},
//             "param_groups": [{"lr": 0.001, "betas": [0.9, 0.999], ..., "params": [0, 1]}]}
// load_state_dict() checks the group count and sizes, every hyper-parameter
// and every tensor's shape before it changes anything, and throws one line
// naming the key. After it, step() continues exactly as the saved run would.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tensor/tensor.h"
#include "weights/json.h"

namespace sg::nn {

// An optimizer's (or scheduler's) state, as described above.
struct StateDict {
  NamedTensors tensors;
  json::Value json;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;  // schedulers keep a reference to it
  Optimizer& operator=(const Optimizer&) = delete;

  const std::string& name() const { return name_; }  // "Adam", "SGD", ...
  void zero_grad();  // sets every .grad to undefined (torch's set_to_none=True)
  // Every group's parameters, in order: a parameter's index here is its key in state_dict().
  std::vector<Tensor> params() const;

  virtual size_t num_param_groups() const = 0;
  virtual const std::vector<Tensor>& group_params(size_t group) const = 0;
  virtual double lr(size_t group) const = 0;
  virtual void set_lr(size_t group, double lr) = 0;
  // torch's param_group['initial_lr']: set by the first scheduler made with
  // last_epoch -1, required by one made to resume (last_epoch >= 0).
  virtual std::optional<double> initial_lr(size_t group) const = 0;
  virtual void set_initial_lr(size_t group, double lr) = 0;

  virtual StateDict state_dict() const = 0;
  virtual void load_state_dict(const StateDict& state) = 0;

 protected:
  explicit Optimizer(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

template <class Options>
struct ParamGroup {
  std::vector<Tensor> params;
  Options options;
  std::optional<double> initial_lr = std::nullopt;
};

// The parameter groups of an optimizer whose hyper-parameters are `Options`.
template <class Options>
class OptimizerWithGroups : public Optimizer {
 public:
  using Group = ParamGroup<Options>;
  const std::vector<Group>& param_groups() const { return groups_; }
  Options& options(size_t group = 0) { return groups_.at(group).options; }
  const Options& options(size_t group = 0) const { return groups_.at(group).options; }

  size_t num_param_groups() const override { return groups_.size(); }
  const std::vector<Tensor>& group_params(size_t group) const override { return groups_.at(group).params; }
  double lr(size_t group) const override { return groups_.at(group).options.lr; }
  void set_lr(size_t group, double lr) override { groups_.at(group).options.lr = lr; }
  std::optional<double> initial_lr(size_t group) const override { return groups_.at(group).initial_lr; }
  void set_initial_lr(size_t group, double lr) override { groups_.at(group).initial_lr = lr; }

 protected:
  // Checks that every parameter is a leaf that requires grad, in one group only.
  OptimizerWithGroups(std::string name, std::vector<Group> groups);
  std::vector<Group> groups_;
};

struct SGDOptions {
  double lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

// p -= lr * (g + weight_decay p), with optional (Nesterov) momentum as torch.optim.SGD.
// state: momentum_buffer.
class SGD : public OptimizerWithGroups<SGDOptions> {
 public:
  using Options = SGDOptions;
  SGD(std::vector<Tensor> params, Options o = {});
  explicit SGD(std::vector<Group> groups);
  void step();
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 private:
  std::vector<Tensor> momentum_buf_;  // by parameter index across groups
};

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false;
};
// torch.optim.AdamW's defaults differ from Adam's in weight_decay only.
struct AdamWOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
  bool amsgrad = false;
};

// torch.optim.Adam and AdamW, one implementation:
//   Adam:  g += weight_decay p          AdamW: p *= 1 - lr weight_decay
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  (amsgrad: v_max = max(v_max, v), used for v)
//   p -= lr * m_hat / (sqrt(v_hat) + eps), with bias corrections m_hat, v_hat
// state (per parameter, as torch): step, exp_avg, exp_avg_sq (and max_exp_avg_sq with amsgrad).
template <class Options, bool kDecoupledWeightDecay>
class AdamFamily : public OptimizerWithGroups<Options> {
 public:
  using Group = ParamGroup<Options>;
  AdamFamily(std::vector<Tensor> params, Options o = {});
  explicit AdamFamily(std::vector<Group> groups);
  void step();
  // Steps taken by parameter i (torch's per-parameter state['step']).
  int64_t steps(size_t param = 0) const { return state_.at(param).step; }
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 private:
  struct ParamState {
    int64_t step = 0;
    Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
  };
  std::vector<ParamState> state_;  // by parameter index across groups
};

class Adam : public AdamFamily<AdamOptions, false> {
 public:
  using Options = AdamOptions;
  using AdamFamily::AdamFamily;
};

class AdamW : public AdamFamily<AdamWOptions, true> {
 public:
  using Options = AdamWOptions;
  using AdamFamily::AdamFamily;
};

struct LBFGSOptions {
  double lr = 1;
  int max_iter = 20;
  int max_eval = -1;  // -1: max_iter * 5 / 4, as torch
  double tolerance_grad = 1e-7, tolerance_change = 1e-9;
  int history_size = 100;
};

// torch.optim.LBFGS without a line search (fixed step lr, as neural-style uses it):
// keeps the last history_size (s, y) pairs and builds the search direction with the
// two-loop recursion. step(closure) runs up to max_iter iterations; the closure
// recomputes the loss, calls backward() (after zeroing grads) and returns the loss.
// One parameter group, as torch. state (under parameter 0, as torch): func_evals,
// n_iter, d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss.
class LBFGS : public OptimizerWithGroups<LBFGSOptions> {
 public:
  using Options = LBFGSOptions;
  LBFGS(std::vector<Tensor> params, Options o = {});
  // Returns the loss of the first closure call, like torch.
  double step(const std::function<double()>& closure);
  int64_t func_evals() const { return func_evals_; }
  int64_t iterations() const { return n_iter_; }
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 private:
  Tensor flat_grad() const;
  void add_to_params(double step, const Tensor& direction);
  int64_t numel() const;  // of all parameters together
  // state kept across step() calls, as torch keeps it in self.state
  Tensor d_, prev_flat_grad_;
  double t_ = 0, prev_loss_ = 0, h_diag_ = 1;
  std::vector<Tensor> old_dirs_, old_steps_;
  std::vector<double> ro_;
  int64_t func_evals_ = 0, n_iter_ = 0;
};

// Reading a state_dict's JSON. Each throws one line "<who>: '<key>' <what is wrong>",
// e.g. "Adam.load_state_dict: 'param_groups.0.lr' is missing".
namespace state_json {
const json::Value& member(const std::string& who, const json::Value& object, const std::string& object_key,
                          const std::string& key);
double number(const std::string& who, const json::Value& v, const std::string& key);
int64_t integer(const std::string& who, const json::Value& v, const std::string& key);
bool boolean(const std::string& who, const json::Value& v, const std::string& key);
std::vector<double> numbers(const std::string& who, const json::Value& v, const std::string& key);
// Doubles that may be infinite or NaN (ReduceLROnPlateau's best): JSON has no
// such numbers, so they are written as the strings "Infinity", "-Infinity" and
// "NaN" (the names Python's json module uses).
json::Value extended_number(double x);
double extended_number(const std::string& who, const json::Value& v, const std::string& key);
// "a.b" from "a" and "b"; just "b" when `object_key` is empty.
std::string join(const std::string& object_key, const std::string& key);
}  // namespace state_json

}  // namespace sg::nn
