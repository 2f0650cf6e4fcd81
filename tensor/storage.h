// A Storage is one allocation on one device. Tensors are views into it
// (shape, strides, offset), so reshape/permute/narrow never copy.
//
// Its version counts the in-place writes into it (copy_, fill_, add_, mul_,
// zero_, ...; as torch's tensor._version). Views and detach() share the
// storage, so they share the count. Autograd compares it with the version a
// saved tensor had when the forward ran (autograd/node.h), and caches of
// derived data (the Winograd weight transform) key on it with `id`.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tensor/device.h"

namespace sg {

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  size_t capacity = 0;  // bytes the CPU allocator really reserved (passed back to cpu_free)
  const uint64_t id;    // unique in the process, never reused (unlike `data`, which the allocator recycles)

  Storage(size_t nbytes, Device device);  // uninitialised bytes, 64-byte aligned on CPU
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // Every write into existing memory calls this; freshly made tensors start at 0.
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> version_{0};
};

// Device allocator hooks: the CPU ones are in tensor/cpu_allocator.h; the
// CUDA ones in tensor/cuda_memory.cu, in CUDA builds only.
void* cuda_alloc(size_t nbytes, int device_index);
void cuda_free(void* p, int device_index);

// Copies nbytes between any two devices (host<->device, device<->device).
void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);

}  // namespace sg
