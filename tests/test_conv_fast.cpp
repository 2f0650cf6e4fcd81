// The Winograd fast path (kernels/cpu/winograd.cpp) against the im2col + GEMM
// reference path, on the same inputs.
//
// Tolerance. Winograd computes the same sums with different roundings: the
// input transform adds up to 5x-scaled pixels, the output transform up to
// 8x-scaled products, so its float32 error is a modest multiple of the
// reference's. The natural scale for the error of one output is
//   s = sum over c, i, j of |w[o, c, i, j]| |x[c, h + i, w + j]|   (= conv2d(|x|, |w|)),
// what the sum would be with no cancellation. We require
//   |fast - exact| <= 2e-5 s  (~170 float32 epsilons), with `exact` the float64
// reference; observed: at most 4.4e-6 s (printed by the test).
#include <cmath>

#include "kernels/cpu/winograd.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

// Runs f with the fast path in `mode`; the tests run in `always`, so that the
// fast path also takes the cases with few channels.
template <class F>
Tensor with_mode(cpu::WinogradMode mode, F&& f) {
  struct Restore {
    cpu::WinogradMode before = cpu::winograd_mode();
    ~Restore() { cpu::set_winograd_mode(before); }
  } restore;
  cpu::set_winograd_mode(mode);
  return f();
}

template <class F>
Tensor reference(F&& f) { return with_mode(cpu::WinogradMode::off, f); }
template <class F>
Tensor fast_path(F&& f) { return with_mode(cpu::WinogradMode::always, f); }

Conv2dOptions padded(int64_t pad) {
  Conv2dOptions o;
  o.pad_h = o.pad_w = pad;
  return o;
}

Tensor f32(const Tensor& t) { return t.defined() ? t.to(DType::f32) : t; }

// max |fast - exact| / scale over all elements (see the top of the file).
double worst_relative_error(const Tensor& fast, const Tensor& exact, const Tensor& scale) {
  REQUIRE(fast.shape() == exact.shape());
  const std::vector<double> a = fast.to_vector(), e = exact.to_vector(), s = scale.to_vector();
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - e[i]) / (s[i] + 1e-30));
  return worst;
}

struct Case {
  Shape x;
  int64_t out_channels;
};

// Odd sizes (tiles that hang over the edge), one channel, several blocks of
// tiles (1 x 128 x 70 x 66: 306 tiles), output channels split across threads
// (1 x 64 x 37 x 45 with 70 outputs), and a wide image whose rows of tiles
// hold whole groups of 16 tiles away from the edges (the gather's fast case).
const Case kCases[] = {{{1, 5, 7, 9}, 3},     {{2, 17, 13, 11}, 19}, {{1, 1, 6, 6}, 1},   {{1, 64, 37, 45}, 70},
                       {{1, 128, 70, 66}, 8}, {{2, 300, 9, 10}, 40}, {{1, 16, 20, 150}, 16}};

}  // namespace

TEST_CASE("conv fast path: conv2d agrees with the reference path") {
  Generator gen(11);
  double worst_seen = 0;
  for (const Case& c : kCases)
    for (int64_t pad : {0, 1, 2})
      for (bool with_bias : {false, true}) {
        CAPTURE(c.x.str());
        CAPTURE(pad);
        CAPTURE(with_bias);
        Tensor x = randn(c.x, gen, DType::f64), w = randn({c.out_channels, c.x[1], 3, 3}, gen, DType::f64);
        Tensor b = with_bias ? randn({c.out_channels}, gen, DType::f64) : Tensor();
        const Conv2dOptions o = padded(pad);
        Tensor fast = fast_path([&] { return conv2d(f32(x), f32(w), f32(b), o); });
        Tensor exact = conv2d(x, w, b, o);  // float64: always the reference path
        Tensor scale = conv2d(abs(x), abs(w), with_bias ? abs(b) : Tensor(), o);
        const double err = worst_relative_error(fast, exact, scale);
        worst_seen = std::max(worst_seen, err);
        CHECK(err <= 2e-5);
        // and against the float32 reference path, element by element
        Tensor ref32 = reference([&] { return conv2d(f32(x), f32(w), f32(b), o); });
        check_close(fast, ref32, 1e-4, 1e-4 * std::sqrt(double(c.x[1] * 9)));
      }
  MESSAGE("conv2d: worst |winograd - exact| / sum|w||x| = ", worst_seen);
}

TEST_CASE("conv fast path: conv_transpose2d (the input gradient) agrees with the reference path") {
  Generator gen(12);
  double worst_seen = 0;
  for (const Case& c : kCases)
    for (int64_t pad : {0, 1})
      for (bool with_bias : {false, true}) {
        // conv_transpose2d's input is conv2d's output: c.x[1] channels in, c.out_channels out.
        CAPTURE(c.x.str());
        CAPTURE(pad);
        CAPTURE(with_bias);
        Tensor g = randn(c.x, gen, DType::f64), w = randn({c.x[1], c.out_channels, 3, 3}, gen, DType::f64);
        Tensor b = with_bias ? randn({c.out_channels}, gen, DType::f64) : Tensor();
        const Conv2dOptions o = padded(pad);
        if (c.x[2] + 2 - 2 * pad < 1 || c.x[3] + 2 - 2 * pad < 1) continue;
        Tensor fast = fast_path([&] { return conv_transpose2d(f32(g), f32(w), f32(b), o); });
        Tensor exact = conv_transpose2d(g, w, b, o);
        Tensor scale = conv_transpose2d(abs(g), abs(w), with_bias ? abs(b) : Tensor(), o);
        const double err = worst_relative_error(fast, exact, scale);
        worst_seen = std::max(worst_seen, err);
        CHECK(err <= 2e-5);
        Tensor ref32 = reference([&] { return conv_transpose2d(f32(g), f32(w), f32(b), o); });
        check_close(fast, ref32, 1e-4, 1e-4 * std::sqrt(double(c.x[1] * 9)));
      }
  MESSAGE("conv_transpose2d: worst |winograd - exact| / sum|w||g| = ", worst_seen);
}

TEST_CASE("conv fast path: the backward of a float32 conv2d uses it and stays right") {
  // conv2d's input gradient is conv_transpose2d(grad, W): the fast path with
  // the flipped, transposed kernel. Check it against the reference's.
  Generator gen(13);
  Tensor x = randn({2, 24, 19, 21}, gen), w = randn({32, 24, 3, 3}, gen), gy = randn({2, 32, 19, 21}, gen);
  auto input_grad = [&] {
    Tensor xr = x.detach().requires_grad_(true);
    sum(conv2d(xr, w, Tensor(), padded(1)) * gy).backward();
    return xr.grad();
  };
  Tensor fast = fast_path(input_grad);
  Tensor ref = reference(input_grad);
  check_close(fast, ref, 1e-4, 1e-3);
}

TEST_CASE("conv fast path: VGG-sized layer at about 1e-5 relative") {
  // conv4_2 of VGG-19 on a 32 x 32 map: 512 -> 512 channels, unit-variance
  // input, He-scaled weights. Errors relative to the largest output; the
  // float32 reference path is printed alongside for comparison (Winograd's is
  // 10 to 30x larger: measured 1.8e-5 of the largest output at worst and
  // 4.5e-6 RMS, against 6e-7 and 4e-7 for im2col).
  Generator gen(14);
  Tensor x = randn({1, 512, 32, 32}, gen, DType::f64), w = randn({512, 512, 3, 3}, gen, DType::f64) * std::sqrt(2.0 / 4608);
  Tensor exact = conv2d(x, w, Tensor(), padded(1));
  Tensor fast = fast_path([&] { return conv2d(f32(x), f32(w), Tensor(), padded(1)); }).to(DType::f64);
  Tensor ref32 = reference([&] { return conv2d(f32(x), f32(w), Tensor(), padded(1)); }).to(DType::f64);
  const double max_abs = max(abs(exact)).item(), rms = std::sqrt(mean(exact * exact).item());
  const double fast_max = max(abs(fast - exact)).item() / max_abs, ref_max = max(abs(ref32 - exact)).item() / max_abs;
  const double fast_rms = std::sqrt(mean((fast - exact) * (fast - exact)).item()) / rms;
  const double ref_rms = std::sqrt(mean((ref32 - exact) * (ref32 - exact)).item()) / rms;
  MESSAGE("VGG conv4_2, error / max|y|: winograd ", fast_max, ", im2col ", ref_max, "; RMS error / RMS y: winograd ",
          fast_rms, ", im2col ", ref_rms);
  CHECK(fast_max < 5e-5);
  CHECK(fast_rms < 1e-5);
}

TEST_CASE("conv fast path: float64, unsupported shapes and few channels take the reference path") {
  // Bit-identical with the fast path forced or off: it is not used.
  Generator gen(15);
  auto same = [](auto&& f) { return max(abs(fast_path(f) - reference(f))).item() == 0; };
  Tensor x = randn({1, 8, 12, 12}, gen, DType::f64), w = randn({4, 8, 3, 3}, gen, DType::f64);
  CHECK(same([&] { return conv2d(x, w, Tensor(), padded(1)); }));
  Tensor x32 = x.to(DType::f32), w5 = randn({4, 8, 5, 5}, gen);  // a 5x5 kernel
  CHECK(same([&] { return conv2d(x32, w5, Tensor(), padded(2)); }));
  Conv2dOptions strided = padded(1);
  strided.stride_h = 2;
  CHECK(same([&] { return conv2d(x32, w.to(DType::f32), Tensor(), strided); }));
  // In the default (automatic) mode, 8 input channels are too few to pay.
  CHECK(max(abs(conv2d(x32, w.to(DType::f32), Tensor(), padded(1)) -
                reference([&] { return conv2d(x32, w.to(DType::f32), Tensor(), padded(1)); })))
            .item() == 0);
}
