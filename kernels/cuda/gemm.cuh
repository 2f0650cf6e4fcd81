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
//   float a(int64_t i, int64_t k)    element (i, k) of A, for i < M, k < K
//   Col col(int64_t j)               what column j needs to be read and written
//                                    (decoded once per thread, not per element)
//   float b(const Col&, int64_t k)   element (k, j) of B
//   void store(const Col&, int64_t split, int64_t i, float v)   C(i, j) := v
#pragma once
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

template <class P>
__global__ void tiled_gemm_kernel(P problem, GemmSizes s) {
  __shared__ float As[kGemmTileK][kGemmTileM];  // k-major: a thread's 4 rows are 16 words apart
  __shared__ float Bs[kGemmTileK][kGemmTileN];
  const P p = problem.for_batch(int64_t(blockIdx.z) / s.splits);
  const int64_t split = int64_t(blockIdx.z) % s.splits;
  const int64_t k_begin = split * s.k_per_split;
  const int64_t k_end = k_begin + s.k_per_split < s.K ? k_begin + s.k_per_split : s.K;
  const int tx = threadIdx.x, ty = threadIdx.y, t = ty * kGemmThreadsX + tx;
  const int64_t row0 = int64_t(blockIdx.y) * kGemmTileM, col0 = int64_t(blockIdx.x) * kGemmTileN;
  // This thread's share of the tile loads: column bj of B at rows bk + 4 r,
  // and rows ai + 16 r of A at column ak (consecutive threads, consecutive k).
  const int bj = t % kGemmTileN, bk = t / kGemmTileN;
  const int ak = t % kGemmTileK, ai = t / kGemmTileK;
  const bool b_inside = col0 + bj < s.N;
  const typename P::Col b_col = p.col(b_inside ? col0 + bj : 0);
  float acc[kGemmPerThreadM][kGemmPerThreadN] = {};
  for (int64_t k0 = k_begin; k0 < k_end; k0 += kGemmTileK) {
    for (int i = ai; i < kGemmTileM; i += kGemmThreads / kGemmTileK) {
      const int64_t gi = row0 + i, gk = k0 + ak;
      As[ak][i] = (gi < s.M && gk < k_end) ? p.a(gi, gk) : 0.f;
    }
    for (int k = bk; k < kGemmTileK; k += kGemmThreads / kGemmTileN) {
      const int64_t gk = k0 + k;
      Bs[k][bj] = (b_inside && gk < k_end) ? p.b(b_col, gk) : 0.f;
    }
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

// Launches the tiled GEMM of problem p over n_batch batches.
template <class P>
void launch_tiled_gemm(const P& p, const GemmSizes& s, int64_t n_batch, cudaStream_t stream, const char* what) {
  SG_CHECK(n_batch * s.splits <= 65535, what, ": ", n_batch, " matrices (times ", s.splits,
           " parts of K) is more than the kernel's grid takes (65535)");
  SG_CHECK((s.M + kGemmTileM - 1) / kGemmTileM <= 65535, what, ": ", s.M, " rows is more than the kernel's grid takes");
  const dim3 grid(unsigned((s.N + kGemmTileN - 1) / kGemmTileN), unsigned((s.M + kGemmTileM - 1) / kGemmTileM),
                  unsigned(n_batch * s.splits));
  const dim3 block(kGemmThreadsX, kGemmThreadsY);
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

  using Col = int64_t;
  __device__ StridedGemm for_batch(int64_t z) const {
    StridedGemm p = *this;
    p.A += offset_of(batch.a_batch, z);
    p.B += offset_of(batch.b_batch, z);
    p.C += z * c_batch_stride;
    return p;
  }
  __device__ float a(int64_t i, int64_t k) const { return A[i * rsA + k * csA]; }
  __device__ Col col(int64_t j) const { return j; }
  __device__ float b(Col j, int64_t k) const { return B[k * rsB + j * csB]; }
  __device__ void store(Col j, int64_t, int64_t i, float v) const { C[i * N + j] = v; }
};

inline void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B,
                  int64_t rsB, int64_t csB, float* C, const GemmBatch& batch, int64_t n_batch, cudaStream_t stream,
                  const char* what = "matmul") {
  const StridedGemm p{A, rsA, csA, B, rsB, csB, C, N, M * N, batch};
  launch_tiled_gemm(p, whole_k(M, N, K), n_batch, stream, what);
}

}  // namespace sg::SG_KERNELS
