// A caching allocator over a raw backend (cudaMalloc/cudaFree for CUDA
// devices, tensor/cuda_memory.cu): blocks freed by tensors go to a free list
// of their size class instead of back to the backend, and the next request of
// that class takes one from there. Why: cudaMalloc and cudaFree cost tens of
// microseconds to milliseconds each, and cudaFree waits for the whole device,
// so one pair per op would serialise the GPU with the host.
//
// Size classes (round_size), so that tensors of nearby sizes share blocks:
//   up to 1 MiB: multiples of 512 bytes (as PyTorch's: small tensors are many,
//     and 512 bytes keeps every block aligned for any vector access);
//   above 1 MiB: four classes per power of two (1.25, 1.5, 1.75, 2 MiB, 2.5,
//     3, 3.5, 4 MiB, ...), so a block wastes less than a quarter of itself and
//     the activations of one network, a few hundred distinct sizes, fall into
//     a few dozen classes.
// A request takes a cached block of exactly its class (no splitting, no
// larger blocks): simple, and a training loop repeats the same sizes.
//
// When the backend fails for lack of memory (returns nullptr), every cached
// block goes back to it (empty_cache) and the request is tried once more; a
// second failure is one error naming the device and the figures.
//
// Thread-safe: one mutex around the lists (tensors are freed by any thread).
// Blocks are reused without synchronisation with the device: the caller runs
// every kernel and copy of a device on one stream, in order, so a kernel that
// still reads a freed block runs before any later user of that block.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sg {

struct CachingAllocatorStats {
  size_t bytes_in_use = 0;       // blocks handed out and not yet freed (rounded sizes)
  size_t bytes_cached = 0;       // blocks in the free lists, held from the backend
  size_t peak_bytes_in_use = 0;  // the most bytes_in_use has been since the start or reset_peak()
  uint64_t backend_allocations = 0;  // successful calls to the backend's allocate
  uint64_t backend_frees = 0;        // calls to the backend's free
  uint64_t cache_hits = 0;           // requests served from a free list
};

class CachingAllocator {
 public:
  // allocate returns nullptr when out of memory and throws on any other
  // failure; free gets back the pointer and the size it was allocated with.
  using BackendAlloc = std::function<void*(size_t nbytes)>;
  using BackendFree = std::function<void(void* p, size_t nbytes)>;

  // name ("cuda:0") is the device in error messages.
  CachingAllocator(std::string name, BackendAlloc alloc, BackendFree free);
  ~CachingAllocator();  // returns the cached blocks; blocks still in use stay with their owners
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // At least nbytes (0 is a block of the smallest class). Throws sg::Error when
  // the backend has no memory even after empty_cache().
  void* allocate(size_t nbytes);
  // p must come from allocate() (nullptr is ignored); the block is cached.
  void free(void* p);
  // Every cached block goes back to the backend.
  void empty_cache();

  CachingAllocatorStats stats() const;
  void reset_peak();

  static constexpr size_t kSmallGranularity = 512;
  static constexpr size_t kSmallLimit = size_t(1) << 20;
  // The size class of a request: what allocate really reserves.
  static size_t round_size(size_t nbytes);

 private:
  void release_cached_locked();

  const std::string name_;
  const BackendAlloc backend_alloc_;
  const BackendFree backend_free_;
  mutable std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_lists_;  // size class -> cached blocks
  std::unordered_map<void*, size_t> in_use_;          // block -> its size class
  CachingAllocatorStats stats_;
};

}  // namespace sg
