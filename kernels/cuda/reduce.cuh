// Reductions, float32 (kernels/cpu/reduce.h's contracts): out[o] = scale * sum
// over the reduced dims of x; the maximum along one dim and its index.
// One block per output element: its threads stride over the reduced elements,
// then the block combines their partial results -- within each warp by
// shuffles, then across warps through shared memory -- the usual two-level
// block reduction.
#pragma once
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/host_util.cuh"

namespace sg::SG_KERNELS {

constexpr int kReduceMaxThreads = 256;
constexpr unsigned kFullMask = 0xffffffffu;

// Threads for a block reduction over n elements: no more than there are
// elements, in whole warps (the block reductions need full ones).
inline unsigned reduce_threads(int64_t n) {
  const int64_t warps = (n + 31) / 32;
  return unsigned(warps < 1 ? 32 : warps * 32 > kReduceMaxThreads ? kReduceMaxThreads : warps * 32);
}

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
  SG_LAUNCH(sum_kernel, blocks, reduce_threads(n_reduced), 0, stream)(x, kept, reduced, n_reduced, out, out_view, n_out, scale);
  SG_CHECK_LAUNCH("sum");
}

// ---- max along a dim ----

// The running maximum of a part of a row: its value and the index of its
// first occurrence; a NaN beats everything (the first NaN, among NaNs).
struct ArgMax {
  float value;
  long long index;
};

// Which of two candidates wins. Associative and commutative, so that any
// order of combining gives the CPU's serial answer: the first NaN if there is
// one, else the first occurrence of the maximum.
__device__ __forceinline__ ArgMax better(ArgMax a, ArgMax b) {
  const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
  if (a_nan != b_nan) return a_nan ? a : b;
  if (!a_nan && a.value != b.value) return a.value > b.value ? a : b;
  return a.index <= b.index ? a : b;  // equal values, or both NaN
}

__device__ __forceinline__ ArgMax warp_argmax(ArgMax v) {
  for (int offset = warpSize / 2; offset > 0; offset /= 2) {
    ArgMax other;
    other.value = __shfl_xor_sync(kFullMask, v.value, offset);
    other.index = __shfl_xor_sync(kFullMask, v.index, offset);
    v = better(v, other);
  }
  return v;
}

// The winner over the block, in thread 0. blockDim.x a multiple of 32.
__device__ __forceinline__ ArgMax block_argmax(ArgMax v) {
  __shared__ float warp_values[32];
  __shared__ long long warp_indices[32];
  const unsigned lane = threadIdx.x % warpSize, warp = threadIdx.x / warpSize;
  v = warp_argmax(v);
  if (lane == 0) {
    warp_values[warp] = v.value;
    warp_indices[warp] = v.index;
  }
  __syncthreads();  // every warp's winner is written before warp 0 reads them
  if (warp == 0) {
    const unsigned from = lane < blockDim.x / warpSize ? lane : 0;  // a repeat of warp 0's winner changes nothing
    v.value = warp_values[from];
    v.index = warp_indices[from];
    v = warp_argmax(v);
  }
  return v;
}

// kept: x's sizes with dim's set to 1 (so its linear index is the output's),
// x's strides; the row of output o is x[base + i * step], i < len.
__global__ void max_along_kernel(const float* x, StridedView kept, int64_t len, int64_t step, float* values,
                                 StridedView values_view, int64_t* indices, StridedView indices_view, int64_t n_out) {
  for (int64_t o = blockIdx.x; o < n_out; o += gridDim.x) {
    const float* row = x + offset_of(kept, o);
    ArgMax best{row[0], 0};  // len >= 1
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) best = better(best, ArgMax{row[i * step], i});
    best = block_argmax(best);
    if (threadIdx.x == 0) {
      values[offset_of(values_view, o)] = best.value;
      indices[offset_of(indices_view, o)] = best.index;
    }
    __syncthreads();  // the warp winners' shared arrays are reused by the next output
  }
}

// One thread per output, for many outputs along a strided dim (the max over
// the channels of [N, C, H, W]): neighbouring threads read neighbouring,
// adjacent rows (coalesced), where a block's threads would each read one float
// of a different cache line. A serial scan in index order, as on the CPU.
__global__ void max_along_thread_per_row_kernel(const float* x, StridedView kept, int64_t len, int64_t step,
                                                float* values, StridedView values_view, int64_t* indices,
                                                StridedView indices_view, int64_t n_out) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n_out; o += int64_t(blockDim.x) * gridDim.x) {
    const float* row = x + offset_of(kept, o);
    ArgMax best{row[0], 0};
    for (int64_t i = 1; i < len; ++i) best = better(best, ArgMax{row[i * step], i});
    values[offset_of(values_view, o)] = best.value;
    indices[offset_of(indices_view, o)] = best.index;
  }
}

// Outputs at least this many, along a strided dim: one thread per output.
constexpr int64_t kMaxThreadPerRowMinOutputs = 1024;
constexpr int kMaxThreadPerRowThreads = 256;

// ---- host side: the table's entries ----

inline void sum_entry(const Tensor& x, const std::vector<bool>& reduce, const Tensor& out, double scale) {
  require_f32("sum", x);
  require_f32("sum", out);
  SG_CHECK(int(reduce.size()) == x.dim() && out.dim() == x.dim(), "sum: ", reduce.size(), " reduce flags and out ",
           out.shape().str(), " for x ", x.shape().str());
  StridedView kept = view_of(x), reduced = view_of(x);
  int64_t n_reduced = 1;
  for (int d = 0; d < x.dim(); ++d) {
    SG_CHECK(out.size(d) == (reduce[d] ? 1 : x.size(d)), "sum: out ", out.shape().str(),
             " is not the keepdim shape of x ", x.shape().str());
    (reduce[d] ? kept : reduced).size[d] = 1;
    if (reduce[d]) n_reduced *= x.size(d);
  }
  if (out.numel() == 0) return;
  sum(static_cast<const float*>(x.raw_data()), kept, reduced, n_reduced, static_cast<float*>(out.raw_data()),
      view_of(out), out.numel(), float(scale), kStream);
}

// values (float32) and indices (int64) have x's shape with dim's size 1.
inline void max_along_entry(const Tensor& x, int dim, const Tensor& values, const Tensor& indices) {
  require_f32("max", x);
  require_f32("max", values);
  SG_CHECK(indices.dtype() == DType::i64, "max: indices must be int64, not ", dtype_name(indices.dtype()));
  SG_CHECK(dim >= 0 && dim < x.dim(), "max: dim ", dim, " of x ", x.shape().str());
  Shape kshape = x.shape();
  kshape[dim] = 1;
  SG_CHECK(values.shape() == kshape && indices.shape() == kshape, "max: values ", values.shape().str(),
           " and indices ", indices.shape().str(), " are not the keepdim shape of x ", x.shape().str());
  const int64_t len = x.size(dim), n_out = values.numel();
  if (n_out == 0) return;
  SG_CHECK(len > 0, "max: cannot take the max of an empty dim (shape ", x.shape().str(), ")");
  StridedView kept = view_of(x);
  kept.size[dim] = 1;
  const float* px = static_cast<const float*>(x.raw_data());
  float* pv = static_cast<float*>(values.raw_data());
  int64_t* pi = static_cast<int64_t*>(indices.raw_data());
  const StridedView vv = view_of(values), iv = view_of(indices);
  if (x.stride(dim) != 1 && n_out >= kMaxThreadPerRowMinOutputs) {
    SG_LAUNCH(max_along_thread_per_row_kernel, blocks_for(n_out, kMaxThreadPerRowThreads), kMaxThreadPerRowThreads, 0,
              kStream)
    (px, kept, len, x.stride(dim), pv, vv, pi, iv, n_out);
  } else {
    const unsigned blocks = unsigned(n_out < 65535 ? n_out : 65535);
    SG_LAUNCH(max_along_kernel, blocks, reduce_threads(len), 0, kStream)(px, kept, len, x.stride(dim), pv, vv, pi, iv, n_out);
  }
  SG_CHECK_LAUNCH("max");
}

}  // namespace sg::SG_KERNELS
