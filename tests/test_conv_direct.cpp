// The direct kernels for convolutions with few output channels
// (kernels/cpu/conv_direct.cpp: float32 conv2d and conv2d_weight_grad) and
// conv_transpose2d from few channels computed as a conv2d (kernels/cpu/conv.cpp,
// both dtypes), against plain loops in double. The sizes cover whole register
// strips, single vectors and the scalar tail of a row, padding, dilation,
// kernel widths up to the direct limit and past it, and batches.
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

struct Case {
  int64_t N, C, H, W, O, kh, kw, pad_h, pad_w, dil;
};

Conv2dOptions options_of(const Case& c) {
  Conv2dOptions o;
  o.pad_h = c.pad_h, o.pad_w = c.pad_w;
  o.dilation_h = o.dilation_w = c.dil;
  return o;
}

// y[n, o, oh, ow] = sum over c, i, j of w[o, c, i, j] x[n, c, oh - pad_h + i dil, ow - pad_w + j dil],
// with the pairs (y index, x index) visited by `visit`: the three ops are three readings of it.
template <class F>
void for_each_pair(const Case& c, int64_t OH, int64_t OW, F&& visit) {
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t o = 0; o < c.O; ++o)
      for (int64_t ch = 0; ch < c.C; ++ch)
        for (int64_t i = 0; i < c.kh; ++i)
          for (int64_t j = 0; j < c.kw; ++j)
            for (int64_t oh = 0; oh < OH; ++oh)
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t h = oh - c.pad_h + i * c.dil, w = ow - c.pad_w + j * c.dil;
                if (h < 0 || h >= c.H || w < 0 || w >= c.W) continue;
                visit(((n * c.O + o) * OH + oh) * OW + ow, ((n * c.C + ch) * c.H + h) * c.W + w,
                      ((o * c.C + ch) * c.kh + i) * c.kw + j);
              }
}

}  // namespace

TEST_CASE("conv direct: few output channels, conv2d, its transpose and weight gradient against loops") {
  Generator gen(11);
  const Case cases[] = {
      {1, 64, 9, 83, 3, 7, 7, 3, 3, 1},  // OW 83: a 64-column strip, one vector, 3 scalar columns
      {2, 5, 13, 37, 1, 3, 3, 1, 1, 1},  // a batch
      {1, 3, 11, 20, 2, 3, 5, 1, 2, 2},  // dilation, unequal padding and kernel sides
      {1, 4, 6, 17, 4, 1, 1, 0, 0, 1},   // pointwise
      {1, 2, 7, 40, 4, 2, 8, 0, 3, 1},   // kernel width 8: the weight gradient takes im2col
      {1, 3, 9, 12, 3, 7, 7, 0, 0, 1},   // OW 6: rows shorter than one vector, all scalar
  };
  for (const Case& c : cases) {
    const int64_t OH = c.H + 2 * c.pad_h - c.dil * (c.kh - 1), OW = c.W + 2 * c.pad_w - c.dil * (c.kw - 1);
    REQUIRE((OH >= 1 && OW >= 1));
    CAPTURE(c.C);
    CAPTURE(c.W);
    CAPTURE(c.O);
    CAPTURE(c.kw);
    Tensor x = randn({c.N, c.C, c.H, c.W}, gen, DType::f64), w = randn({c.O, c.C, c.kh, c.kw}, gen, DType::f64);
    Tensor b = randn({c.O}, gen, DType::f64), g = randn({c.N, c.O, OH, OW}, gen, DType::f64);
    const std::vector<double> xv = x.to_vector(), wv = w.to_vector(), bv = b.to_vector(), gv = g.to_vector();
    std::vector<double> y(size_t(c.N * c.O * OH * OW)), gx(xv.size(), 0.0), gw(wv.size(), 0.0);
    for (size_t k = 0; k < y.size(); ++k) y[k] = bv[k / size_t(OH * OW) % size_t(c.O)];
    for_each_pair(c, OH, OW, [&](int64_t yi, int64_t xi, int64_t wi) {
      y[size_t(yi)] += wv[size_t(wi)] * xv[size_t(xi)];
      gx[size_t(xi)] += wv[size_t(wi)] * gv[size_t(yi)];
      gw[size_t(wi)] += gv[size_t(yi)] * xv[size_t(xi)];
    });
    const Conv2dOptions o = options_of(c);
    const Tensor want_y = from_vector(y, {c.N, c.O, OH, OW}, TensorOptions(DType::f64));
    const Tensor want_gx = from_vector(gx, x.shape(), TensorOptions(DType::f64));
    const Tensor want_gw = from_vector(gw, w.shape(), TensorOptions(DType::f64));
    // Back to x's size: with stride 1 nothing is dropped, no output_padding.
    for (DType dtype : {DType::f32, DType::f64}) {
      CAPTURE(dtype_name(dtype));
      const double tol = dtype == DType::f32 ? 1e-4 : 1e-10;
      auto as = [&](const Tensor& t) { return t.to(dtype); };
      check_close(conv2d(as(x), as(w), as(b), o), want_y, tol, tol);
      check_close(conv_transpose2d(as(g), as(w), Tensor(), o), want_gx, tol, tol);
      check_close(conv2d_weight_grad(as(x), as(g), w.shape(), o), want_gw, tol, tol * 10);
    }
  }
}
