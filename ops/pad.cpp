// pad2d: pads the last two dims by (left, right, top, bottom), as
// torch.nn.functional.pad does:
//   zeros      the border is the constant `value`     [1 2 3] -> v v | 1 2 3 | v v
//   reflect    mirrors, without repeating the edge     [1 2 3] -> 3 2 | 1 2 3 | 2 1
//   replicate  repeats the edge                        [1 2 3] -> 1 1 | 1 2 3 | 3 3
//
// Every output pixel is a copy of one input pixel (or the constant), so the
// backward adds each output gradient back onto the pixel it copied:
// pad2d_backward, whose own backward is pad2d again (with value 0).
#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

namespace {

struct Padding {
  int64_t left, right, top, bottom;
  PadMode mode;
};

// Which input position each output position copies, along one axis of
// `size` padded by `before` and `after` (-1: the constant).
AxisSource axis_source(int64_t size, int64_t before, int64_t after, PadMode mode) {
  AxisSource source(size_t(before + size + after));
  for (int64_t i = 0; i < int64_t(source.size()); ++i) {
    int64_t at = i - before;  // in input coordinates
    if (at < 0 || at >= size) {
      switch (mode) {
        case PadMode::zeros: at = -1; break;
        case PadMode::reflect: at = at < 0 ? -at : 2 * (size - 1) - at; break;
        case PadMode::replicate: at = at < 0 ? 0 : size - 1; break;
      }
    }
    source[size_t(i)] = at;
  }
  return source;
}

Shape padded_shape(const Shape& x, const Padding& p) {
  Shape s = x;
  s[s.size() - 2] += p.top + p.bottom;
  s[s.size() - 1] += p.left + p.right;
  return s;
}

Tensor pad2d_backward(const Tensor& g, const Shape& x_shape, const Padding& p) {
  Tensor gx = zeros(x_shape, options_like(g));
  const int64_t H = x_shape[x_shape.size() - 2], W = x_shape[x_shape.size() - 1];
  kernel_for(gx.device(), &KernelTable::pad2d_backward, "pad backward")(g.detach().contiguous(), gx, axis_source(H, p.top, p.bottom, p.mode),
                      axis_source(W, p.left, p.right, p.mode));
  if (any_requires_grad({g}))
    record("pad2d_backward", {g}, {gx}, {}, [p](BackwardContext&, const TensorList& gg) -> TensorList {
      return {pad2d(gg[0], p.left, p.right, p.top, p.bottom, p.mode, 0.0)};
    });
  return gx;
}

}  // namespace

Tensor pad2d(const Tensor& x, int64_t left, int64_t right, int64_t top, int64_t bottom, PadMode mode,
             double value) {
  SG_PROFILE("pad2d");
  const char* op = "pad2d";
  require_defined(op, x, "input");
  SG_CHECK(x.dim() >= 2, op, ": expected an input with at least 2 dims [..., H, W], got shape ", x.shape().str());
  require_float(op, x);
  SG_CHECK(left >= 0 && right >= 0 && top >= 0 && bottom >= 0, op, ": padding (", left, ", ", right, ", ", top,
           ", ", bottom, ") must be non-negative (input ", x.shape().str(), ")");
  const int64_t H = x.size(-2), W = x.size(-1);
  if (mode == PadMode::reflect)  // a mirror of an axis of n pixels reaches at most n - 1 beyond it
    SG_CHECK(left < W && right < W && top < H && bottom < H, op, ": reflect padding (", left, ", ", right, ", ",
             top, ", ", bottom, ") must be smaller than the padded dims of input ", x.shape().str());
  if (mode == PadMode::replicate)
    SG_CHECK((H > 0 || top + bottom == 0) && (W > 0 || left + right == 0), op,
             ": replicate padding of an empty dim, input ", x.shape().str());

  const Padding p{left, right, top, bottom, mode};
  Tensor y = empty(padded_shape(x.shape(), p), options_like(x));
  kernel_for(x.device(), &KernelTable::pad2d, op)(x.detach().contiguous(), y, axis_source(H, top, bottom, mode), axis_source(W, left, right, mode), value);
  if (any_requires_grad({x})) {
    const Shape x_shape = x.shape();
    record(op, {x}, {y}, {}, [x_shape, p](BackwardContext&, const TensorList& g) -> TensorList {
      return {pad2d_backward(g[0], x_shape, p)};
    });
  }
  return y;
}

}  // namespace sg
