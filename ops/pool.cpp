// Pooling: max_pool2d (with indices) and avg_pool2d on [N, C, H, W].
//
// max_pool2d's backward sends each output's gradient to the input element its
// maximum came from. On [N, C, H*W] planes that is scatter_add along dim 2 with
// the saved indices; scatter_add's own backward is gather with the same
// indices, so second derivatives work (and are zero through x, as they should be).
//
// avg_pool2d is linear; its backward is its adjoint, avg_pool2d_backward,
// whose backward is avg_pool2d again.
#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

namespace {

PoolAxis rows_of(const Pool2dOptions& o) { return {o.kernel_h, o.stride_h, o.pad_h, o.dilation_h}; }
PoolAxis cols_of(const Pool2dOptions& o) { return {o.kernel_w, o.stride_w, o.pad_w, o.dilation_w}; }

void check_axis(const char* op, const char* axis, const PoolAxis& a) {
  SG_CHECK(a.kernel >= 1 && a.stride >= 1 && a.dilation >= 1, op, ": kernel, stride and dilation must be positive, got ",
           a.kernel, ", ", a.stride, ", ", a.dilation, " along ", axis);
  SG_CHECK(a.pad >= 0 && a.pad <= a.kernel / 2, op, ": padding must be between 0 and half the kernel size, got pad ",
           a.pad, " and kernel ", a.kernel, " along ", axis);
}

// The number of windows along one axis, by torch's rule: floor (or with
// ceil_mode, ceil) of the sliding room over the stride, plus one; but with
// ceil_mode the last window must start inside the input or its left padding.
int64_t pooled_size(const char* op, const Tensor& x, int64_t size, const PoolAxis& a, bool ceil_mode) {
  const int64_t span = a.dilation * (a.kernel - 1) + 1;
  const int64_t room = size + 2 * a.pad - span;
  SG_CHECK(room >= 0, op, ": window ", span, " (after dilation) is larger than the padded input ", size + 2 * a.pad,
           " (input ", x.shape().str(), ")");
  int64_t out = (ceil_mode ? (room + a.stride - 1) / a.stride : room / a.stride) + 1;
  if (ceil_mode && (out - 1) * a.stride >= size + a.pad) --out;
  return out;
}

// With dilation, a window can step over the whole input and see only padding;
// its maximum would be -inf with no element to send the gradient to.
void check_windows_reach_input(const char* op, const Tensor& x, int64_t size, int64_t out, const PoolAxis& a) {
  for (int64_t o = 0; o < out; ++o) {
    bool reaches = false;
    for (int64_t j = 0; j < a.kernel && !reaches; ++j) {
      const int64_t at = o * a.stride - a.pad + j * a.dilation;
      reaches = at >= 0 && at < size;
    }
    SG_CHECK(reaches, op, ": window ", o, " covers only padding (input ", x.shape().str(), ", kernel ", a.kernel,
             ", dilation ", a.dilation, ", padding ", a.pad, ")");
  }
}

void check_input(const char* op, const Tensor& x) {
  require_defined(op, x, "input");
  require_dim(op, x, 4, "[N,C,H,W]");
  require_float(op, x);
}

Shape pooled_shape(const char* op, const Tensor& x, const Pool2dOptions& o) {
  check_axis(op, "H", rows_of(o));
  check_axis(op, "W", cols_of(o));
  return {x.size(0), x.size(1), pooled_size(op, x, x.size(2), rows_of(o), o.ceil_mode),
          pooled_size(op, x, x.size(3), cols_of(o), o.ceil_mode)};
}

// Routes each output gradient to its argmax: the backward of max_pool2d.
Tensor max_pool2d_backward(const Tensor& g, const Tensor& indices, const Shape& x_shape) {
  const Shape planes{x_shape[0], x_shape[1], x_shape[2] * x_shape[3]};
  const Shape windows{g.size(0), g.size(1), g.size(2) * g.size(3)};
  return reshape(scatter_add(planes, 2, reshape(indices, windows), reshape(g, windows)), x_shape);
}

Tensor avg_pool2d_backward(const Tensor& g, const Shape& x_shape, const Pool2dOptions& o) {
  Tensor gx = zeros(x_shape, options_like(g));
  kernel_for(gx.device(), &KernelTable::avg_pool2d_backward, "avg_pool2d backward")(g.detach().contiguous(), gx, rows_of(o), cols_of(o), o.count_include_pad);
  if (any_requires_grad({g}))
    record("avg_pool2d_backward", {g}, {gx}, {}, [o](BackwardContext&, const TensorList& gg) -> TensorList {
      return {avg_pool2d(gg[0], o)};
    });
  return gx;
}

// Checks x and o and returns the output shape.
Shape max_pool2d_shape(const char* op, const Tensor& x, const Pool2dOptions& o) {
  check_input(op, x);
  const Shape out_shape = pooled_shape(op, x, o);
  check_windows_reach_input(op, x, x.size(2), out_shape[2], rows_of(o));
  check_windows_reach_input(op, x, x.size(3), out_shape[3], cols_of(o));
  return out_shape;
}

Tensor index_tensor(const Shape& shape, const Tensor& like) {
  TensorOptions index_options(DType::i64);
  index_options.device = like.device();
  return empty(shape, index_options);
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const Pool2dOptions& o) {
  SG_PROFILE("max_pool2d_with_indices");
  const char* op = "max_pool2d";
  const Shape out_shape = max_pool2d_shape(op, x, o);
  Tensor y = empty(out_shape, options_like(x)), indices = index_tensor(out_shape, x);
  kernel_for(x.device(), &KernelTable::max_pool2d, "max_pool2d")(x.detach().contiguous(), y, indices, rows_of(o), cols_of(o));
  if (any_requires_grad({x})) {
    const Shape x_shape = x.shape();
    record(op, {x}, {y}, {indices}, [x_shape](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {max_pool2d_backward(g[0], ctx.saved(0), x_shape)};
    });
  }
  return {y, indices};
}

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& o) {
  SG_PROFILE("max_pool2d");
  const char* op = "max_pool2d";
  const Shape out_shape = max_pool2d_shape(op, x, o);
  Tensor y = empty(out_shape, options_like(x));
  const Tensor xc = x.detach().contiguous();
  kernel_for(xc.device(), &KernelTable::max_pool2d, "max_pool2d")(xc, y, Tensor(), rows_of(o), cols_of(o));
  if (any_requires_grad({x})) {
    // The backward sends each gradient to its window's argmax. Instead of
    // int64 indices (half the size of x) it keeps x and finds them again:
    // x is usually alive anyway (the ReLU before a pool saved it), and the
    // search is one pass over x. torch keeps both.
    record(op, {x}, {y}, {xc}, [out_shape, o](BackwardContext& ctx, const TensorList& g) -> TensorList {
      const Tensor& xc = ctx.saved(0);
      Tensor indices = index_tensor(out_shape, xc);
      kernel_for(xc.device(), &KernelTable::max_pool2d, "max_pool2d")(xc, Tensor(), indices, rows_of(o), cols_of(o));
      return {max_pool2d_backward(g[0], indices, xc.shape())};
    });
  }
  return y;
}

Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& o) {
  SG_PROFILE("avg_pool2d");
  const char* op = "avg_pool2d";
  check_input(op, x);
  SG_CHECK(o.dilation_h == 1 && o.dilation_w == 1, op, ": dilation is not supported, got (", o.dilation_h, ", ",
           o.dilation_w, ")");
  Tensor y = empty(pooled_shape(op, x, o), options_like(x));
  kernel_for(x.device(), &KernelTable::avg_pool2d, "avg_pool2d")(x.detach().contiguous(), y, rows_of(o), cols_of(o), o.count_include_pad);
  if (any_requires_grad({x})) {
    const Shape x_shape = x.shape();
    record(op, {x}, {y}, {}, [x_shape, o](BackwardContext&, const TensorList& g) -> TensorList {
      return {avg_pool2d_backward(g[0], x_shape, o)};
    });
  }
  return y;
}

}  // namespace sg
