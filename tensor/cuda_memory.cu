// CUDA device memory behind Storage: allocation and copies (the hooks declared
// in tensor/storage.h). Op kernels go in kernels/cuda/; until they exist every
// op names itself in a "no CUDA kernel" error when handed a CUDA tensor.
#include <cuda_runtime.h>

#include <cstring>
#include <string>

#include "tensor/error.h"
#include "tensor/storage.h"

namespace sg {

static void cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw Error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}

bool cuda_available() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

void* cuda_alloc(size_t nbytes, int device_index) {
  const cudaError_t set = cudaSetDevice(device_index);
  SG_CHECK(set == cudaSuccess, "device cuda:", device_index, ": ", cudaGetErrorString(set),
           "; device cuda-emulated runs the CUDA kernels on the CPU");
  void* p = nullptr;
  cuda_check(cudaMalloc(&p, nbytes ? nbytes : 1), "cudaMalloc");
  return p;
}

void cuda_free(void* p, int device_index) {
  cudaSetDevice(device_index);
  cudaFree(p);
}

void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
  // cpu and cuda-emulated memory are both host memory (tensor/device.h): a
  // plain memcpy, which also works in a CUDA build on a machine with no GPU.
  if (!dst_dev.is_cuda() && !src_dev.is_cuda()) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  cudaMemcpyKind kind = cudaMemcpyHostToHost;
  if (dst_dev.is_cuda() && src_dev.is_cuda()) kind = cudaMemcpyDeviceToDevice;
  else if (dst_dev.is_cuda()) kind = cudaMemcpyHostToDevice;
  else if (src_dev.is_cuda()) kind = cudaMemcpyDeviceToHost;
  cuda_check(cudaMemcpy(dst, src, nbytes, kind), "cudaMemcpy");
}

}  // namespace sg
