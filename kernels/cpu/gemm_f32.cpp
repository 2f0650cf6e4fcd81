// The float32 GEMM behind every convolution: C = alpha A B + beta C, written
// the way BLIS and OpenBLAS are (Goto & van de Geijn, "Anatomy of
// High-Performance Matrix Multiplication", 2008). On one core of the
// development machine (AVX2), Eigen's GEMM reaches about 45% of the FMA peak,
// this one about 75% (tests/test_gemm.cpp checks it, README has the figures).
//
// The idea: almost all the time is spent in a micro-kernel that keeps an
// MR x NR tile of C in registers and, for each k, adds the outer product of
// an MR-column of A and an NR-row of B: MR*NR/lanes FMAs per 2 loads of B and
// MR broadcasts of A. Everything else exists to feed it from cache:
//
//   for each NC-wide block of columns of B          (B block stays in L3)
//     for each KC-deep slice of k                    (pack B[slice, block] in NR-wide panels)
//       for each MC-tall block of rows of A          (pack A[block, slice] in MR-tall panels, stays in L2)
//         for each NR panel, for each MR panel: micro-kernel over KC values of k
//
// Packing copies the operands into the exact order the micro-kernel reads
// them (contiguous, zero-padded to whole panels), so the kernel never checks
// a bound and every load is sequential; it also makes any input stride work.
#include "kernels/cpu/gemm_f32.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace sg::cpu {

namespace {

using namespace simd;  // Vec, kLanes, vload, vfma, ... (kernels/cpu/simd.h)

// Register tile: 6 rows x 2 vectors = 12 accumulators, plus 2 for B and 1 for
// A: 15 of the 16 vector registers AVX2 has.
constexpr int64_t MR = kGemmF32MR, NR = kGemmF32NR;
// Cache blocks: an MC x KC block of A (120 KB) fits in L2, a KC x NR panel of
// B (16-32 KB) in L1, a KC x NC block of B in L3.
constexpr int64_t KC = 256, MC = 120, NC = 3072;

// A strided matrix: element (i, j) is p[i * rs + j * cs].
struct View {
  const float* p;
  int64_t rs, cs;
  float at(int64_t i, int64_t j) const { return p[i * rs + j * cs]; }
};

// Packs A[0:mc, 0:kc] as ceil(mc / MR) panels; panel r holds, for each k, the
// MR values A[r*MR .. r*MR+MR-1][k] (zeros past mc).
void pack_a(View a, int64_t mc, int64_t kc, float* out) {
  for (int64_t r = 0; r < mc; r += MR) {
    const int64_t rows = std::min(MR, mc - r);
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t i = 0; i < rows; ++i) out[i] = a.at(r + i, k);
      for (int64_t i = rows; i < MR; ++i) out[i] = 0.0f;
      out += MR;
    }
  }
}

// Packs B[0:kc, 0:nc] as ceil(nc / NR) panels; panel c holds, for each k, the
// NR values B[k][c*NR .. c*NR+NR-1] (zeros past nc).
void pack_b(View b, int64_t kc, int64_t nc, float* out) {
  for (int64_t c = 0; c < nc; c += NR) {
    const int64_t cols = std::min(NR, nc - c);
    if (b.cs == 1 && cols == NR) {  // the common case: rows of B are contiguous
      for (int64_t k = 0; k < kc; ++k, out += NR) std::copy(b.p + k * b.rs + c, b.p + k * b.rs + c + NR, out);
      continue;
    }
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t j = 0; j < cols; ++j) out[j] = b.at(k, c + j);
      for (int64_t j = cols; j < NR; ++j) out[j] = 0.0f;
      out += NR;
    }
  }
}

// C[0:MR, 0:NR] (row stride ldc) = alpha * (A panel x B panel) + beta * C,
// over kc values of k. beta == 0 never reads C (it may be uninitialised).
// The twelve accumulators are named variables: GCC keeps those in registers.
void micro_kernel(int64_t kc, const float* a, const float* b, float alpha, float beta, float* c, int64_t ldc) {
  Vec c00 = vzero(), c01 = vzero(), c10 = vzero(), c11 = vzero(), c20 = vzero(), c21 = vzero();
  Vec c30 = vzero(), c31 = vzero(), c40 = vzero(), c41 = vzero(), c50 = vzero(), c51 = vzero();
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    const Vec b0 = vload(b), b1 = vload(b + kLanes);
    Vec ai = vsplat(a[0]);
    c00 = vfma(ai, b0, c00), c01 = vfma(ai, b1, c01);
    ai = vsplat(a[1]);
    c10 = vfma(ai, b0, c10), c11 = vfma(ai, b1, c11);
    ai = vsplat(a[2]);
    c20 = vfma(ai, b0, c20), c21 = vfma(ai, b1, c21);
    ai = vsplat(a[3]);
    c30 = vfma(ai, b0, c30), c31 = vfma(ai, b1, c31);
    ai = vsplat(a[4]);
    c40 = vfma(ai, b0, c40), c41 = vfma(ai, b1, c41);
    ai = vsplat(a[5]);
    c50 = vfma(ai, b0, c50), c51 = vfma(ai, b1, c51);
  }
  const Vec va = vsplat(alpha), vb = vsplat(beta);
  auto store = [&](float* row, Vec lo, Vec hi) {
    if (beta == 0.0f) {
      vstore(row, vmul(va, lo));
      vstore(row + kLanes, vmul(va, hi));
    } else {
      vstore(row, vfma(va, lo, vmul(vb, vload(row))));
      vstore(row + kLanes, vfma(va, hi, vmul(vb, vload(row + kLanes))));
    }
  };
  store(c, c00, c01);
  store(c + ldc, c10, c11);
  store(c + 2 * ldc, c20, c21);
  store(c + 3 * ldc, c30, c31);
  store(c + 4 * ldc, c40, c41);
  store(c + 5 * ldc, c50, c51);
}

// A partial tile at the right or bottom edge: the kernel writes a full tile
// into a buffer, and the rows x cols that exist are copied out.
void edge_kernel(int64_t kc, const float* a, const float* b, float alpha, float beta, float* c, int64_t ldc,
                 int64_t rows, int64_t cols) {
  alignas(64) float tile[MR * NR];
  micro_kernel(kc, a, b, alpha, 0.0f, tile, NR);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      c[i * ldc + j] = tile[i * NR + j] + (beta == 0.0f ? 0.0f : beta * c[i * ldc + j]);
}

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

// Each thread's packing buffers, allocated once.
float* packing_buffer(bool for_a) {
  thread_local std::unique_ptr<float, FreeDeleter> a, b;
  auto& buf = for_a ? a : b;
  if (!buf) {
    const size_t floats = for_a ? size_t(MC * KC) : size_t(KC * (NC + NR));
    buf.reset(static_cast<float*>(std::aligned_alloc(64, floats * sizeof(float))));
    if (!buf) throw std::bad_alloc();
  }
  return buf.get();
}

// The blocked algorithm on one thread.
void gemm_serial(int64_t M, int64_t N, int64_t K, float alpha, View A, View B, float beta, float* C, int64_t ldc) {
  float* const pa = packing_buffer(true);
  float* const pb = packing_buffer(false);
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const float beta_here = pc == 0 ? beta : 1.0f;  // later slices add to what the first wrote
      pack_b({B.p + pc * B.rs + jc * B.cs, B.rs, B.cs}, kc, nc, pb);
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = std::min(MC, M - ic);
        pack_a({A.p + ic * A.rs + pc * A.cs, A.rs, A.cs}, mc, kc, pa);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t cols = std::min(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t rows = std::min(MR, mc - ir);
            float* c = C + (ic + ir) * ldc + jc + jr;
            const float* a = pa + ir * kc;
            const float* b = pb + jr * kc;
            if (rows == MR && cols == NR)
              micro_kernel(kc, a, b, alpha, beta_here, c, ldc);
            else
              edge_kernel(kc, a, b, alpha, beta_here, c, ldc, rows, cols);
          }
        }
      }
    }
  }
}

}  // namespace

void gemm_f32(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t rsA, int64_t csA, const float* B,
              int64_t rsB, int64_t csB, float beta, float* C, int64_t ldc) {
  const View a{A, rsA, csA}, b{B, rsB, csB};
  // Inside a parallel region (the convolutions' tasks) each call is one
  // thread's; outside, split the larger of M and N into whole tiles, one
  // share per thread, when there is enough work to share.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads == 1 || double(M) * double(N) * double(K) < double(1 << 21)) {
    gemm_serial(M, N, K, alpha, a, b, beta, C, ldc);
    return;
  }
  const bool split_n = N >= M;
  const int64_t tile = split_n ? NR : MR, extent = split_n ? N : M;
  const int64_t tiles = (extent + tile - 1) / tile;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t begin = std::min(extent, tiles * t / n * tile), end = std::min(extent, tiles * (t + 1) / n * tile);
    if (end > begin) {
      if (split_n)
        gemm_serial(M, end - begin, K, alpha, a, {B + begin * csB, rsB, csB}, beta, C + begin, ldc);
      else
        gemm_serial(end - begin, N, K, alpha, {A + begin * rsA, rsA, csA}, b, beta, C + begin * ldc, ldc);
    }
  }
}

void gemm_f32_prepacked(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C, int64_t ldc) {
  // Each B panel (K x NR) is read from L1 while every A panel passes over it.
  for (int64_t jr = 0; jr < N; jr += NR) {
    const int64_t cols = std::min(NR, N - jr);
    const float* b = B + jr * K;
    for (int64_t ir = 0; ir < M; ir += MR) {
      const int64_t rows = std::min(MR, M - ir);
      const float* a = A + ir * K;
      float* c = C + ir * ldc + jr;
      if (rows == MR && cols == NR)
        micro_kernel(K, a, b, 1.0f, 0.0f, c, ldc);
      else
        edge_kernel(K, a, b, 1.0f, 0.0f, c, ldc, rows, cols);
    }
  }
}

}  // namespace sg::cpu
