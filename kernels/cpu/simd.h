// The float vector the hand-vectorised kernels use: 16 floats with AVX-512, 8
// with AVX2 + FMA; elsewhere (a portable or sanitizer build) GCC's generic
// vectors, 8 floats done in SSE pairs. One set of operations, so that the
// GEMM micro-kernel (gemm_f32.cpp) and the FMA peak probe (`stylegrad bench
// --workload fma-peak`) run on the same vectors.
#pragma once
#include <cstring>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace sg::cpu::simd {

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
inline Vec vload(const float* p) { return _mm512_loadu_ps(p); }
inline Vec vsplat(float v) { return _mm512_set1_ps(v); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline Vec vmul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
inline Vec vzero() { return _mm512_setzero_ps(); }
inline void vstore(float* p, Vec v) { _mm512_storeu_ps(p, v); }
#elif defined(__AVX2__) && defined(__FMA__)
using Vec = __m256;
constexpr int kLanes = 8;
inline Vec vload(const float* p) { return _mm256_loadu_ps(p); }
inline Vec vsplat(float v) { return _mm256_set1_ps(v); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline Vec vmul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
inline Vec vzero() { return _mm256_setzero_ps(); }
inline void vstore(float* p, Vec v) { _mm256_storeu_ps(p, v); }
#else
// (Without AVX GCC notes that such vectors are passed differently than with
// it: -Wpsabi, off in CMakeLists.txt. Every file of a build has the same
// flags, so no call crosses that line.)
typedef float Vec __attribute__((vector_size(32)));
constexpr int kLanes = 8;
inline Vec vload(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline Vec vsplat(float v) { return Vec{} + v; }
inline Vec vfma(Vec a, Vec b, Vec c) { return a * b + c; }
inline Vec vmul(Vec a, Vec b) { return a * b; }
inline Vec vzero() { return Vec{}; }
inline void vstore(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
#endif

// Makes the compiler forget what it knows of v, so that a chain of operations
// on v can be neither folded nor dropped (benchmarks). In a register where
// the vector has one; the generic vector goes through memory.
inline void opaque(Vec& v) {
#if defined(__AVX512F__)
  asm volatile("" : "+v"(v));
#elif defined(__AVX2__) && defined(__FMA__)
  asm volatile("" : "+x"(v));
#else
  asm volatile("" : "+m"(v));
#endif
}

}  // namespace sg::cpu::simd
