// CPU kernels for elementwise maps. Outputs are allocated by the caller; inputs
// may be any strided view (a broadcast input is an expand()ed view, stride 0).
#pragma once
#include "kernels/kernel_args.h"
#include "tensor/tensor.h"

namespace sg::cpu {

void unary(Unary op, const Tensor& x, const Tensor& out, double a = 0, double b = 0);
void binary(Binary op, const Tensor& a, const Tensor& b, const Tensor& out);

void compare(Compare op, const Tensor& a, const Tensor& b, const Tensor& out_bool);

// out = cond ? a : b   (cond is bool)
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);

}  // namespace sg::cpu
