#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

// <a, b>: the sum of elementwise products, as a double.
double dot(const Tensor& a, const Tensor& b) { return sum(a.to(DType::f64) * b.to(DType::f64)).item(); }

Conv2dOptions strided(int64_t stride, int64_t pad, int64_t dilation = 1, int64_t groups = 1) {
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.pad_h = o.pad_w = pad;
  o.dilation_h = o.dilation_w = dilation;
  o.groups = groups;
  return o;
}

}  // namespace

TEST_CASE("conv: gradients") {
  for (const char* op : {"conv2d", "conv_transpose2d", "conv2d_weight_grad"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

TEST_CASE("conv: values") {
  Tensor x = arange(1, 17, 1, DType::f64).reshape({1, 1, 4, 4});
  // [[1, 0], [0, -1]] takes each pixel minus its lower-right neighbour: always -5.
  Tensor diagonal_difference = t64({1, 0, 0, -1}, {1, 1, 2, 2});
  check_close(conv2d(x, diagonal_difference, t64({0.5}, {1}), {}), full({1, 1, 3, 3}, -4.5, DType::f64));
  // A 3x3 box filter, stride 2, zero padding 1: sums of the windows centred on (0,0), (0,2), (2,0), (2,2).
  check_close(conv2d(x, ones({1, 1, 3, 3}, DType::f64), Tensor(), strided(2, 1)), t64({14, 30, 57, 99}, {1, 1, 2, 2}));

  Tensor small = t64({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor box2 = ones({1, 1, 2, 2}, DType::f64);
  // Stride 2 with a 2x2 kernel: each input pixel paints its own 2x2 block.
  check_close(conv_transpose2d(small, box2, Tensor(), strided(2, 0)),
              t64({1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, {1, 1, 4, 4}));
  // Stride 1: the blocks overlap and add up.
  check_close(conv_transpose2d(small, box2, Tensor(), {}), t64({1, 3, 2, 4, 10, 6, 3, 7, 4}, {1, 1, 3, 3}));

  // d/dW sum(conv2d(x, W) * g) with g = 1: each weight sees the sum of the pixels it touches.
  check_close(conv2d_weight_grad(x, ones({1, 1, 3, 3}, DType::f64), {1, 1, 2, 2}, {}),
              t64({54, 63, 90, 99}, {1, 1, 2, 2}));
}

TEST_CASE("conv: groups are independent convolutions of channel slices") {
  Generator g(3);
  Tensor x = randn({2, 4, 6, 5}, g, DType::f64), w = randn({6, 2, 3, 3}, g, DType::f64);
  const Conv2dOptions o = strided(2, 1, 1, 2);
  Tensor grouped = conv2d(x, w, Tensor(), o);
  Tensor first = conv2d(x.narrow(1, 0, 2), w.narrow(0, 0, 3), Tensor(), strided(2, 1));
  Tensor second = conv2d(x.narrow(1, 2, 2), w.narrow(0, 3, 3), Tensor(), strided(2, 1));
  check_close(grouped, cat({first, second}, 1), 1e-12, 1e-12);
}

TEST_CASE("conv: depthwise (one filter per channel, CUT's blur) equals a convolution per channel, all three ops") {
  // groups == C == O takes the direct loops of kernels/cpu/conv_depthwise.h;
  // one channel at a time (groups 1) takes the general path.
  struct Case {
    Shape x;
    int64_t k, stride, pad, dilation;
  };
  for (DType dt : {DType::f64, DType::f32}) {
    for (const Case& c : {Case{{2, 5, 9, 8}, 3, 2, 1, 1}, Case{{1, 3, 16, 13}, 4, 2, 2, 1},
                          Case{{2, 4, 11, 7}, 3, 1, 2, 2}, Case{{1, 64, 40, 40}, 3, 2, 1, 1}}) {
      INFO(dtype_name(dt), " x ", c.x.str(), " k ", c.k, " stride ", c.stride, " pad ", c.pad, " dilation ", c.dilation);
      const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
      const int64_t C = c.x[1];
      Generator g(11);
      const Tensor x = randn(c.x, g, dt), w = randn({C, 1, c.k, c.k}, g, dt), b = randn({C}, g, dt);
      const Conv2dOptions depthwise = strided(c.stride, c.pad, c.dilation, C), one = strided(c.stride, c.pad, c.dilation);
      const Tensor y = conv2d(x, w, b, depthwise);
      const Tensor gy = randn(y.shape(), g, dt);
      std::vector<Tensor> ys, xs, ws;
      for (int64_t ch = 0; ch < C; ++ch) {
        const Tensor w_c = w.narrow(0, ch, 1), b_c = b.narrow(0, ch, 1);
        ys.push_back(conv2d(x.narrow(1, ch, 1), w_c, b_c, one));
        Conv2dOptions t = one;
        t.output_padding_h = (c.x[2] + 2 * c.pad - c.dilation * (c.k - 1) - 1) % c.stride;
        t.output_padding_w = (c.x[3] + 2 * c.pad - c.dilation * (c.k - 1) - 1) % c.stride;
        xs.push_back(conv_transpose2d(gy.narrow(1, ch, 1), w_c, b_c, t));
        ws.push_back(conv2d_weight_grad(x.narrow(1, ch, 1), gy.narrow(1, ch, 1), {1, 1, c.k, c.k}, one));
      }
      check_close(y, cat(ys, 1), tol, tol);
      Conv2dOptions t = depthwise;
      t.output_padding_h = xs[0].size(2) - ((y.size(2) - 1) * c.stride - 2 * c.pad + c.dilation * (c.k - 1) + 1);
      t.output_padding_w = xs[0].size(3) - ((y.size(3) - 1) * c.stride - 2 * c.pad + c.dilation * (c.k - 1) + 1);
      check_close(conv_transpose2d(gy, w, b, t), cat(xs, 1), tol, tol);
      check_close(conv2d_weight_grad(x, gy, w.shape(), depthwise), cat(ws, 0), tol, tol);
    }
  }
}

// The inputs below are large enough that im2col builds its column matrix in
// several bands of output rows (kernels/cpu/conv.cpp) and the loops run threaded.

TEST_CASE("conv: a 3x3 convolution is nine shifted 1x1 convolutions (several bands)") {
  Generator gen(4);
  Tensor x = randn({2, 16, 64, 70}, gen, DType::f64), w = randn({8, 16, 3, 3}, gen, DType::f64);
  Tensor padded = pad2d(x, 1, 1, 1, 1);
  Tensor shifted_sum = zeros({2, 8, 64, 70}, DType::f64);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      // A 1x1 kernel with stride 1 and no padding is a plain GEMM, with no im2col.
      Tensor tap = w.narrow(2, i, 1).narrow(3, j, 1);
      shifted_sum = shifted_sum + conv2d(padded.narrow(2, i, 64).narrow(3, j, 70), tap, Tensor(), {});
    }
  check_close(conv2d(x, w, Tensor(), strided(1, 1)), shifted_sum, 1e-10, 1e-10);
}

TEST_CASE("conv: the three ops are adjoint to each other (several bands)") {
  // <conv2d(x, W), g> = <x, conv_transpose2d(g, W)> = <W, conv2d_weight_grad(x, g)>
  Generator gen(5);
  Conv2dOptions grouped = strided(2, 1, 2, 2);
  grouped.stride_w = 1, grouped.pad_w = 2;
  struct Case {
    Shape x, w;
    Conv2dOptions o;
  };
  // The second image has few channels but enough rows that conv_transpose2d's
  // col2im also runs in several bands, whatever the number of threads.
  for (const Case& c : {Case{{2, 32, 68, 71}, {6, 16, 3, 3}, grouped}, Case{{1, 2, 181, 183}, {4, 2, 3, 3}, strided(1, 1)}}) {
    Tensor x = randn(c.x, gen, DType::f64), w = randn(c.w, gen, DType::f64);
    Tensor y = conv2d(x, w, Tensor(), c.o);
    Tensor g = randn(y.shape(), gen, DType::f64);
    Conv2dOptions back = c.o;
    // 68 rows padded to 70, minus the dilated kernel's 5, is odd: stride 2 drops a row
    back.output_padding_h = c.o.stride_h == 2 ? 1 : 0;
    const double forward = dot(y, g);
    CHECK(dot(x, conv_transpose2d(g, w, Tensor(), back)) == doctest::Approx(forward).epsilon(1e-10));
    CHECK(dot(w, conv2d_weight_grad(x, g, w.shape(), c.o)) == doctest::Approx(forward).epsilon(1e-10));
  }
}

TEST_CASE("conv: float32 agrees with float64") {
  Generator gen(7);
  Tensor x = randn({2, 32, 67, 71}, gen, DType::f64), w = randn({16, 16, 3, 3}, gen, DType::f64);
  Tensor b = randn({16}, gen, DType::f64);
  auto f32 = [](const Tensor& t) { return t.to(DType::f32); };
  for (const Conv2dOptions& o : {strided(2, 1, 1, 2), strided(1, 0, 1, 2)}) {
    Tensor y = conv2d(x, w, b, o);
    check_close(conv2d(f32(x), f32(w), f32(b), o), y, 1e-4, 1e-4);
    check_close(conv2d_weight_grad(f32(x), f32(y), w.shape(), o), conv2d_weight_grad(x, y, w.shape(), o), 1e-4, 1e-3);
    Conv2dOptions back = o;
    back.output_padding_h = back.output_padding_w = o.stride_h - 1;
    check_close(conv_transpose2d(f32(y), f32(w), Tensor(), back), conv_transpose2d(y, w, Tensor(), back), 1e-4, 1e-4);
  }
}

TEST_CASE("conv: errors") {
  Tensor x = zeros({1, 4, 5, 5});
  CHECK(error_of([&] { conv2d(zeros({4, 5, 5}), zeros({2, 4, 3, 3}), Tensor(), {}); }) ==
        "conv2d: expected a 4-d input [N,C,H,W], got shape [4, 5, 5]");
  CHECK(error_of([&] { conv2d(x, zeros({2, 3, 3, 3}), Tensor(), {}); }) ==
        "conv2d: input [1, 4, 5, 5] has 4 channels, but weight [2, 3, 3, 3] with groups 1 expects 3");
  CHECK(error_of([&] { conv2d(x, zeros({6, 1, 3, 3}), Tensor(), strided(1, 0, 1, 3)); }) ==
        "conv2d: groups 3 does not divide the 4 channels of input [1, 4, 5, 5]");
  CHECK(error_of([&] { conv2d(x, zeros({3, 2, 3, 3}), Tensor(), strided(1, 0, 1, 2)); }) ==
        "conv2d: groups 2 does not divide the 3 output channels of weight [3, 2, 3, 3]");
  CHECK(error_of([&] { conv2d(zeros({1, 1, 2, 2}), zeros({1, 1, 3, 3}), Tensor(), {}); }) ==
        "conv2d: kernel 3x3 (after dilation) is larger than the padded input 2x2 (input [1, 1, 2, 2], "
        "weight [1, 1, 3, 3], padding (0, 0))");
  CHECK(error_of([&] { conv2d(x, zeros({2, 4, 3, 3}), zeros({3}), {}); }) ==
        "conv2d: bias [3] does not match the 2 output channels of weight [2, 4, 3, 3]");
  CHECK(error_of([&] { conv2d(x, zeros({2, 4, 3, 3}, DType::f64), Tensor(), {}); })
            .find("conv2d: dtype mismatch, float32 [1, 4, 5, 5] vs float64 [2, 4, 3, 3]") == 0);
  CHECK(error_of([&] { conv2d(x, zeros({2, 4, 3, 3}), Tensor(), strided(0, 0)); }) ==
        "conv2d: stride must be positive, got (0, 0)");

  CHECK(error_of([&] { conv_transpose2d(x, zeros({3, 2, 3, 3}), Tensor(), {}); }) ==
        "conv_transpose2d: input [1, 4, 5, 5] has 4 channels, but weight [3, 2, 3, 3] expects 3");
  Conv2dOptions too_much_output_padding = strided(2, 0);
  too_much_output_padding.output_padding_h = 2;
  CHECK(error_of([&] { conv_transpose2d(x, zeros({4, 2, 3, 3}), Tensor(), too_much_output_padding); }) ==
        "conv_transpose2d: output_padding (2, 0) must be non-negative and smaller than stride (2, 2)");
  CHECK(error_of([&] { conv_transpose2d(zeros({1, 1, 1, 1}), zeros({1, 1, 1, 1}), Tensor(), strided(1, 1)); }) ==
        "conv_transpose2d: output size -1x-1 is not positive (input [1, 1, 1, 1], weight [1, 1, 1, 1], padding (1, 1))");

  CHECK(error_of([&] { conv2d_weight_grad(x, zeros({1, 2, 4, 4}), {2, 4, 3, 3}, {}); }) ==
        "conv2d_weight_grad: grad_y [1, 2, 4, 4] does not match the conv2d output [1, 2, 3, 3] of input "
        "[1, 4, 5, 5] and weight [2, 4, 3, 3]");
}
