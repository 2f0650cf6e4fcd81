#include "autograd/node.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("pad: gradients") { check_gradients("pad2d"); }

TEST_CASE("pad: values") {
  Tensor row = t64({1, 2, 3}, {1, 3});
  check_close(pad2d(row, 2, 2, 0, 0, PadMode::reflect), t64({3, 2, 1, 2, 3, 2, 1}, {1, 7}));
  check_close(pad2d(row, 2, 1, 0, 0, PadMode::replicate), t64({1, 1, 1, 2, 3, 3}, {1, 6}));
  check_close(pad2d(row, 1, 2, 0, 0, PadMode::zeros, 0.5), t64({0.5, 1, 2, 3, 0.5, 0.5}, {1, 6}));
  // Two dims at once: (left, right, top, bottom).
  Tensor square = t64({1, 2, 3, 4}, {1, 1, 2, 2});
  check_close(pad2d(square, 1, 1, 1, 1, PadMode::reflect),
              t64({4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1}, {1, 1, 4, 4}));
  check_close(pad2d(square, 0, 1, 1, 0, PadMode::zeros), t64({0, 0, 0, 1, 2, 0, 3, 4, 0}, {1, 1, 3, 3}));
}

TEST_CASE("pad: the gradient adds up over every copy of a pixel") {
  Tensor row = t64({1, 2, 3}, {1, 3});
  row.requires_grad_();
  // reflect (2, 2) copies [3 2 1 2 3 2 1]: pixel 1 twice, pixel 2 three times, pixel 3 twice
  sum(pad2d(row, 2, 2, 0, 0, PadMode::reflect)).backward();
  check_close(row.grad(), t64({2, 3, 2}, {1, 3}));
  Tensor row2 = t64({1, 2, 3}, {1, 3});
  row2.requires_grad_();
  sum(pad2d(row2, 2, 1, 0, 0, PadMode::replicate)).backward();
  check_close(row2.grad(), t64({3, 1, 2}, {1, 3}));
}

TEST_CASE("pad: float32 agrees with float64, and the backward is the adjoint (threaded paths)") {
  Generator gen(17);
  Tensor x = randn({2, 8, 67, 71}, gen, DType::f64);
  x.requires_grad_();
  for (PadMode mode : {PadMode::zeros, PadMode::reflect, PadMode::replicate}) {
    Tensor y = pad2d(x, 3, 1, 2, 4, mode);
    check_close(pad2d(x.detach().to(DType::f32), 3, 1, 2, 4, mode), y, 1e-6, 1e-6);
    Tensor g = randn(y.shape(), gen, DType::f64);
    Tensor gx = grad({y}, {x}, {g})[0];
    CHECK(sum(x * gx).item() == doctest::Approx(sum(y * g).item()).epsilon(1e-10));
  }
}

TEST_CASE("pad: errors") {
  Tensor x = zeros({1, 1, 2, 3});
  CHECK(error_of([&] { pad2d(x, 3, 0, 0, 0, PadMode::reflect); }) ==
        "pad2d: reflect padding (3, 0, 0, 0) must be smaller than the padded dims of input [1, 1, 2, 3]");
  CHECK(error_of([&] { pad2d(x, 0, 0, 0, 2, PadMode::reflect); }) ==
        "pad2d: reflect padding (0, 0, 0, 2) must be smaller than the padded dims of input [1, 1, 2, 3]");
  CHECK(error_of([&] { pad2d(x, -1, 0, 0, 0); }) ==
        "pad2d: padding (-1, 0, 0, 0) must be non-negative (input [1, 1, 2, 3])");
  CHECK(error_of([&] { pad2d(zeros({3}), 1, 1, 0, 0); }) ==
        "pad2d: expected an input with at least 2 dims [..., H, W], got shape [3]");
  CHECK(error_of([&] { pad2d(zeros({1, 0, 3}), 0, 0, 1, 0, PadMode::replicate); }) ==
        "pad2d: replicate padding of an empty dim, input [1, 0, 3]");
}
