// Reductions. sum's backward is expand (broadcast the gradient back), and
// expand's backward is sum_to, so the pair is closed under differentiation.

#include <algorithm>

#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

namespace {

// Which dims `dims` names (all of them if empty), validated.
std::vector<bool> reduce_mask(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  std::vector<bool> m(x.dim(), dims.empty());
  for (int64_t d : dims) {
    const int w = wrap_dim(d, x.dim(), op);
    SG_CHECK(!m[w] || dims.empty(), op, ": dim ", d, " appears twice");
    m[w] = true;
  }
  return m;
}

Shape keepdim_shape(const Tensor& x, const std::vector<bool>& m) {
  Shape s = x.shape();
  for (int d = 0; d < x.dim(); ++d)
    if (m[d]) s[d] = 1;
  return s;
}

Shape squeezed_shape(const Tensor& x, const std::vector<bool>& m) {
  Shape s;
  for (int d = 0; d < x.dim(); ++d)
    if (!m[d]) s.push_back(x.size(d));
  return s;
}

int64_t reduced_count(const Tensor& x, const std::vector<bool>& m) {
  int64_t n = 1;
  for (int d = 0; d < x.dim(); ++d)
    if (m[d]) n *= x.size(d);
  return n;
}

Tensor scaled_sum(const char* name, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
                  bool average) {
  SG_PROFILE(name);
  require_defined(name, x, "input");
  require_float(name, x);
  const std::vector<bool> m = reduce_mask(x, dims, name);
  const Shape kshape = keepdim_shape(x, m);
  const double scale = average ? 1.0 / double(std::max<int64_t>(reduced_count(x, m), 1)) : 1.0;
  Tensor y = empty(kshape, options_like(x));
  kernel_for(x.device(), &KernelTable::sum, name)(x, m, y, scale);
  if (!keepdim) y = y.detach().reshape(squeezed_shape(x, m));
  if (any_requires_grad({x})) {
    const Shape xs = x.shape();
    record(name, {x}, {y}, {}, [xs, kshape, scale](BackwardContext&, const TensorList& g) -> TensorList {
      Tensor gx = expand(reshape(g[0], kshape), xs);
      return {scale == 1.0 ? gx : mul_scalar(gx, scale)};
    });
  }
  return y;
}

}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  return scaled_sum("sum", x, dims, keepdim, false);
}

Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  return scaled_sum("mean", x, dims, keepdim, true);
}

// var = sum((x - mean)^2) / (n - correction); composed of ops, so every
// derivative order comes for free.
Tensor var(const Tensor& x, std::vector<int64_t> dims, int64_t correction, bool keepdim) {
  require_defined("var", x, "input");
  const std::vector<bool> m = reduce_mask(x, dims, "var");
  const int64_t n = reduced_count(x, m);
  SG_CHECK(n - correction > 0, "var: ", n, " elements with correction ", correction, " (shape ",
           x.shape().str(), ")");
  Tensor centered = x - mean(x, dims, true);
  return mul_scalar(sum(centered * centered, dims, keepdim), 1.0 / double(n - correction));
}

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  SG_PROFILE("max");
  require_defined("max", x, "input");
  require_float("max", x);
  const int d = wrap_dim(dim, x.dim(), "max");
  SG_CHECK(x.dim() == 0 || x.size(d) > 0, "max: cannot take the max of an empty dim (shape ", x.shape().str(), ")");
  TensorOptions index_options(DType::i64);
  index_options.device = x.device();  // the indices live where the kernel writes them
  if (x.dim() == 0) return {x.clone(), zeros({}, index_options)};
  Shape kshape = x.shape();
  kshape[d] = 1;
  Tensor values = empty(kshape, options_like(x));
  Tensor indices = empty(kshape, index_options);
  kernel_for(x.device(), &KernelTable::max_along, "max")(x, d, values, indices);
  if (any_requires_grad({x})) {
    // The gradient flows only to the winning element: scatter it back.
    const Shape xs = x.shape();
    record("max", {x}, {values}, {indices}, [xs, d](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {scatter_add(xs, d, ctx.saved(0), g[0])};
    });
  }
  if (!keepdim) {
    values = values.squeeze(d);
    indices = indices.squeeze(d);
  }
  return {values, indices};
}

Tensor max(const Tensor& x) { return max(x.reshape({-1}), 0).first; }

Tensor sum_to(const Tensor& x, const Shape& shape) {
  SG_PROFILE("sum_to");
  if (x.shape() == shape) return x;
  const int lead = x.dim() - shape.size();
  SG_CHECK(lead >= 0, "sum_to: cannot sum ", x.shape().str(), " to the larger shape ", shape.str());
  std::vector<int64_t> dims;
  for (int d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
    } else if (shape[d - lead] == 1 && x.size(d) != 1) {
      dims.push_back(d);
    } else {
      SG_CHECK(shape[d - lead] == x.size(d), "sum_to: shape ", x.shape().str(), " does not reduce to ",
               shape.str());
    }
  }
  if (dims.empty()) return reshape(x, shape);
  return reshape(sum(x, dims, true), shape);
}

}  // namespace sg
