// Dropout: during training, zero each element with probability p and scale the
// kept ones by 1 / (1 - p), so that the expected output equals the input:
//
//   y = x * mask,  mask_i = (u_i < 1 - p) / (1 - p),  u_i ~ U[0, 1)
//
// u_i comes from a counter-based generator (Philox, kernels/philox.h): the
// number of element i is a function of i and a seed only. `gen` gives one
// seed a call; the kernel on x's device draws the mask there (no mask made on
// the host and copied), and the same seed gives the same mask on every device
// and in every dtype. The mask is a constant, so the backward (g * mask) and
// every higher derivative come from mul.
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

  DropoutMask draw;
  draw.seed = gen.next_u64();
  draw.keep = 1.0 - p;
  draw.scale = draw.keep > 0.0 ? 1.0 / draw.keep : 0.0;  // p == 1 keeps nothing: the mask is all zeros
  Tensor mask = empty(x.shape(), options_like(x));
  kernel_for(mask.device(), &KernelTable::dropout_mask, "dropout")(mask, draw);
  return x * mask;
}

}  // namespace sg
