// General matrix multiply, the workhorse under matmul and convolution.
// C (M x N, row-major, leading dim ldc) = alpha * A (M x K) * B (K x N) + beta * C.
// A and B are strided: element (i, k) of A is A[i * rsA + k * csA]; one of the
// two strides must be 1 (row- or column-major, i.e. transposes are free).
// Eigen does the blocking and vectorisation; only gemm.cpp includes Eigen, so
// that the rest of the build stays fast.
#pragma once
#include <cstdint>

namespace sg::cpu {
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t rsA, int64_t csA, const T* B,
          int64_t rsB, int64_t csB, T beta, T* C, int64_t ldc);
}  // namespace sg::cpu
