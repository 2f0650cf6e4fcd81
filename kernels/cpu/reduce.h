// CPU reduction kernels. `reduce[d]` says whether dim d is reduced; `out` has
// the keepdim shape (size 1 at reduced dims) and is contiguous.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace sg::cpu {
// out = scale * sum of x over the reduced dims (accumulated in double)
void sum(const Tensor& x, const std::vector<bool>& reduce, const Tensor& out, double scale = 1.0);
// values/indices (int64) of the maximum along `dim`; first occurrence wins, NaN propagates
void max_along(const Tensor& x, int dim, const Tensor& values, const Tensor& indices);
}  // namespace sg::cpu
