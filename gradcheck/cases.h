// Gradient-check cases, one file per op family (gradcheck/<family>_cases.cpp).
// Each case builds small fp64 inputs and names the function to check; the
// registry (registry.cpp) lists the families.
#pragma once
#include <vector>

#include "gradcheck/gradcheck.h"
#include "ops/ops.h"
#include "tensor/random.h"

namespace sg::cases {

// A fp64 leaf with values uniform in [lo, hi), requiring grad.
Tensor input(Generator& gen, const Shape& shape, double lo = -1.0, double hi = 1.0);
// Same, but values kept at least `gap` away from zero (for ops with a kink at 0:
// relu, abs, leaky_relu, max), so that finite differences do not straddle it.
Tensor input_away_from_zero(Generator& gen, const Shape& shape, double gap = 0.05);
// A fp64 constant (no grad).
Tensor constant(Generator& gen, const Shape& shape, double lo = -1.0, double hi = 1.0);

std::vector<GradcheckCase> elementwise_cases();
std::vector<GradcheckCase> reduce_cases();
std::vector<GradcheckCase> view_cases();
std::vector<GradcheckCase> index_cases();
std::vector<GradcheckCase> matmul_cases();
std::vector<GradcheckCase> conv_cases();
std::vector<GradcheckCase> pool_cases();
std::vector<GradcheckCase> pad_cases();
std::vector<GradcheckCase> upsample_cases();
std::vector<GradcheckCase> norm_cases();
std::vector<GradcheckCase> softmax_cases();
std::vector<GradcheckCase> dropout_cases();
std::vector<GradcheckCase> loss_cases();

}  // namespace sg::cases
