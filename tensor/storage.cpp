#include "tensor/storage.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>
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

// ---- the CPU caching allocator ----
// Freshly mmap'ed memory costs a page fault per 4 KB on first touch, which for
// a 16 MB activation is more than the op itself. So freed blocks are kept in
// per-size free lists and handed out again (as PyTorch's CUDA allocator does).
// Sizes are rounded to classes (multiples of 64 bytes, then steps of 1/8 of a
// power of two) so that blocks of almost the same size are shared; at most
// kMaxCachedBytes are kept, beyond that blocks go back to the system.
// Under AddressSanitizer nothing is cached: a freed block must really be freed
// for ASan to catch a use after free.
#if defined(__SANITIZE_ADDRESS__)
#define STYLEGRAD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STYLEGRAD_ASAN 1
#endif
#endif
#ifdef STYLEGRAD_ASAN
constexpr size_t kMaxCachedBytes = 0;
#else
constexpr size_t kMaxCachedBytes = size_t(1) << 30;
#endif

namespace {
std::mutex g_cache_mutex;
std::unordered_map<size_t, std::vector<void*>> g_free_blocks;  // size class -> blocks
size_t g_cached_bytes = 0;

size_t size_class(size_t n) {
  if (n <= 4096) return std::max<size_t>(64, (n + 63) / 64 * 64);
  size_t pow2 = 4096;
  while (pow2 * 2 < n) pow2 *= 2;
  const size_t step = pow2 / 8;
  return (n + step - 1) / step * step;
}
}  // namespace

void* cpu_alloc(size_t nbytes, size_t* class_bytes) {
  const size_t cls = size_class(nbytes);
  *class_bytes = cls;
  {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    auto it = g_free_blocks.find(cls);
    if (it != g_free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      g_cached_bytes -= cls;
      return p;
    }
  }
  // 64-byte alignment: one cache line, and what AVX-512 loads like best.
  void* p = std::aligned_alloc(64, cls);
  if (!p) {
    empty_cpu_cache();
    p = std::aligned_alloc(64, cls);
  }
  if (!p) throw Error("out of memory: could not allocate " + std::to_string(nbytes) + " bytes");
  return p;
}

void cpu_free(void* p, size_t class_bytes) {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  if (g_cached_bytes + class_bytes > kMaxCachedBytes) {
    std::free(p);
    return;
  }
  g_free_blocks[class_bytes].push_back(p);
  g_cached_bytes += class_bytes;
}

void empty_cpu_cache() {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  for (auto& [cls, blocks] : g_free_blocks)
    for (void* p : blocks) std::free(p);
  g_free_blocks.clear();
  g_cached_bytes = 0;
}

Storage::Storage(size_t n, Device dev) : nbytes(n), device(dev) {
  data = dev.is_cpu() ? cpu_alloc(n, &capacity) : cuda_alloc(n, dev.index);
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
    cpu_free(data, capacity);
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
