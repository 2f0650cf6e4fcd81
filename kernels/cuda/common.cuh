// What every kernel source in kernels/cuda/ includes first. A kernel source
// (<op>.cuh) is compiled twice from the same text: by nvcc, for the GPU
// (kernels/cuda/cuda_kernels.cu), and by the host compiler against the
// emulation of the launch model (kernels/cuda_emulated_kernels.cpp, see
// kernels/cuda/emulation.h). So a kernel source uses only what both provide:
//   __global__ / __device__ / __shared__, threadIdx, blockIdx, blockDim, gridDim,
//   __syncthreads, __shfl_*_sync, __ballot/__any/__all_sync, atomicAdd/Max/CAS,
//   SG_LAUNCH(kernel, grid, block, shmem, stream)(args...) to launch,
//   SG_DYNAMIC_SHARED(T, name) for the launch's dynamic shared memory,
//   SG_CHECK_LAUNCH("what") after a launch;
// plain C++17 otherwise (no std:: calls in device code: fminf/fmaxf, not std::min).
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#include <cuda_runtime.h>

#include "tensor/error.h"

#define SG_LAUNCH(kernel, grid, block, shmem, stream) kernel<<<grid, block, shmem, stream>>>
// One extern array for every kernel, typed by each: two extern __shared__
// arrays of different types in one file would clash.
extern __shared__ __align__(16) unsigned char sg_dynamic_shared[];
#define SG_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(sg_dynamic_shared)
#define SG_CHECK_LAUNCH(what)                                                                      \
  do {                                                                                             \
    const cudaError_t sg_err = cudaGetLastError();                                                 \
    SG_CHECK(sg_err == cudaSuccess, what, ": CUDA kernel launch failed: ", cudaGetErrorString(sg_err)); \
  } while (0)
#else
#include "kernels/cuda/emulation.h"
#endif

// The two compilations of a kernel source may be linked into one program (a
// CUDA build has both), so each puts its symbols in a namespace of its own:
// a kernel's host stub from nvcc and its emulated body from g++ must not merge.
#ifdef __CUDACC__
#define SG_KERNELS cuda_kernels
#else
#define SG_KERNELS cuda_emulated_kernels
#endif

namespace sg::SG_KERNELS {

constexpr int kMaxDims = 8;  // as tensor/shape.h's

// A strided view as a kernel sees it: sizes and element strides; the view's
// offset is already in the data pointer. Passed by value in the launch.
struct StridedView {
  int ndim = 0;
  int64_t size[kMaxDims] = {};
  int64_t stride[kMaxDims] = {};
};

// Element offset of the linear (row-major) index `linear` of view v.
__device__ __forceinline__ int64_t offset_of(const StridedView& v, int64_t linear) {
  int64_t offset = 0;
  for (int d = v.ndim - 1; d >= 0; --d) {
    const int64_t i = linear % v.size[d];
    linear /= v.size[d];
    offset += i * v.stride[d];
  }
  return offset;
}

// Blocks for a grid-stride loop over n elements: enough to fill a GPU, no more.
inline unsigned blocks_for(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return unsigned(blocks < 1 ? 1 : blocks > 4096 ? 4096 : blocks);
}

}  // namespace sg::SG_KERNELS
