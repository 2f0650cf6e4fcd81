// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011): a counter-based random number generator. Four 32-bit words out are
// a fixed function of a 128-bit counter and a 64-bit key, ten rounds of
//
//   (hi0, lo0) = M0 * c0,  (hi1, lo1) = M1 * c2   (32 x 32 -> 64-bit products)
//   c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0),  then k += (W0, W1)
//
// so element i of a random tensor needs no state but its index: every thread
// of a GPU, every CPU thread, and every device draw the same numbers for the
// same (key, counter). Dropout's masks (kernels/cpu/dropout.h,
// kernels/cuda/dropout.cuh) use it. Included by the CPU and the CUDA kernels,
// so it is plain arithmetic, callable from host and device code.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define SG_PHILOX_FN __host__ __device__ inline
#else
#define SG_PHILOX_FN inline
#endif

namespace sg {

struct Philox4x32 {
  uint32_t v[4];
};

SG_PHILOX_FN Philox4x32 philox4x32_10(Philox4x32 counter, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // the multipliers
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // the key schedule's Weyl increments
  uint32_t c0 = counter.v[0], c1 = counter.v[1], c2 = counter.v[2], c3 = counter.v[3];
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(kM0) * c0, p1 = uint64_t(kM1) * c2;
    const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0), hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    c0 = hi1 ^ c1 ^ key0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ key1;
    c3 = lo0;
    key0 += kW0;
    key1 += kW1;
  }
  return {{c0, c1, c2, c3}};
}

// The four words for group g (elements 4g .. 4g+3) of the stream `seed`:
// the counter is g, the key is the seed.
SG_PHILOX_FN Philox4x32 philox_group(uint64_t seed, uint64_t group) {
  return philox4x32_10({{uint32_t(group), uint32_t(group >> 32), 0u, 0u}}, uint32_t(seed), uint32_t(seed >> 32));
}

// A word as a uniform number in [0, 1): exact in double (32 bits of mantissa).
SG_PHILOX_FN double philox_uniform(uint32_t word) { return double(word) * (1.0 / 4294967296.0); }

}  // namespace sg
