// softmax, log_softmax and cross_entropy.
//
//   softmax(x)_i     = exp(x_i) / sum_j exp(x_j)
//   log_softmax(x)_i = x_i - log(sum_j exp(x_j))
//
// The forward is one fused kernel (kernels/cpu/softmax.cpp). The backward is
// written with ops and uses the saved output y, so it is differentiable again:
//   softmax:      dx = y * (g - sum(g * y))
//   log_softmax:  dx = g - exp(y) * sum(g)         (exp(y) is the softmax)
// with the sums taken along `dim` and kept for broadcasting.

#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

namespace {

Tensor softmax_forward(const char* name, const Tensor& x, int dim, SoftmaxKind kind) {
  SG_PROFILE(name);
  require_defined(name, x, "input");
  require_float(name, x);
  Tensor y = empty(x.shape(), options_like(x));
  kernel_for(x.device(), &KernelTable::softmax, name)(x, dim, y, kind);
  return y;
}

// The dims list for sum(): a 0-d tensor has no dim to name, and sum({}) sums it all.
std::vector<int64_t> dims_of(const Tensor& x, int dim) {
  return x.dim() == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{dim};
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  require_defined("softmax", x, "input");
  const int d = wrap_dim(dim, x.dim(), "softmax");
  Tensor y = softmax_forward("softmax", x, d, SoftmaxKind::softmax);
  if (any_requires_grad({x}))
    record("softmax", {x}, {y}, {},
           [d](BackwardContext& ctx, const TensorList& g) -> TensorList {
             Tensor y = ctx.output(0);
             return {y * (g[0] - sum(g[0] * y, dims_of(y, d), /*keepdim=*/true))};
           },
           /*save_outputs=*/true);
  return y;
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  require_defined("log_softmax", x, "input");
  const int d = wrap_dim(dim, x.dim(), "log_softmax");
  Tensor y = softmax_forward("log_softmax", x, d, SoftmaxKind::log_softmax);
  if (any_requires_grad({x}))
    record("log_softmax", {x}, {y}, {},
           [d](BackwardContext& ctx, const TensorList& g) -> TensorList {
             Tensor y = ctx.output(0);
             return {g[0] - exp(y) * sum(g[0], dims_of(y, d), /*keepdim=*/true)};
           },
           /*save_outputs=*/true);
  return y;
}

// cross_entropy = mean over n (and positions d...) of -log_softmax(logits)[n, target[n], d...],
// i.e. torch's nll_loss(log_softmax(logits, 1), target) with the default mean.
// Unlike torch there is no ignore_index: every target must be a valid class.
Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  SG_PROFILE("cross_entropy");
  require_defined("cross_entropy", logits, "logits");
  require_defined("cross_entropy", target, "target");
  require_float("cross_entropy", logits);
  SG_CHECK(logits.dim() >= 2, "cross_entropy: expected logits [N, C] or [N, C, d...], got shape ",
           logits.shape().str());
  SG_CHECK(target.dtype() == DType::i64, "cross_entropy: target must be int64 class indices, got ",
           dtype_name(target.dtype()), " ", target.shape().str());
  Shape expected = logits.shape();  // the logits' shape without the class dim
  expected.erase(1);
  SG_CHECK(target.shape() == expected, "cross_entropy: target ", target.shape().str(), " does not match logits ",
           logits.shape().str(), " (expected target ", expected.str(), ")");

  // Class labels often come from a file: check them here, so that the error names this op.
  const int64_t classes = logits.size(1);
  const Tensor labels = target.to(Device::cpu()).contiguous();
  const int64_t* p = labels.data<int64_t>();
  for (int64_t i = 0; i < labels.numel(); ++i)
    SG_CHECK(p[i] >= 0 && p[i] < classes, "cross_entropy: target ", p[i], " at element ", i,
             " is not a class index in [0, ", classes, ")");

  const Tensor log_probs = log_softmax(logits, 1);
  const Tensor picked = gather(log_probs, 1, target.unsqueeze(1));  // [N, 1, d...]: log p(target)
  return neg(mean(picked));
}

}  // namespace sg
