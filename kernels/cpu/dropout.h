// Dropout's mask, drawn from a counter-based generator (kernels/philox.h):
//
//   mask_i = scale if u_i < keep else 0,  u_i = uniform word i mod 4 of Philox(counter i / 4, key seed)
//
// Each element's number depends only on (seed, i), so the mask is the same
// whatever the dtype, the device (kernels/cuda/dropout.cuh draws the same
// one) or the number of threads. ops/dropout.cpp calls it.
#pragma once
#include "kernels/kernel_args.h"
#include "tensor/tensor.h"

namespace sg::cpu {

// mask: contiguous, float32 or float64.
void dropout_mask(const Tensor& mask, const DropoutMask& d);

}  // namespace sg::cpu
