#include <functional>

#include "autograd/node.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("upsample: gradients") {
  for (const char* op : {"upsample_nearest2d", "upsample_bilinear2d"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

TEST_CASE("upsample: nearest values") {
  Tensor x = t64({1, 2, 3, 4}, {1, 1, 2, 2});
  check_close(upsample_nearest2d(x, 4, 4), t64({1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, {1, 1, 4, 4}));
  // Non-integer factors: source = floor(dst * in / out), rows 0 0 1, columns 0 0 1 1 2.
  Tensor y = arange(1, 7, 1, DType::f64).reshape({1, 1, 2, 3});
  check_close(upsample_nearest2d(y, 3, 5), t64({1, 1, 2, 2, 3, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6}, {1, 1, 3, 5}));
}

TEST_CASE("upsample: bilinear values") {
  Tensor x = t64({1, 2, 3, 4}, {1, 1, 2, 2});
  // align_corners: the corner pixels stay put and the rest lies evenly between them.
  check_close(upsample_bilinear2d(x, 3, 3, true), t64({1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4}, {1, 1, 3, 3}));
  // Half-pixel: output o samples (o + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the edge).
  check_close(upsample_bilinear2d(x, 4, 4, false),
              t64({1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}, {1, 1, 4, 4}));
  // Same size is the identity in both modes; one output pixel with align_corners is the top-left one.
  check_close(upsample_bilinear2d(x, 2, 2, false), x);
  check_close(upsample_bilinear2d(x, 2, 2, true), x);
  check_close(upsample_bilinear2d(x, 1, 1, true), t64({1}, {1, 1, 1, 1}));
}

TEST_CASE("upsample: float32 agrees with float64, and the backward is the adjoint (threaded paths)") {
  Generator gen(19);
  Tensor x = randn({2, 8, 37, 41}, gen, DType::f64);
  x.requires_grad_();
  auto nearest = [](const Tensor& t) { return upsample_nearest2d(t, 67, 71); };
  auto half_pixel = [](const Tensor& t) { return upsample_bilinear2d(t, 67, 71, false); };
  auto corners = [](const Tensor& t) { return upsample_bilinear2d(t, 67, 71, true); };
  auto shrink = [](const Tensor& t) { return upsample_bilinear2d(t, 17, 19, false); };
  for (const std::function<Tensor(const Tensor&)>& f :
       std::vector<std::function<Tensor(const Tensor&)>>{nearest, half_pixel, corners, shrink}) {
    Tensor y = f(x);
    check_close(f(x.detach().to(DType::f32)), y, 1e-5, 1e-5);
    Tensor g = randn(y.shape(), gen, DType::f64);
    Tensor gx = grad({y}, {x}, {g})[0];
    CHECK(sum(x * gx).item() == doctest::Approx(sum(y * g).item()).epsilon(1e-10));
  }
}

TEST_CASE("upsample: errors") {
  CHECK(error_of([] { upsample_nearest2d(zeros({1, 2, 2}), 4, 4); }) ==
        "upsample_nearest2d: expected a 4-d input [N,C,H,W], got shape [1, 2, 2]");
  CHECK(error_of([] { upsample_bilinear2d(zeros({1, 1, 2, 2}), 0, 4, false); }) ==
        "upsample_bilinear2d: output size 0x4 must be positive (input [1, 1, 2, 2])");
  CHECK(error_of([] { upsample_bilinear2d(zeros({1, 1, 0, 2}), 2, 4, true); }) ==
        "upsample_bilinear2d: input [1, 1, 0, 2] has an empty plane");
}
