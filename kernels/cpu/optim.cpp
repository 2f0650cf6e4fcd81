#include "kernels/cpu/optim.h"

#include <cmath>

#include "tensor/error.h"

namespace sg::cpu {

namespace {

// The op-by-op update's arithmetic, in T, with the scalars rounded to T once
// as the scalar ops round them (the compiler may fuse a multiply and an add).
template <class T>
void adam_update_typed(T* p, const T* grad, T* m, T* v, T* vmax, int64_t n, const AdamStep& s) {
  const T beta1 = T(s.beta1), beta2 = T(s.beta2), eps = T(s.eps), wd = T(s.weight_decay);
  const T one_minus_beta1 = T(1.0 - s.beta1), one_minus_beta2 = T(1.0 - s.beta2);
  const T decay = T(1.0 - s.lr * s.weight_decay), inv_sqrt_bc2 = T(1.0 / std::sqrt(s.bias_correction2));
  const T step = T(-s.lr / s.bias_correction1);
  const bool decay_weights = s.weight_decay != 0 && s.decoupled_weight_decay;
  const bool decay_gradient = s.weight_decay != 0 && !s.decoupled_weight_decay;
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (decay_weights) p[i] = p[i] * decay;
    if (decay_gradient) g = g + p[i] * wd;
    m[i] = m[i] * beta1 + g * one_minus_beta1;
    v[i] = v[i] * beta2 + g * g * one_minus_beta2;
    T second = v[i];
    if (vmax) {
      vmax[i] = vmax[i] > v[i] ? vmax[i] : v[i];
      second = vmax[i];
    }
    const T denom = std::sqrt(second) * inv_sqrt_bc2 + eps;
    p[i] = p[i] + (m[i] / denom) * step;
  }
}

}  // namespace

void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const Tensor& max_exp_avg_sq, const AdamStep& s) {
  const int64_t n = param.numel();
  auto run = [&](auto* p) {
    using T = std::remove_pointer_t<decltype(p)>;
    adam_update_typed<T>(p, grad.data<T>(), exp_avg.data<T>(), exp_avg_sq.data<T>(),
                         s.amsgrad ? max_exp_avg_sq.data<T>() : nullptr, n, s);
  };
  switch (param.dtype()) {
    case DType::f32: run(param.data<float>()); break;
    case DType::f64: run(param.data<double>()); break;
    default: throw Error(std::string("adam_update: expected float32 or float64, got ") + dtype_name(param.dtype()));
  }
}

}  // namespace sg::cpu
