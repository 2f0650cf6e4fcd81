#include "kernels/cpu/upsample.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/loops.h"

namespace sg::cpu {

namespace {

// torch's nearest index, floor(o * in / out), in exact integer arithmetic
// (torch computes it in float, which can differ by one at rare exact multiples).
std::vector<int64_t> nearest_sources(int64_t in, int64_t out) {
  std::vector<int64_t> src(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) src[size_t(o)] = std::min(o * in / out, in - 1);
  return src;
}

// Along one axis, output o interpolates input positions lo and hi (hi = lo + 1,
// or lo at the last pixel) with weights w_lo + w_hi = 1.
struct Taps {
  std::vector<int64_t> lo, hi;
  std::vector<double> w_lo, w_hi;
};

// Where output position o samples the input, in input pixel coordinates.
//   align_corners: the first and last pixel centres of input and output line up,
//                  so src = o * (in - 1) / (out - 1).
//   otherwise:     the pixel areas line up (half-pixel centres):
//                  src = (o + 0.5) * in / out - 0.5, clamped at 0 as torch does.
double source_point(int64_t o, int64_t in, int64_t out, bool align_corners) {
  if (align_corners) return out > 1 ? double(o) * double(in - 1) / double(out - 1) : 0.0;
  return std::max((double(o) + 0.5) * double(in) / double(out) - 0.5, 0.0);
}

Taps bilinear_taps(int64_t in, int64_t out, bool align_corners) {
  Taps t;
  for (int64_t o = 0; o < out; ++o) {
    const double src = source_point(o, in, out, align_corners);
    const int64_t lo = std::min(int64_t(src), in - 1);
    t.lo.push_back(lo);
    t.hi.push_back(lo < in - 1 ? lo + 1 : lo);
    t.w_hi.push_back(src - double(lo));
    t.w_lo.push_back(1.0 - (src - double(lo)));
  }
  return t;
}

// The sizes the four kernels share: x has the input's size, y the output's.
struct PlaneSizes {
  int64_t planes, H, W, OH, OW;
};
PlaneSizes sizes_of(const Tensor& x, const Tensor& y) {
  return {x.size(0) * x.size(1), x.size(2), x.size(3), y.size(2), y.size(3)};
}

template <class T>
void nearest_impl(const Tensor& x, const Tensor& y) {
  const PlaneSizes s = sizes_of(x, y);
  const std::vector<int64_t> rows = nearest_sources(s.H, s.OH), cols = nearest_sources(s.W, s.OW);
  const T* px = x.data<T>();
  T* py = y.data<T>();
#pragma omp parallel for if (y.numel() >= kParallelGrain)
  for (int64_t p = 0; p < s.planes; ++p)
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      const T* in = px + (p * s.H + rows[oh]) * s.W;
      T* out = py + (p * s.OH + oh) * s.OW;
      for (int64_t ow = 0; ow < s.OW; ++ow) out[ow] = in[cols[ow]];
    }
}

template <class T>
void nearest_backward_impl(const Tensor& gy, const Tensor& gx) {
  const PlaneSizes s = sizes_of(gx, gy);
  const std::vector<int64_t> rows = nearest_sources(s.H, s.OH), cols = nearest_sources(s.W, s.OW);
  const T* pg = gy.data<T>();
  T* px = gx.data<T>();
  // Several outputs share a source pixel: one thread owns each plane.
#pragma omp parallel for if (gy.numel() >= kParallelGrain)
  for (int64_t p = 0; p < s.planes; ++p)
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      T* out = px + (p * s.H + rows[oh]) * s.W;
      const T* in = pg + (p * s.OH + oh) * s.OW;
      for (int64_t ow = 0; ow < s.OW; ++ow) out[cols[ow]] += in[ow];
    }
}

template <class T>
void bilinear_impl(const Tensor& x, const Tensor& y, bool align_corners) {
  const PlaneSizes s = sizes_of(x, y);
  const Taps r = bilinear_taps(s.H, s.OH, align_corners), c = bilinear_taps(s.W, s.OW, align_corners);
  const T* px = x.data<T>();
  T* py = y.data<T>();
#pragma omp parallel for if (y.numel() >= kParallelGrain)
  for (int64_t p = 0; p < s.planes; ++p)
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      const T* top = px + (p * s.H + r.lo[oh]) * s.W;
      const T* bottom = px + (p * s.H + r.hi[oh]) * s.W;
      const T wt = T(r.w_lo[oh]), wb = T(r.w_hi[oh]);
      T* out = py + (p * s.OH + oh) * s.OW;
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        const int64_t lo = c.lo[ow], hi = c.hi[ow];
        const T wl = T(c.w_lo[ow]), wr = T(c.w_hi[ow]);
        out[ow] = wt * (wl * top[lo] + wr * top[hi]) + wb * (wl * bottom[lo] + wr * bottom[hi]);
      }
    }
}

template <class T>
void bilinear_backward_impl(const Tensor& gy, const Tensor& gx, bool align_corners) {
  const PlaneSizes s = sizes_of(gx, gy);
  const Taps r = bilinear_taps(s.H, s.OH, align_corners), c = bilinear_taps(s.W, s.OW, align_corners);
  const T* pg = gy.data<T>();
  T* px = gx.data<T>();
  // Neighbouring outputs share input pixels: one thread owns each plane.
#pragma omp parallel for if (gy.numel() >= kParallelGrain)
  for (int64_t p = 0; p < s.planes; ++p)
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      T* top = px + (p * s.H + r.lo[oh]) * s.W;
      T* bottom = px + (p * s.H + r.hi[oh]) * s.W;
      const T wt = T(r.w_lo[oh]), wb = T(r.w_hi[oh]);
      const T* in = pg + (p * s.OH + oh) * s.OW;
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        const int64_t lo = c.lo[ow], hi = c.hi[ow];
        const T wl = T(c.w_lo[ow]), wr = T(c.w_hi[ow]);
        top[lo] += wt * wl * in[ow];
        top[hi] += wt * wr * in[ow];
        bottom[lo] += wb * wl * in[ow];
        bottom[hi] += wb * wr * in[ow];
      }
    }
}

}  // namespace

void upsample_nearest2d(const Tensor& x, const Tensor& y) {
  dispatch_float(x.dtype(), "upsample_nearest2d", [&](auto z) { nearest_impl<decltype(z)>(x, y); });
}

void upsample_nearest2d_backward(const Tensor& gy, const Tensor& gx) {
  dispatch_float(gy.dtype(), "upsample_nearest2d_backward", [&](auto z) { nearest_backward_impl<decltype(z)>(gy, gx); });
}

void upsample_bilinear2d(const Tensor& x, const Tensor& y, bool align_corners) {
  dispatch_float(x.dtype(), "upsample_bilinear2d", [&](auto z) { bilinear_impl<decltype(z)>(x, y, align_corners); });
}

void upsample_bilinear2d_backward(const Tensor& gy, const Tensor& gx, bool align_corners) {
  dispatch_float(gy.dtype(), "upsample_bilinear2d_backward",
                 [&](auto z) { bilinear_backward_impl<decltype(z)>(gy, gx, align_corners); });
}

}  // namespace sg::cpu
