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
  size_t capacity = 0;  // bytes the CPU allocator really reserved (passed back to cpu_free); CUDA's keeps its own
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

// The allocators behind a Storage: tensor/cpu_allocator.h for cpu and
// cuda-emulated, tensor/cuda_memory.h (a caching allocator per device) for cuda.

// Copies nbytes between any two devices (host<->device, device<->device).
// When it returns, the source may be changed or freed, and a copy to the
// host has arrived; a copy to a CUDA device may still be running on the
// device's stream, ahead of any kernel that reads it (tensor/cuda_memory.h).
void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);
// Sets nbytes at dst on device d to zero (a memset on the device's stream for
// CUDA, ordered with its kernels): zeros() of a device tensor, without a copy.
void device_zero(void* dst, Device d, size_t nbytes);

}  // namespace sg
