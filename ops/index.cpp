// Selection and assembly: where, masked_fill, gather/scatter_add, cat/stack, flip.
// gather and scatter_add are each other's adjoint (and so each other's backward);
// flip is its own.
#include <algorithm>

#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  SG_PROFILE("where");
  require_defined("where", cond, "condition");
  SG_CHECK(cond.dtype() == DType::b8, "where: condition must be bool, got ", dtype_name(cond.dtype()));
  require_same("where", a, b);
  require_same_device("where", cond, "condition", a);
  const Shape s = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty(s, options_like(a));
  kernel_for(a.device(), &KernelTable::where, "where")(cond.expand(s), a.detach().expand(s), b.detach().expand(s), out);
  if (any_requires_grad({a, b})) {
    const Shape sa = a.shape(), sb = b.shape();
    record("where", {a, b}, {out}, {cond}, [sa, sb](BackwardContext& ctx, const TensorList& g) -> TensorList {
      const Tensor& cond = ctx.saved(0);
      Tensor zero = zeros({}, options_like(g[0]));
      return {ctx.needs_grad(0) ? sum_to(where(cond, g[0], zero), sa) : Tensor(),
              ctx.needs_grad(1) ? sum_to(where(cond, zero, g[0]), sb) : Tensor()};
    });
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  SG_PROFILE("masked_fill");
  require_defined("masked_fill", x, "input");
  SG_CHECK(broadcast_shapes(mask.shape(), x.shape(), "masked_fill") == x.shape(), "masked_fill: mask ",
           mask.shape().str(), " does not broadcast to input ", x.shape().str());
  return where(mask, full({}, value, options_like(x)), x);
}

static void check_index_shape(const char* op, const Tensor& x_like, int d, const Tensor& index) {
  SG_CHECK(index.dtype() == DType::i64, op, ": index must be int64, got ", dtype_name(index.dtype()));
  SG_CHECK(index.dim() == x_like.dim(), op, ": index ", index.shape().str(), " and input ",
           x_like.shape().str(), " must have the same number of dims");
  for (int i = 0; i < index.dim(); ++i)
    SG_CHECK(i == d || index.size(i) <= x_like.size(i), op, ": index ", index.shape().str(),
             " is larger than input ", x_like.shape().str(), " at dim ", i);
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  SG_PROFILE("gather");
  require_defined("gather", x, "input");
  require_float("gather", x);
  const int d = wrap_dim(dim, x.dim(), "gather");
  check_index_shape("gather", x, d, index);
  require_same_device("gather", index, "index", x);
  Tensor out = empty(index.shape(), options_like(x));
  kernel_for(x.device(), &KernelTable::gather, "gather")(x, d, index, out);
  if (any_requires_grad({x})) {
    const Shape xs = x.shape();
    record("gather", {x}, {out}, {index}, [xs, d](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {scatter_add(xs, d, ctx.saved(0), g[0])};
    });
  }
  return out;
}

Tensor scatter_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src) {
  SG_PROFILE("scatter_add");
  require_defined("scatter_add", src, "source");
  require_float("scatter_add", src);
  Tensor out = zeros(shape, options_like(src));
  const int d = wrap_dim(dim, out.dim(), "scatter_add");
  check_index_shape("scatter_add", out, d, index);
  require_same_device("scatter_add", index, "index", src);
  SG_CHECK(src.shape() == index.shape(), "scatter_add: source ", src.shape().str(), " and index ",
           index.shape().str(), " differ");
  kernel_for(src.device(), &KernelTable::scatter_add, "scatter_add")(out, d, index, src);
  if (any_requires_grad({src}))
    record("scatter_add", {src}, {out}, {index}, [d](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {gather(g[0], d, ctx.saved(0))};
    });
  return out;
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  SG_PROFILE("cat");
  SG_CHECK(!xs.empty(), "cat: expected at least one tensor");
  const Tensor& first = xs[0];
  require_defined("cat", first, "tensor 0");
  const int d = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    require_defined("cat", xs[i], "a tensor");
    require_same("cat", first, xs[i]);
    SG_CHECK(xs[i].dim() == first.dim(), "cat: tensor ", i, " has shape ", xs[i].shape().str(),
             ", expected ", first.dim(), " dims like ", first.shape().str());
    for (int k = 0; k < first.dim(); ++k)
      SG_CHECK(k == d || xs[i].size(k) == first.size(k), "cat: tensor ", i, " has shape ",
               xs[i].shape().str(), ", incompatible with ", first.shape().str(), " outside dim ", d);
    shape[d] += xs[i].size(d);
  }
  Tensor out = empty(shape, options_like(first));
  std::vector<int64_t> starts;
  int64_t at = 0;
  for (const Tensor& x : xs) {
    starts.push_back(at);
    kernel_for(x.device(), &KernelTable::copy, "cat")(x.detach(), out.detach().narrow(d, at, x.size(d)));
    at += x.size(d);
  }
  if (any_requires_grad(xs)) {
    std::vector<int64_t> lengths;
    for (const Tensor& x : xs) lengths.push_back(x.size(d));
    record("cat", xs, {out}, {}, [d, starts, lengths](BackwardContext& ctx, const TensorList& g) -> TensorList {
      TensorList grads(starts.size());
      for (size_t i = 0; i < starts.size(); ++i)
        if (ctx.needs_grad(int(i))) grads[i] = narrow(g[0], d, starts[i], lengths[i]);
      return grads;
    });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  SG_PROFILE("stack");
  SG_CHECK(!xs.empty(), "stack: expected at least one tensor");
  const int d = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> us;
  for (size_t i = 0; i < xs.size(); ++i) {
    SG_CHECK(xs[i].shape() == xs[0].shape(), "stack: tensor ", i, " has shape ", xs[i].shape().str(),
             ", expected ", xs[0].shape().str());
    us.push_back(unsqueeze(xs[i], d));
  }
  return cat(us, d);
}

Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  SG_PROFILE("flip");
  require_defined("flip", x, "input");
  std::vector<int> wrapped;
  for (int64_t dim : dims) {
    const int d = wrap_dim(dim, x.dim(), "flip");
    SG_CHECK(std::find(wrapped.begin(), wrapped.end(), d) == wrapped.end(), "flip: dim ", d,
             " appears more than once in dims");
    wrapped.push_back(d);
  }
  if (x.dim() == 0) wrapped.clear();  // a scalar has nothing to reverse (dims 0 and -1 name it, as in torch)
  Tensor out = empty(x.shape(), options_like(x));
  kernel_for(x.device(), &KernelTable::flip, "flip")(x, wrapped, out);
  if (any_requires_grad({x}))
    record("flip", {x}, {out}, /*saved=*/{}, [dims](BackwardContext&, const TensorList& g) -> TensorList {
      return {flip(g[0], dims)};
    });
  return out;
}

}  // namespace sg
