// fill and strided copy (same dtype): the kernels behind fill_, copy_ and
// contiguous() on a CUDA device. One thread per element, in a grid-stride loop.
#pragma once
#include "kernels/cuda/common.cuh"

namespace sg::SG_KERNELS {

template <class T>
__global__ void fill_kernel(T* dst, StridedView view, int64_t n, T value) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x)
    dst[offset_of(view, i)] = value;
}

template <class T>
__global__ void copy_kernel(const T* src, StridedView src_view, T* dst, StridedView dst_view, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x)
    dst[offset_of(dst_view, i)] = src[offset_of(src_view, i)];
}

constexpr int kElementwiseThreads = 256;

template <class T>
void fill(T* dst, const StridedView& view, int64_t n, T value, cudaStream_t stream) {
  SG_LAUNCH(fill_kernel<T>, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, stream)(dst, view, n, value);
  SG_CHECK_LAUNCH("fill");
}

template <class T>
void copy(const T* src, const StridedView& src_view, T* dst, const StridedView& dst_view, int64_t n,
          cudaStream_t stream) {
  SG_LAUNCH(copy_kernel<T>, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, stream)
  (src, src_view, dst, dst_view, n);
  SG_CHECK_LAUNCH("copy");
}

}  // namespace sg::SG_KERNELS
