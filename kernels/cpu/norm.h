// CPU kernels for instance normalisation without affine parameters, on
// contiguous tensors seen as [planes, M] (a plane: one (sample, channel), M
// its spatial elements):
//
//   y = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps),  var the biased variance
//
// Fused so that the forward reads x twice (the plane stays in cache) and
// writes y once, and the backward reads x and the gradient twice and writes
// dx once; the composed ops (mean, sub, mul, rsqrt) made about ten passes over
// memory each way. Sums are accumulated in double. ops/norm.cpp calls them.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace sg::cpu {

// y [planes, M] = normalised x; stats [planes, 2] = (mean, rstd) of each plane.
void instance_norm(const Tensor& x, const Tensor& y, const Tensor& stats, double eps);
// dx = d/dx of sum(instance_norm(x) * g), from the forward's stats:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  xhat = (x - mean) * rstd.
void instance_norm_backward(const Tensor& x, const Tensor& stats, const Tensor& g, const Tensor& dx);

}  // namespace sg::cpu
