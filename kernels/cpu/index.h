// CPU kernels for gather / scatter_add along one dim, and flip.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace sg::cpu {
// out[..., j, ...] = x[..., index[..., j, ...], ...] along dim (index has out's shape)
void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out);
// out[..., index[..., j, ...], ...] += src[..., j, ...] along dim; out pre-zeroed
void scatter_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src);
// out[..., i, ...] = x[..., n-1-i, ...] along each of dims (distinct, non-negative); out has x's shape
void flip(const Tensor& x, const std::vector<int>& dims, const Tensor& out);
}  // namespace sg::cpu
