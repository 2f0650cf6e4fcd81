// Strided copy with dtype conversion: dst[i] = T_dst(src[i]), same shape.
// Used by contiguous(), to(dtype), copy_() and everything that materialises a view.
#pragma once
#include "tensor/tensor.h"

namespace sg::cpu {
void copy(const Tensor& src, const Tensor& dst);
void fill(const Tensor& dst, double value);
}  // namespace sg::cpu
