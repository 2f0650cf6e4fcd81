#include "gradcheck/cases.h"

namespace sg::cases {

namespace {
GradcheckCase unary(const char* op, std::function<Tensor(const Tensor&)> f, double lo = -1, double hi = 1,
                    bool second = true, bool away = false) {
  return {op, "3x4",
          [=](Generator& g) -> TensorList {
            return {away ? input_away_from_zero(g, {3, 4}) : input(g, {3, 4}, lo, hi)};
          },
          [f](const TensorList& x) { return f(x[0]); }, second};
}

GradcheckCase binary(const char* op, const char* variant, Shape sa, Shape sb,
                     std::function<Tensor(const Tensor&, const Tensor&)> f, double blo = -1, double bhi = 1) {
  return {op, variant,
          [=](Generator& g) -> TensorList { return {input(g, sa), input(g, sb, blo, bhi)}; },
          [f](const TensorList& x) { return f(x[0], x[1]); }, true};
}

// {a, b} with a = b + d, each element of d at least 0.05 away from zero; a has
// shape `sa` (b's shape when empty; b broadcasts to it). Both require grad.
TensorList apart_from(const Tensor& b, Generator& g, Shape sa = {}) {
  if (sa.size() == 0) sa = b.shape();
  Tensor a = (b.detach() + input_away_from_zero(g, sa).detach()).detach();
  a.requires_grad_();
  return {a, b};
}
}  // namespace

std::vector<GradcheckCase> elementwise_cases() {
  return {
      unary("neg", [](const Tensor& x) { return neg(x); }),
      unary("exp", [](const Tensor& x) { return exp(x); }),
      unary("log", [](const Tensor& x) { return log(x); }, 0.5, 2.0),
      unary("sqrt", [](const Tensor& x) { return sqrt(x); }, 0.5, 2.0),
      unary("rsqrt", [](const Tensor& x) { return rsqrt(x); }, 0.5, 2.0),
      unary("abs", [](const Tensor& x) { return abs(x); }, -1, 1, true, true),
      unary("pow", [](const Tensor& x) { return pow(x, 3.0); }),
      {"pow", "fractional_2.5",
       [](Generator& g) -> TensorList { return {input(g, {3, 4}, 0.5, 2.0)}; },
       [](const TensorList& x) { return pow(x[0], 2.5); }, true},
      unary("relu", [](const Tensor& x) { return relu(x); }, -1, 1, true, true),
      unary("leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }, -1, 1, true, true),
      unary("tanh", [](const Tensor& x) { return tanh(x); }),
      unary("sigmoid", [](const Tensor& x) { return sigmoid(x); }),
      unary("softplus", [](const Tensor& x) { return softplus(x); }, -3, 3),
      unary("clamp", [](const Tensor& x) { return clamp(x * 2.0, -0.5, 0.7); }, -1, 1, true),
      unary("add_scalar", [](const Tensor& x) { return x + 2.5; }),
      unary("mul_scalar", [](const Tensor& x) { return x * -1.5; }),
      binary("add", "broadcast_3x4+4", {3, 4}, {4}, [](const Tensor& a, const Tensor& b) { return a + b; }),
      binary("add", "broadcast_3x1+1x4", {3, 1}, {1, 4}, [](const Tensor& a, const Tensor& b) { return a + b; }),
      binary("sub", "broadcast_2x3x4-3x1", {2, 3, 4}, {3, 1}, [](const Tensor& a, const Tensor& b) { return a - b; }),
      binary("mul", "broadcast_2x3x4*3x1", {2, 3, 4}, {3, 1}, [](const Tensor& a, const Tensor& b) { return a * b; }),
      binary("mul", "same_3x4", {3, 4}, {3, 4}, [](const Tensor& a, const Tensor& b) { return a * b; }),
      binary("div", "broadcast_3x4/4", {3, 4}, {4}, [](const Tensor& a, const Tensor& b) { return a / b; }, 0.5, 2.0),
      binary("maximum", "3x4", {3, 4}, {3, 4}, [](const Tensor& a, const Tensor& b) { return maximum(a, b); }),
      // a = b + d with |d| >= 0.05: no element near a tie, where minimum's gradient jumps
      {"minimum", "3x4",
       [](Generator& g) -> TensorList { return apart_from(input(g, {3, 4}), g); },
       [](const TensorList& x) { return minimum(x[0], x[1]); }, true},
      {"minimum", "broadcast_3x4,4",
       [](Generator& g) -> TensorList { return apart_from(input(g, {4}), g, {3, 4}); },
       [](const TensorList& x) { return minimum(x[0], x[1]); }, true},
  };
}

}  // namespace sg::cases
