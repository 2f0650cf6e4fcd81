#include "kernels/cpu/conv_depthwise.h"

#include <algorithm>
#include <vector>

namespace sg::cpu {

namespace {

// The outputs o in [0, out) whose input position o * stride + offset lies in
// [0, size): [lo, hi), empty when none does.
void tap_range(int64_t offset, int64_t stride, int64_t size, int64_t out, int64_t& lo, int64_t& hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = size - 1 - offset < 0 ? 0 : std::min(out, (size - 1 - offset) / stride + 1);
  if (hi < lo) hi = lo;
}

// Enough work per call to be worth waking the threads.
bool worth_threads(const DepthwiseSizes& s) { return s.N * s.C > 1 && s.N * s.C * s.OH * s.OW * s.kh * s.kw > 32768; }

}  // namespace

template <class T>
void depthwise_conv2d(const T* image, const T* weight, const T* bias, T* columns, const DepthwiseSizes& s,
                      const ConvParams& p) {
#pragma omp parallel for schedule(static) if (worth_threads(s))
  for (int64_t plane = 0; plane < s.N * s.C; ++plane) {
    const int64_t c = plane % s.C;
    const T* x = image + plane * s.H * s.W;
    const T* w = weight + c * s.kh * s.kw;
    T* y = columns + plane * s.OH * s.OW;
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      T* y_row = y + oh * s.OW;
      std::fill(y_row, y_row + s.OW, bias ? bias[c] : T(0));
      for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t ih = oh * p.stride_h - p.pad_h + i * p.dilation_h;
        if (ih < 0 || ih >= s.H) continue;  // a padding row: adds nothing
        const T* x_row = x + ih * s.W;
        for (int64_t j = 0; j < s.kw; ++j) {
          const int64_t offset = j * p.dilation_w - p.pad_w;
          int64_t lo, hi;
          tap_range(offset, p.stride_w, s.W, s.OW, lo, hi);
          const T w_ij = w[i * s.kw + j];
          if (p.stride_w == 1)
            for (int64_t ow = lo; ow < hi; ++ow) y_row[ow] += w_ij * x_row[ow + offset];
          else
            for (int64_t ow = lo; ow < hi; ++ow) y_row[ow] += w_ij * x_row[ow * p.stride_w + offset];
        }
      }
    }
  }
}

template <class T>
void depthwise_conv_transpose2d(const T* columns, const T* weight, const T* bias, T* image, const DepthwiseSizes& s,
                                const ConvParams& p) {
  // Each plane is its own task, so the scatter onto its pixels needs no atomics.
#pragma omp parallel for schedule(static) if (worth_threads(s))
  for (int64_t plane = 0; plane < s.N * s.C; ++plane) {
    const int64_t c = plane % s.C;
    const T* y = columns + plane * s.OH * s.OW;
    const T* w = weight + c * s.kh * s.kw;
    T* x = image + plane * s.H * s.W;
    std::fill(x, x + s.H * s.W, bias ? bias[c] : T(0));
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      const T* y_row = y + oh * s.OW;
      for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t ih = oh * p.stride_h - p.pad_h + i * p.dilation_h;
        if (ih < 0 || ih >= s.H) continue;
        T* x_row = x + ih * s.W;
        for (int64_t j = 0; j < s.kw; ++j) {
          const int64_t offset = j * p.dilation_w - p.pad_w;
          int64_t lo, hi;
          tap_range(offset, p.stride_w, s.W, s.OW, lo, hi);
          const T w_ij = w[i * s.kw + j];
          for (int64_t ow = lo; ow < hi; ++ow) x_row[ow * p.stride_w + offset] += w_ij * y_row[ow];
        }
      }
    }
  }
}

template <class T>
void depthwise_conv2d_weight_grad(const T* image, const T* columns, T* grad_weight, const DepthwiseSizes& s,
                                  const ConvParams& p) {
  // One channel per task: its kh * kw sums run over every sample and pixel,
  // accumulated in double (they are long sums).
#pragma omp parallel for schedule(static) if (s.C > 1 && worth_threads(s))
  for (int64_t c = 0; c < s.C; ++c) {
    std::vector<double> sums(size_t(s.kh * s.kw), 0.0);
    for (int64_t n = 0; n < s.N; ++n) {
      const T* x = image + (n * s.C + c) * s.H * s.W;
      const T* g = columns + (n * s.C + c) * s.OH * s.OW;
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        const T* g_row = g + oh * s.OW;
        for (int64_t i = 0; i < s.kh; ++i) {
          const int64_t ih = oh * p.stride_h - p.pad_h + i * p.dilation_h;
          if (ih < 0 || ih >= s.H) continue;
          const T* x_row = x + ih * s.W;
          for (int64_t j = 0; j < s.kw; ++j) {
            const int64_t offset = j * p.dilation_w - p.pad_w;
            int64_t lo, hi;
            tap_range(offset, p.stride_w, s.W, s.OW, lo, hi);
            T row = 0;
            for (int64_t ow = lo; ow < hi; ++ow) row += g_row[ow] * x_row[ow * p.stride_w + offset];
            sums[size_t(i * s.kw + j)] += double(row);
          }
        }
      }
    }
    for (int64_t k = 0; k < s.kh * s.kw; ++k) grad_weight[c * s.kh * s.kw + k] = T(sums[size_t(k)]);
  }
}

#define SG_DEPTHWISE_INSTANTIATE(T)                                                                              \
  template void depthwise_conv2d<T>(const T*, const T*, const T*, T*, const DepthwiseSizes&, const ConvParams&); \
  template void depthwise_conv_transpose2d<T>(const T*, const T*, const T*, T*, const DepthwiseSizes&,           \
                                              const ConvParams&);                                               \
  template void depthwise_conv2d_weight_grad<T>(const T*, const T*, T*, const DepthwiseSizes&, const ConvParams&);
SG_DEPTHWISE_INSTANTIATE(float)
SG_DEPTHWISE_INSTANTIATE(double)
#undef SG_DEPTHWISE_INSTANTIATE

}  // namespace sg::cpu
