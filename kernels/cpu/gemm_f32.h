// The float32 GEMM (gemm_f32.cpp): packed operands and a register-tiled
// micro-kernel on the vectors of kernels/cpu/simd.h.
#pragma once
#include <cstdint>

#include "kernels/cpu/simd.h"

namespace sg::cpu {

// The micro-kernel's tile of C: MR rows x NR columns (two vectors wide:
// 16 with AVX2, 32 with AVX-512).
constexpr int64_t kGemmF32MR = 6;
constexpr int64_t kGemmF32NR = 2 * simd::kLanes;

// C = alpha A B + beta C, with the arguments of gemm() in gemm.h (K >= 1).
// Threaded when called outside a parallel region and the product is large.
void gemm_f32(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t rsA, int64_t csA, const float* B,
              int64_t rsB, int64_t csB, float beta, float* C, int64_t ldc);

// C [M x N] (row stride ldc) = A B for operands already in the packed layout,
// for callers that can write them that way at no cost (the Winograd transforms):
//   A: ceil(M / MR) panels one after the other, panel p = [K][MR], row i of it
//      being row p * MR + i of A (zeros past M);
//   B: ceil(N / NR) panels, panel q = [K][NR], column j of it being column
//      q * NR + j of B (zeros past N).
// Single-threaded: the caller's threads each make their own calls.
void gemm_f32_prepacked(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C, int64_t ldc);

}  // namespace sg::cpu
