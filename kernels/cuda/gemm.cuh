// float32 GEMM tiled in shared memory, C = A B, with the matrices read through
// a "problem": an object that says what element (i, k) of A and (k, j) of B
// are and where element (i, j) of C goes. For matmul they are strided
// matrices (StridedGemm below); for the convolutions (conv.cuh) A and B are
// read on the fly from an image and a weight -- the implicit GEMM: no im2col
// matrix is ever written to memory.
//
// A block computes a 64 x 64 tile of C: for each 16-wide slice of K it loads a
// 64 x 16 tile of A and a 16 x 64 tile of B into shared memory (zeros past the
// matrix edges, so no size need be a multiple of the tile), waits, and each of
// its 16 x 16 threads adds the 4 x 4 products of its outputs. Thread (tx, ty)
// owns rows ty + 16 i and columns tx + 16 j, so that neighbouring threads read
// neighbouring shared words and write neighbouring words of C.
//
// Grid: x over the columns of C, y over its rows, z over (batch, split): the
// problem's batch index (a matrix of a batch, a convolution's group) and, for
// a split K (a long reduction spread over several blocks), which part of K.
//
// A problem P has, all __device__ and const:
//   P for_batch(int64_t b)           the problem of matrix b (pointers offset)
//   K k_info(int64_t k)              what index k of K means (a tap, a pixel),
//                                    decoded once per block and K tile, into
//                                    shared memory, not once per element
//   Col col(int64_t j)               the same for column j (once per thread)
//   float a(int64_t i, const K&)     element (i, k) of A, for i < M, k < K
//   float b(const Col&, const K&)    element (k, j) of B
//   void store(const Col&, int64_t split, int64_t i, float v)   C(i, j) := v
// K and Col are plain structs (no initialisers: K lives in __shared__).
#pragma once
#include <cstdlib>

#include "kernels/cuda/common.cuh"

namespace sg::SG_KERNELS {

constexpr int kGemmTileM = 64, kGemmTileN = 64, kGemmTileK = 16;
constexpr int kGemmThreadsX = 16, kGemmThreadsY = 16;  // 256 threads, 4 x 4 outputs each
constexpr int kGemmThreads = kGemmThreadsX * kGemmThreadsY;
constexpr int kGemmPerThreadM = kGemmTileM / kGemmThreadsY, kGemmPerThreadN = kGemmTileN / kGemmThreadsX;
// Each thread loads the same column of every B tile and the same k of every A tile.
static_assert(kGemmThreads % kGemmTileN == 0 && kGemmThreads % kGemmTileK == 0, "tile loads");

// The sizes of one product of a problem: C [M x N] = A [M x K] B [K x N], K cut
// into `splits` parts of k_per_split (a multiple of kGemmTileK) each.
struct GemmSizes {
  int64_t M = 0, N = 0, K = 0;
  int64_t splits = 1, k_per_split = 0;
};

// Loads the K tile at k0 into As [kGemmTileK][>= kGemmTileM] (A's columns k0..)
// and Bs [kGemmTileK][>= kGemmTileN], rounded by round_element (zeros past the
// edges); the caller waits on __syncthreads() before reading them.
template <class P, int kLdA, int kLdB, class Round>
__device__ __forceinline__ void load_tiles(const P& p, const GemmSizes& s, int64_t row0, int64_t k0, int64_t k_end,
                                           bool b_inside, const typename P::Col& b_col, typename P::K* ks,
                                           float (*As)[kLdA], float (*Bs)[kLdB], Round round_element) {
  const int t = threadIdx.y * kGemmThreadsX + threadIdx.x;
  if (t < kGemmTileK && k0 + t < k_end) ks[t] = p.k_info(k0 + t);
  __syncthreads();  // the tile's indices are decoded before the loads read them
  // This thread's share: rows ai + 16 r of A at column ak (consecutive
  // threads, consecutive k), and column bj of B at rows bk + 4 r.
  const int ak = t % kGemmTileK, ai = t / kGemmTileK, bj = t % kGemmTileN, bk = t / kGemmTileN;
  for (int i = ai; i < kGemmTileM; i += kGemmThreads / kGemmTileK) {
    const int64_t gi = row0 + i;
    As[ak][i] = (gi < s.M && k0 + ak < k_end) ? round_element(p.a(gi, ks[ak])) : 0.f;
  }
  for (int k = bk; k < kGemmTileK; k += kGemmThreads / kGemmTileN)
    Bs[k][bj] = (b_inside && k0 + k < k_end) ? round_element(p.b(b_col, ks[k])) : 0.f;
}

struct AsIs {
  __device__ float operator()(float x) const { return x; }
};

template <class P>
__global__ void tiled_gemm_kernel(P problem, GemmSizes s) {
  __shared__ float As[kGemmTileK][kGemmTileM];  // k-major: a thread's 4 rows are 16 words apart
  __shared__ float Bs[kGemmTileK][kGemmTileN];
  __shared__ typename P::K ks[kGemmTileK];
  const P p = problem.for_batch(int64_t(blockIdx.z) / s.splits);
  const int64_t split = int64_t(blockIdx.z) % s.splits;
  const int64_t k_begin = split * s.k_per_split;
  const int64_t k_end = k_begin + s.k_per_split < s.K ? k_begin + s.k_per_split : s.K;
  const int tx = threadIdx.x, ty = threadIdx.y, t = ty * kGemmThreadsX + tx;
  const int64_t row0 = int64_t(blockIdx.y) * kGemmTileM, col0 = int64_t(blockIdx.x) * kGemmTileN;
  const int64_t bj = col0 + t % kGemmTileN;  // the column of B this thread loads
  const bool b_inside = bj < s.N;
  const typename P::Col b_col = p.col(b_inside ? bj : 0);
  float acc[kGemmPerThreadM][kGemmPerThreadN] = {};
  for (int64_t k0 = k_begin; k0 < k_end; k0 += kGemmTileK) {
    load_tiles(p, s, row0, k0, k_end, b_inside, b_col, ks, As, Bs, AsIs());
    __syncthreads();  // the tiles are loaded before anyone reads them
    for (int k = 0; k < kGemmTileK; ++k) {
      float a[kGemmPerThreadM], b[kGemmPerThreadN];
      for (int i = 0; i < kGemmPerThreadM; ++i) a[i] = As[k][ty + kGemmThreadsY * i];
      for (int j = 0; j < kGemmPerThreadN; ++j) b[j] = Bs[k][tx + kGemmThreadsX * j];
      for (int i = 0; i < kGemmPerThreadM; ++i)
        for (int j = 0; j < kGemmPerThreadN; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();  // everyone is done with the tiles before they are overwritten
  }
  for (int j = 0; j < kGemmPerThreadN; ++j) {
    const int64_t c = col0 + tx + kGemmThreadsX * j;
    if (c >= s.N) continue;
    const typename P::Col out_col = p.col(c);
    for (int i = 0; i < kGemmPerThreadM; ++i) {
      const int64_t r = row0 + ty + kGemmThreadsY * i;
      if (r < s.M) p.store(out_col, split, r, acc[i][j]);
    }
  }
}

// ---- the TF32 tensor-core path ----
// The same tiles, loads and grid, with each 16-wide slice of K multiplied by
// the warps' tensor cores: mma.sync m16n8k8 with TF32 operands (inputs rounded
// to 10 mantissa bits, as cvt.rna.tf32 does: to nearest, ties away from zero)
// and float32 accumulation. The 8 warps of a block tile its 64 x 64 outputs
// 2 x 4, 32 x 16 each: 2 x 2 mma tiles of 16 x 8. Where there is no mma
// (emulation, GPUs before sm_80) its twin below does the same arithmetic with
// the same fragments, so the emulated tests check the tiling and fragment
// layout the tensor cores get. Chosen by gemm_math() (below).

enum class GemmMath { fp32, tf32 };

constexpr int kTcPad = 8;  // shared rows of 72 words: a fragment read hits 32 different banks
constexpr int kTcWarpsM = 2, kTcWarpsN = 4;
constexpr int kTcWarpTileM = kGemmTileM / kTcWarpsM, kTcWarpTileN = kGemmTileN / kTcWarpsN;
constexpr int kTcMmaM = 16, kTcMmaN = 8, kTcMmaK = 8;
constexpr int kTcTilesM = kTcWarpTileM / kTcMmaM, kTcTilesN = kTcWarpTileN / kTcMmaN;
static_assert(kTcWarpsM * kTcWarpsN * 32 == kGemmThreads && kGemmTileK % kTcMmaK == 0, "tensor-core tiling");

// x rounded to TF32: the 13 low mantissa bits dropped, to nearest, ties away
// from zero (on the magnitude: the bits are sign and magnitude). Inf and NaN as they are.
__device__ __forceinline__ float round_to_tf32(float x) {
#ifdef __CUDACC__
  unsigned u = __float_as_uint(x);
#else
  unsigned u;
  __builtin_memcpy(&u, &x, sizeof u);
#endif
  if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;
#ifdef __CUDACC__
  return __uint_as_float(u);
#else
  __builtin_memcpy(&x, &u, sizeof u);
  return x;
#endif
}

struct ToTf32 {
  __device__ float operator()(float x) const { return round_to_tf32(x); }
};

// d += A B for one 16 x 8 x 8 tile held by a warp in mma.sync's fragments
// (lane = 4 g + q): a = A[g][q], A[g+8][q], A[g][q+4], A[g+8][q+4];
// b = B[q][g], B[q+4][g]; d = D[g][2q], D[g][2q+1], D[g+8][2q], D[g+8][2q+1].
// The twin gathers each lane's rows of A and columns of B from the lanes that
// hold them, and adds the 8 products in k order.
__device__ __forceinline__ void mma_tf32_twin(float d[4], const float a[4], const float b[2]) {
  const unsigned lane = (threadIdx.y * blockDim.x + threadIdx.x) % 32, g = lane / 4, q = lane % 4;
  for (int k = 0; k < kTcMmaK; ++k) {
    const int hi = k / 4;  // k < 4: registers a0, a1, b0; else a2, a3, b1
    const unsigned from = unsigned(k % 4);
    const float a_g = __shfl_sync(0xffffffffu, a[2 * hi], int(g * 4 + from));
    const float a_g8 = __shfl_sync(0xffffffffu, a[2 * hi + 1], int(g * 4 + from));
    const float b_0 = __shfl_sync(0xffffffffu, b[hi], int(2 * q * 4 + from));
    const float b_1 = __shfl_sync(0xffffffffu, b[hi], int((2 * q + 1) * 4 + from));
    d[0] += a_g * b_0;
    d[1] += a_g * b_1;
    d[2] += a_g8 * b_0;
    d[3] += a_g8 * b_1;
  }
}

__device__ __forceinline__ void mma_tf32(float d[4], const float a[4], const float b[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(__float_as_uint(a[0])), "r"(__float_as_uint(a[1])), "r"(__float_as_uint(a[2])),
        "r"(__float_as_uint(a[3])), "r"(__float_as_uint(b[0])), "r"(__float_as_uint(b[1])));
#else
  mma_tf32_twin(d, a, b);
#endif
}

template <class P>
__global__ void tiled_gemm_tf32_kernel(P problem, GemmSizes s) {
  __shared__ float As[kGemmTileK][kGemmTileM + kTcPad];  // TF32-rounded as they are stored
  __shared__ float Bs[kGemmTileK][kGemmTileN + kTcPad];
  __shared__ typename P::K ks[kGemmTileK];
  const P p = problem.for_batch(int64_t(blockIdx.z) / s.splits);
  const int64_t split = int64_t(blockIdx.z) % s.splits;
  const int64_t k_begin = split * s.k_per_split;
  const int64_t k_end = k_begin + s.k_per_split < s.K ? k_begin + s.k_per_split : s.K;
  const int t = threadIdx.y * kGemmThreadsX + threadIdx.x;
  const int64_t row0 = int64_t(blockIdx.y) * kGemmTileM, col0 = int64_t(blockIdx.x) * kGemmTileN;
  const int64_t bj = col0 + t % kGemmTileN;  // the loads: as tiled_gemm_kernel's
  const bool b_inside = bj < s.N;
  const typename P::Col b_col = p.col(b_inside ? bj : 0);
  // This warp's 32 x 16 outputs, and this lane's place in the fragments.
  const int warp = t / 32, lane = t % 32, g = lane / 4, q = lane % 4;
  const int m0 = warp % kTcWarpsM * kTcWarpTileM, n0 = warp / kTcWarpsM * kTcWarpTileN;
  float acc[kTcTilesM][kTcTilesN][4] = {};
  for (int64_t k0 = k_begin; k0 < k_end; k0 += kGemmTileK) {
    load_tiles(p, s, row0, k0, k_end, b_inside, b_col, ks, As, Bs, ToTf32());
    __syncthreads();  // the tiles are loaded before anyone reads them
    for (int kk = 0; kk < kGemmTileK; kk += kTcMmaK) {
      float a[kTcTilesM][4], b[kTcTilesN][2];
      for (int mi = 0; mi < kTcTilesM; ++mi) {
        const int r = m0 + mi * kTcMmaM + g;
        a[mi][0] = As[kk + q][r], a[mi][1] = As[kk + q][r + 8];
        a[mi][2] = As[kk + q + 4][r], a[mi][3] = As[kk + q + 4][r + 8];
      }
      for (int ni = 0; ni < kTcTilesN; ++ni) {
        const int c = n0 + ni * kTcMmaN + g;
        b[ni][0] = Bs[kk + q][c], b[ni][1] = Bs[kk + q + 4][c];
      }
      for (int mi = 0; mi < kTcTilesM; ++mi)
        for (int ni = 0; ni < kTcTilesN; ++ni) mma_tf32(acc[mi][ni], a[mi], b[ni]);
    }
    __syncthreads();  // everyone is done with the tiles before they are overwritten
  }
  for (int ni = 0; ni < kTcTilesN; ++ni)
    for (int odd = 0; odd < 2; ++odd) {
      const int64_t c = col0 + n0 + ni * kTcMmaN + 2 * q + odd;
      if (c >= s.N) continue;
      const typename P::Col out_col = p.col(c);
      for (int mi = 0; mi < kTcTilesM; ++mi)
        for (int lower = 0; lower < 2; ++lower) {
          const int64_t r = row0 + m0 + mi * kTcMmaM + g + 8 * lower;
          if (r < s.M) p.store(out_col, split, r, acc[mi][ni][2 * lower + odd]);
        }
    }
}

// The math every GEMM of this table (matmul, gram, the convolutions) uses:
// fp32 by default; tf32 when the environment has STYLEGRAD_CUDA_TF32=1, or when set.
inline GemmMath& gemm_math() {
  static GemmMath math = [] {
    const char* env = std::getenv("STYLEGRAD_CUDA_TF32");
    return env && env[0] == '1' ? GemmMath::tf32 : GemmMath::fp32;
  }();
  return math;
}

// Launches the tiled GEMM of problem p over n_batch batches.
template <class P>
void launch_tiled_gemm(const P& p, const GemmSizes& s, int64_t n_batch, cudaStream_t stream, const char* what) {
  SG_CHECK(n_batch * s.splits <= 65535, what, ": ", n_batch, " matrices (times ", s.splits,
           " parts of K) is more than the kernel's grid takes (65535)");
  SG_CHECK((s.M + kGemmTileM - 1) / kGemmTileM <= 65535, what, ": ", s.M, " rows is more than the kernel's grid takes");
  const dim3 grid(unsigned((s.N + kGemmTileN - 1) / kGemmTileN), unsigned((s.M + kGemmTileM - 1) / kGemmTileM),
                  unsigned(n_batch * s.splits));
  const dim3 block(kGemmThreadsX, kGemmThreadsY);
  if (gemm_math() == GemmMath::tf32)
    SG_LAUNCH(tiled_gemm_tf32_kernel<P>, grid, block, 0, stream)(p, s);
  else
    SG_LAUNCH(tiled_gemm_kernel<P>, grid, block, 0, stream)(p, s);
  SG_CHECK_LAUNCH(what);
}

// The sizes of a product with K whole (no split).
inline GemmSizes whole_k(int64_t M, int64_t N, int64_t K) {
  GemmSizes s;
  s.M = M, s.N = N, s.K = K;
  s.splits = 1;
  s.k_per_split = K;
  return s;
}

struct GemmBatch {
  StridedView batch;  // out's batch sizes (a 1-element view when there is none)
  StridedView a_batch, b_batch;  // the same sizes, with a's and b's batch strides (0 where broadcast)
};

// Strided matrices: element (i, k) of A is A[i*rsA + k*csA], and so on; C is
// contiguous, [M x N] per batch.
struct StridedGemm {
  const float* A;
  int64_t rsA, csA;
  const float* B;
  int64_t rsB, csB;
  float* C;
  int64_t N;  // C's row length
  int64_t c_batch_stride;
  GemmBatch batch;

  struct K {
    int64_t a_offset, b_offset;  // k * csA, k * rsB
  };
  using Col = int64_t;
  __device__ StridedGemm for_batch(int64_t z) const {
    StridedGemm p = *this;
    p.A += offset_of(batch.a_batch, z);
    p.B += offset_of(batch.b_batch, z);
    p.C += z * c_batch_stride;
    return p;
  }
  __device__ K k_info(int64_t k) const { return K{k * csA, k * rsB}; }
  __device__ float a(int64_t i, const K& k) const { return A[i * rsA + k.a_offset]; }
  __device__ Col col(int64_t j) const { return j; }
  __device__ float b(Col j, const K& k) const { return B[k.b_offset + j * csB]; }
  __device__ void store(Col j, int64_t, int64_t i, float v) const { C[i * N + j] = v; }
};

inline void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B,
                  int64_t rsB, int64_t csB, float* C, const GemmBatch& batch, int64_t n_batch, cudaStream_t stream,
                  const char* what = "matmul") {
  const StridedGemm p{A, rsA, csA, B, rsB, csB, C, N, M * N, batch};
  launch_tiled_gemm(p, whole_k(M, N, K), n_batch, stream, what);
}

}  // namespace sg::SG_KERNELS
