// CPU kernels of ops/matmul.cpp: batches of GEMMs and Gram products.
#pragma once
#include "tensor/tensor.h"

namespace sg::cpu {

// out[i] = a[i] b[i] for every index i of the batch dims. a is [batch..., M, K]
// and b [batch..., K, N], views that may broadcast (stride 0) over the batch and
// have a unit stride in one of their two last dims; out is a contiguous
// [batch..., M, N]. float32 or float64.
void matmul(const Tensor& a, const Tensor& b, const Tensor& out);

// out[i] = v[i] v[i]^T for a contiguous v [batch..., C, K]; out [batch..., C, C].
void gram(const Tensor& v, const Tensor& out);

}  // namespace sg::cpu
