#include "ops/ops.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("elementwise: gradients of every unary and binary op") {
  for (const char* op : {"neg", "exp", "log", "sqrt", "rsqrt", "abs", "pow", "relu", "leaky_relu", "tanh",
                         "sigmoid", "softplus", "clamp", "add_scalar", "mul_scalar", "add", "sub", "mul", "div",
                         "maximum"}) {
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
