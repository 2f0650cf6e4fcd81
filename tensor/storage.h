// A Storage is one allocation on one device. Tensors are views into it
// (shape, strides, offset), so reshape/permute/narrow never copy.
#pragma once
#include <cstddef>
#include <memory>

#include "tensor/device.h"

namespace sg {

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  size_t capacity = 0;  // bytes the CPU allocator really reserved (passed back to cpu_free)

  Storage(size_t nbytes, Device device);  // uninitialised bytes, 64-byte aligned on CPU
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

// Device allocator hooks: the CPU ones are in tensor/cpu_allocator.h; the
// CUDA ones in tensor/cuda_memory.cu, in CUDA builds only.
void* cuda_alloc(size_t nbytes, int device_index);
void cuda_free(void* p, int device_index);

// Copies nbytes between any two devices (host<->device, device<->device).
void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);

}  // namespace sg
