// Instance and batch normalisation:
//
//   y = (x - mean) / sqrt(var + eps) * weight + bias
//
//   instance_norm: mean and var per (n, c), over the spatial dims 2, 3, ...
//   batch_norm:    mean and var per c, over the batch and spatial dims 0, 2, 3, ...
//
// var is the biased variance (divide by the count), which is what torch
// normalises with. Both run the normalisation as one fused kernel each way
// (kernels/cpu/norm.h), on x seen as [outer, C, inner] with statistics per
// C: instance norm is [1, N * C, H * W], batch norm [N, C, H * W]. The
// forward saves x and (mean, 1/std) per channel; the backward is
//
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  xhat = (x - mean) * rstd,
//
// the fused kernel when only a gradient is wanted, the same formula in
// composed ops when the backward is itself recorded (create_graph), so that
// higher orders stay automatic. weight and bias are a mul and an add after.
#include "autograd/grad_mode.h"
#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

namespace {

// A per-channel [C] tensor viewed as [1, C, 1, ...], to broadcast against x [N, C, ...].
Tensor per_channel(const Tensor& t, int ndim) {
  Shape s = Shape::filled(ndim, 1);
  s[1] = t.size(0);
  return reshape(t, s);
}

// weight, bias, running_mean, running_var: undefined, or [C] like x's channels.
void check_per_channel(const char* op, const Tensor& x, const Tensor& t, const char* what) {
  if (!t.defined()) return;
  require_same(op, x, t);
  SG_CHECK(t.dim() == 1 && t.size(0) == x.size(1), op, ": ", what, " must have shape [", x.size(1),
           "] (the channels of input ", x.shape().str(), "), got ", t.shape().str());
}

// The composed backward above, differentiable in x and g; `dims` are the
// dims the statistics run over.
Tensor normalize_backward_composed(const Tensor& x, const Tensor& g, const std::vector<int64_t>& dims, double eps) {
  Tensor centered = x - mean(x, dims, /*keepdim=*/true);
  Tensor rstd = rsqrt(mean(centered * centered, dims, /*keepdim=*/true) + eps);
  Tensor xhat = centered * rstd;
  return rstd * (g - mean(g, dims, /*keepdim=*/true) - xhat * mean(g * xhat, dims, /*keepdim=*/true));
}

// x normalised over `dims` by the fused kernels, x seen as `layout`
// [outer, C, inner]; also the statistics [C, 2] = (mean, rstd), for the
// running estimates.
struct Normalized {
  Tensor y;
  Tensor stats;
};

Normalized normalize(const Tensor& x, const Shape& layout, const std::vector<int64_t>& dims, double eps,
                     const char* op) {
  Tensor xc = x.detach().contiguous().reshape(layout);
  Tensor y = empty(layout, options_like(x));
  Tensor stats = empty({layout[1], 2}, options_like(x));
  kernel_for(xc.device(), &KernelTable::normalize, op)(xc, y, stats, eps);
  y = y.reshape(x.shape());
  if (any_requires_grad({x}))
    record(op, {x}, {y}, {x, stats},
           [layout, dims, eps, op](BackwardContext& ctx, const TensorList& g) -> TensorList {
             const Tensor& x = ctx.saved(0);
             if (grad_mode_enabled()) return {normalize_backward_composed(x, g[0], dims, eps)};
             Tensor dx = empty(layout, options_like(g[0]));
             kernel_for(dx.device(), &KernelTable::normalize_backward, op)(
                 x.detach().contiguous().reshape(layout), ctx.saved(1), g[0].contiguous().reshape(layout), dx);
             return {dx.reshape(x.shape())};
           });
  return {y, stats};
}

Tensor scale_and_shift(Tensor y, const Tensor& weight, const Tensor& bias) {
  if (weight.defined()) y = y * per_channel(weight, y.dim());
  if (bias.defined()) y = y + per_channel(bias, y.dim());
  return y;
}

}  // namespace

Tensor instance_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  SG_PROFILE("instance_norm");
  const char* op = "instance_norm";
  require_defined(op, x, "input");
  require_float(op, x);
  SG_CHECK(x.dim() >= 3, op, ": expected input [N, C, spatial...], got shape ", x.shape().str());
  check_per_channel(op, x, weight, "weight");
  check_per_channel(op, x, bias, "bias");
  std::vector<int64_t> spatial_dims;
  int64_t spatial_count = 1;
  for (int d = 2; d < x.dim(); ++d) {
    spatial_dims.push_back(d);
    spatial_count *= x.size(d);
  }
  // One element would normalise to 0 whatever it is: almost certainly a mistake (torch agrees).
  SG_CHECK(spatial_count > 1, op, ": expected more than 1 spatial element per channel, got shape ",
           x.shape().str());
  const Shape layout{1, x.size(0) * x.size(1), spatial_count};
  return scale_and_shift(normalize(x, layout, spatial_dims, eps, op).y, weight, bias);
}

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean,
                  Tensor running_var, bool training, double momentum, double eps) {
  SG_PROFILE("batch_norm");
  const char* op = "batch_norm";
  require_defined(op, x, "input");
  require_float(op, x);
  SG_CHECK(x.dim() >= 2, op, ": expected input [N, C, ...], got shape ", x.shape().str());
  check_per_channel(op, x, weight, "weight");
  check_per_channel(op, x, bias, "bias");
  check_per_channel(op, x, running_mean, "running_mean");
  check_per_channel(op, x, running_var, "running_var");
  SG_CHECK(running_mean.defined() == running_var.defined(), op,
           ": running_mean and running_var must be both defined or both undefined");
  SG_CHECK(momentum >= 0 && momentum <= 1, op, ": momentum must be in [0, 1], got ", momentum);

  if (!training) {
    SG_CHECK(running_mean.defined(), op, ": evaluation mode (training = false) needs running_mean and running_var");
    const int nd = x.dim();
    Tensor y = (x - per_channel(running_mean, nd)) * rsqrt(per_channel(running_var, nd) + eps);
    return scale_and_shift(y, weight, bias);
  }

  std::vector<int64_t> stat_dims = {0};  // everything but the channel dim
  for (int d = 2; d < x.dim(); ++d) stat_dims.push_back(d);
  const int64_t count = x.size(1) == 0 ? 0 : x.numel() / x.size(1);  // values per channel
  SG_CHECK(count > 1, op, ": expected more than 1 value per channel when training, got shape ",
           x.shape().str());
  const Normalized n = normalize(x, {x.size(0), x.size(1), count / x.size(0)}, stat_dims, eps, op);

  if (running_mean.defined()) {
    // running = (1 - momentum) * running + momentum * batch statistic (torch's convention),
    // with the unbiased variance (divide by count - 1) for the running estimate. The
    // kernel keeps 1 / sqrt(var + eps); var = rstd^-2 - eps, at least 0.
    NoGradGuard no_grad;
    const Shape c = running_mean.shape();
    const double bessel = double(count) / double(count - 1);
    const Tensor batch_mean = n.stats.select(1, 0).reshape(c), rstd = n.stats.select(1, 1).reshape(c);
    const Tensor batch_var = relu(add_scalar(pow(rstd, -2.0), -eps));
    running_mean.mul_(1.0 - momentum).add_(batch_mean, momentum);
    running_var.mul_(1.0 - momentum).add_(batch_var, momentum * bessel);
  }
  return scale_and_shift(n.y, weight, bias);
}

}  // namespace sg
