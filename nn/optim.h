// Optimizers with torch.optim's names, hyper-parameters and defaults.
// They update parameters in place under NoGradGuard.
#pragma once
#include <functional>
#include <vector>

#include "tensor/tensor.h"

namespace sg::nn {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params);
  virtual ~Optimizer() = default;
  void zero_grad();  // sets every .grad to undefined (torch's set_to_none=True)
  const std::vector<Tensor>& params() const { return params_; }

 protected:
  std::vector<Tensor> params_;
};

// p -= lr * (g + weight_decay p), with optional (Nesterov) momentum as torch.optim.SGD.
class SGD : public Optimizer {
 public:
  struct Options {
    double lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0;
    bool nesterov = false;
  };
  SGD(std::vector<Tensor> params, Options o);
  void step();
  Options opt;

 private:
  std::vector<Tensor> momentum_buf_;
};

// torch.optim.Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p -= lr * m_hat / (sqrt(v_hat) + eps), with bias corrections m_hat, v_hat.
class Adam : public Optimizer {
 public:
  struct Options {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  };
  Adam(std::vector<Tensor> params, Options o);
  void step();
  Options opt;
  int64_t steps() const { return t_; }

 private:
  std::vector<Tensor> m_, v_;
  int64_t t_ = 0;
};

// torch.optim.LBFGS without a line search (fixed step lr, as neural-style uses it):
// keeps the last history_size (s, y) pairs and builds the search direction with the
// two-loop recursion. step(closure) runs up to max_iter iterations; the closure
// recomputes the loss, calls backward() (after zeroing grads) and returns the loss.
class LBFGS : public Optimizer {
 public:
  struct Options {
    double lr = 1;
    int max_iter = 20;
    int max_eval = -1;  // -1: max_iter * 5 / 4, as torch
    double tolerance_grad = 1e-7, tolerance_change = 1e-9;
    int history_size = 100;
  };
  LBFGS(std::vector<Tensor> params, Options o);
  // Returns the loss of the first closure call, like torch.
  double step(const std::function<double()>& closure);
  Options opt;
  int64_t func_evals() const { return func_evals_; }
  int64_t iterations() const { return n_iter_; }

 private:
  Tensor flat_grad() const;
  void add_to_params(double step, const Tensor& direction);
  // state kept across step() calls, as torch keeps it in self.state
  Tensor d_, prev_flat_grad_;
  double t_ = 0, prev_loss_ = 0, h_diag_ = 1;
  std::vector<Tensor> old_dirs_, old_steps_;
  std::vector<double> ro_;
  int64_t func_evals_ = 0, n_iter_ = 0;
};

}  // namespace sg::nn
