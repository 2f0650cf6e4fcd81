// Sum over some dims, float32: out[o] = scale * sum over the reduced dims of x.
// One block per output element: its threads stride over the reduced elements,
// then the block adds their partial sums -- within each warp by shuffles, then
// across warps through shared memory -- the usual two-level block reduction.
#pragma once
#include "kernels/cuda/common.cuh"

namespace sg::SG_KERNELS {

constexpr int kReduceMaxThreads = 256;
constexpr unsigned kFullMask = 0xffffffffu;

// Sum of v over the 32 lanes of the warp, in every lane (butterfly).
__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = warpSize / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

// Sum of v over the block, in thread 0. blockDim.x a multiple of 32, at most 1024.
__device__ __forceinline__ float block_sum(float v) {
  __shared__ float warp_sums[32];
  const unsigned lane = threadIdx.x % warpSize, warp = threadIdx.x / warpSize;
  v = warp_sum(v);
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();  // every warp's sum is written before warp 0 reads them
  if (warp == 0) {
    v = lane < blockDim.x / warpSize ? warp_sums[lane] : 0.f;
    v = warp_sum(v);
  }
  return v;
}

// kept: x's sizes with the reduced dims set to 1 (so its linear index is the
// output's), x's strides; reduced: the reduced dims' sizes (the kept set to 1),
// x's strides.
__global__ void sum_kernel(const float* x, StridedView kept, StridedView reduced, int64_t n_reduced, float* out,
                           StridedView out_view, int64_t n_out, float scale) {
  for (int64_t o = blockIdx.x; o < n_out; o += gridDim.x) {
    const float* base = x + offset_of(kept, o);
    float partial = 0.f;
    for (int64_t r = threadIdx.x; r < n_reduced; r += blockDim.x) partial += base[offset_of(reduced, r)];
    const float total = block_sum(partial);
    if (threadIdx.x == 0) out[offset_of(out_view, o)] = scale * total;
    __syncthreads();  // warp_sums is reused by the next output
  }
}

inline void sum(const float* x, const StridedView& kept, const StridedView& reduced, int64_t n_reduced, float* out,
                const StridedView& out_view, int64_t n_out, float scale, cudaStream_t stream) {
  const unsigned blocks = unsigned(n_out < 65535 ? (n_out < 1 ? 1 : n_out) : 65535);
  // No more threads than elements to sum, in whole warps (block_sum needs full ones).
  const int64_t warps = (n_reduced + 31) / 32;
  const unsigned threads = unsigned(warps < 1 ? 32 : warps * 32 > kReduceMaxThreads ? kReduceMaxThreads : warps * 32);
  SG_LAUNCH(sum_kernel, blocks, threads, 0, stream)(x, kept, reduced, n_reduced, out, out_view, n_out, scale);
  SG_CHECK_LAUNCH("sum");
}

}  // namespace sg::SG_KERNELS
