// Losses, each the mean over all elements (torch's default reduction):
//
//   l1_loss(x, t)          = mean |x - t|
//   mse_loss(x, t)         = mean (x - t)^2
//   bce_with_logits(x, t)  = mean [ softplus(x) - x t ]
//
// bce_with_logits is -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]
// rewritten so that it never takes the log of 0: with
// log sigmoid(x) = -softplus(-x) and softplus(-x) = softplus(x) - x it is
// softplus(x) - x t, and the softplus kernel computes
// max(x, 0) + log(1 + exp(-|x|)), which cannot overflow. (Composing max and
// |x| ourselves would give the wrong gradient at exactly x = 0; softplus'
// derivative, sigmoid(x), is smooth.)
//
// All are composed of ops, so every derivative order is automatic, for the
// target as well as the input.
#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

namespace {

void check_loss_inputs(const char* op, const Tensor& x, const Tensor& target) {
  require_defined(op, x, "input");
  require_defined(op, target, "target");
  require_float(op, x);
  require_same(op, x, target);
  // No broadcasting: a [N] target against a [N, 1] input is almost always a bug.
  SG_CHECK(x.shape() == target.shape(), op, ": input ", x.shape().str(), " and target ", target.shape().str(),
           " have different shapes");
}

}  // namespace

Tensor l1_loss(const Tensor& x, const Tensor& target) {
  SG_PROFILE("l1_loss");
  check_loss_inputs("l1_loss", x, target);
  return mean(abs(x - target));
}

Tensor mse_loss(const Tensor& x, const Tensor& target) {
  SG_PROFILE("mse_loss");
  check_loss_inputs("mse_loss", x, target);
  const Tensor diff = x - target;
  return mean(diff * diff);
}

Tensor bce_with_logits(const Tensor& logits, const Tensor& target) {
  SG_PROFILE("bce_with_logits");
  check_loss_inputs("bce_with_logits", logits, target);
  return mean(softplus(logits) - logits * target);
}

}  // namespace sg
