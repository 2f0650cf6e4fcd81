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
  size_t capacity = 0;  // bytes actually reserved (the allocator's size class)

  Storage(size_t nbytes, Device device);  // uninitialised bytes, 64-byte aligned on CPU
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

// Device allocator hooks. The CPU one is in storage.cpp (a caching allocator:
// it returns the bytes it really reserved in *class_bytes, to be passed back to
// cpu_free); the CUDA one is in kernels/cuda/device.cu, in CUDA builds only.
void* cpu_alloc(size_t nbytes, size_t* class_bytes);
void cpu_free(void* p, size_t class_bytes);
// Gives every cached free CPU block back to the system.
void empty_cpu_cache();
void* cuda_alloc(size_t nbytes, int device_index);
void cuda_free(void* p, int device_index);
// Bytes currently held by CPU storages, and the most held since the last
// reset (for the benchmarks' peak-memory column).
size_t cpu_bytes_in_use();
size_t cpu_peak_bytes();
void reset_cpu_peak_bytes();

// Copies nbytes between any two devices (host<->device, device<->device).
void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);

}  // namespace sg
