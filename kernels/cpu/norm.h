// CPU kernels for normalisation without affine parameters. x is a contiguous
// [outer, C, inner] tensor, normalised per channel c over its outer * inner
// elements:
//
//   y = (x - mean_c) * rstd_c,  rstd_c = 1 / sqrt(var_c + eps),  var_c the biased variance
//
//   instance_norm: [1, N * C, H * W]  (one channel per (sample, channel) plane)
//   batch_norm:    [N, C, H * W]      (one channel per channel, over the batch)
//
// Fused so that the forward reads x twice (a channel stays in cache when it
// fits) and writes y once, and the backward reads x and the gradient twice
// and writes dx once; the composed ops (mean, sub, mul, rsqrt) made about ten
// passes over memory each way. Sums are accumulated in double. ops/norm.cpp
// calls them.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace sg::cpu {

// y [outer, C, inner] = normalised x; stats [C, 2] = (mean, rstd) of each channel.
void normalize(const Tensor& x, const Tensor& y, const Tensor& stats, double eps);
// dx = d/dx of sum(normalize(x) * g), from the forward's stats, m = outer * inner:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  xhat = (x - mean) * rstd.
void normalize_backward(const Tensor& x, const Tensor& stats, const Tensor& g, const Tensor& dx);

}  // namespace sg::cpu
