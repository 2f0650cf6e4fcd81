// View ops: new shape/strides over the same storage, no copy. Each backward is
// another view op (or a copy op), so they differentiate to any order.
#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

namespace {

// A contiguous copy of any view (no history), by the copy kernel of x's device.
Tensor materialize(const Tensor& x, DType t) {
  TensorOptions o(t);
  o.device = x.device();
  Tensor y = empty(x.shape(), o);
  kernel_for(x.device(), &KernelTable::copy, "contiguous")(x, y);
  return y;
}

// The adjoint of narrow: a zero tensor of `shape` with g written at [start, start+len) of dim.
Tensor narrow_backward(const Tensor& g, const Shape& shape, int dim, int64_t start) {
  Tensor out = zeros(shape, options_like(g));
  kernel_for(g.device(), &KernelTable::copy, "narrow backward")(g.detach(), out.narrow(dim, start, g.size(dim)).detach());
  if (any_requires_grad({g})) {
    const int64_t len = g.size(dim);
    record("narrow_backward", {g}, {out}, {}, [dim, start, len](BackwardContext&, const TensorList& gg) -> TensorList {
      return {narrow(gg[0], dim, start, len)};
    });
  }
  return out;
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape_in) {
  require_defined("reshape", x, "input");
  Shape shape = shape_in;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      SG_CHECK(infer < 0, "reshape: more than one -1 in ", shape_in.str());
      infer = i;
    } else {
      SG_CHECK(shape[i] >= 0, "reshape: negative size in ", shape_in.str());
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    SG_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot reshape ", x.shape().str(), " into ",
             shape_in.str());
    shape[infer] = x.numel() / known;
  }
  SG_CHECK(shape.numel() == x.numel(), "reshape: cannot reshape ", x.shape().str(), " (", x.numel(),
           " elements) into ", shape_in.str());
  if (shape == x.shape()) return x;
  // A contiguous tensor is viewed as is; any other is copied first (the copy
  // is recorded, its backward is the identity).
  Tensor base = contiguous(x);
  Tensor y = make_view(base, shape, contiguous_strides(shape), base.offset());
  if (any_requires_grad({base})) {
    const Shape xs = base.shape();
    record("reshape", {base}, {y}, {}, [xs](BackwardContext&, const TensorList& g) -> TensorList {
      return {reshape(g[0], xs)};
    });
  }
  return y;
}

Tensor permute(const Tensor& x, const Shape& order) {
  require_defined("permute", x, "input");
  SG_CHECK(order.size() == x.dim(), "permute: order ", order.str(), " does not match a ", x.dim(),
           "-d tensor of shape ", x.shape().str());
  Shape shape, inverse = Dims::filled(x.dim(), -1);
  Strides st;
  for (int i = 0; i < order.size(); ++i) {
    const int d = wrap_dim(order[i], x.dim(), "permute");
    SG_CHECK(inverse[d] < 0, "permute: dim ", d, " repeated in ", order.str());
    inverse[d] = i;
    shape.push_back(x.size(d));
    st.push_back(x.stride(d));
  }
  Tensor y = make_view(x, shape, st, x.offset());
  if (any_requires_grad({x}))
    record("permute", {x}, {y}, {}, [inverse](BackwardContext&, const TensorList& g) -> TensorList {
      return {permute(g[0], inverse)};
    });
  return y;
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  require_defined("transpose", x, "input");
  Shape order;
  for (int i = 0; i < x.dim(); ++i) order.push_back(i);
  std::swap(order[wrap_dim(d0, x.dim(), "transpose")], order[wrap_dim(d1, x.dim(), "transpose")]);
  return permute(x, order);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  require_defined("narrow", x, "input");
  const int d = wrap_dim(dim, x.dim(), "narrow");
  if (start < 0) start += x.size(d);
  SG_CHECK(start >= 0 && length >= 0 && start + length <= x.size(d), "narrow: range [", start, ", ",
           start + length, ") out of bounds for dim ", d, " of shape ", x.shape().str());
  Shape shape = x.shape();
  shape[d] = length;
  Tensor y = make_view(x, shape, x.strides(), x.offset() + start * x.stride(d));
  if (any_requires_grad({x})) {
    const Shape xs = x.shape();
    record("narrow", {x}, {y}, {}, [xs, d, start](BackwardContext&, const TensorList& g) -> TensorList {
      return {narrow_backward(g[0], xs, d, start)};
    });
  }
  return y;
}

Tensor expand(const Tensor& x, const Shape& shape_in) {
  require_defined("expand", x, "input");
  SG_CHECK(shape_in.size() >= x.dim(), "expand: cannot expand ", x.shape().str(), " to fewer dims ",
           shape_in.str());
  const int lead = shape_in.size() - x.dim();
  Shape shape = shape_in;
  Strides st = Dims::filled(shape.size(), 0);
  for (int i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      SG_CHECK(shape[i] >= 0, "expand: -1 is not allowed for new leading dims in ", shape_in.str());
      continue;
    }
    const int64_t xs = x.size(i - lead);
    if (shape[i] == -1) shape[i] = xs;
    SG_CHECK(xs == shape[i] || xs == 1, "expand: cannot expand ", x.shape().str(), " to ", shape_in.str());
    st[i] = xs == shape[i] ? x.stride(i - lead) : 0;
  }
  if (shape == x.shape()) return x;
  Tensor y = make_view(x, shape, st, x.offset());
  if (any_requires_grad({x})) {
    const Shape xs = x.shape();
    record("expand", {x}, {y}, {}, [xs](BackwardContext&, const TensorList& g) -> TensorList {
      return {sum_to(g[0], xs)};
    });
  }
  return y;
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  const int d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape s = x.shape();
  s.insert(d, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  if (x.dim() == 0) return x;
  const int d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.size(d) != 1) return x;
  Shape s = x.shape();
  s.erase(d);
  return reshape(x, s);
}

Tensor contiguous(const Tensor& x) {
  require_defined("contiguous", x, "input");
  if (x.is_contiguous()) return x;
  return clone(x);
}

Tensor clone(const Tensor& x) {
  SG_PROFILE("clone");
  require_defined("clone", x, "input");
  Tensor y = materialize(x, x.dtype());
  if (any_requires_grad({x}))
    record("clone", {x}, {y}, {}, [](BackwardContext&, const TensorList& g) -> TensorList { return {g[0]}; });
  return y;
}

Tensor to_dtype(const Tensor& x, DType t) {
  SG_PROFILE("to_dtype");
  require_defined("to", x, "input");
  if (x.dtype() == t) return x;
  Tensor y = materialize(x, t);
  if (is_floating(t) && is_floating(x.dtype()) && any_requires_grad({x})) {
    const DType from = x.dtype();
    record("to_dtype", {x}, {y}, {}, [from](BackwardContext&, const TensorList& g) -> TensorList {
      return {to_dtype(g[0], from)};
    });
  }
  return y;
}

}  // namespace sg
