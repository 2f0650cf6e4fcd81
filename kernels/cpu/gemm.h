// General matrix multiply, the workhorse under matmul and convolution.
// C (M x N, row-major, leading dim ldc) = alpha * A (M x K) * B (K x N) + beta * C.
// A and B are strided: element (i, k) of A is A[i * rsA + k * csA]; one of the
// two strides must be 1 (row- or column-major, i.e. transposes are free).
// float32 goes through stylegrad's own packed kernel (gemm_f32.h), float64
// through Eigen; only gemm.cpp includes Eigen, so that the rest of the build
// stays fast.
#pragma once
#include <cstdint>

namespace sg::cpu {
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t rsA, int64_t csA, const T* B,
          int64_t rsB, int64_t csB, T beta, T* C, int64_t ldc);

// The Gram (SYRK) product C (M x M, row-major, leading dim ldc) = alpha * A A^T
// of a row-major A (M x K, leading dim lda). C is symmetric, so only one
// triangle is computed -- half the multiplies of gemm(A, A^T) -- and mirrored.
// K is usually long (image pixels), so threads split it, each summing its
// share into a buffer of its own, and the buffers are added at the end.
template <class T>
void syrk(int64_t M, int64_t K, T alpha, const T* A, int64_t lda, T* C, int64_t ldc);
}  // namespace sg::cpu
