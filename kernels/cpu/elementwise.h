// CPU kernels for elementwise maps. Outputs are allocated by the caller; inputs
// may be any strided view (a broadcast input is an expand()ed view, stride 0).
#pragma once
#include "tensor/tensor.h"

namespace sg::cpu {

enum class Unary {
  neg, exp, log, sqrt, rsqrt, abs, sign, relu, tanh, sigmoid, softplus,
  pow,           // x^a
  leaky_relu,    // x > 0 ? x : a*x
  leaky_slope,   // x > 0 ? 1 : a         (leaky_relu's derivative)
  clamp,         // min(max(x, a), b)
  inside,        // a <= x <= b ? 1 : 0    (clamp's derivative)
  positive,      // x > 0 ? 1 : 0          (relu's derivative)
  add_scalar,    // x + a
  mul_scalar,    // x * a
};
void unary(Unary op, const Tensor& x, const Tensor& out, double a = 0, double b = 0);

enum class Binary { add, sub, mul, div, maximum, minimum, ge_mask /* a >= b ? 1 : 0, float */ };
void binary(Binary op, const Tensor& a, const Tensor& b, const Tensor& out);

enum class Compare { gt, lt, ge, le, eq };
void compare(Compare op, const Tensor& a, const Tensor& b, const Tensor& out_bool);

// out = cond ? a : b   (cond is bool)
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);

}  // namespace sg::cpu
