// Upsampling (or any resize) of [N, C, H, W] to [N, C, out_h, out_w]:
// nearest and bilinear, as torch's 'nearest' and 'bilinear' modes.
//
// Both are linear in x: every output is a fixed weighted sum of inputs. The
// backward is the adjoint (each output gradient goes back to the inputs it
// read, with the same weights), an op whose own backward is the forward again.
#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

namespace {

void check_resize(const char* op, const Tensor& x, int64_t out_h, int64_t out_w) {
  require_defined(op, x, "input");
  require_dim(op, x, 4, "[N,C,H,W]");
  require_float(op, x);
  SG_CHECK(x.size(2) > 0 && x.size(3) > 0, op, ": input ", x.shape().str(), " has an empty plane");
  SG_CHECK(out_h > 0 && out_w > 0, op, ": output size ", out_h, "x", out_w, " must be positive (input ",
           x.shape().str(), ")");
}

Shape resized(const Tensor& x, int64_t out_h, int64_t out_w) { return {x.size(0), x.size(1), out_h, out_w}; }

Tensor upsample_nearest2d_backward(const Tensor& g, const Shape& x_shape) {
  Tensor gx = zeros(x_shape, options_like(g));
  kernel_for(gx.device(), &KernelTable::upsample_nearest2d_backward, "upsample_nearest2d backward")(g.detach().contiguous(), gx);
  if (any_requires_grad({g})) {
    const int64_t out_h = g.size(2), out_w = g.size(3);
    record("upsample_nearest2d_backward", {g}, {gx}, {}, [out_h, out_w](BackwardContext&, const TensorList& gg) -> TensorList {
      return {upsample_nearest2d(gg[0], out_h, out_w)};
    });
  }
  return gx;
}

Tensor upsample_bilinear2d_backward(const Tensor& g, const Shape& x_shape, bool align_corners) {
  Tensor gx = zeros(x_shape, options_like(g));
  kernel_for(gx.device(), &KernelTable::upsample_bilinear2d_backward, "upsample_bilinear2d backward")(g.detach().contiguous(), gx, align_corners);
  if (any_requires_grad({g})) {
    const int64_t out_h = g.size(2), out_w = g.size(3);
    record("upsample_bilinear2d_backward", {g}, {gx}, {},
           [out_h, out_w, align_corners](BackwardContext&, const TensorList& gg) -> TensorList {
             return {upsample_bilinear2d(gg[0], out_h, out_w, align_corners)};
           });
  }
  return gx;
}

}  // namespace

Tensor upsample_nearest2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  SG_PROFILE("upsample_nearest2d");
  check_resize("upsample_nearest2d", x, out_h, out_w);
  Tensor y = empty(resized(x, out_h, out_w), options_like(x));
  kernel_for(x.device(), &KernelTable::upsample_nearest2d, "upsample_nearest2d")(x.detach().contiguous(), y);
  if (any_requires_grad({x})) {
    const Shape x_shape = x.shape();
    record("upsample_nearest2d", {x}, {y}, {}, [x_shape](BackwardContext&, const TensorList& g) -> TensorList {
      return {upsample_nearest2d_backward(g[0], x_shape)};
    });
  }
  return y;
}

Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners) {
  SG_PROFILE("upsample_bilinear2d");
  check_resize("upsample_bilinear2d", x, out_h, out_w);
  Tensor y = empty(resized(x, out_h, out_w), options_like(x));
  kernel_for(x.device(), &KernelTable::upsample_bilinear2d, "upsample_bilinear2d")(x.detach().contiguous(), y, align_corners);
  if (any_requires_grad({x})) {
    const Shape x_shape = x.shape();
    record("upsample_bilinear2d", {x}, {y}, {}, [x_shape, align_corners](BackwardContext&, const TensorList& g) -> TensorList {
      return {upsample_bilinear2d_backward(g[0], x_shape, align_corners)};
    });
  }
  return y;
}

}  // namespace sg
