#include <cmath>

#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("loss: gradients (first and second order)") {
  for (const char* op : {"l1_loss", "mse_loss", "bce_with_logits"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

TEST_CASE("loss: hand-computed values") {
  Tensor x = t64({1, 2, 3}, {3}), t = t64({2, 2, 5}, {3});
  CHECK(l1_loss(x, t).item() == doctest::Approx((1 + 0 + 2) / 3.0));
  CHECK(mse_loss(x, t).item() == doctest::Approx((1 + 0 + 4) / 3.0));
  // -[t log s(x) + (1 - t) log(1 - s(x))] with s = sigmoid:
  // x = 2, t = 1: log(1 + e^-2); x = -1, t = 0: log(1 + e^-1)
  Tensor logits = t64({2, -1}, {2}), labels = t64({1, 0}, {2});
  CHECK(bce_with_logits(logits, labels).item() ==
        doctest::Approx((std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0))) / 2));
}

TEST_CASE("bce_with_logits: gradient is (sigmoid(x) - t) / n, also at x = 0") {
  Tensor x = t64({0, 1.5, -3}, {3});
  x.requires_grad_();
  Tensor t = t64({0.3, 1, 0}, {3});
  bce_with_logits(x, t).backward();
  check_close(x.grad(), (sigmoid(x.detach()) - t) / 3.0);
  CHECK(x.grad().to_vector()[0] == doctest::Approx((0.5 - 0.3) / 3));
}

TEST_CASE("bce_with_logits: huge logits stay finite, in float32 too") {
  Tensor x = from_vector({1000, -1000, 1000, -1000}, {4});
  Tensor t = from_vector({1, 0, 0, 1}, {4});
  // right with certainty: 0; wrong with certainty: 1000 each
  CHECK(bce_with_logits(x, t).item() == doctest::Approx(2000.0 / 4));
  CHECK(bce_with_logits(x.narrow(0, 0, 2), t.narrow(0, 0, 2)).item() == 0.0);
}

TEST_CASE("loss: float32 agrees with float64 on a large input") {
  Generator gen(8);
  Tensor x = randn({256, 300}, gen, DType::f64) * 5.0, t = rand({256, 300}, gen, DType::f64);
  Tensor x32 = x.to(DType::f32), t32 = t.to(DType::f32);
  CHECK(l1_loss(x32, t32).item() == doctest::Approx(l1_loss(x, t).item()).epsilon(1e-5));
  CHECK(mse_loss(x32, t32).item() == doctest::Approx(mse_loss(x, t).item()).epsilon(1e-5));
  CHECK(bce_with_logits(x32, t32).item() == doctest::Approx(bce_with_logits(x, t).item()).epsilon(1e-5));
}

TEST_CASE("loss: errors name the op and both shapes") {
  CHECK(error_of([] { mse_loss(zeros({2, 3}), zeros({3})); }) ==
        "mse_loss: input [2, 3] and target [3] have different shapes");
  CHECK(error_of([] { l1_loss(zeros({2, 1}), zeros({2})); }) ==
        "l1_loss: input [2, 1] and target [2] have different shapes");
  CHECK(error_of([] { bce_with_logits(zeros({4}), zeros({2, 2})); }) ==
        "bce_with_logits: input [4] and target [2, 2] have different shapes");
  CHECK(error_of([] { mse_loss(zeros({2}), zeros({2}, DType::f64)); }).find("mse_loss: dtype mismatch") == 0);
}
