// softmax and log_softmax along one dim, float32 (kernels/cpu/softmax.h's
// contract: x and out of one shape, any strides). A "row" is the elements that
// differ only in the index along dim; one block per row, numerically stable as
// on the CPU:
//   1. m = max of the row                       (block reduction)
//   2. s = sum of exp(x - m), each term in (0, 1] (block reduction)
//   3. softmax = exp(x - m) / s, log_softmax = (x - m) - log(s)
// A NaN anywhere in a row makes the whole row NaN, as in torch: it passes
// through the sum even where fmaxf skips it.
// When a row is strided (softmax over the channels of [N, C, H, W]) and there
// are many rows, one thread per row instead: neighbouring threads then read
// neighbouring rows, which are adjacent in memory (coalesced), where a block's
// threads would each read one float of a different cache line.
#pragma once
#include <math.h>

#include "kernels/cuda/fill_copy.cuh"
#include "kernels/cuda/host_util.cuh"
#include "kernels/cuda/reduce.cuh"
#include "kernels/kernel_args.h"

namespace sg::SG_KERNELS {

template <bool kMax>
__device__ __forceinline__ float combine(float a, float b) {
  return kMax ? fmaxf(a, b) : a + b;
}

// The max (kMax) or the sum of v over the block, in every thread.
// blockDim.x a multiple of 32.
template <bool kMax>
__device__ __forceinline__ float block_all_reduce(float v) {
  __shared__ float warp_results[32];
  __shared__ float result;
  const unsigned lane = threadIdx.x % warpSize, warp = threadIdx.x / warpSize;
  for (int offset = warpSize / 2; offset > 0; offset /= 2) v = combine<kMax>(v, __shfl_xor_sync(kFullMask, v, offset));
  if (lane == 0) warp_results[warp] = v;
  __syncthreads();  // every warp's result is written before warp 0 reads them
  if (warp == 0) {
    v = lane < blockDim.x / warpSize ? warp_results[lane] : (kMax ? -INFINITY : 0.f);
    for (int offset = warpSize / 2; offset > 0; offset /= 2)
      v = combine<kMax>(v, __shfl_xor_sync(kFullMask, v, offset));
    if (lane == 0) result = v;
  }
  __syncthreads();  // the result is written before anyone reads it
  // No barrier needed after the read: the next call writes warp_results only
  // after this one's second barrier, and result only after its own first.
  return result;
}

// x_rows / out_rows: the tensors' sizes with dim's set to 1 (so their linear
// index is the row's), their strides; element i of row r is at
// row_base + i * step.
__global__ void softmax_kernel(const float* x, StridedView x_rows, int64_t x_step, float* out, StridedView out_rows,
                               int64_t out_step, int64_t len, int64_t n_rows, bool log_softmax) {
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const float* xr = x + offset_of(x_rows, r);
    float* yr = out + offset_of(out_rows, r);
    float m = -INFINITY;
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) m = fmaxf(m, xr[i * x_step]);
    m = block_all_reduce<true>(m);  // -inf when every element is NaN: then every term below is NaN
    float s = 0.f;
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) {
      const float e = expf(xr[i * x_step] - m);
      if (!log_softmax) yr[i * out_step] = e;  // kept for step 3, which this same thread does
      s += e;
    }
    s = block_all_reduce<false>(s);
    if (log_softmax) {
      const float log_s = logf(s);
      for (int64_t i = threadIdx.x; i < len; i += blockDim.x) yr[i * out_step] = (xr[i * x_step] - m) - log_s;
    } else {
      const float inv_s = 1.f / s;
      for (int64_t i = threadIdx.x; i < len; i += blockDim.x) yr[i * out_step] *= inv_s;
    }
  }
}

// The same three steps, one thread per row (rows strided, many of them).
__global__ void softmax_thread_per_row_kernel(const float* x, StridedView x_rows, int64_t x_step, float* out,
                                              StridedView out_rows, int64_t out_step, int64_t len, int64_t n_rows,
                                              bool log_softmax) {
  for (int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < n_rows; r += int64_t(blockDim.x) * gridDim.x) {
    const float* xr = x + offset_of(x_rows, r);
    float* yr = out + offset_of(out_rows, r);
    float m = -INFINITY;
    for (int64_t i = 0; i < len; ++i) m = fmaxf(m, xr[i * x_step]);
    float s = 0.f;
    for (int64_t i = 0; i < len; ++i) {
      const float e = expf(xr[i * x_step] - m);
      if (!log_softmax) yr[i * out_step] = e;
      s += e;
    }
    if (log_softmax) {
      const float log_s = logf(s);
      for (int64_t i = 0; i < len; ++i) yr[i * out_step] = (xr[i * x_step] - m) - log_s;
    } else {
      const float inv_s = 1.f / s;
      for (int64_t i = 0; i < len; ++i) yr[i * out_step] *= inv_s;
    }
  }
}

// Rows at least this many, and strided: one thread per row (see above).
constexpr int64_t kThreadPerRowMinRows = 1024;

// ---- host side: the table's entry ----

inline void softmax_entry(const Tensor& x, int dim, const Tensor& out, SoftmaxKind kind) {
  require_f32("softmax", x);
  require_f32("softmax", out);
  SG_CHECK(x.shape() == out.shape(), "softmax: x ", x.shape().str(), " and out ", out.shape().str(), " differ");
  SG_CHECK(x.dim() == 0 ? dim == 0 : (dim >= 0 && dim < x.dim()), "softmax: dim ", dim, " of x ", x.shape().str());
  const int64_t n = x.numel();
  if (n == 0) return;
  StridedView x_rows = view_of(x), out_rows = view_of(out);
  int64_t len = 1, x_step = 0, out_step = 0;  // a 0-d tensor is one row of one element
  if (x.dim() > 0) {
    len = x.size(dim);
    x_step = x.stride(dim);
    out_step = out.stride(dim);
    x_rows.size[dim] = out_rows.size[dim] = 1;
  }
  const int64_t n_rows = n / len;
  const float* px = static_cast<const float*>(x.raw_data());
  float* po = static_cast<float*>(out.raw_data());
  const bool log_softmax = kind == SoftmaxKind::log_softmax;
  if (x_step != 1 && n_rows >= kThreadPerRowMinRows) {
    SG_LAUNCH(softmax_thread_per_row_kernel, blocks_for(n_rows, kElementwiseThreads), kElementwiseThreads, 0, kStream)
    (px, x_rows, x_step, po, out_rows, out_step, len, n_rows, log_softmax);
  } else {
    const unsigned blocks = unsigned(n_rows < 65535 ? n_rows : 65535);
    SG_LAUNCH(softmax_kernel, blocks, reduce_threads(len), 0, kStream)
    (px, x_rows, x_step, po, out_rows, out_step, len, n_rows, log_softmax);
  }
  SG_CHECK_LAUNCH("softmax");
}

}  // namespace sg::SG_KERNELS
