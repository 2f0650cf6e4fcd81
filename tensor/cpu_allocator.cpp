#include "tensor/cpu_allocator.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/error.h"

#if defined(__SANITIZE_ADDRESS__)
#define STYLEGRAD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STYLEGRAD_ASAN 1
#endif
#endif

namespace sg {

namespace {

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

// ---------------- CpuArena ----------------

CpuArena::~CpuArena() {
  for (const auto& [start, end] : regions_) ::munmap(start, size_t(end - start));
}

bool CpuArena::map_region(size_t at_least) {
  const size_t huge_page = size_t(2) << 20;
  const size_t n = std::max(kRegionBytes, round_up(at_least, huge_page));
  // Map one huge page more and trim, so the region starts on a 2 MB boundary
  // (transparent huge pages only back aligned 2 MB ranges).
  void* raw = ::mmap(nullptr, n + huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return false;
  char* start = reinterpret_cast<char*>(round_up(reinterpret_cast<uintptr_t>(raw), huge_page));
  char* raw_end = static_cast<char*>(raw) + n + huge_page;
  if (start > raw) ::munmap(raw, size_t(start - static_cast<char*>(raw)));
  if (raw_end > start + n) ::munmap(start + n, size_t(raw_end - (start + n)));
#ifdef MADV_HUGEPAGE
  ::madvise(start, n, MADV_HUGEPAGE);  // a hint: without THP the region simply uses 4 KB pages
#endif
  regions_[start] = start + n;
  mapped_ += n;
  insert_free(start, n);
  return true;
}

void CpuArena::insert_free(char* p, size_t n) {
  free_by_address_[p] = n;
  free_by_size_.insert({n, p});
}

void CpuArena::erase_free(std::map<char*, size_t>::iterator it) {
  free_by_size_.erase({it->second, it->first});
  free_by_address_.erase(it);
}

void* CpuArena::allocate(size_t nbytes, size_t* block_bytes) {
  const size_t n = round_up(std::max<size_t>(nbytes, 1), kAlign);
  // Best fit: the smallest free range that holds n (the lowest address among equals).
  auto fit = free_by_size_.lower_bound({n, nullptr});
  if (fit == free_by_size_.end()) {
    if (!map_region(n)) return nullptr;
    fit = free_by_size_.lower_bound({n, nullptr});
  }
  const auto [size, start] = *fit;
  erase_free(free_by_address_.find(start));
  if (size > n) insert_free(start + n, size - n);  // the rest stays free
  *block_bytes = n;
  return start;
}

void CpuArena::release(void* ptr, size_t block_bytes) {
  char* p = static_cast<char*>(ptr);
  size_t n = block_bytes;
  // The region holding p: free neighbours merge only within it (two regions
  // may be adjacent in the address space, but each is unmapped on its own).
  const auto region = std::prev(regions_.upper_bound(p));
  auto next = free_by_address_.lower_bound(p);
  if (next != free_by_address_.end() && next->first == p + n && next->first < region->second) {
    n += next->second;
    erase_free(next);
  }
  auto after = free_by_address_.lower_bound(p);
  if (after != free_by_address_.begin()) {
    auto prev = std::prev(after);
    if (prev->first + prev->second == p && prev->first >= region->first) {
      p = prev->first;
      n += prev->second;
      erase_free(prev);
    }
  }
  insert_free(p, n);
}

void CpuArena::drop_free_pages() {
  for (const auto& [start, size] : free_by_address_) ::madvise(start, size, MADV_DONTNEED);
}

size_t CpuArena::free_bytes() const {
  size_t total = 0;
  for (const auto& range : free_by_address_) total += range.second;
  return total;
}

// ---------------- cpu_alloc / cpu_free ----------------

namespace {

#ifdef STYLEGRAD_ASAN
constexpr bool kCache = false;
#else
constexpr bool kCache = true;
#endif
// Small blocks kept for reuse, at most this many bytes in all.
constexpr size_t kMaxCachedSmallBytes = size_t(64) << 20;

std::mutex g_mutex;
CpuArena& arena() {
  static CpuArena* a = new CpuArena;  // never destroyed: Storages may outlive static destructors
  return *a;
}
std::unordered_map<size_t, std::vector<void*>>& small_blocks() {  // size class -> free blocks
  static auto* m = new std::unordered_map<size_t, std::vector<void*>>;
  return *m;
}
size_t g_cached_small = 0;

std::atomic<size_t> g_in_use{0}, g_peak{0};

// Small size classes: multiples of 64 bytes up to 4 KB, then steps of 1/8 of a
// power of two, so that blocks of almost the same size are shared.
size_t small_class(size_t n) {
  if (n <= 4096) return std::max<size_t>(64, round_up(n, 64));
  size_t pow2 = 4096;
  while (pow2 * 2 < n) pow2 *= 2;
  return round_up(n, pow2 / 8);
}

// Gives every cached small block back to the system (the caller holds g_mutex).
void free_small_blocks() {
  for (auto& [cls, blocks] : small_blocks())
    for (void* p : blocks) std::free(p);
  small_blocks().clear();
  g_cached_small = 0;
}

[[noreturn]] void out_of_memory(size_t nbytes) {
  throw Error("out of memory: could not allocate " + std::to_string(nbytes) + " bytes");
}

}  // namespace

void* cpu_alloc(size_t nbytes, size_t* block_bytes) {
  if (kCache && nbytes > kLargeBlockBytes) {
    std::lock_guard<std::mutex> lock(g_mutex);
    void* p = arena().allocate(nbytes, block_bytes);
    if (!p) {  // no new region could be mapped: give the small blocks' memory back and retry
      free_small_blocks();
      p = arena().allocate(nbytes, block_bytes);
    }
    if (!p) out_of_memory(nbytes);
    return p;
  }
  const size_t cls = small_class(nbytes);
  *block_bytes = cls;
  if (kCache) {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = small_blocks().find(cls);
    if (it != small_blocks().end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      g_cached_small -= cls;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, cls);  // 64 bytes: a cache line, what AVX-512 loads like best
  if (!p) {
    empty_cpu_cache();
    p = std::aligned_alloc(64, cls);
  }
  if (!p) out_of_memory(nbytes);
  return p;
}

void cpu_free(void* p, size_t block_bytes) {
  if (!p) return;
  if (kCache && block_bytes > kLargeBlockBytes) {  // small classes never exceed kLargeBlockBytes
    std::lock_guard<std::mutex> lock(g_mutex);
    arena().release(p, block_bytes);
    return;
  }
  if (kCache) {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_cached_small + block_bytes <= kMaxCachedSmallBytes) {
      small_blocks()[block_bytes].push_back(p);
      g_cached_small += block_bytes;
      return;
    }
  }
  std::free(p);
}

void empty_cpu_cache() {
  std::lock_guard<std::mutex> lock(g_mutex);
  free_small_blocks();
  arena().drop_free_pages();
}

size_t cpu_bytes_in_use() { return g_in_use.load(); }
size_t cpu_peak_bytes() { return g_peak.load(); }
void reset_cpu_peak_bytes() { g_peak.store(g_in_use.load()); }

void note_storage_allocated(size_t nbytes) {
  const size_t now = g_in_use += nbytes;
  size_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
}

void note_storage_freed(size_t nbytes) { g_in_use -= nbytes; }

}  // namespace sg
