// Pooling of contiguous [N, C, H, W], float32, with the CPU kernels' contract
// (kernels/cpu/pool.h): max (values and/or int64 indices ih * W + iw, the
// first maximum on ties, a NaN wins, padding is -inf), average (torch's
// divisor rule), and average's adjoint into a zeroed gx.
//
// One thread per output element for the forwards, consecutive threads on
// consecutive outputs of a row, so that the writes are coalesced and the
// reads of neighbouring windows share cache lines; the windows are visited in
// the CPU's order, so the results are the CPU's bit for bit.
//
// The adjoint is a gather, not a scatter with atomics: one thread per input
// element sums the shares of the windows that cover it (a range of outputs
// along each axis, found by arithmetic), in the order the CPU adds them.
#pragma once
#include <math.h>

#include "kernels/cuda/fill_copy.cuh"
#include "kernels/cuda/host_util.cuh"
#include "kernels/kernel_args.h"

namespace sg::SG_KERNELS {

struct PoolSizes {
  int64_t H, W, OH, OW;
};

__global__ void max_pool2d_kernel(const float* x, float* y, int64_t* indices, PoolAxis ra, PoolAxis ca, PoolSizes s,
                                  int64_t n) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t ow = o % s.OW, oh = o / s.OW % s.OH, p = o / (s.OW * s.OH);
    const float* plane = x + p * s.H * s.W;
    float best = -INFINITY;
    int64_t best_at = -1;
    for (int64_t i = 0; i < ra.kernel; ++i) {
      const int64_t ih = oh * ra.stride - ra.pad + i * ra.dilation;
      if (ih < 0 || ih >= s.H) continue;
      for (int64_t j = 0; j < ca.kernel; ++j) {
        const int64_t iw = ow * ca.stride - ca.pad + j * ca.dilation;
        if (iw < 0 || iw >= s.W) continue;
        const float v = plane[ih * s.W + iw];
        if (best_at < 0 || v > best || v != v) {  // v != v: NaN
          best = v;
          best_at = ih * s.W + iw;
        }
      }
    }
    if (y) y[o] = best;
    if (indices) indices[o] = best_at;
  }
}

// The input positions [begin, end) of avg-pool window o along one axis, and
// its length counting padding; torch ends a window at the right padding's
// edge (kernels/cpu/pool.cpp).
struct AvgWindow {
  int64_t begin, end, padded_length;
};

__device__ __forceinline__ AvgWindow avg_window(const PoolAxis& a, int64_t o, int64_t size) {
  const int64_t begin = o * a.stride - a.pad;
  const int64_t end = begin + a.kernel < size + a.pad ? begin + a.kernel : size + a.pad;
  return {begin > 0 ? begin : 0, end < size ? end : size, end - begin};
}

__device__ __forceinline__ float avg_divisor(const AvgWindow& r, const AvgWindow& c, bool count_include_pad) {
  return count_include_pad ? float(r.padded_length * c.padded_length)
                           : float((r.end - r.begin) * (c.end - c.begin));
}

__global__ void avg_pool2d_kernel(const float* x, float* y, PoolAxis ra, PoolAxis ca, PoolSizes s, int64_t n,
                                  bool count_include_pad) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t ow = o % s.OW, oh = o / s.OW % s.OH, p = o / (s.OW * s.OH);
    const float* plane = x + p * s.H * s.W;
    const AvgWindow r = avg_window(ra, oh, s.H), c = avg_window(ca, ow, s.W);
    float total = 0.f;
    for (int64_t ih = r.begin; ih < r.end; ++ih)
      for (int64_t iw = c.begin; iw < c.end; ++iw) total += plane[ih * s.W + iw];
    y[o] = total / avg_divisor(r, c, count_include_pad);
  }
}

// The windows o in [first, last] along an axis that cover input position h:
// o * stride - pad <= h < o * stride - pad + kernel, and o < out_size.
__device__ __forceinline__ void covering_windows(const PoolAxis& a, int64_t h, int64_t out_size, int64_t& first,
                                                 int64_t& last) {
  const int64_t lowest = h + a.pad - a.kernel + 1;  // o * stride must reach at least this
  first = lowest <= 0 ? 0 : (lowest + a.stride - 1) / a.stride;
  last = (h + a.pad) / a.stride;
  if (last > out_size - 1) last = out_size - 1;
}

__global__ void avg_pool2d_backward_kernel(const float* gy, float* gx, PoolAxis ra, PoolAxis ca, PoolSizes s,
                                           int64_t n, bool count_include_pad) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t w = o % s.W, h = o / s.W % s.H, p = o / (s.W * s.H);
    const float* plane = gy + p * s.OH * s.OW;
    int64_t oh0, oh1, ow0, ow1;
    covering_windows(ra, h, s.OH, oh0, oh1);
    covering_windows(ca, w, s.OW, ow0, ow1);
    float total = 0.f;
    for (int64_t oh = oh0; oh <= oh1; ++oh) {
      const AvgWindow r = avg_window(ra, oh, s.H);
      for (int64_t ow = ow0; ow <= ow1; ++ow)
        total += plane[oh * s.OW + ow] / avg_divisor(r, avg_window(ca, ow, s.W), count_include_pad);
    }
    gx[o] += total;
  }
}

// Checks what the kernels take: in [N, C, H, W] and out [N, C, OH, OW], contiguous.
inline PoolSizes pool_sizes(const char* op, const Tensor& in, const Tensor& out, const PoolAxis& ra,
                            const PoolAxis& ca) {
  for (const Tensor* t : {&in, &out})
    SG_CHECK(t->dim() == 4 && t->is_contiguous(), op, ": ", t->shape().str(), " is not a contiguous [N, C, H, W]");
  SG_CHECK(in.size(0) == out.size(0) && in.size(1) == out.size(1), op, ": input ", in.shape().str(),
           " and output ", out.shape().str(), " differ in N or C");
  for (const PoolAxis* a : {&ra, &ca})
    SG_CHECK(a->kernel >= 1 && a->stride >= 1 && a->dilation >= 1 && a->pad >= 0, op, ": kernel ", a->kernel,
             ", stride ", a->stride, ", dilation ", a->dilation, ", padding ", a->pad);
  return {in.size(2), in.size(3), out.size(2), out.size(3)};
}

inline void max_pool2d_entry(const Tensor& x, const Tensor& y, const Tensor& indices, const PoolAxis& ra,
                             const PoolAxis& ca) {
  const char* op = "max_pool2d";
  SG_CHECK(y.defined() || indices.defined(), op, ": neither values nor indices to write");
  require_f32(op, x);
  const Tensor& out = y.defined() ? y : indices;
  const PoolSizes s = pool_sizes(op, x, out, ra, ca);
  if (y.defined()) {
    require_f32(op, y);
    SG_CHECK(y.shape() == out.shape() && y.is_contiguous(), op, ": values ", y.shape().str());
  }
  if (indices.defined())
    SG_CHECK(indices.dtype() == DType::i64 && indices.shape() == out.shape() && indices.is_contiguous(), op,
             ": indices must be a contiguous int64 ", out.shape().str(), ", got ", indices.str());
  const int64_t n = out.numel();
  if (n == 0) return;
  SG_LAUNCH(max_pool2d_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)(
      x.device_data<float>(), y.defined() ? y.device_data<float>() : nullptr,
      indices.defined() ? indices.device_data<int64_t>() : nullptr, ra, ca, s, n);
  SG_CHECK_LAUNCH("max_pool2d");
}

inline void check_avg(const char* op, const Tensor& a, const Tensor& b, const PoolAxis& ra, const PoolAxis& ca) {
  require_f32(op, a);
  require_f32(op, b);
  SG_CHECK(ra.dilation == 1 && ca.dilation == 1, op, ": dilation must be 1, got (", ra.dilation, ", ", ca.dilation,
           ")");
}

inline void avg_pool2d_entry(const Tensor& x, const Tensor& y, const PoolAxis& ra, const PoolAxis& ca,
                             bool count_include_pad) {
  check_avg("avg_pool2d", x, y, ra, ca);
  const PoolSizes s = pool_sizes("avg_pool2d", x, y, ra, ca);
  const int64_t n = y.numel();
  if (n == 0) return;
  SG_LAUNCH(avg_pool2d_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)(
      x.device_data<float>(), y.device_data<float>(), ra, ca, s, n, count_include_pad);
  SG_CHECK_LAUNCH("avg_pool2d");
}

inline void avg_pool2d_backward_entry(const Tensor& gy, const Tensor& gx, const PoolAxis& ra, const PoolAxis& ca,
                                      bool count_include_pad) {
  check_avg("avg_pool2d_backward", gy, gx, ra, ca);
  const PoolSizes s = pool_sizes("avg_pool2d_backward", gx, gy, ra, ca);
  const int64_t n = gx.numel();
  if (n == 0 || gy.numel() == 0) return;
  SG_LAUNCH(avg_pool2d_backward_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)(
      gy.device_data<float>(), gx.device_data<float>(), ra, ca, s, n, count_include_pad);
  SG_CHECK_LAUNCH("avg_pool2d_backward");
}

}  // namespace sg::SG_KERNELS
