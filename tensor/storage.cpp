#include "tensor/storage.h"

#include <cstring>

#include "tensor/cpu_allocator.h"
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
// CPU-only build: the CUDA hooks say clearly that there is no CUDA.
static const char* kNoCuda = "this build of stylegrad has no CUDA support (nvcc was not found, or -DSTYLEGRAD_CUDA=OFF)";
void* cuda_alloc(size_t, int) {
  throw Error(std::string(kNoCuda) + "; device cuda-emulated runs the CUDA kernels on the CPU");
}
void cuda_free(void*, int) {}
bool cuda_available() { return false; }
void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
  SG_CHECK(!dst_dev.is_cuda() && !src_dev.is_cuda(), kNoCuda);  // cpu and cuda-emulated are host memory
  std::memcpy(dst, src, nbytes);
}
#endif

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
