#include "tensor/caching_allocator.h"

#include "tensor/error.h"

namespace sg {

CachingAllocator::CachingAllocator(std::string name, BackendAlloc alloc, BackendFree free)
    : name_(std::move(name)), backend_alloc_(std::move(alloc)), backend_free_(std::move(free)) {}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cached_locked();
}

size_t CachingAllocator::round_size(size_t nbytes) {
  if (nbytes <= kSmallLimit) {
    const size_t n = nbytes ? nbytes : 1;
    return (n + kSmallGranularity - 1) / kSmallGranularity * kSmallGranularity;
  }
  SG_CHECK(nbytes <= (size_t(1) << 60), "allocation of ", nbytes, " bytes is too large");
  // p: the largest power of two below nbytes, so nbytes is in (p, 2p]; a
  // quarter of p is the step of the four classes in that range.
  size_t p = kSmallLimit;
  while (p * 2 < nbytes) p *= 2;
  const size_t step = p / 4;
  return (nbytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(size_t nbytes) {
  const size_t size = round_size(nbytes);
  std::lock_guard<std::mutex> lock(mutex_);
  void* p = nullptr;
  auto list = free_lists_.find(size);
  if (list != free_lists_.end() && !list->second.empty()) {
    p = list->second.back();
    list->second.pop_back();
    stats_.bytes_cached -= size;
    ++stats_.cache_hits;
  } else {
    p = backend_alloc_(size);
    if (!p && stats_.bytes_cached > 0) {  // out of memory: give the cache back and try once more
      release_cached_locked();
      p = backend_alloc_(size);
    }
    SG_CHECK(p, name_, ": out of memory allocating ", size, " bytes (", stats_.bytes_in_use,
             " bytes in use by tensors, the cache is empty)");
    ++stats_.backend_allocations;
  }
  in_use_[p] = size;
  stats_.bytes_in_use += size;
  if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
  return p;
}

void CachingAllocator::free(void* p) {
  if (!p) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = in_use_.find(p);
  SG_CHECK(it != in_use_.end(), name_, ": free of a pointer this allocator did not hand out");
  const size_t size = it->second;
  in_use_.erase(it);
  stats_.bytes_in_use -= size;
  free_lists_[size].push_back(p);
  stats_.bytes_cached += size;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cached_locked();
}

void CachingAllocator::release_cached_locked() {
  for (auto& [size, blocks] : free_lists_) {
    for (void* p : blocks) {
      backend_free_(p, size);
      ++stats_.backend_frees;
    }
  }
  free_lists_.clear();
  stats_.bytes_cached = 0;
}

CachingAllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

}  // namespace sg
