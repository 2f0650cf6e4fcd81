#include "tensor/storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tensor/error.h"

namespace sg {

namespace {
std::atomic<size_t> g_in_use{0}, g_peak{0};
}

size_t cpu_bytes_in_use() { return g_in_use.load(); }
size_t cpu_peak_bytes() { return g_peak.load(); }
void reset_cpu_peak_bytes() { g_peak.store(g_in_use.load()); }

void* cpu_alloc(size_t nbytes) {
  // 64-byte alignment: one cache line, and what AVX-512 loads like best.
  const size_t rounded = (nbytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p) throw Error("out of memory: could not allocate " + std::to_string(nbytes) + " bytes");
  return p;
}

void cpu_free(void* p) { std::free(p); }

Storage::Storage(size_t n, Device dev) : nbytes(n), device(dev) {
  data = dev.is_cpu() ? cpu_alloc(n) : cuda_alloc(n, dev.index);
  if (dev.is_cpu()) {
    const size_t now = g_in_use += n;
    size_t peak = g_peak.load();
    while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
    }
  }
}

Storage::~Storage() {
  if (!data) return;
  if (device.is_cpu()) {
    g_in_use -= nbytes;
    cpu_free(data);
  } else {
    cuda_free(data, device.index);
  }
}

#ifndef STYLEGRAD_WITH_CUDA
// CPU-only build: the CUDA hooks say clearly that there is no CUDA.
static const char* kNoCuda = "this build of stylegrad has no CUDA support (nvcc was not found, or -DSTYLEGRAD_CUDA=OFF)";
void* cuda_alloc(size_t, int) { throw Error(kNoCuda); }
void cuda_free(void*, int) {}
bool cuda_available() { return false; }
void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
  SG_CHECK(dst_dev.is_cpu() && src_dev.is_cpu(), kNoCuda);
  std::memcpy(dst, src, nbytes);
}
#endif

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::cpu();
  if (s == "cuda") return Device::cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    const std::string idx = s.substr(5);
    SG_CHECK(!idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos,
             "unknown device '", s, "' (expected cpu, cuda or cuda:N)");
    return Device::cuda(std::stoi(idx));
  }
  throw Error("unknown device '" + s + "' (expected cpu, cuda or cuda:N)");
}

}  // namespace sg
