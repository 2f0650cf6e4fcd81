#include "kernels/cpu/conv_direct.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/simd.h"

namespace sg::cpu {

namespace {

using namespace simd;

// Columns per strip: kStripVecs vectors for each of the O outputs, so O = 4
// takes 16 accumulators, well inside the 32 (AVX-512) or 16 (AVX2) registers.
constexpr int kStripVecs = 4;

// One output row oh of every output channel, for the zero-padded input xp
// [C, HP, WP]; wt is the weight reordered to [C, kh, kw, O] so that the O
// values one input row meets are adjacent.
template <int O>
void output_row(const float* xp, const float* wt, const float* bias, float* y, int64_t C, int64_t HP, int64_t WP,
                int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t dil_h, int64_t dil_w, int64_t oh) {
  const int64_t strip = kStripVecs * kLanes;
  int64_t ow = 0;
  // Whole strips, then single vectors, in registers.
  for (; ow + kLanes <= OW;) {
    const int vecs = ow + strip <= OW ? kStripVecs : 1;
    Vec acc[O][kStripVecs];
    for (int o = 0; o < O; ++o)
      for (int v = 0; v < kStripVecs; ++v) acc[o][v] = vsplat(bias ? bias[o] : 0.0f);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < kh; ++i) {
        const float* row = xp + (c * HP + oh + i * dil_h) * WP + ow;
        const float* wr = wt + (c * kh + i) * kw * O;
        for (int64_t j = 0; j < kw; ++j) {
          const float* in = row + j * dil_w;
          if (vecs == kStripVecs) {
            const Vec x0 = vload(in), x1 = vload(in + kLanes), x2 = vload(in + 2 * kLanes),
                      x3 = vload(in + 3 * kLanes);
            for (int o = 0; o < O; ++o) {
              const Vec wv = vsplat(wr[j * O + o]);
              acc[o][0] = vfma(wv, x0, acc[o][0]), acc[o][1] = vfma(wv, x1, acc[o][1]);
              acc[o][2] = vfma(wv, x2, acc[o][2]), acc[o][3] = vfma(wv, x3, acc[o][3]);
            }
          } else {
            const Vec x0 = vload(in);
            for (int o = 0; o < O; ++o) acc[o][0] = vfma(vsplat(wr[j * O + o]), x0, acc[o][0]);
          }
        }
      }
    for (int o = 0; o < O; ++o)
      for (int v = 0; v < vecs; ++v) vstore(y + (o * OH + oh) * OW + ow + v * kLanes, acc[o][v]);
    ow += vecs * kLanes;
  }
  // The last OW % kLanes columns, one at a time.
  for (; ow < OW; ++ow)
    for (int o = 0; o < O; ++o) {
      float s = bias ? bias[o] : 0.0f;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j)
            s += wt[((c * kh + i) * kw + j) * O + o] * xp[(c * HP + oh + i * dil_h) * WP + ow + j * dil_w];
      y[(o * OH + oh) * OW + ow] = s;
    }
}

// x [N, C, H, W] zero-padded to [N, C, H + 2 pad_h, W + 2 pad_w] in `buffer`;
// returns x itself when there is no padding.
const float* padded_input(const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int64_t pad_h, int64_t pad_w,
                          std::vector<float>& buffer) {
  if (pad_h == 0 && pad_w == 0) return x;
  const int64_t HP = H + 2 * pad_h, WP = W + 2 * pad_w;
  buffer.assign(size_t(N * C * HP * WP), 0.0f);
#pragma omp parallel for if (N * C * HP * WP >= kParallelGrain)
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t h = 0; h < H; ++h)
      std::copy(x + (nc * H + h) * W, x + (nc * H + h + 1) * W, buffer.data() + (nc * HP + h + pad_h) * WP + pad_w);
  return buffer.data();
}

template <int O>
void conv_impl(const float* x, const float* w, const float* bias, float* y, int64_t N, int64_t C, int64_t H,
               int64_t W, int64_t kh, int64_t kw, int64_t pad_h, int64_t pad_w, int64_t dil_h, int64_t dil_w) {
  const int64_t HP = H + 2 * pad_h, WP = W + 2 * pad_w;
  const int64_t OH = HP - dil_h * (kh - 1), OW = WP - dil_w * (kw - 1);
  std::vector<float> wt(size_t(O * C * kh * kw));
  for (int o = 0; o < O; ++o)
    for (int64_t r = 0; r < C * kh * kw; ++r) wt[size_t(r * O + o)] = w[o * C * kh * kw + r];
  std::vector<float> buffer;
  const float* xpad = padded_input(x, N, C, H, W, pad_h, pad_w, buffer);
  for (int64_t n = 0; n < N; ++n) {
    const float* xp = xpad + n * C * HP * WP;
    float* yn = y + n * O * OH * OW;
#pragma omp parallel for schedule(static) if (O * OH * OW * C * kh * kw >= kParallelGrain)
    for (int64_t oh = 0; oh < OH; ++oh)
      output_row<O>(xp, wt.data(), bias, yn, C, HP, WP, OH, OW, kh, kw, dil_h, dil_w, oh);
  }
}

// gw[o, c, i, 0:KW] for every o, of one (channel c, kernel row i): the O x KW
// sums over the image stay in registers.
template <int O, int KW>
void weight_grad_row(const float* xp, const float* g, float* gw, int64_t N, int64_t C, int64_t HP, int64_t WP,
                     int64_t OH, int64_t OW, int64_t kh, int64_t dil_h, int64_t dil_w, int64_t c, int64_t i) {
  Vec acc[O][KW];
  for (int o = 0; o < O; ++o)
    for (int j = 0; j < KW; ++j) acc[o][j] = vzero();
  float tail[O][KW] = {};  // the last OW % kLanes columns
  const int64_t whole = OW / kLanes * kLanes;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh) {
      const float* xr = xp + ((n * C + c) * HP + oh + i * dil_h) * WP;
      const float* gr = g + (n * O * OH + oh) * OW;  // + o * OH * OW for output o
      for (int64_t ow = 0; ow < whole; ow += kLanes) {
        Vec gv[O];
        for (int o = 0; o < O; ++o) gv[o] = vload(gr + o * OH * OW + ow);
        for (int j = 0; j < KW; ++j) {
          const Vec xv = vload(xr + ow + j * dil_w);
          for (int o = 0; o < O; ++o) acc[o][j] = vfma(gv[o], xv, acc[o][j]);
        }
      }
      for (int64_t ow = whole; ow < OW; ++ow)
        for (int o = 0; o < O; ++o)
          for (int j = 0; j < KW; ++j) tail[o][j] += gr[o * OH * OW + ow] * xr[ow + j * dil_w];
    }
  for (int o = 0; o < O; ++o)
    for (int j = 0; j < KW; ++j) {
      alignas(64) float lanes[kLanes];
      vstore(lanes, acc[o][j]);
      float s = tail[o][j];
      for (int l = 0; l < kLanes; ++l) s += lanes[l];
      gw[((o * C + c) * kh + i) * KW + j] = s;
    }
}

template <int O, int KW>
void weight_grad_impl(const float* x, const float* g, float* gw, int64_t N, int64_t C, int64_t H, int64_t W,
                      int64_t kh, int64_t pad_h, int64_t pad_w, int64_t dil_h, int64_t dil_w) {
  const int64_t HP = H + 2 * pad_h, WP = W + 2 * pad_w;
  const int64_t OH = HP - dil_h * (kh - 1), OW = WP - dil_w * (KW - 1);
  std::vector<float> buffer;
  const float* xp = padded_input(x, N, C, H, W, pad_h, pad_w, buffer);
  // Each task writes its own entries of gw: no reduction between threads.
#pragma omp parallel for schedule(dynamic) if (N * O * OH * OW * C * kh * KW >= kParallelGrain)
  for (int64_t ci = 0; ci < C * kh; ++ci)
    weight_grad_row<O, KW>(xp, g, gw, N, C, HP, WP, OH, OW, kh, dil_h, dil_w, ci / kh, ci % kh);
}

template <int O>
void weight_grad_for_width(const float* x, const float* g, float* gw, int64_t N, int64_t C, int64_t H, int64_t W,
                           int64_t kh, int64_t kw, int64_t pad_h, int64_t pad_w, int64_t dil_h, int64_t dil_w) {
  switch (kw) {
    case 1: return weight_grad_impl<O, 1>(x, g, gw, N, C, H, W, kh, pad_h, pad_w, dil_h, dil_w);
    case 2: return weight_grad_impl<O, 2>(x, g, gw, N, C, H, W, kh, pad_h, pad_w, dil_h, dil_w);
    case 3: return weight_grad_impl<O, 3>(x, g, gw, N, C, H, W, kh, pad_h, pad_w, dil_h, dil_w);
    case 4: return weight_grad_impl<O, 4>(x, g, gw, N, C, H, W, kh, pad_h, pad_w, dil_h, dil_w);
    case 5: return weight_grad_impl<O, 5>(x, g, gw, N, C, H, W, kh, pad_h, pad_w, dil_h, dil_w);
    case 6: return weight_grad_impl<O, 6>(x, g, gw, N, C, H, W, kh, pad_h, pad_w, dil_h, dil_w);
    case 7: return weight_grad_impl<O, 7>(x, g, gw, N, C, H, W, kh, pad_h, pad_w, dil_h, dil_w);
    default: SG_CHECK(false, "direct_conv2d_weight_grad_few_outputs: kernel width ", kw, " (at most ",
                      kDirectMaxKernelWidth, ")");
  }
}

}  // namespace

void direct_conv2d_weight_grad_few_outputs(const float* x, const float* g, float* gw, int64_t N, int64_t C,
                                           int64_t H, int64_t W, int64_t O, int64_t kh, int64_t kw, int64_t pad_h,
                                           int64_t pad_w, int64_t dil_h, int64_t dil_w) {
  switch (O) {
    case 1: return weight_grad_for_width<1>(x, g, gw, N, C, H, W, kh, kw, pad_h, pad_w, dil_h, dil_w);
    case 2: return weight_grad_for_width<2>(x, g, gw, N, C, H, W, kh, kw, pad_h, pad_w, dil_h, dil_w);
    case 3: return weight_grad_for_width<3>(x, g, gw, N, C, H, W, kh, kw, pad_h, pad_w, dil_h, dil_w);
    case 4: return weight_grad_for_width<4>(x, g, gw, N, C, H, W, kh, kw, pad_h, pad_w, dil_h, dil_w);
    default: SG_CHECK(false, "direct_conv2d_weight_grad_few_outputs: ", O, " output channels (at most ",
                      kDirectMaxOutputs, ")");
  }
}

void direct_conv2d_few_outputs(const float* x, const float* w, const float* bias, float* y, int64_t N, int64_t C,
                               int64_t H, int64_t W, int64_t O, int64_t kh, int64_t kw, int64_t pad_h, int64_t pad_w,
                               int64_t dil_h, int64_t dil_w) {
  switch (O) {
    case 1: return conv_impl<1>(x, w, bias, y, N, C, H, W, kh, kw, pad_h, pad_w, dil_h, dil_w);
    case 2: return conv_impl<2>(x, w, bias, y, N, C, H, W, kh, kw, pad_h, pad_w, dil_h, dil_w);
    case 3: return conv_impl<3>(x, w, bias, y, N, C, H, W, kh, kw, pad_h, pad_w, dil_h, dil_w);
    case 4: return conv_impl<4>(x, w, bias, y, N, C, H, W, kh, kw, pad_h, pad_w, dil_h, dil_w);
    default: SG_CHECK(false, "direct_conv2d_few_outputs: ", O, " output channels (at most ", kDirectMaxOutputs, ")");
  }
}

}  // namespace sg::cpu
