// Instance normalisation of contiguous [planes, M], float32, with the CPU
// kernel's contract (kernels/cpu/norm.h): stats [planes, 2] = (mean, rstd).
//
// One block per plane (a grid-stride loop over planes when there are more
// than the grid holds). The block's threads stride over the plane, coalesced,
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

__global__ void instance_norm_kernel(const float* x, float* y, float* stats, int64_t planes, int64_t m,
                                     double eps) {
  __shared__ double scratch[32];
  for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
    const float* in = x + p * m;
    float* out = y + p * m;
    double s = 0;
    for (int64_t i = threadIdx.x; i < m; i += blockDim.x) s += double(in[i]);
    const double mean = norm_block_sum(s, scratch) / double(m);
    double sq = 0;
    for (int64_t i = threadIdx.x; i < m; i += blockDim.x) {
      const double d = double(in[i]) - mean;
      sq += d * d;
    }
    const double rstd = 1.0 / sqrt(norm_block_sum(sq, scratch) / double(m) + eps);
    const float mean_f = float(mean), rstd_f = float(rstd);
    for (int64_t i = threadIdx.x; i < m; i += blockDim.x) out[i] = (in[i] - mean_f) * rstd_f;
    if (threadIdx.x == 0) stats[2 * p] = mean_f, stats[2 * p + 1] = rstd_f;
  }
}

// dx = a * g + b * (x - mean) + c with a = rstd, b = -rstd^3 sum(g (x - mean)) / m,
// c = -rstd sum(g) / m: the CPU's formula (kernels/cpu/norm.cpp).
__global__ void instance_norm_backward_kernel(const float* x, const float* stats, const float* g, float* dx,
                                              int64_t planes, int64_t m) {
  __shared__ double scratch[32];
  for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
    const float* in = x + p * m;
    const float* gp = g + p * m;
    float* out = dx + p * m;
    const double mean = double(stats[2 * p]), rstd = double(stats[2 * p + 1]);
    double sg = 0, sgc = 0;
    for (int64_t i = threadIdx.x; i < m; i += blockDim.x) {
      sg += double(gp[i]);
      sgc += double(gp[i]) * (double(in[i]) - mean);
    }
    sg = norm_block_sum(sg, scratch);
    sgc = norm_block_sum(sgc, scratch);
    const float a = float(rstd), b = float(-rstd * rstd * rstd * sgc / double(m)), c = float(-rstd * sg / double(m));
    const float mean_f = float(mean);
    for (int64_t i = threadIdx.x; i < m; i += blockDim.x) out[i] = a * gp[i] + b * (in[i] - mean_f) + c;
  }
}

// Whole warps (the block sum needs them), about 8 elements per thread, up to
// 1024 threads: a network's planes are few (64 channels of one image) and
// large (256 x 256), and one block must then read its plane fast.
inline unsigned norm_threads(int64_t m) {
  const int64_t warps = (m + 32 * 8 - 1) / (32 * 8);
  return unsigned(warps < 1 ? 32 : warps * 32 > kNormMaxThreads ? kNormMaxThreads : warps * 32);
}

inline unsigned norm_blocks(int64_t planes) { return unsigned(planes < 1 ? 1 : planes > 65535 ? 65535 : planes); }

// The [planes, M] shape the kernels see, after checking what they take.
inline int64_t norm_plane_size(const char* op, const Tensor& stats, std::initializer_list<const Tensor*> planes) {
  require_f32(op, stats);
  SG_CHECK(stats.dim() == 2 && stats.size(1) == 2 && stats.is_contiguous(), op, ": stats ", stats.shape().str(),
           " must be a contiguous [planes, 2]");
  const Tensor& x = **planes.begin();
  const int64_t n = stats.size(0), m = n > 0 ? x.numel() / n : 0;
  for (const Tensor* t : planes) {
    require_f32(op, *t);
    SG_CHECK(t->is_contiguous() && t->numel() == n * m && t->numel() == x.numel(), op, ": ", t->shape().str(),
             " is not a contiguous [", n, ", M] like x ", x.shape().str());
  }
  return m;
}

inline void instance_norm_entry(const Tensor& x, const Tensor& y, const Tensor& stats, double eps) {
  const int64_t m = norm_plane_size("instance_norm", stats, {&x, &y});
  const int64_t planes = stats.size(0);
  if (planes == 0 || m == 0) return;
  SG_LAUNCH(instance_norm_kernel, norm_blocks(planes), norm_threads(m), 0, kStream)(
      x.data<float>(), y.data<float>(), stats.data<float>(), planes, m, eps);
  SG_CHECK_LAUNCH("instance_norm");
}

inline void instance_norm_backward_entry(const Tensor& x, const Tensor& stats, const Tensor& g, const Tensor& dx) {
  const int64_t m = norm_plane_size("instance_norm_backward", stats, {&x, &g, &dx});
  const int64_t planes = stats.size(0);
  if (planes == 0 || m == 0) return;
  SG_LAUNCH(instance_norm_backward_kernel, norm_blocks(planes), norm_threads(m), 0, kStream)(
      x.data<float>(), stats.data<float>(), g.data<float>(), dx.data<float>(), planes, m);
  SG_CHECK_LAUNCH("instance_norm_backward");
}

}  // namespace sg::SG_KERNELS
