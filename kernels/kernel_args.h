// The arguments that say what a kernel computes, beyond its tensors: which
// elementwise map, a convolution's geometry, a pooling window, a padding's
// source table. Shared by every device's kernels (kernels/cpu, kernels/cuda)
// and by the per-device table (kernels/kernel_table.h), so that an op names
// what it wants once, whatever device runs it.
#pragma once
#include <cstdint>
#include <vector>

namespace sg {

// Elementwise maps (a, b: the op's scalar parameters).
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

enum class Binary { add, sub, mul, div, maximum, minimum, ge_mask /* a >= b ? 1 : 0, float */ };

enum class Compare { gt, lt, ge, le, eq };

enum class SoftmaxKind { softmax, log_softmax };

// Where a kernel window sits: output position o along an axis reads input
// positions o * stride - pad + j * dilation, j in [0, kernel).
struct ConvParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  bool cache_weight_transform = false;  // the Winograd path may keep the weight's transform (winograd.h)
};

// One axis of a pooling window: output position o covers the input positions
// o * stride - pad + j * dilation, j in [0, kernel); those outside [0, size)
// are padding.
struct PoolAxis {
  int64_t kernel = 1, stride = 1, pad = 0, dilation = 1;
};

// source[i]: the input position that output position i copies along one axis,
// or -1 where the output takes the constant fill value.
using AxisSource = std::vector<int64_t>;

// One Adam/AdamW step's scalars (torch.optim.Adam's formula, see
// kernels/cpu/optim.h): the bias corrections 1 - beta^step are the caller's,
// since the step count is the optimizer's state, not the kernel's.
struct AdamStep {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  double bias_correction1 = 1, bias_correction2 = 1;
  bool decoupled_weight_decay = false;  // AdamW: decay the weights, not the gradient
  bool amsgrad = false;                 // use max_exp_avg_sq, the running maximum of exp_avg_sq
};

// A dropout mask's draw (kernels/cpu/dropout.h): element i is `scale` where
// the uniform number i of Philox stream `seed` (kernels/philox.h) is below
// `keep`, else 0.
struct DropoutMask {
  uint64_t seed = 0;
  double keep = 1;   // the probability of keeping an element, 1 - p
  double scale = 1;  // what a kept element is: 1 / keep (0 when keep is 0)
};

}  // namespace sg
