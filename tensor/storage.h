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

  Storage(size_t nbytes, Device device);  // uninitialised bytes, 64-byte aligned on CPU
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

// Device allocator hooks. The CPU one is in storage.cpp; the CUDA one is in
// kernels/cuda/device.cu and exists only in CUDA builds.
void* cpu_alloc(size_t nbytes);
void cpu_free(void* p);
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
