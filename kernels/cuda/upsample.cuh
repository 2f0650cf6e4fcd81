// Resampling of contiguous [N, C, H, W] to [N, C, OH, OW], float32, with the
// CPU kernels' contract (kernels/cpu/upsample.h): nearest and bilinear (both
// align_corners readings), and their adjoints into a zeroed gx.
//
// Forwards: one thread per output element; each computes its own source
// indices and weights, by the CPU's formulas in the CPU's precision (the
// source point in double), so they are the same numbers.
//
// Adjoints: a gather, not a scatter with atomics. One thread per input
// element sums the gradients of the outputs that read it. Along each axis
// those form one range of output positions: nearest's source is
// floor(o * in / out), so input h is read by o in [ceil(h out / in),
// ceil((h + 1) out / in)); bilinear's lower tap lo(o) never decreases with o,
// and input h is a tap of o exactly when lo(o) is h - 1 or h, a range found
// by binary search. Deterministic, and in the order the CPU adds.
#pragma once
#include "kernels/cuda/fill_copy.cuh"
#include "kernels/cuda/host_util.cuh"

namespace sg::SG_KERNELS {

struct ResampleSizes {
  int64_t H, W, OH, OW;
};

__device__ __forceinline__ int64_t nearest_source(int64_t o, int64_t in, int64_t out) {
  const int64_t s = o * in / out;
  return s < in - 1 ? s : in - 1;
}

// The first output position o whose nearest source is at least h.
__device__ __forceinline__ int64_t nearest_first_reader(int64_t h, int64_t in, int64_t out) {
  return (h * out + in - 1) / in;
}

__global__ void upsample_nearest2d_kernel(const float* x, float* y, ResampleSizes s, int64_t n) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t ow = o % s.OW, oh = o / s.OW % s.OH, p = o / (s.OW * s.OH);
    y[o] = x[(p * s.H + nearest_source(oh, s.H, s.OH)) * s.W + nearest_source(ow, s.W, s.OW)];
  }
}

__global__ void upsample_nearest2d_backward_kernel(const float* gy, float* gx, ResampleSizes s, int64_t n) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t w = o % s.W, h = o / s.W % s.H, p = o / (s.W * s.H);
    const float* plane = gy + p * s.OH * s.OW;
    const int64_t oh1 = nearest_first_reader(h + 1, s.H, s.OH), ow1 = nearest_first_reader(w + 1, s.W, s.OW);
    float total = 0.f;
    for (int64_t oh = nearest_first_reader(h, s.H, s.OH); oh < oh1; ++oh)
      for (int64_t ow = nearest_first_reader(w, s.W, s.OW); ow < ow1; ++ow) total += plane[oh * s.OW + ow];
    gx[o] += total;
  }
}

// Along one axis, output o interpolates input positions lo and hi (lo + 1, or
// lo at the last pixel) with weights w_lo + w_hi = 1.
struct Tap {
  int64_t lo, hi;
  float w_lo, w_hi;
};

// The CPU's source_point and taps (kernels/cpu/upsample.cpp), in double as there.
__device__ __forceinline__ int64_t bilinear_lo(int64_t o, int64_t in, int64_t out, bool align_corners, double& src) {
  if (align_corners) {
    src = out > 1 ? double(o) * double(in - 1) / double(out - 1) : 0.0;
  } else {
    src = (double(o) + 0.5) * double(in) / double(out) - 0.5;
    if (src < 0.0) src = 0.0;
  }
  const int64_t lo = int64_t(src);
  return lo < in - 1 ? lo : in - 1;
}

__device__ __forceinline__ Tap bilinear_tap(int64_t o, int64_t in, int64_t out, bool align_corners) {
  double src;
  const int64_t lo = bilinear_lo(o, in, out, align_corners, src);
  return {lo, lo < in - 1 ? lo + 1 : lo, float(1.0 - (src - double(lo))), float(src - double(lo))};
}

// The first output position o in [0, out] whose lower tap is at least h.
__device__ __forceinline__ int64_t bilinear_first_reader(int64_t h, int64_t in, int64_t out, bool align_corners) {
  int64_t first = 0, past = out;
  while (first < past) {
    const int64_t mid = first + (past - first) / 2;
    double src;
    if (bilinear_lo(mid, in, out, align_corners, src) >= h) past = mid;
    else first = mid + 1;
  }
  return first;
}

__global__ void upsample_bilinear2d_kernel(const float* x, float* y, ResampleSizes s, int64_t n, bool align_corners) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t ow = o % s.OW, oh = o / s.OW % s.OH, p = o / (s.OW * s.OH);
    const Tap r = bilinear_tap(oh, s.H, s.OH, align_corners), c = bilinear_tap(ow, s.W, s.OW, align_corners);
    const float* top = x + (p * s.H + r.lo) * s.W;
    const float* bottom = x + (p * s.H + r.hi) * s.W;
    y[o] = r.w_lo * (c.w_lo * top[c.lo] + c.w_hi * top[c.hi]) +
           r.w_hi * (c.w_lo * bottom[c.lo] + c.w_hi * bottom[c.hi]);
  }
}

__global__ void upsample_bilinear2d_backward_kernel(const float* gy, float* gx, ResampleSizes s, int64_t n,
                                                    bool align_corners) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t w = o % s.W, h = o / s.W % s.H, p = o / (s.W * s.H);
    const float* plane = gy + p * s.OH * s.OW;
    const int64_t oh0 = bilinear_first_reader(h - 1, s.H, s.OH, align_corners);
    const int64_t oh1 = bilinear_first_reader(h + 1, s.H, s.OH, align_corners);
    const int64_t ow0 = bilinear_first_reader(w - 1, s.W, s.OW, align_corners);
    const int64_t ow1 = bilinear_first_reader(w + 1, s.W, s.OW, align_corners);
    float total = 0.f;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const Tap r = bilinear_tap(oh, s.H, s.OH, align_corners);
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const Tap c = bilinear_tap(ow, s.W, s.OW, align_corners);
        const float g = plane[oh * s.OW + ow];
        // the CPU's four adds, in its order, those that land on (h, w)
        if (r.lo == h && c.lo == w) total += r.w_lo * c.w_lo * g;
        if (r.lo == h && c.hi == w) total += r.w_lo * c.w_hi * g;
        if (r.hi == h && c.lo == w) total += r.w_hi * c.w_lo * g;
        if (r.hi == h && c.hi == w) total += r.w_hi * c.w_hi * g;
      }
    }
    gx[o] += total;
  }
}

// Checks what the kernels take: small [N, C, H, W] and large [N, C, OH, OW],
// contiguous, float32, the input's planes not empty.
inline ResampleSizes resample_sizes(const char* op, const Tensor& in, const Tensor& out) {
  for (const Tensor* t : {&in, &out}) {
    require_f32(op, *t);
    SG_CHECK(t->dim() == 4 && t->is_contiguous(), op, ": ", t->shape().str(), " is not a contiguous [N, C, H, W]");
  }
  SG_CHECK(in.size(0) == out.size(0) && in.size(1) == out.size(1), op, ": input ", in.shape().str(), " and output ",
           out.shape().str(), " differ in N or C");
  SG_CHECK(out.numel() == 0 || (in.size(2) > 0 && in.size(3) > 0), op, ": input ", in.shape().str(),
           " has an empty plane");
  return {in.size(2), in.size(3), out.size(2), out.size(3)};
}

inline void upsample_nearest2d_entry(const Tensor& x, const Tensor& y) {
  const ResampleSizes s = resample_sizes("upsample_nearest2d", x, y);
  const int64_t n = y.numel();
  if (n == 0) return;
  SG_LAUNCH(upsample_nearest2d_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)(
      x.device_data<float>(), y.device_data<float>(), s, n);
  SG_CHECK_LAUNCH("upsample_nearest2d");
}

inline void upsample_nearest2d_backward_entry(const Tensor& gy, const Tensor& gx) {
  const ResampleSizes s = resample_sizes("upsample_nearest2d_backward", gx, gy);
  const int64_t n = gx.numel();
  if (n == 0 || gy.numel() == 0) return;
  SG_LAUNCH(upsample_nearest2d_backward_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)(
      gy.device_data<float>(), gx.device_data<float>(), s, n);
  SG_CHECK_LAUNCH("upsample_nearest2d_backward");
}

inline void upsample_bilinear2d_entry(const Tensor& x, const Tensor& y, bool align_corners) {
  const ResampleSizes s = resample_sizes("upsample_bilinear2d", x, y);
  const int64_t n = y.numel();
  if (n == 0) return;
  SG_LAUNCH(upsample_bilinear2d_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)(
      x.device_data<float>(), y.device_data<float>(), s, n, align_corners);
  SG_CHECK_LAUNCH("upsample_bilinear2d");
}

inline void upsample_bilinear2d_backward_entry(const Tensor& gy, const Tensor& gx, bool align_corners) {
  const ResampleSizes s = resample_sizes("upsample_bilinear2d_backward", gx, gy);
  const int64_t n = gx.numel();
  if (n == 0 || gy.numel() == 0) return;
  SG_LAUNCH(upsample_bilinear2d_backward_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0,
            kStream)(gy.device_data<float>(), gx.device_data<float>(), s, n, align_corners);
  SG_CHECK_LAUNCH("upsample_bilinear2d_backward");
}

}  // namespace sg::SG_KERNELS
