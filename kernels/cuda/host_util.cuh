// What the host-side entries of the cuda and cuda-emulated kernel tables share
// (kernels/cuda/table.cuh and the <op>.cuh files that hold their own entries):
// the device's name for errors, the stream launches go to, a tensor described
// as the StridedView a kernel takes, and the dtype check.
#pragma once
#include "kernels/cuda/common.cuh"
#include "tensor/error.h"
#include "tensor/tensor.h"

namespace sg::SG_KERNELS {

#ifdef __CUDACC__
constexpr const char* kDeviceName = "cuda";
#else
constexpr const char* kDeviceName = "cuda-emulated";
#endif

// Launches go to the default stream for now (streams per device: not yet).
static cudaStream_t const kStream = nullptr;

inline StridedView view_of(const Tensor& t) {
  StridedView v;
  v.ndim = t.dim();
  for (int d = 0; d < t.dim(); ++d) {
    v.size[d] = t.size(d);
    v.stride[d] = t.stride(d);
  }
  return v;
}

inline void require_f32(const char* op, const Tensor& t) {
  SG_CHECK(t.dtype() == DType::f32, op, ": the ", kDeviceName, " kernel takes float32, not ",
           dtype_name(t.dtype()));
}

}  // namespace sg::SG_KERNELS
