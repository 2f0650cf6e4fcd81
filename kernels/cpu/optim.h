// The optimizers' fused update kernels: one pass over a parameter and its
// state instead of the dozen elementwise ops (each a pass over memory) that
// the update written with ops takes.
#pragma once
#include "kernels/kernel_args.h"
#include "tensor/tensor.h"

namespace sg::cpu {

// One Adam (or AdamW) step, in place, element by element, as torch.optim.Adam:
//   AdamW:     p = p * (1 - lr wd)                  Adam:  g = g + wd p
//   m = beta1 m + (1 - beta1) g                     v = beta2 v + (1 - beta2) g^2
//   amsgrad:   vmax = max(vmax, v), v' = vmax       else   v' = v
//   p = p - (lr / bc1) m / (sqrt(v') / sqrt(bc2) + eps)
// param, grad, exp_avg, exp_avg_sq (and max_exp_avg_sq with amsgrad; else it
// may be undefined) are contiguous, of one shape, dtype (float32 or float64)
// and device.
void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const Tensor& max_exp_avg_sq, const AdamStep& s);

}  // namespace sg::cpu
