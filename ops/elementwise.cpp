// Elementwise ops. Each forward is one kernel call; each backward is written
// with ops (so it can be differentiated again). Masks such as relu's "x > 0"
// are computed without history: their derivative is zero almost everywhere.
#include <cmath>

#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

namespace {

// Runs a unary kernel into a new tensor, recording nothing.
Tensor unary_forward(const char* name, Unary op, const Tensor& x, double a = 0, double b = 0) {
  SG_PROFILE(name);
  require_defined(name, x, "input");
  require_float(name, x);
  Tensor y = empty_like(x);
  kernel_for(x.device(), &KernelTable::unary, name)(op, x, y, a, b);
  return y;
}

// Broadcast a and b to a common shape (as expand()ed views) and run the kernel.
Tensor binary_forward(const char* name, Binary op, const Tensor& a, const Tensor& b) {
  SG_PROFILE(name);
  require_defined(name, a, "first input");
  require_defined(name, b, "second input");
  require_same(name, a, b);
  require_float(name, a);
  const Shape s = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(s, options_like(a));
  kernel_for(a.device(), &KernelTable::binary, name)(op, a.shape() == s ? a : a.detach().expand(s), b.shape() == s ? b : b.detach().expand(s), out);
  return out;
}

Tensor mask_of(Unary op, const Tensor& x, double a = 0, double b = 0) {
  return unary_forward("mask", op, x.detach(), a, b);
}

}  // namespace

// ---------------- unary ----------------

Tensor neg(const Tensor& x) {
  Tensor y = unary_forward("neg", Unary::neg, x);
  if (any_requires_grad({x}))
    record("neg", {x}, {y}, {}, [](BackwardContext&, const TensorList& g) -> TensorList { return {neg(g[0])}; });
  return y;
}

Tensor exp(const Tensor& x) {
  Tensor y = unary_forward("exp", Unary::exp, x);
  if (any_requires_grad({x}))
    record("exp", {x}, {y}, {},
           [](BackwardContext& ctx, const TensorList& g) -> TensorList { return {g[0] * ctx.output(0)}; },
           /*save_outputs=*/true);
  return y;
}

Tensor log(const Tensor& x) {
  Tensor y = unary_forward("log", Unary::log, x);
  if (any_requires_grad({x}))
    record("log", {x}, {y}, {x},
           [](BackwardContext& ctx, const TensorList& g) -> TensorList { return {g[0] / ctx.saved(0)}; });
  return y;
}

Tensor sqrt(const Tensor& x) {  // d sqrt(x) = 1 / (2 sqrt(x))
  Tensor y = unary_forward("sqrt", Unary::sqrt, x);
  if (any_requires_grad({x}))
    record("sqrt", {x}, {y}, {},
           [](BackwardContext& ctx, const TensorList& g) -> TensorList { return {g[0] / (2.0 * ctx.output(0))}; },
           true);
  return y;
}

Tensor rsqrt(const Tensor& x) {  // y = x^(-1/2), dy/dx = -y^3 / 2
  Tensor y = unary_forward("rsqrt", Unary::rsqrt, x);
  if (any_requires_grad({x}))
    record("rsqrt", {x}, {y}, {},
           [](BackwardContext& ctx, const TensorList& g) -> TensorList {
             Tensor y = ctx.output(0);
             return {g[0] * (-0.5 * y * y * y)};
           },
           true);
  return y;
}

Tensor abs(const Tensor& x) {
  Tensor y = unary_forward("abs", Unary::abs, x);
  if (any_requires_grad({x}))
    record("abs", {x}, {y}, {x}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {g[0] * mask_of(Unary::sign, ctx.saved(0))};
    });
  return y;
}

Tensor sign(const Tensor& x) { return unary_forward("sign", Unary::sign, x.detach()); }

Tensor pow(const Tensor& x, double p) {  // d x^p = p x^(p-1)
  Tensor y = unary_forward("pow", Unary::pow, x, p);
  if (any_requires_grad({x}))
    record("pow", {x}, {y}, {x}, [p](BackwardContext& ctx, const TensorList& g) -> TensorList {
      const Tensor& x = ctx.saved(0);
      if (p == 0.0) return {zeros_like(x)};
      if (p == 1.0) return {g[0]};
      if (p == 2.0) return {g[0] * (2.0 * x)};
      return {g[0] * (p * pow(x, p - 1.0))};
    });
  return y;
}

Tensor relu(const Tensor& x) {
  Tensor y = unary_forward("relu", Unary::relu, x);
  if (any_requires_grad({x}))
    record("relu", {x}, {y}, {},
           [](BackwardContext& ctx, const TensorList& g) -> TensorList {
             return {g[0] * mask_of(Unary::positive, ctx.output(0))};
           },
           true);
  return y;
}

Tensor leaky_relu(const Tensor& x, double slope) {
  Tensor y = unary_forward("leaky_relu", Unary::leaky_relu, x, slope);
  if (any_requires_grad({x}))
    record("leaky_relu", {x}, {y}, {x}, [slope](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {g[0] * mask_of(Unary::leaky_slope, ctx.saved(0), slope)};
    });
  return y;
}

Tensor tanh(const Tensor& x) {  // d tanh = 1 - tanh^2
  Tensor y = unary_forward("tanh", Unary::tanh, x);
  if (any_requires_grad({x}))
    record("tanh", {x}, {y}, {},
           [](BackwardContext& ctx, const TensorList& g) -> TensorList {
             Tensor y = ctx.output(0);
             return {g[0] * (1.0 - y * y)};
           },
           true);
  return y;
}

Tensor sigmoid(const Tensor& x) {  // d sigmoid = s (1 - s)
  Tensor y = unary_forward("sigmoid", Unary::sigmoid, x);
  if (any_requires_grad({x}))
    record("sigmoid", {x}, {y}, {},
           [](BackwardContext& ctx, const TensorList& g) -> TensorList {
             Tensor y = ctx.output(0);
             return {g[0] * (y * (1.0 - y))};
           },
           true);
  return y;
}

Tensor softplus(const Tensor& x) {  // d log(1 + e^x) = sigmoid(x)
  Tensor y = unary_forward("softplus", Unary::softplus, x);
  if (any_requires_grad({x}))
    record("softplus", {x}, {y}, {x},
           [](BackwardContext& ctx, const TensorList& g) -> TensorList { return {g[0] * sigmoid(ctx.saved(0))}; });
  return y;
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  SG_CHECK(lo <= hi, "clamp: min ", lo, " is greater than max ", hi);
  Tensor y = unary_forward("clamp", Unary::clamp, x, lo, hi);
  if (any_requires_grad({x}))
    record("clamp", {x}, {y}, {x}, [lo, hi](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {g[0] * mask_of(Unary::inside, ctx.saved(0), lo, hi)};
    });
  return y;
}

Tensor add_scalar(const Tensor& x, double s) {
  Tensor y = unary_forward("add", Unary::add_scalar, x, s);
  if (any_requires_grad({x}))
    record("add_scalar", {x}, {y}, {}, [](BackwardContext&, const TensorList& g) -> TensorList { return {g[0]}; });
  return y;
}

Tensor mul_scalar(const Tensor& x, double s) {
  Tensor y = unary_forward("mul", Unary::mul_scalar, x, s);
  if (any_requires_grad({x}))
    record("mul_scalar", {x}, {y}, {},
           [s](BackwardContext&, const TensorList& g) -> TensorList { return {mul_scalar(g[0], s)}; });
  return y;
}

// ---------------- binary (broadcasting) ----------------
// The gradient of a broadcast input is summed back to its shape (sum_to).

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("add", Binary::add, a, b);
  if (any_requires_grad({a, b})) {
    const Shape sa = a.shape(), sb = b.shape();
    record("add", {a, b}, {y}, {}, [sa, sb](BackwardContext&, const TensorList& g) -> TensorList {
      return {sum_to(g[0], sa), sum_to(g[0], sb)};
    });
  }
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("sub", Binary::sub, a, b);
  if (any_requires_grad({a, b})) {
    const Shape sa = a.shape(), sb = b.shape();
    record("sub", {a, b}, {y}, {}, [sa, sb](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {sum_to(g[0], sa), ctx.needs_grad(1) ? sum_to(neg(g[0]), sb) : Tensor()};
    });
  }
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("mul", Binary::mul, a, b);
  if (any_requires_grad({a, b})) {
    // da needs only b and db only a: each is kept only if the other's gradient is wanted.
    const Shape sa = a.shape(), sb = b.shape();
    record("mul", {a, b}, {y}, {keep_if(a.requires_grad(), b), keep_if(b.requires_grad(), a)},
           [sa, sb](BackwardContext& ctx, const TensorList& g) -> TensorList {
             return {ctx.needs_grad(0) ? sum_to(g[0] * ctx.saved(0), sa) : Tensor(),
                     ctx.needs_grad(1) ? sum_to(g[0] * ctx.saved(1), sb) : Tensor()};
           });
  }
  return y;
}

Tensor div(const Tensor& a, const Tensor& b) {  // d(a/b) = da/b - a db/b^2
  Tensor y = binary_forward("div", Binary::div, a, b);
  if (any_requires_grad({a, b})) {
    const Shape sa = a.shape(), sb = b.shape();
    record("div", {a, b}, {y}, {b, keep_if(b.requires_grad(), a)},
           [sa, sb](BackwardContext& ctx, const TensorList& g) -> TensorList {
             const Tensor& b = ctx.saved(0);
             return {ctx.needs_grad(0) ? sum_to(g[0] / b, sa) : Tensor(),
                     ctx.needs_grad(1) ? sum_to(neg(g[0] * ctx.saved(1) / (b * b)), sb) : Tensor()};
           });
  }
  return y;
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("maximum", Binary::maximum, a, b);
  if (any_requires_grad({a, b}))
    record("maximum", {a, b}, {y}, {a, b}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
      const Tensor &a = ctx.saved(0), &b = ctx.saved(1);
      Tensor a_wins = binary_forward("maximum", Binary::ge_mask, a.detach(), b.detach());
      return {sum_to(g[0] * a_wins, a.shape()), sum_to(g[0] * (1.0 - a_wins), b.shape())};
    });
  return y;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("minimum", Binary::minimum, a, b);
  if (any_requires_grad({a, b}))
    record("minimum", {a, b}, {y}, {a, b}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
      const Tensor &a = ctx.saved(0), &b = ctx.saved(1);
      Tensor a_wins = binary_forward("minimum", Binary::ge_mask, b.detach(), a.detach());  // a <= b
      return {sum_to(g[0] * a_wins, a.shape()), sum_to(g[0] * (1.0 - a_wins), b.shape())};
    });
  return y;
}

// ---------------- comparisons ----------------

static Tensor compare(const char* name, Compare op, const Tensor& a, const Tensor& b) {
  require_same(name, a, b);
  const Shape s = broadcast_shapes(a.shape(), b.shape(), name);
  TensorOptions o(DType::b8);
  o.device = a.device();  // the mask lives where the kernel writes it
  Tensor out = empty(s, o);
  kernel_for(a.device(), &KernelTable::compare, name)(op, a.detach().expand(s), b.detach().expand(s), out);
  return out;
}
Tensor gt(const Tensor& a, const Tensor& b) { return compare("gt", Compare::gt, a, b); }
Tensor gt(const Tensor& a, double s) { return gt(a, full({}, s, options_like(a))); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare("lt", Compare::lt, a, b); }
Tensor lt(const Tensor& a, double s) { return lt(a, full({}, s, options_like(a))); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare("ge", Compare::ge, a, b); }
Tensor ge(const Tensor& a, double s) { return ge(a, full({}, s, options_like(a))); }
Tensor le(const Tensor& a, const Tensor& b) { return compare("le", Compare::le, a, b); }
Tensor le(const Tensor& a, double s) { return le(a, full({}, s, options_like(a))); }
Tensor eq(const Tensor& a, const Tensor& b) { return compare("eq", Compare::eq, a, b); }

// ---------------- operators ----------------

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, double s) { return add_scalar(a, s); }
Tensor operator+(double s, const Tensor& a) { return add_scalar(a, s); }
Tensor operator-(const Tensor& a, double s) { return add_scalar(a, -s); }
Tensor operator-(double s, const Tensor& a) { return add_scalar(neg(a), s); }
Tensor operator*(const Tensor& a, double s) { return mul_scalar(a, s); }
Tensor operator*(double s, const Tensor& a) { return mul_scalar(a, s); }
Tensor operator/(const Tensor& a, double s) { return mul_scalar(a, 1.0 / s); }
Tensor operator/(double s, const Tensor& a) { return mul_scalar(pow(a, -1.0), s); }

}  // namespace sg
