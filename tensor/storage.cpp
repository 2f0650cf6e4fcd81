#include "tensor/storage.h"

#include <cstring>

#include "tensor/cpu_allocator.h"
#include "tensor/cuda_memory.h"
#include "tensor/error.h"

namespace sg {

namespace {
std::atomic<uint64_t> g_next_storage_id{1};
}

Storage::Storage(size_t n, Device dev)
    : nbytes(n), device(dev), id(g_next_storage_id.fetch_add(1, std::memory_order_relaxed)) {
  // cuda-emulated memory is host memory (tensor/device.h).
  data = dev.is_cuda() ? cuda_alloc(n, dev.index) : cpu_alloc(n, &capacity);
  if (!dev.is_cuda()) note_storage_allocated(n);
}

Storage::~Storage() {
  if (!data) return;
  if (!device.is_cuda()) {
    note_storage_freed(nbytes);
    cpu_free(data, capacity);
  } else {
    cuda_free(data, device.index);
  }
}

#ifndef STYLEGRAD_WITH_CUDA
// A build without CUDA: every CUDA hook is the one error of device_unavailable_reason.
void* cuda_alloc(size_t, int index) { check_device_available(Device::cuda(index)); return nullptr; }
void cuda_free(void*, int) {}
void cuda_set_device(int index) { check_device_available(Device::cuda(index)); }
CachingAllocatorStats cuda_memory_stats(int index) { check_device_available(Device::cuda(index)); return {}; }
void cuda_reset_peak(int index) { check_device_available(Device::cuda(index)); }
void cuda_empty_cache(int index) { check_device_available(Device::cuda(index)); }
void* cuda_stream(int index) { check_device_available(Device::cuda(index)); return nullptr; }
void cuda_synchronize(int index) { check_device_available(Device::cuda(index)); }
int cuda_device_count(const char** why_none) {
  if (why_none) *why_none = "this build of stylegrad has no CUDA support (nvcc was not found, or -DSTYLEGRAD_CUDA=OFF)";
  return 0;
}
bool cuda_available() { return false; }
void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
  check_device_available(dst_dev);  // cpu and cuda-emulated are host memory
  check_device_available(src_dev);
  std::memcpy(dst, src, nbytes);
}
void device_zero(void* dst, Device d, size_t nbytes) {
  check_device_available(d);
  std::memset(dst, 0, nbytes);
}
#endif

std::string device_unavailable_reason(Device d) {
  if (!d.is_cuda()) return "";
  const char* why = "";
  const int n = cuda_device_count(&why);
  std::string reason;
#ifndef STYLEGRAD_WITH_CUDA
  (void)n;
  reason = why;
#else
  if (n == 0) reason = std::string("no CUDA GPU is usable (") + why + ")";
  else if (d.index >= n)
    reason = "this machine has " + std::to_string(n) + " CUDA GPU" + (n > 1 ? "s" : "") + ", cuda:0" +
             (n > 1 ? " to cuda:" + std::to_string(n - 1) : "");
#endif
  if (reason.empty()) return "";
  return "device " + d.str() + ": " + reason + "; device cuda-emulated runs the CUDA kernels on the CPU";
}

void check_device_available(Device d) {
  const std::string reason = device_unavailable_reason(d);
  SG_CHECK(reason.empty(), reason);
}

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::cpu();
  if (s == "cuda") return Device::cuda(0);
  if (s == "cuda-emulated") return Device::cuda_emulated();
  if (s.rfind("cuda:", 0) == 0) {
    const std::string idx = s.substr(5);
    SG_CHECK(!idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos,
             "unknown device '", s, "' (expected cpu, cuda, cuda:N or cuda-emulated)");
    return Device::cuda(std::stoi(idx));
  }
  throw Error("unknown device '" + s + "' (expected cpu, cuda, cuda:N or cuda-emulated)");
}

}  // namespace sg
