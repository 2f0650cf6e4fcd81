#include "nn/optim.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "ops/ops.h"
#include "tensor/error.h"

namespace sg::nn {

Optimizer::Optimizer(std::vector<Tensor> params) : params_(std::move(params)) {
  for (const Tensor& p : params_)
    SG_CHECK(p.defined() && p.requires_grad() && p.is_leaf(),
             "optimizer: every parameter must be a leaf tensor that requires grad");
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.set_grad(Tensor());
}

// ---------------- SGD ----------------

SGD::SGD(std::vector<Tensor> params, Options o) : Optimizer(std::move(params)), opt(o) {
  SG_CHECK(o.lr >= 0, "SGD: invalid learning rate ", o.lr);
  SG_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), "SGD: nesterov needs momentum > 0 and no dampening");
  momentum_buf_.resize(params_.size());
}

void SGD::step() {
  NoGradGuard ng;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (opt.weight_decay != 0) g = g + p * opt.weight_decay;
    if (opt.momentum != 0) {
      Tensor& buf = momentum_buf_[i];
      if (!buf.defined()) buf = g.clone();
      else buf = buf * opt.momentum + g * (1.0 - opt.dampening);
      g = opt.nesterov ? g + buf * opt.momentum : buf;
    }
    p.add_(g, -opt.lr);
  }
}

// ---------------- Adam ----------------

Adam::Adam(std::vector<Tensor> params, Options o) : Optimizer(std::move(params)), opt(o) {
  SG_CHECK(o.lr >= 0 && o.eps >= 0 && o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1,
           "Adam: invalid hyper-parameters (lr ", o.lr, ", betas ", o.beta1, ", ", o.beta2, ", eps ", o.eps, ")");
  m_.resize(params_.size());
  v_.resize(params_.size());
}

void Adam::step() {
  NoGradGuard ng;
  ++t_;
  const double bc1 = 1.0 - std::pow(opt.beta1, double(t_));
  const double bc2 = 1.0 - std::pow(opt.beta2, double(t_));
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (opt.weight_decay != 0) g = g + p * opt.weight_decay;
    if (!m_[i].defined()) {
      m_[i] = zeros_like(p);
      v_[i] = zeros_like(p);
    }
    m_[i] = m_[i] * opt.beta1 + g * (1.0 - opt.beta1);
    v_[i] = v_[i] * opt.beta2 + g * g * (1.0 - opt.beta2);
    // torch: denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom
    Tensor denom = sqrt(v_[i]) * (1.0 / std::sqrt(bc2)) + opt.eps;
    p.add_(m_[i] / denom, -opt.lr / bc1);
  }
}

// ---------------- L-BFGS ----------------

LBFGS::LBFGS(std::vector<Tensor> params, Options o) : Optimizer(std::move(params)), opt(o) {
  SG_CHECK(o.max_iter > 0 && o.history_size > 0, "LBFGS: max_iter and history_size must be positive");
  if (opt.max_eval < 0) opt.max_eval = opt.max_iter * 5 / 4;
}

Tensor LBFGS::flat_grad() const {
  std::vector<Tensor> parts;
  for (const Tensor& p : params_)
    parts.push_back(p.grad().defined() ? p.grad().reshape({-1}) : zeros({p.numel()}, TensorOptions(p.dtype())));
  return parts.size() == 1 ? parts[0].contiguous() : cat(parts, 0);
}

void LBFGS::add_to_params(double step, const Tensor& direction) {
  int64_t offset = 0;
  for (Tensor& p : params_) {
    p.add_(direction.narrow(0, offset, p.numel()).reshape(p.shape()), step);
    offset += p.numel();
  }
}

static double dot(const Tensor& a, const Tensor& b) { return sum(a * b).item(); }
static double abs_max(const Tensor& a) { return max(abs(a)).item(); }

double LBFGS::step(const std::function<double()>& closure) {
  auto evaluate = [&] {
    GradModeGuard on(true);
    return closure();
  };
  NoGradGuard ng;
  const double orig_loss = evaluate();
  double loss = orig_loss;
  int current_evals = 1;
  ++func_evals_;
  Tensor g = flat_grad();
  if (abs_max(g) <= opt.tolerance_grad) return orig_loss;

  for (int n_iter = 1; n_iter <= opt.max_iter; ++n_iter) {
    ++n_iter_;
    // 1. Search direction d = -H g, H from the (s, y) history (two-loop recursion).
    if (n_iter_ == 1) {
      d_ = neg(g);
      old_dirs_.clear();
      old_steps_.clear();
      ro_.clear();
      h_diag_ = 1;
    } else {
      Tensor y = g - prev_flat_grad_;  // change of gradient
      Tensor s = d_ * t_;              // change of parameters
      const double ys = dot(y, s);
      if (ys > 1e-10) {  // keep only pairs with positive curvature
        if (int(old_dirs_.size()) == opt.history_size) {
          old_dirs_.erase(old_dirs_.begin());
          old_steps_.erase(old_steps_.begin());
          ro_.erase(ro_.begin());
        }
        old_dirs_.push_back(y);
        old_steps_.push_back(s);
        ro_.push_back(1.0 / ys);
        h_diag_ = ys / dot(y, y);  // initial Hessian scale
      }
      const size_t k = old_dirs_.size();
      std::vector<double> al(k);
      Tensor q = neg(g);
      for (size_t i = k; i-- > 0;) {
        al[i] = dot(old_steps_[i], q) * ro_[i];
        q = q - old_dirs_[i] * al[i];
      }
      Tensor r = q * h_diag_;
      for (size_t i = 0; i < k; ++i) {
        const double be_i = dot(old_dirs_[i], r) * ro_[i];
        r = r + old_steps_[i] * (al[i] - be_i);
      }
      d_ = r;
    }
    prev_flat_grad_ = g.clone();
    prev_loss_ = loss;

    // 2. Step length: the very first step is scaled down to at most lr / |g|_1.
    t_ = n_iter_ == 1 ? std::min(1.0, 1.0 / sum(abs(g)).item()) * opt.lr : opt.lr;
    const double gtd = dot(g, d_);  // directional derivative
    if (gtd > -opt.tolerance_change) break;

    // 3. Take the step and re-evaluate (except after the last iteration).
    add_to_params(t_, d_);
    int ls_evals = 0;
    bool small_grad = false;
    if (n_iter != opt.max_iter) {
      loss = evaluate();
      g = flat_grad();
      small_grad = abs_max(g) <= opt.tolerance_grad;
      ls_evals = 1;
    }
    current_evals += ls_evals;
    func_evals_ += ls_evals;

    // 4. Stopping tests, in torch's order.
    if (n_iter == opt.max_iter) break;
    if (current_evals >= opt.max_eval) break;
    if (small_grad) break;
    if (abs_max(d_ * t_) <= opt.tolerance_change) break;
    if (std::abs(loss - prev_loss_) < opt.tolerance_change) break;
  }
  return orig_loss;
}

}  // namespace sg::nn
