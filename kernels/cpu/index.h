// CPU kernels for gather / scatter_add along one dim, and cat.
#pragma once
#include "tensor/tensor.h"

namespace sg::cpu {
// out[..., j, ...] = x[..., index[..., j, ...], ...] along dim (index has out's shape)
void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out);
// out[..., index[..., j, ...], ...] += src[..., j, ...] along dim; out pre-zeroed
void scatter_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src);
}  // namespace sg::cpu
