// What the host-side entries of the cuda and cuda-emulated kernel tables share
// (kernels/cuda/table.cuh and the <op>.cuh files that hold their own entries):
// the device's name for errors, the stream launches go to, a tensor described
// as the StridedView a kernel takes, and the dtype check.
#pragma once
#include "kernels/cuda/common.cuh"
#include "tensor/cuda_memory.h"
#include "tensor/error.h"
#include "tensor/tensor.h"

namespace sg::SG_KERNELS {

#ifdef __CUDACC__
constexpr const char* kDeviceName = "cuda";
#else
constexpr const char* kDeviceName = "cuda-emulated";
#endif

// The stream a launch goes to. On a GPU: the stream of the device
// (tensor/cuda_memory.h), where that device's copies also run, so kernels and
// copies stay in order. current_stream(t) also makes t's device current, for
// the launch that follows; kStream, the spelling the entries use, converts to
// the stream of the current device (cuda_alloc made the output's device
// current). Emulated launches run at once, on no stream.
#ifdef __CUDACC__
inline cudaStream_t current_stream(const Tensor& t) {
  const int device = t.device().index;
  const cudaError_t err = cudaSetDevice(device);
  SG_CHECK(err == cudaSuccess, "cudaSetDevice(", device, "): ", cudaGetErrorString(err));
  return static_cast<cudaStream_t>(cuda_stream(device));
}
struct CurrentStream {
  operator cudaStream_t() const {
    int device = 0;
    const cudaError_t err = cudaGetDevice(&device);
    SG_CHECK(err == cudaSuccess, "cudaGetDevice: ", cudaGetErrorString(err));
    return static_cast<cudaStream_t>(cuda_stream(device));
  }
};
constexpr CurrentStream kStream{};
#else
inline cudaStream_t current_stream(const Tensor&) { return nullptr; }
static cudaStream_t const kStream = nullptr;
#endif

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
