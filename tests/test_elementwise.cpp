#include "ops/ops.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("elementwise: gradients of every unary and binary op") {
  for (const char* op : {"neg", "exp", "log", "sqrt", "rsqrt", "abs", "pow", "relu", "leaky_relu", "tanh",
                         "sigmoid", "softplus", "clamp", "add_scalar", "mul_scalar", "add", "sub", "mul", "div",
                         "maximum", "minimum"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

TEST_CASE("elementwise: forward values") {
  Tensor x = t64({-2, -0.5, 0, 1.5}, {4});
  check_close(relu(x), t64({0, 0, 0, 1.5}, {4}));
  check_close(leaky_relu(x, 0.1), t64({-0.2, -0.05, 0, 1.5}, {4}));
  check_close(clamp(x, -1, 1), t64({-1, -0.5, 0, 1}, {4}));
  check_close(abs(x), t64({2, 0.5, 0, 1.5}, {4}));
  check_close(softplus(t64({-1000, 0, 1000}, {3})), t64({0, std::log(2.0), 1000}, {3}));
  check_close(sigmoid(t64({0}, {1})), t64({0.5}, {1}));
}

// The reference cases keep away from ties (torch splits a tie's gradient in
// half); stylegrad's tie rule, the whole gradient to a, is checked here.
TEST_CASE("elementwise: maximum and minimum give a tie's gradient to a") {
  Tensor a = t64({1, 2, 3}, {3}), b = t64({3, 2, 1}, {3});
  a.requires_grad_();
  b.requires_grad_();
  check_close(maximum(a, b), t64({3, 2, 3}, {3}));
  check_close(minimum(a, b), t64({1, 2, 1}, {3}));
  sum(minimum(a, b) * t64({1, 10, 100}, {3})).backward();
  check_close(a.grad(), t64({1, 10, 0}, {3}));
  check_close(b.grad(), t64({0, 0, 100}, {3}));
}

TEST_CASE("elementwise: maximum and minimum propagate a NaN from either side, as torch's") {
  const double nan = std::nan("");
  for (DType dt : {DType::f64, DType::f32}) {
    const Tensor a = t64({nan, 1, nan, 2}, {4}).to(dt), b = t64({1, nan, nan, 3}, {4}).to(dt);
    for (const Tensor& r : {maximum(a, b), minimum(a, b)}) {
      const std::vector<double> v = r.to_vector();
      CHECK(std::isnan(v[0]));
      CHECK(std::isnan(v[1]));
      CHECK(std::isnan(v[2]));
      CHECK(!std::isnan(v[3]));
    }
  }
}

TEST_CASE("elementwise: comparisons, ties included") {
  Tensor a = t64({1, 2, 3}, {3}), b = t64({2}, {1});
  CHECK(gt(a, b).to_vector() == std::vector<double>{0, 0, 1});
  CHECK(lt(a, b).to_vector() == std::vector<double>{1, 0, 0});
  CHECK(ge(a, b).to_vector() == std::vector<double>{0, 1, 1});
  CHECK(le(a, b).to_vector() == std::vector<double>{1, 1, 0});
  CHECK(ge(a, 2.0).to_vector() == std::vector<double>{0, 1, 1});
  CHECK(le(a, 2.0).to_vector() == std::vector<double>{1, 1, 0});
  CHECK(ge(a, b).dtype() == DType::b8);
  Tensor i = from_vector({1, 5, 3}, {3}, DType::i64);  // any dtype compares
  CHECK(le(i, from_vector({3}, {1}, DType::i64)).to_vector() == std::vector<double>{1, 0, 1});
}

TEST_CASE("elementwise: broadcasting follows numpy rules") {
  Tensor a = t64({1, 2, 3}, {3, 1});
  Tensor b = t64({10, 20}, {1, 2});
  check_close(a + b, t64({11, 21, 12, 22, 13, 23}, {3, 2}));
  check_close(a * 2.0 - 1.0, t64({1, 3, 5}, {3, 1}));
  check_close(1.0 / t64({2, 4}, {2}), t64({0.5, 0.25}, {2}));
}

TEST_CASE("elementwise: float32 matches float64 on large strided inputs") {
  Generator gen(3);
  Tensor x = randn({64, 300}, gen, TensorOptions(DType::f64));
  Tensor xt = x.t();  // non-contiguous, large enough to run threaded
  check_close(tanh(xt.to(DType::f32)) * xt.to(DType::f32), tanh(xt) * xt, 1e-5, 1e-6);
}

TEST_CASE("elementwise: shape and dtype errors name the op and the shapes") {
  Tensor a = zeros({2, 3}), b = zeros({4});
  CHECK(error_of([&] { add(a, b); }) == "add: shapes [2, 3] and [4] do not broadcast");
  CHECK(error_of([&] { mul(a, zeros({2, 3}, DType::f64)); }).find("mul: dtype mismatch") == 0);
  CHECK(error_of([&] { clamp(a, 1, 0); }).find("clamp:") == 0);
}
