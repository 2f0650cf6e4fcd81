// The CPU memory behind every Storage and the kernels' scratch buffers.
//
// Why not plain malloc/free: a fresh 64 MB activation costs 16 000 page faults
// on first touch (about 50 ms on a VM: more than many ops), and glibc gives
// blocks of 32 MB and more back to the system when freed, so they fault again
// on every iteration. Why not a free list per size (the first version): a
// network's forward and backward passes use many sizes, each at its own time;
// kept apart, their peaks add up (VGG-19 forward + backward at 512²: 790 MB
// resident for 400 MB of live tensors).
//
// So there are two paths:
//   small blocks (up to kLargeBlockBytes): a free list per size class, bounded,
//     cheap for the many tiny tensors of eager code;
//   large blocks: carved out of big mapped regions by best fit, freed ranges
//     merged with free neighbours (CpuArena). Memory a freed activation used
//     serves the next gradient of any size, and a range stays resident once
//     touched, so the resident size is the arena's high-water mark, close to
//     the peak of live tensors. Regions ask for transparent huge pages: a first
//     touch then costs one fault per 2 MB instead of one per 4 KB.
// Under AddressSanitizer nothing is cached: a freed block must really be freed
// for ASan to see a use after free.
#pragma once
#include <cstddef>
#include <map>
#include <set>
#include <utility>

namespace sg {

constexpr size_t kLargeBlockBytes = size_t(1) << 20;

// Returns at least nbytes, 64-byte aligned. *block_bytes receives what was
// really reserved; pass it back to cpu_free. Throws sg::Error when out of memory.
void* cpu_alloc(size_t nbytes, size_t* block_bytes);
void cpu_free(void* p, size_t block_bytes);
// Gives cached small blocks back to the system and drops the pages of free
// large ranges (they stay mapped and fault in again when reused).
void empty_cpu_cache();

// Bytes held by live CPU Storages (not scratch buffers), and the most since
// the last reset: the benchmarks' "tensors" peak.
size_t cpu_bytes_in_use();
size_t cpu_peak_bytes();
void reset_cpu_peak_bytes();
// Called by Storage as tensors come and go.
void note_storage_allocated(size_t nbytes);
void note_storage_freed(size_t nbytes);

// Best fit over mapped regions, with coalescing; not thread-safe on its own
// (cpu_alloc holds a lock). Public for tests/test_cpu_allocator.cpp.
class CpuArena {
 public:
  static constexpr size_t kAlign = 4096;                  // every block starts on a page
  static constexpr size_t kRegionBytes = size_t(1) << 30;  // regions are at least this big
  CpuArena() = default;
  ~CpuArena();
  CpuArena(const CpuArena&) = delete;
  CpuArena& operator=(const CpuArena&) = delete;

  // nbytes rounded up to kAlign, or nullptr if no region can be mapped.
  void* allocate(size_t nbytes, size_t* block_bytes);
  void release(void* p, size_t block_bytes);
  // madvise(MADV_DONTNEED) on every free range: its pages leave the resident set.
  void drop_free_pages();

  size_t mapped_bytes() const { return mapped_; }
  size_t free_bytes() const;
  size_t free_ranges() const { return free_by_address_.size(); }

 private:
  bool map_region(size_t at_least);
  void insert_free(char* p, size_t n);
  void erase_free(std::map<char*, size_t>::iterator it);

  std::map<char*, char*> regions_;                 // start -> end
  std::map<char*, size_t> free_by_address_;        // start -> size, for merging neighbours
  std::set<std::pair<size_t, char*>> free_by_size_;  // (size, start): best fit, lowest address first
  size_t mapped_ = 0;
};

}  // namespace sg
