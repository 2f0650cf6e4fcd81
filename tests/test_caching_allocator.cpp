// The device memory cache (tensor/caching_allocator.h) over a fake backend
// that counts its calls and has a fixed capacity, so reuse, the figures and the
// out-of-memory retry are checked without a GPU.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

#include "tensor/caching_allocator.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

constexpr size_t KB = 1024, MB = size_t(1) << 20;

// Host memory standing for a device with `capacity` bytes: allocate returns
// nullptr once the bytes it holds would pass the capacity, as cudaMalloc fails.
struct FakeBackend {
  size_t capacity = size_t(1) << 40;
  size_t held = 0;
  int allocs = 0, frees = 0, failures = 0;
  std::mutex mutex;  // the allocator calls the backend under its own lock; this guards the figures
  std::set<void*> live;

  CachingAllocator make() {
    return CachingAllocator(
        "fake:0",
        [this](size_t n) -> void* {
          std::lock_guard<std::mutex> lock(mutex);
          if (held + n > capacity) {
            ++failures;
            return nullptr;
          }
          void* p = std::malloc(n);
          held += n;
          ++allocs;
          live.insert(p);
          return p;
        },
        [this](void* p, size_t n) {
          std::lock_guard<std::mutex> lock(mutex);
          REQUIRE(live.erase(p) == 1);
          held -= n;
          ++frees;
          std::free(p);
        });
  }
};

}  // namespace

TEST_CASE("caching allocator: size classes are 512 bytes up to 1 MiB, then four per power of two") {
  CHECK(CachingAllocator::round_size(0) == 512);
  CHECK(CachingAllocator::round_size(1) == 512);
  CHECK(CachingAllocator::round_size(512) == 512);
  CHECK(CachingAllocator::round_size(513) == 1024);
  CHECK(CachingAllocator::round_size(MB) == MB);
  CHECK(CachingAllocator::round_size(MB + 1) == MB + 256 * KB);
  CHECK(CachingAllocator::round_size(2 * MB) == 2 * MB);
  CHECK(CachingAllocator::round_size(2 * MB + 1) == 2 * MB + 512 * KB);
  CHECK(CachingAllocator::round_size(5 * MB) == 5 * MB);      // (4, 8] MiB in steps of 1
  CHECK(CachingAllocator::round_size(5 * MB + 1) == 6 * MB);
  CHECK(CachingAllocator::round_size(100 * MB) == 112 * MB);  // (64, 128] MiB in steps of 16
  for (size_t n : {size_t(7), size_t(4097), MB + 3, 3 * MB + 5, 777 * MB + 1}) {
    const size_t r = CachingAllocator::round_size(n);
    CHECK(r >= n);
    CHECK(r - n < (n > MB ? n / 4 + 1 : 512));  // a block wastes less than a quarter of itself
  }
}

TEST_CASE("caching allocator: a freed block serves the next request of its class without the backend") {
  FakeBackend fake;
  CachingAllocator a = fake.make();
  void* x = a.allocate(1000);  // class 1024
  CHECK(fake.allocs == 1);
  a.free(x);
  CHECK(fake.frees == 0);  // kept, not given back
  void* y = a.allocate(700);  // also class 1024: the same block, no backend call
  CHECK(y == x);
  CHECK(fake.allocs == 1);
  void* z = a.allocate(2000);  // another class: a new block
  CHECK(z != x);
  CHECK(fake.allocs == 2);
  const CachingAllocatorStats s = a.stats();
  CHECK(s.backend_allocations == 2);
  CHECK(s.cache_hits == 1);
  CHECK(s.bytes_in_use == 1024 + 2048);
  a.free(y);
  a.free(z);
  a.free(nullptr);  // ignored
  CHECK(error_of([&] { a.free(&fake); }) == "fake:0: free of a pointer this allocator did not hand out");
}

TEST_CASE("caching allocator: bytes in use, cached and peak; empty_cache gives the cache back") {
  FakeBackend fake;
  CachingAllocator a = fake.make();
  std::vector<void*> blocks;
  for (int i = 0; i < 4; ++i) blocks.push_back(a.allocate(3 * MB));  // class 3 MiB
  void* small = a.allocate(100);                                     // class 512
  CachingAllocatorStats s = a.stats();
  CHECK(s.bytes_in_use == 12 * MB + 512);
  CHECK(s.peak_bytes_in_use == 12 * MB + 512);
  CHECK(s.bytes_cached == 0);
  a.free(blocks[0]);
  a.free(blocks[1]);
  s = a.stats();
  CHECK(s.bytes_in_use == 6 * MB + 512);
  CHECK(s.bytes_cached == 6 * MB);
  CHECK(s.peak_bytes_in_use == 12 * MB + 512);  // the peak stays
  CHECK(fake.held == 12 * MB + 512);            // the backend still holds everything
  a.reset_peak();
  CHECK(a.stats().peak_bytes_in_use == 6 * MB + 512);

  a.empty_cache();
  s = a.stats();
  CHECK(s.bytes_cached == 0);
  CHECK(s.bytes_in_use == 6 * MB + 512);  // live blocks are untouched
  CHECK(s.backend_frees == 2);
  CHECK(fake.frees == 2);
  CHECK(fake.held == 6 * MB + 512);
  void* again = a.allocate(3 * MB);  // the cache is empty: the backend again
  CHECK(fake.allocs == 6);
  for (void* p : {blocks[2], blocks[3], small, again}) a.free(p);
}

TEST_CASE("caching allocator: out of memory empties the cache and retries once; then one error line") {
  FakeBackend fake;
  fake.capacity = 10 * MB;
  CachingAllocator a = fake.make();
  void* x = a.allocate(4 * MB);
  void* y = a.allocate(4 * MB);
  a.free(x);
  a.free(y);  // 8 MiB cached, in the 4 MiB class
  CHECK(a.stats().bytes_cached == 8 * MB);
  void* big = a.allocate(6 * MB);  // fails (8 + 6 > 10), the cache goes back, the retry succeeds
  CHECK(fake.failures == 1);
  CHECK(fake.frees == 2);
  CachingAllocatorStats s = a.stats();
  CHECK(s.bytes_cached == 0);
  CHECK(s.bytes_in_use == 6 * MB);
  CHECK(s.backend_allocations == 3);
  // nothing to give back: one failure, one error naming the device and the sizes
  CHECK(error_of([&] { a.allocate(5 * MB); }) ==
        "fake:0: out of memory allocating 5242880 bytes (6291456 bytes in use by tensors, the cache is empty)");
  CHECK(fake.failures == 2);
  a.free(big);
  void* again = a.allocate(6 * MB);  // the freed block, from the cache
  CHECK(again == big);
  a.free(again);
}

TEST_CASE("caching allocator: threads allocating and freeing at once keep the figures exact") {
  FakeBackend fake;
  CachingAllocator a = fake.make();
  const int n_threads = 8, rounds = 400;
  int bad = 0;
#pragma omp parallel for num_threads(n_threads) reduction(+ : bad)
  for (int t = 0; t < n_threads; ++t) {
    std::vector<unsigned char*> mine;
    for (int r = 0; r < rounds; ++r) {
      const size_t n = 512 * size_t(1 + (r + t) % 5);
      auto* p = static_cast<unsigned char*>(a.allocate(n));
      std::memset(p, t, n);  // a block handed to two threads at once would be overwritten
      mine.push_back(p);
      if (r % 3 == 2) {  // free two of every three, the oldest first
        for (int k = 0; k < 2; ++k) {
          unsigned char* q = mine.front();
          bad += q[0] != t || q[511] != t;
          a.free(q);
          mine.erase(mine.begin());
        }
      }
    }
    for (unsigned char* q : mine) {
      bad += q[0] != t;
      a.free(q);
    }
  }
  CHECK(bad == 0);
  const CachingAllocatorStats s = a.stats();
  CHECK(s.bytes_in_use == 0);
  CHECK(s.bytes_cached == fake.held);  // every block the backend gave is now in the cache
  CHECK(s.backend_allocations == uint64_t(fake.allocs));
  CHECK(s.backend_allocations + s.cache_hits == uint64_t(n_threads * rounds));
  CHECK(s.cache_hits > 0);
  a.empty_cache();
  CHECK(fake.held == 0);
  CHECK(fake.live.empty());
}
