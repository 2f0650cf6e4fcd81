// CUDA device memory behind Storage (tensor/cuda_memory.h): a caching
// allocator and a stream per device, and the copies between host and device.
#include <cuda_runtime.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tensor/cuda_memory.h"
#include "tensor/error.h"
#include "tensor/storage.h"

namespace sg {

namespace {

void cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw Error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}

// Makes `index` current for its lifetime and restores the device that was:
// allocator callbacks and first uses of a device run inside other work,
// whose launches must still go to the device it had made current.
struct DeviceGuard {
  explicit DeviceGuard(int index) {
    cudaGetDevice(&previous);
    cuda_check(cudaSetDevice(index), "cudaSetDevice");
  }
  ~DeviceGuard() { cudaSetDevice(previous); }
  int previous = 0;
};

// Host->device copies of at least this many bytes go through the device's
// pinned staging buffers: a DMA at full bus speed, and the host's memcpy of one
// chunk overlaps the transfer of the one before. Smaller ones are copied from
// pageable memory by the driver (cudaMemcpyAsync returns once it has taken the
// bytes), where a staging round trip would cost more than it saves.
constexpr size_t kStagingThreshold = size_t(1) << 20;
constexpr size_t kStagingChunk = size_t(4) << 20;

struct DeviceState {
  explicit DeviceState(int index)
      : allocator(
            "cuda:" + std::to_string(index),
            [index](size_t n) -> void* {
              const DeviceGuard on(index);
              void* p = nullptr;
              const cudaError_t err = cudaMalloc(&p, n);
              if (err == cudaErrorMemoryAllocation) {
                cudaGetLastError();  // clear it: the allocator empties its cache and retries
                return nullptr;
              }
              cuda_check(err, "cudaMalloc");
              return p;
            },
            [index](void* p, size_t) {
              const DeviceGuard on(index);
              cudaFree(p);  // waits for the device; errors here have nowhere to go (destructors)
            }) {
    const DeviceGuard on(index);
    // A blocking stream (not cudaStreamNonBlocking): work on the legacy
    // default stream, if any code still launches there, stays ordered with ours.
    cuda_check(cudaStreamCreateWithFlags(&stream, cudaStreamDefault), "cudaStreamCreate");
  }

  cudaStream_t stream = nullptr;
  CachingAllocator allocator;
  // Two pinned buffers, used in turn; `ready[b]` is recorded on the stream after
  // the transfer out of buffer b, so b is rewritten only once that transfer is done.
  std::mutex staging_mutex;
  void* staging[2] = {nullptr, nullptr};
  cudaEvent_t ready[2] = {nullptr, nullptr};
};

// Each device's state, created on its first use and never destroyed: at exit
// the CUDA runtime may already be gone when static destructors would run.
DeviceState& device_state(int index) {
  static std::mutex mutex;
  static std::vector<DeviceState*> states;
  std::lock_guard<std::mutex> lock(mutex);
  if (index >= 0 && size_t(index) < states.size() && states[size_t(index)]) return *states[size_t(index)];
  check_device_available(Device::cuda(index));
  if (states.size() <= size_t(index)) states.resize(size_t(index) + 1, nullptr);
  states[size_t(index)] = new DeviceState(index);
  return *states[size_t(index)];
}

void copy_to_device_staged(DeviceState& s, int index, void* dst, const void* src, size_t nbytes) {
  std::lock_guard<std::mutex> lock(s.staging_mutex);
  const DeviceGuard on(index);  // the events are the device's, recorded on its stream
  if (!s.staging[0]) {
    for (int b = 0; b < 2; ++b) {
      cuda_check(cudaHostAlloc(&s.staging[b], kStagingChunk, cudaHostAllocDefault), "cudaHostAlloc");
      cuda_check(cudaEventCreateWithFlags(&s.ready[b], cudaEventDisableTiming), "cudaEventCreate");
    }
  }
  int b = 0;
  for (size_t done = 0; done < nbytes; done += kStagingChunk, b ^= 1) {
    const size_t n = nbytes - done < kStagingChunk ? nbytes - done : kStagingChunk;
    cuda_check(cudaEventSynchronize(s.ready[b]), "cudaEventSynchronize");  // buffer b's last transfer is done
    std::memcpy(s.staging[b], static_cast<const char*>(src) + done, n);
    cuda_check(cudaMemcpyAsync(static_cast<char*>(dst) + done, s.staging[b], n, cudaMemcpyHostToDevice, s.stream),
               "cudaMemcpyAsync");
    cuda_check(cudaEventRecord(s.ready[b], s.stream), "cudaEventRecord");
  }
}

}  // namespace

int cuda_device_count(const char** why_none) {
  static int count = -1;
  static const char* why = "";
  static std::once_flag once;
  std::call_once(once, [] {
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      why = cudaGetErrorString(err);
      cudaGetLastError();
      n = 0;
    } else if (n == 0) {
      why = "no CUDA device found";
    }
    count = n;
  });
  if (why_none) *why_none = why;
  return count;
}

bool cuda_available() { return cuda_device_count() > 0; }

void* cuda_alloc(size_t nbytes, int device_index) {
  DeviceState& s = device_state(device_index);
  // The device of the newest tensor is current: the kernel launch that fills it goes there.
  cuda_check(cudaSetDevice(device_index), "cudaSetDevice");
  return s.allocator.allocate(nbytes);
}

void cuda_free(void* p, int device_index) { device_state(device_index).allocator.free(p); }

void cuda_set_device(int device_index) {
  device_state(device_index);  // checks the index and makes the device's stream
  cuda_check(cudaSetDevice(device_index), "cudaSetDevice");
}

void device_zero(void* dst, Device d, size_t nbytes) {
  if (!d.is_cuda()) {
    std::memset(dst, 0, nbytes);
    return;
  }
  if (nbytes == 0) return;
  DeviceState& s = device_state(d.index);
  const DeviceGuard on(d.index);
  cuda_check(cudaMemsetAsync(dst, 0, nbytes, s.stream), "cudaMemsetAsync");
}

CachingAllocatorStats cuda_memory_stats(int device_index) { return device_state(device_index).allocator.stats(); }

void cuda_reset_peak(int device_index) { device_state(device_index).allocator.reset_peak(); }

void cuda_empty_cache(int device_index) { device_state(device_index).allocator.empty_cache(); }

void* cuda_stream(int device_index) { return device_state(device_index).stream; }

void cuda_synchronize(int device_index) {
  cuda_check(cudaStreamSynchronize(device_state(device_index).stream), "cudaStreamSynchronize");
}

void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
  // cpu and cuda-emulated memory are both host memory (tensor/device.h): a
  // plain memcpy, which also works in a CUDA build on a machine with no GPU.
  if (!dst_dev.is_cuda() && !src_dev.is_cuda()) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  if (nbytes == 0) return;
  if (dst_dev.is_cuda() && src_dev.is_cuda()) {
    if (dst_dev.index == src_dev.index) {
      DeviceState& s = device_state(dst_dev.index);
      cuda_check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, s.stream), "cudaMemcpyAsync");
      return;
    }
    // Two devices, two streams: wait for both sides, copy, wait again, so that
    // neither device reuses either block while the copy still runs. Rare.
    DeviceState& s = device_state(src_dev.index);
    DeviceState& d = device_state(dst_dev.index);
    cuda_check(cudaStreamSynchronize(s.stream), "cudaStreamSynchronize");
    cuda_check(cudaMemcpyPeerAsync(dst, dst_dev.index, src, src_dev.index, nbytes, d.stream), "cudaMemcpyPeerAsync");
    cuda_check(cudaStreamSynchronize(d.stream), "cudaStreamSynchronize");
    return;
  }
  if (dst_dev.is_cuda()) {  // host -> device: returns once the host bytes are taken; the stream orders the rest
    DeviceState& s = device_state(dst_dev.index);
    if (nbytes >= kStagingThreshold) {
      copy_to_device_staged(s, dst_dev.index, dst, src, nbytes);
    } else {
      cuda_check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, s.stream), "cudaMemcpyAsync");
    }
    return;
  }
  // device -> host: the host reads the bytes as soon as this returns.
  DeviceState& s = device_state(src_dev.index);
  cuda_check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, s.stream), "cudaMemcpyAsync");
  cuda_check(cudaStreamSynchronize(s.stream), "cudaStreamSynchronize");
}

}  // namespace sg
