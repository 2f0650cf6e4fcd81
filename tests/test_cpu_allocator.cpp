#include <cstdint>
#include <cstring>

#include "tensor/cpu_allocator.h"
#include "tests/test_util.h"

using namespace sg;

namespace {
constexpr size_t MB = size_t(1) << 20;
char* take(CpuArena& a, size_t n, size_t* got = nullptr) {
  size_t bytes = 0;
  char* p = static_cast<char*>(a.allocate(n, &bytes));
  REQUIRE(p != nullptr);
  CHECK(bytes >= n);
  CHECK(bytes % CpuArena::kAlign == 0);
  CHECK(reinterpret_cast<uintptr_t>(p) % CpuArena::kAlign == 0);
  std::memset(p, 1, n);  // the memory is really there
  if (got) *got = bytes;
  return p;
}
}  // namespace

TEST_CASE("cpu allocator: the arena reuses a freed range for a smaller block, at the same address") {
  CpuArena a;
  size_t nb = 0;
  char* x = take(a, 3 * MB);
  char* y = take(a, 5 * MB, &nb);
  char* z = take(a, 2 * MB);
  CHECK(y == x + 3 * MB);  // carved one after the other from the first region
  CHECK(z == y + 5 * MB);
  const size_t mapped = a.mapped_bytes();
  a.release(y, nb);
  char* w = take(a, 4 * MB);  // best fit: y's range, not the rest of the region
  CHECK(w == y);
  CHECK(a.mapped_bytes() == mapped);
  (void)x;
}

TEST_CASE("cpu allocator: freed neighbours merge, so two small blocks make room for a big one") {
  CpuArena a;
  size_t na = 0, nb = 0, nc = 0;
  char* p = take(a, 8 * MB, &na);
  char* q = take(a, 8 * MB, &nb);
  char* r = take(a, CpuArena::kRegionBytes - 16 * MB, &nc);  // fills the first region exactly
  CHECK(a.mapped_bytes() == CpuArena::kRegionBytes);
  CHECK(a.free_bytes() == 0);
  a.release(p, na);
  a.release(q, nb);  // merges with p's range: one free range of 16 MB
  CHECK(a.free_ranges() == 1);
  char* big = take(a, 16 * MB);
  CHECK(big == p);
  CHECK(a.mapped_bytes() == CpuArena::kRegionBytes);  // no new region was needed
  a.release(big, 16 * MB);
  a.release(r, nc);
  CHECK(a.free_ranges() == 1);  // everything merged back into the one region
  CHECK(a.free_bytes() == CpuArena::kRegionBytes);
}

TEST_CASE("cpu allocator: a block larger than a region gets a region of its own; ranges never merge across regions") {
  CpuArena a;
  size_t n1 = 0, n2 = 0;
  char* small = take(a, 1 * MB, &n1);
  char* huge = take(a, CpuArena::kRegionBytes + 3 * MB, &n2);
  CHECK(a.mapped_bytes() >= 2 * CpuArena::kRegionBytes + 3 * MB);
  a.release(huge, n2);
  a.release(small, n1);
  CHECK(a.free_ranges() >= 2);  // one per region at least
  CHECK(a.free_bytes() == a.mapped_bytes());
  a.drop_free_pages();  // their pages leave the resident set; the ranges stay usable
  char* again = take(a, 2 * MB);
  CHECK(again != nullptr);
}

TEST_CASE("cpu allocator: cpu_alloc gives aligned, writable blocks of every size") {
  for (size_t n : {size_t(1), size_t(100), size_t(4096), size_t(70000), MB - 1, MB, 3 * MB + 5, 40 * MB}) {
    size_t bytes = 0;
    void* p = cpu_alloc(n, &bytes);
    REQUIRE(p != nullptr);
    CHECK(bytes >= n);
    CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
    std::memset(p, 0xAB, n);
    cpu_free(p, bytes);
  }
  empty_cpu_cache();
}
