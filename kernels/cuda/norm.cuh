// Normalisation per channel of a contiguous [outer, C, inner], float32, with
// the CPU kernel's contract (kernels/cpu/norm.h): stats [C, 2] = (mean, rstd).
// Instance norm is [1, N * C, H * W], batch norm [N, C, H * W].
//
// One block per channel (a grid-stride loop over channels when there are more
// than the grid holds). The block's threads stride over the channel's
// elements, coalesced within each inner run,
// and their partial sums meet in a block reduction (warp shuffles, then
// shared memory). The sums are kept in double, as the CPU keeps them: a plane
// of a 256x256 image is 65536 floats, and a float sum of that many loses
// digits the variance needs. The loads, not the double adds, bound the time
// (one add per float read), so this costs little even where double is slow.
// Two passes, as the CPU: the mean, then the sum of squares about it.
#pragma once
#include <math.h>

#include <initializer_list>

#include "kernels/cuda/host_util.cuh"

namespace sg::SG_KERNELS {

constexpr int kNormMaxThreads = 1024;
constexpr unsigned kNormFullMask = 0xffffffffu;

__device__ __forceinline__ double norm_warp_sum(double v) {
  for (int offset = warpSize / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kNormFullMask, v, offset);
  return v;
}

// The sum of v over the block, in every thread. blockDim.x a multiple of 32.
// `scratch` holds 32 doubles of shared memory; the trailing barrier lets the
// caller reuse it at once.
__device__ __forceinline__ double norm_block_sum(double v, double* scratch) {
  const unsigned lane = threadIdx.x % warpSize, warp = threadIdx.x / warpSize;
  v = norm_warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();  // every warp's sum is written before any thread reads them
  double total = 0;
  for (unsigned w = 0; w < blockDim.x / warpSize; ++w) total += scratch[w];
  __syncthreads();  // everyone has read scratch before it is written again
  return total;
}

// x as [outer, C, inner]: element i of channel c's outer * inner elements.
__device__ __forceinline__ int64_t norm_offset(int64_t i, int64_t c, int64_t channels, int64_t inner) {
  const int64_t n = i / inner;
  return (n * channels + c) * inner + (i - n * inner);
}

__global__ void normalize_kernel(const float* x, float* y, float* stats, int64_t channels, int64_t inner,
                                 int64_t count, double eps) {
  __shared__ double scratch[32];
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    double s = 0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) s += double(x[norm_offset(i, c, channels, inner)]);
    const double mean = norm_block_sum(s, scratch) / double(count);
    double sq = 0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      const double d = double(x[norm_offset(i, c, channels, inner)]) - mean;
      sq += d * d;
    }
    const double rstd = 1.0 / sqrt(norm_block_sum(sq, scratch) / double(count) + eps);
    const float mean_f = float(mean), rstd_f = float(rstd);
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      const int64_t at = norm_offset(i, c, channels, inner);
      y[at] = (x[at] - mean_f) * rstd_f;
    }
    if (threadIdx.x == 0) stats[2 * c] = mean_f, stats[2 * c + 1] = rstd_f;
  }
}

// dx = a * g + b * (x - mean) + c with a = rstd, b = -rstd^3 sum(g (x - mean)) / count,
// c = -rstd sum(g) / count: the CPU's formula (kernels/cpu/norm.cpp).
__global__ void normalize_backward_kernel(const float* x, const float* stats, const float* g, float* dx,
                                          int64_t channels, int64_t inner, int64_t count) {
  __shared__ double scratch[32];
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    const double mean = double(stats[2 * c]), rstd = double(stats[2 * c + 1]);
    double sg = 0, sgc = 0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      const int64_t at = norm_offset(i, c, channels, inner);
      sg += double(g[at]);
      sgc += double(g[at]) * (double(x[at]) - mean);
    }
    sg = norm_block_sum(sg, scratch);
    sgc = norm_block_sum(sgc, scratch);
    const float a = float(rstd), b = float(-rstd * rstd * rstd * sgc / double(count));
    const float shift = float(-rstd * sg / double(count)), mean_f = float(mean);
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      const int64_t at = norm_offset(i, c, channels, inner);
      dx[at] = a * g[at] + b * (x[at] - mean_f) + shift;
    }
  }
}

// Whole warps (the block sum needs them), about 8 elements per thread, up to
// 1024 threads: a network's channels are few (64 of one image) and
// large (256 x 256), and one block must then read its channel fast.
inline unsigned norm_threads(int64_t m) {
  const int64_t warps = (m + 32 * 8 - 1) / (32 * 8);
  return unsigned(warps < 1 ? 32 : warps * 32 > kNormMaxThreads ? kNormMaxThreads : warps * 32);
}

inline unsigned norm_blocks(int64_t channels) {
  return unsigned(channels < 1 ? 1 : channels > 65535 ? 65535 : channels);
}

// Checks what the kernels take: contiguous float32 [outer, C, inner] tensors
// like x, stats a contiguous [C, 2].
inline void check_norm_layout(const char* op, const Tensor& stats, std::initializer_list<const Tensor*> like_x) {
  const Tensor& x = **like_x.begin();
  SG_CHECK(x.dim() == 3, op, ": expected a contiguous [outer, C, inner] input, got ", x.shape().str());
  require_f32(op, stats);
  SG_CHECK(stats.dim() == 2 && stats.size(0) == x.size(1) && stats.size(1) == 2 && stats.is_contiguous(), op,
           ": stats ", stats.shape().str(), " must be a contiguous [", x.size(1), ", 2]");
  for (const Tensor* t : like_x) {
    require_f32(op, *t);
    SG_CHECK(t->is_contiguous() && t->shape() == x.shape(), op, ": ", t->shape().str(),
             " is not a contiguous tensor like x ", x.shape().str());
  }
}

inline void normalize_entry(const Tensor& x, const Tensor& y, const Tensor& stats, double eps) {
  check_norm_layout("normalize", stats, {&x, &y});
  const int64_t channels = x.size(1), inner = x.size(2), count = x.size(0) * inner;
  if (channels == 0 || count == 0) return;
  SG_LAUNCH(normalize_kernel, norm_blocks(channels), norm_threads(count), 0, kStream)(
      x.device_data<float>(), y.device_data<float>(), stats.device_data<float>(), channels, inner, count, eps);
  SG_CHECK_LAUNCH("normalize");
}

inline void normalize_backward_entry(const Tensor& x, const Tensor& stats, const Tensor& g, const Tensor& dx) {
  check_norm_layout("normalize_backward", stats, {&x, &g, &dx});
  const int64_t channels = x.size(1), inner = x.size(2), count = x.size(0) * inner;
  if (channels == 0 || count == 0) return;
  SG_LAUNCH(normalize_backward_kernel, norm_blocks(channels), norm_threads(count), 0, kStream)(
      x.device_data<float>(), stats.device_data<float>(), g.device_data<float>(), dx.device_data<float>(), channels,
      inner, count);
  SG_CHECK_LAUNCH("normalize_backward");
}

}  // namespace sg::SG_KERNELS
