// Dropout: during training, zero each element with probability p and scale the
// kept ones by 1 / (1 - p), so that the expected output equals the input:
//
//   y = x * mask,  mask_i = (u_i < 1 - p) / (1 - p),  u_i ~ U[0, 1) from `gen`
//
// The mask is a constant, so the backward (g * mask) and every higher
// derivative come from mul. The same seed gives the same mask.
#include "kernels/kernel_table.h"
#include "ops/op_util.h"
#include "tensor/random.h"

namespace sg {

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  SG_PROFILE("dropout");
  require_defined("dropout", x, "input");
  require_float("dropout", x);
  SG_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability p must be in [0, 1], got ", p);
  if (!training || p == 0.0) return x;  // identity: nothing is dropped

  const double keep = 1.0 - p;
  // Drawn in float64 on the CPU whatever x's dtype and device, so that the
  // mask does not depend on either: one seed, one mask, on every device.
  const Tensor u = rand(x.shape(), gen, TensorOptions(DType::f64));
  Tensor mask = lt(u, keep).to(x.dtype()).to(x.device());  // 1 with probability 1 - p, else 0
  if (keep > 0.0) mask = mask * (1.0 / keep);  // p == 1 keeps nothing: the mask stays all zeros
  return x * mask;
}

}  // namespace sg
