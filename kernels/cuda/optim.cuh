// The fused Adam/AdamW step, float32, with the CPU kernel's contract and
// formula (kernels/cpu/optim.h): one thread per element in a grid-stride loop
// reads the parameter, its gradient and state once and writes them once --
// the whole update in one pass over memory, as torch's fused Adam.
#pragma once
#include <math.h>

#include <vector>

#include "kernels/cuda/fill_copy.cuh"
#include "kernels/cuda/host_util.cuh"

namespace sg::SG_KERNELS {

// The step's scalars, rounded to float once on the host (as the CPU kernel
// rounds them to T), passed by value.
struct AdamScalars {
  float beta1, beta2, one_minus_beta1, one_minus_beta2, eps, weight_decay, decay, inv_sqrt_bc2, step;
  bool decay_weights, decay_gradient;
};

__global__ void adam_update_kernel(float* p, const float* grad, float* m, float* v, float* vmax, int64_t n,
                                   AdamScalars s) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    float g = grad[i];
    float w = p[i];
    if (s.decay_weights) w = w * s.decay;
    if (s.decay_gradient) g = g + w * s.weight_decay;
    const float mi = m[i] * s.beta1 + g * s.one_minus_beta1;
    const float vi = v[i] * s.beta2 + g * g * s.one_minus_beta2;
    m[i] = mi;
    v[i] = vi;
    float second = vi;
    if (vmax) {
      second = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = second;
    }
    const float denom = sqrtf(second) * s.inv_sqrt_bc2 + s.eps;
    p[i] = w + (mi / denom) * s.step;
  }
}

inline void adam_update_entry(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                              const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq, const AdamStep& st) {
  const char* op = "adam_update";
  std::vector<const Tensor*> ts = {&param, &grad, &exp_avg, &exp_avg_sq};
  if (st.amsgrad) ts.push_back(&max_exp_avg_sq);
  for (const Tensor* t : ts) {
    require_f32(op, *t);
    SG_CHECK(t->is_contiguous() && t->shape() == param.shape(), op, ": ", t->shape().str(),
             " is not a contiguous tensor of the parameter's shape ", param.shape().str());
  }
  const int64_t n = param.numel();
  if (n == 0) return;
  AdamScalars s;
  s.beta1 = float(st.beta1), s.beta2 = float(st.beta2);
  s.one_minus_beta1 = float(1.0 - st.beta1), s.one_minus_beta2 = float(1.0 - st.beta2);
  s.eps = float(st.eps), s.weight_decay = float(st.weight_decay), s.decay = float(1.0 - st.lr * st.weight_decay);
  s.inv_sqrt_bc2 = float(1.0 / sqrt(st.bias_correction2)), s.step = float(-st.lr / st.bias_correction1);
  s.decay_weights = st.weight_decay != 0 && st.decoupled_weight_decay;
  s.decay_gradient = st.weight_decay != 0 && !st.decoupled_weight_decay;
  SG_LAUNCH(adam_update_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)(
      param.device_data<float>(), grad.device_data<float>(), exp_avg.device_data<float>(),
      exp_avg_sq.device_data<float>(), st.amsgrad ? max_exp_avg_sq.device_data<float>() : nullptr, n, s);
  SG_CHECK_LAUNCH(op);
}

}  // namespace sg::SG_KERNELS
