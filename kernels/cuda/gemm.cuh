// float32 GEMM tiled in shared memory: C = A B for a batch of matrices.
// A [M x K] and B [K x N] are strided (element (i, k) of A is A[i*rsA + k*csA]),
// C [M x N] is contiguous. A block computes a 64 x 64 tile of C: for each
// 16-wide slice of K it loads a 64 x 16 tile of A and a 16 x 64 tile of B into
// shared memory (zeros past the matrix edges, so no size need be a multiple of
// the tile), waits, and each of its 16 x 16 threads adds the 4 x 4 products of
// its outputs. Thread (tx, ty) owns rows ty + 16 i and columns tx + 16 j, so
// that neighbouring threads read neighbouring shared words and write
// neighbouring words of C.
#pragma once
#include "kernels/cuda/common.cuh"

namespace sg::SG_KERNELS {

constexpr int kGemmTileM = 64, kGemmTileN = 64, kGemmTileK = 16;
constexpr int kGemmThreadsX = 16, kGemmThreadsY = 16;  // 256 threads, 4 x 4 outputs each
constexpr int kGemmPerThreadM = kGemmTileM / kGemmThreadsY, kGemmPerThreadN = kGemmTileN / kGemmThreadsX;

struct GemmBatch {
  StridedView batch;  // out's batch sizes (a 1-element view when there is none)
  StridedView a_batch, b_batch;  // the same sizes, with a's and b's batch strides (0 where broadcast)
};

__global__ void sgemm_tiled_kernel(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA,
                                   const float* B, int64_t rsB, int64_t csB, float* C, GemmBatch batch) {
  __shared__ float As[kGemmTileK][kGemmTileM];  // k-major: a thread's 4 rows are 16 words apart
  __shared__ float Bs[kGemmTileK][kGemmTileN];
  const int64_t z = blockIdx.z;
  A += offset_of(batch.a_batch, z);
  B += offset_of(batch.b_batch, z);
  C += z * M * N;
  const int tx = threadIdx.x, ty = threadIdx.y, t = ty * kGemmThreadsX + tx;
  const int64_t row0 = int64_t(blockIdx.y) * kGemmTileM, col0 = int64_t(blockIdx.x) * kGemmTileN;
  float acc[kGemmPerThreadM][kGemmPerThreadN] = {};
  for (int64_t k0 = 0; k0 < K; k0 += kGemmTileK) {
    for (int e = t; e < kGemmTileM * kGemmTileK; e += kGemmThreadsX * kGemmThreadsY) {
      const int i = e / kGemmTileK, k = e % kGemmTileK;
      const int64_t gi = row0 + i, gk = k0 + k;
      As[k][i] = (gi < M && gk < K) ? A[gi * rsA + gk * csA] : 0.f;
    }
    for (int e = t; e < kGemmTileK * kGemmTileN; e += kGemmThreadsX * kGemmThreadsY) {
      const int k = e / kGemmTileN, j = e % kGemmTileN;
      const int64_t gk = k0 + k, gj = col0 + j;
      Bs[k][j] = (gk < K && gj < N) ? B[gk * rsB + gj * csB] : 0.f;
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
  for (int i = 0; i < kGemmPerThreadM; ++i)
    for (int j = 0; j < kGemmPerThreadN; ++j) {
      const int64_t r = row0 + ty + kGemmThreadsY * i, c = col0 + tx + kGemmThreadsX * j;
      if (r < M && c < N) C[r * N + c] = acc[i][j];
    }
}

inline void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B,
                  int64_t rsB, int64_t csB, float* C, const GemmBatch& batch, int64_t n_batch, cudaStream_t stream) {
  const dim3 grid(unsigned((N + kGemmTileN - 1) / kGemmTileN), unsigned((M + kGemmTileM - 1) / kGemmTileM),
                  unsigned(n_batch));
  const dim3 block(kGemmThreadsX, kGemmThreadsY);
  SG_LAUNCH(sgemm_tiled_kernel, grid, block, 0, stream)(M, N, K, A, rsA, csA, B, rsB, csB, C, batch);
  SG_CHECK_LAUNCH("matmul");
}

}  // namespace sg::SG_KERNELS
