// CPU pooling kernels on contiguous [N, C, H, W] tensors. Every (n, c) plane
// is independent, so threads split the planes.
#pragma once
#include <cstdint>

#include "kernels/kernel_args.h"

#include "tensor/tensor.h"

namespace sg::cpu {

// y = the maximum over each window (padding counts as -inf); indices (int64)
// = ih * W + iw of that maximum in its plane: the first one on ties, and a NaN
// wins. Either output may be undefined, and is then not written. Every window
// must hold at least one input element (ops/pool.cpp checks).
void max_pool2d(const Tensor& x, const Tensor& y, const Tensor& indices, const PoolAxis& rows, const PoolAxis& cols);

// y = the mean over each window (dilation 1). The divisor counts the padding
// when count_include_pad, but never the part of a window past the right
// padding (ceil_mode can make such windows), as in torch.
void avg_pool2d(const Tensor& x, const Tensor& y, const PoolAxis& rows, const PoolAxis& cols,
                bool count_include_pad);
// The adjoint of avg_pool2d: gx (zeroed by the caller) += each gy / divisor
// spread over its window.
void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const PoolAxis& rows, const PoolAxis& cols,
                         bool count_include_pad);

}  // namespace sg::cpu
