#include <cmath>

#include "autograd/node.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

Pool2dOptions window(int64_t kernel, int64_t stride, int64_t pad = 0, bool ceil_mode = false) {
  Pool2dOptions o;
  o.kernel_h = o.kernel_w = kernel;
  o.stride_h = o.stride_w = stride;
  o.pad_h = o.pad_w = pad;
  o.ceil_mode = ceil_mode;
  return o;
}

// A [1, 1, 1, W] row pooled with a 1 x 3 window, stride 2, padding 1 on the sides.
Pool2dOptions row_window(bool ceil_mode, bool count_include_pad) {
  Pool2dOptions o = window(1, 2, 0, ceil_mode);
  o.kernel_w = 3, o.pad_w = 1;
  o.count_include_pad = count_include_pad;
  return o;
}

double dot(const Tensor& a, const Tensor& b) { return sum(a.to(DType::f64) * b.to(DType::f64)).item(); }

}  // namespace

TEST_CASE("pool: gradients") {
  for (const char* op : {"max_pool2d", "avg_pool2d"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

TEST_CASE("pool: max values, indices and where the gradient goes") {
  Tensor x = arange(1, 17, 1, DType::f64).reshape({1, 1, 4, 4});
  x.requires_grad_();
  auto [y, indices] = max_pool2d_with_indices(x, Pool2dOptions{});
  check_close(y, t64({6, 8, 14, 16}, {1, 1, 2, 2}));
  CHECK(indices.dtype() == DType::i64);
  CHECK(indices.to_vector() == std::vector<double>{5, 7, 13, 15});  // flat index into each H*W plane
  sum(y).backward();
  check_close(x.grad(), t64({0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1}, {1, 1, 4, 4}));

  // ceil_mode keeps the last, partial window [4]: 0 1 | 2 3 | 4
  Pool2dOptions pairs = window(1, 2, 0, true);
  pairs.kernel_w = 2;
  auto [row_max, row_at] = max_pool2d_with_indices(t64({0, 1, 2, 3, 4}, {1, 1, 1, 5}), pairs);
  check_close(row_max, t64({1, 3, 4}, {1, 1, 1, 3}));
  CHECK(row_at.to_vector() == std::vector<double>{1, 3, 4});
  // Ties go to the first element of the window; padding never wins (it is -inf).
  CHECK(max_pool2d_with_indices(full({1, 1, 2, 2}, -5.0, DType::f64), window(2, 2)).second.item() == 0);
  check_close(max_pool2d(full({1, 1, 2, 2}, -5.0, DType::f64), window(3, 1, 1)), full({1, 1, 2, 2}, -5.0, DType::f64));
}

TEST_CASE("pool: the 2x2 fast path picks the same argmax as the general one, ties and NaNs included") {
  // Values from {0, 1, 2, NaN} on odd-sized planes, so that windows hold ties
  // and NaNs. Upsampled by two (every pixel repeated 2x2), a 2x2 window with
  // stride 4 and dilation 2 sees the same four values, through the general path.
  Generator g(7);
  std::vector<double> v = (rand({2, 3, 7, 9}, g, DType::f64) * 4.0).to_vector();
  for (double& e : v) e = e >= 3.0 ? std::nan("") : std::floor(e);
  Tensor x = from_vector(v, {2, 3, 7, 9}, DType::f64);
  auto [fast, fast_at] = max_pool2d_with_indices(x, window(2, 2));
  Pool2dOptions dilated = window(2, 4);
  dilated.dilation_h = dilated.dilation_w = 2;
  Tensor wide = upsample_nearest2d(x, 14, 18);
  auto [slow, slow_at] = max_pool2d_with_indices(wide, dilated);
  REQUIRE(slow.shape() == fast.shape());
  const std::vector<double> a = fast.to_vector(), b = slow.to_vector();
  const std::vector<double> ia = fast_at.to_vector(), ib = slow_at.to_vector();
  int nans = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK((a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))));
    nans += std::isnan(a[i]);
    // the same window position: (row, column) in the wide plane is twice that in x
    const int64_t r = int64_t(ia[i]) / 9, c = int64_t(ia[i]) % 9;
    CHECK(int64_t(ib[i]) == 2 * r * 18 + 2 * c);
  }
  CHECK(nans > 0);  // the case this test is about did occur
}

TEST_CASE("pool: avg values, ceil_mode and count_include_pad") {
  Tensor x = arange(1, 17, 1, DType::f64).reshape({1, 1, 4, 4});
  check_close(avg_pool2d(x, Pool2dOptions{}), t64({3.5, 5.5, 11.5, 13.5}, {1, 1, 2, 2}));
  // Windows over a row of six ones, padded by one: [p 1 1] [1 1 1] [1 1 1] and, with ceil_mode,
  // [1 p], cut short at the edge of the padding. Padding counts as a zero in the mean...
  Tensor row = ones({1, 1, 1, 6}, DType::f64);
  check_close(avg_pool2d(row, row_window(true, true)), t64({2.0 / 3, 1, 1, 0.5}, {1, 1, 1, 4}));
  // ... unless count_include_pad is off; without ceil_mode the partial window is dropped.
  check_close(avg_pool2d(row, row_window(true, false)), t64({1, 1, 1, 1}, {1, 1, 1, 4}));
  check_close(avg_pool2d(row, row_window(false, true)), t64({2.0 / 3, 1, 1}, {1, 1, 1, 3}));
}

TEST_CASE("pool: avg_pool2d's backward is its adjoint on a larger input (threaded paths)") {
  Generator gen(11);
  Tensor x = randn({2, 8, 67, 71}, gen, DType::f64);
  x.requires_grad_();
  for (bool include : {true, false}) {
    Pool2dOptions o = window(3, 2, 1, true);
    o.count_include_pad = include;
    Tensor y = avg_pool2d(x, o);
    Tensor g = randn(y.shape(), gen, DType::f64);
    Tensor gx = grad({y}, {x}, {g})[0];
    CHECK(dot(x, gx) == doctest::Approx(dot(y, g)).epsilon(1e-10));
  }
}

TEST_CASE("pool: float32 agrees with float64") {
  Generator gen(13);
  Tensor x = randn({2, 8, 67, 71}, gen, DType::f64);
  for (const Pool2dOptions& o : {window(2, 2), window(3, 2, 1, true)}) {
    check_close(max_pool2d(x.to(DType::f32), o), max_pool2d(x, o), 1e-6, 1e-6);
    check_close(avg_pool2d(x.to(DType::f32), o), avg_pool2d(x, o), 1e-5, 1e-5);
  }
}

TEST_CASE("pool: errors") {
  Tensor x = zeros({1, 1, 2, 2});
  CHECK(error_of([&] { max_pool2d(zeros({2, 2}), {}); }) == "max_pool2d: expected a 4-d input [N,C,H,W], got shape [2, 2]");
  CHECK(error_of([&] { max_pool2d(x, window(3, 1)); }) ==
        "max_pool2d: window 3 (after dilation) is larger than the padded input 2 (input [1, 1, 2, 2])");
  CHECK(error_of([&] { avg_pool2d(zeros({1, 1, 5, 5}), window(3, 2, 2)); }) ==
        "avg_pool2d: padding must be between 0 and half the kernel size, got pad 2 and kernel 3 along H");
  CHECK(error_of([&] { max_pool2d(x, window(2, 0)); }) ==
        "max_pool2d: kernel, stride and dilation must be positive, got 2, 0, 1 along H");
  // Dilation 3 from the padding at -1 jumps to 2, past the 2 pixels: the window sees no input.
  Pool2dOptions dilated = window(2, 1, 1);
  dilated.dilation_h = dilated.dilation_w = 3;
  CHECK(error_of([&] { max_pool2d(x, dilated); }) ==
        "max_pool2d: window 0 covers only padding (input [1, 1, 2, 2], kernel 2, dilation 3, padding 1)");
  CHECK(error_of([&] { avg_pool2d(zeros({1, 1, 5, 5}), dilated); }) == "avg_pool2d: dilation is not supported, got (3, 3)");
}
