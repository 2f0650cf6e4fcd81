// Convolutions: conv2d, conv_transpose2d and conv2d_weight_grad.
//
// conv2d is linear in x and in W, and one identity gives every derivative
// (<a, b> is the sum of elementwise products):
//
//   <conv2d(x, W), g> = <x, conv_transpose2d(g, W)> = <W, conv2d_weight_grad(x, g)>
//
// Each backward is a reading of it, with the tensors renamed (g is the
// incoming gradient):
//   conv2d              dx = conv_transpose2d(g, W)        dW = conv2d_weight_grad(x, g)
//   conv_transpose2d    dx = conv2d(g, W)                  dW = conv2d_weight_grad(g, x)
//   conv2d_weight_grad  dx = conv_transpose2d(grad_y, g)   d grad_y = conv2d(x, g)
// and a bias gets sum(g over N, H, W). The set is closed under differentiation,
// so gradients of gradients (R1 / WGAN-GP penalties) work to any order.
#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

namespace {

ConvParams params_of(const Conv2dOptions& o) {
  ConvParams p;
  p.stride_h = o.stride_h, p.stride_w = o.stride_w;
  p.pad_h = o.pad_h, p.pad_w = o.pad_w;
  p.dilation_h = o.dilation_h, p.dilation_w = o.dilation_w;
  p.groups = o.groups;
  return p;
}

// A weight that does not require grad (a frozen VGG) has the same values from
// call to call, so the Winograd path may keep its transform (keyed by the
// storage's version: an in-place change is seen). A non-contiguous weight is
// copied for the kernel, a new storage on every call: nothing worth keeping.
ConvParams params_for_weight(const Conv2dOptions& o, const Tensor& weight) {
  ConvParams p = params_of(o);
  p.cache_weight_transform = !weight.requires_grad() && weight.is_contiguous();
  return p;
}

void check_options(const char* op, const Conv2dOptions& o) {
  SG_CHECK(o.stride_h >= 1 && o.stride_w >= 1, op, ": stride must be positive, got (", o.stride_h, ", ",
           o.stride_w, ")");
  SG_CHECK(o.pad_h >= 0 && o.pad_w >= 0, op, ": padding must be non-negative, got (", o.pad_h, ", ", o.pad_w, ")");
  SG_CHECK(o.dilation_h >= 1 && o.dilation_w >= 1, op, ": dilation must be positive, got (", o.dilation_h, ", ",
           o.dilation_w, ")");
  SG_CHECK(o.groups >= 1, op, ": groups must be positive, got ", o.groups);
}

// x and weight are defined 4-d float CPU tensors of one dtype; bias, if any, too.
void check_tensors(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias) {
  require_defined(op, x, "input");
  require_defined(op, weight, "weight");
  require_dim(op, x, 4, "[N,C,H,W]");
  SG_CHECK(weight.dim() == 4, op, ": expected a 4-d weight, got shape ", weight.shape().str());
  require_same(op, x, weight);
  require_float(op, x);
  if (bias.defined()) {
    require_same(op, x, bias);
    SG_CHECK(bias.dim() == 1, op, ": expected a 1-d bias, got shape ", bias.shape().str());
  }
}

void check_bias(const char* op, const Tensor& bias, int64_t channels, const Tensor& weight) {
  SG_CHECK(!bias.defined() || bias.size(0) == channels, op, ": bias ", bias.shape().str(), " does not match the ",
           channels, " output channels of weight ", weight.shape().str());
}

// The shape of conv2d(x, weight), after checking that the two fit together.
Shape conv2d_output_shape(const char* op, const Shape& x, const Shape& weight, const Conv2dOptions& o) {
  const int64_t C = x[1], O = weight[0];
  SG_CHECK(weight[2] >= 1 && weight[3] >= 1, op, ": weight ", weight.str(), " has an empty kernel");
  SG_CHECK(C % o.groups == 0, op, ": groups ", o.groups, " does not divide the ", C, " channels of input ", x.str());
  SG_CHECK(O % o.groups == 0, op, ": groups ", o.groups, " does not divide the ", O, " output channels of weight ",
           weight.str());
  SG_CHECK(weight[1] * o.groups == C, op, ": input ", x.str(), " has ", C, " channels, but weight ", weight.str(),
           " with groups ", o.groups, " expects ", weight[1] * o.groups);
  // The kernel spans dilation * (k - 1) + 1 pixels of the padded input.
  const int64_t span_h = o.dilation_h * (weight[2] - 1) + 1, span_w = o.dilation_w * (weight[3] - 1) + 1;
  const int64_t padded_h = x[2] + 2 * o.pad_h, padded_w = x[3] + 2 * o.pad_w;
  SG_CHECK(span_h <= padded_h && span_w <= padded_w, op, ": kernel ", span_h, "x", span_w,
           " (after dilation) is larger than the padded input ", padded_h, "x", padded_w, " (input ", x.str(),
           ", weight ", weight.str(), ", padding (", o.pad_h, ", ", o.pad_w, "))");
  return {x[0], O, (padded_h - span_h) / o.stride_h + 1, (padded_w - span_w) / o.stride_w + 1};
}

// The shape of conv_transpose2d(x, weight): the image whose conv2d has x's size.
Shape conv_transpose2d_output_shape(const Shape& x, const Shape& weight, const Conv2dOptions& o) {
  const char* op = "conv_transpose2d";
  const int64_t C = x[1];
  SG_CHECK(weight[2] >= 1 && weight[3] >= 1, op, ": weight ", weight.str(), " has an empty kernel");
  SG_CHECK(weight[0] == C, op, ": input ", x.str(), " has ", C, " channels, but weight ", weight.str(), " expects ",
           weight[0]);
  SG_CHECK(C % o.groups == 0, op, ": groups ", o.groups, " does not divide the ", C, " channels of input ", x.str());
  // torch also allows output_padding < dilation; that output would not be the
  // adjoint of a conv2d of the same options, so it is not supported here.
  SG_CHECK(o.output_padding_h >= 0 && o.output_padding_w >= 0 && o.output_padding_h < o.stride_h &&
               o.output_padding_w < o.stride_w,
           op, ": output_padding (", o.output_padding_h, ", ", o.output_padding_w,
           ") must be non-negative and smaller than stride (", o.stride_h, ", ", o.stride_w, ")");
  const int64_t out_h = (x[2] - 1) * o.stride_h - 2 * o.pad_h + o.dilation_h * (weight[2] - 1) + o.output_padding_h + 1;
  const int64_t out_w = (x[3] - 1) * o.stride_w - 2 * o.pad_w + o.dilation_w * (weight[3] - 1) + o.output_padding_w + 1;
  SG_CHECK(out_h >= 1 && out_w >= 1, op, ": output size ", out_h, "x", out_w, " is not positive (input ", x.str(),
           ", weight ", weight.str(), ", padding (", o.pad_h, ", ", o.pad_w, "))");
  return {x[0], weight[1] * o.groups, out_h, out_w};
}

// The options under which conv_transpose2d maps conv2d(x)'s shape back to x's:
// the rows and columns that conv2d's floor division dropped return as output_padding.
Conv2dOptions undoing_shape_of(const Conv2dOptions& o, const Shape& x, const Shape& weight) {
  Conv2dOptions t = o;
  t.output_padding_h = (x[2] + 2 * o.pad_h - o.dilation_h * (weight[2] - 1) - 1) % o.stride_h;
  t.output_padding_w = (x[3] + 2 * o.pad_w - o.dilation_w * (weight[3] - 1) - 1) % o.stride_w;
  return t;
}

Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.detach().contiguous() : Tensor(); }

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  SG_PROFILE("conv2d");
  check_tensors("conv2d", x, weight, bias);
  check_options("conv2d", o);
  const Shape out_shape = conv2d_output_shape("conv2d", x.shape(), weight.shape(), o);
  check_bias("conv2d", bias, out_shape[1], weight);
  Tensor y = empty(out_shape, options_like(x));
  kernel_for(x.device(), &KernelTable::conv2d, "conv2d")(x.detach().contiguous(), weight.detach().contiguous(), contiguous_or_undefined(bias), y,
              params_for_weight(o, weight));
  if (any_requires_grad({x, weight, bias})) {
    // dx needs only W and dW only x, so each is kept only if the other's
    // gradient is wanted: for Gatys (weights frozen) no layer's input is kept
    // by its convolution.
    const Shape x_shape = x.shape(), w_shape = weight.shape();
    record("conv2d", {x, weight, bias}, {y}, {keep_if(x.requires_grad(), weight), keep_if(weight.requires_grad(), x)},
           [x_shape, w_shape, o](BackwardContext& ctx, const TensorList& g) -> TensorList {
             return {ctx.needs_grad(0) ? conv_transpose2d(g[0], ctx.saved(0), Tensor(),
                                                          undoing_shape_of(o, x_shape, w_shape))
                                       : Tensor(),
                     ctx.needs_grad(1) ? conv2d_weight_grad(ctx.saved(1), g[0], w_shape, o) : Tensor(),
                     ctx.needs_grad(2) ? sum(g[0], {0, 2, 3}) : Tensor()};
           });
  }
  return y;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  SG_PROFILE("conv_transpose2d");
  check_tensors("conv_transpose2d", x, weight, bias);
  check_options("conv_transpose2d", o);
  const Shape out_shape = conv_transpose2d_output_shape(x.shape(), weight.shape(), o);
  check_bias("conv_transpose2d", bias, out_shape[1], weight);
  Tensor y = empty(out_shape, options_like(x));
  kernel_for(x.device(), &KernelTable::conv_transpose2d, "conv_transpose2d")(x.detach().contiguous(), weight.detach().contiguous(), contiguous_or_undefined(bias), y,
                        params_for_weight(o, weight));
  if (any_requires_grad({x, weight, bias})) {
    const Shape w_shape = weight.shape();
    record("conv_transpose2d", {x, weight, bias}, {y},
           {keep_if(x.requires_grad(), weight), keep_if(weight.requires_grad(), x)},
           [w_shape, o](BackwardContext& ctx, const TensorList& g) -> TensorList {
             return {ctx.needs_grad(0) ? conv2d(g[0], ctx.saved(0), Tensor(), o) : Tensor(),
                     ctx.needs_grad(1) ? conv2d_weight_grad(g[0], ctx.saved(1), w_shape, o) : Tensor(),
                     ctx.needs_grad(2) ? sum(g[0], {0, 2, 3}) : Tensor()};
           });
  }
  return y;
}

Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad_y, const Shape& weight_shape,
                          const Conv2dOptions& o) {
  SG_PROFILE("conv2d_weight_grad");
  const char* op = "conv2d_weight_grad";
  require_defined(op, x, "input");
  require_defined(op, grad_y, "grad_y");
  require_dim(op, x, 4, "[N,C,H,W]");
  require_same(op, x, grad_y);
  require_float(op, x);
  SG_CHECK(weight_shape.size() == 4, op, ": expected a 4-d weight shape, got ", weight_shape.str());
  check_options(op, o);
  const Shape y_shape = conv2d_output_shape(op, x.shape(), weight_shape, o);
  SG_CHECK(grad_y.shape() == y_shape, op, ": grad_y ", grad_y.shape().str(), " does not match the conv2d output ",
           y_shape.str(), " of input ", x.shape().str(), " and weight ", weight_shape.str());
  Tensor gw = empty(weight_shape, options_like(x));
  kernel_for(x.device(), &KernelTable::conv2d_weight_grad, op)(x.detach().contiguous(), grad_y.detach().contiguous(), gw, params_of(o));
  if (any_requires_grad({x, grad_y})) {
    const Shape x_shape = x.shape();
    record(op, {x, grad_y}, {gw}, {keep_if(x.requires_grad(), grad_y), keep_if(grad_y.requires_grad(), x)},
           [x_shape, o](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {ctx.needs_grad(0) ? conv_transpose2d(ctx.saved(0), g[0], Tensor(), undoing_shape_of(o, x_shape, g[0].shape()))
                                : Tensor(),
              ctx.needs_grad(1) ? conv2d(ctx.saved(1), g[0], Tensor(), o) : Tensor()};
    });
  }
  return gw;
}

}  // namespace sg
