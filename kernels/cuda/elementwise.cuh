// Binary elementwise maps, float32: out = op(a, b). a and b have out's shape,
// a broadcast input being an expand()ed view (stride 0), as on the CPU
// (kernels/cpu/elementwise.h). One thread per output element.
#pragma once
#include <math.h>

#include "kernels/cuda/fill_copy.cuh"

namespace sg::SG_KERNELS {

enum class BinaryOp { add, sub, mul, div, maximum, minimum, ge_mask };

// torch's maximum/minimum propagate NaN, which fmaxf/fminf do not.
__device__ __forceinline__ float apply(BinaryOp op, float x, float y) {
  switch (op) {
    case BinaryOp::add: return x + y;
    case BinaryOp::sub: return x - y;
    case BinaryOp::mul: return x * y;
    case BinaryOp::div: return x / y;
    case BinaryOp::maximum: return (x != x || y != y) ? x + y : (x > y ? x : y);
    case BinaryOp::minimum: return (x != x || y != y) ? x + y : (x < y ? x : y);
    case BinaryOp::ge_mask: return x >= y ? 1.f : 0.f;
  }
  return 0.f;
}

// The op is a template parameter so that each kernel is one tight loop.
template <BinaryOp op>
__global__ void binary_kernel(const float* a, StridedView a_view, const float* b, StridedView b_view, float* out,
                              StridedView out_view, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x)
    out[offset_of(out_view, i)] = apply(op, a[offset_of(a_view, i)], b[offset_of(b_view, i)]);
}

inline void binary(BinaryOp op, const float* a, const StridedView& av, const float* b, const StridedView& bv,
                   float* out, const StridedView& ov, int64_t n, cudaStream_t stream) {
  const unsigned blocks = blocks_for(n, kElementwiseThreads);
  switch (op) {
#define SG_BINARY_CASE(name)                                                                           \
  case BinaryOp::name:                                                                                 \
    SG_LAUNCH(binary_kernel<BinaryOp::name>, blocks, kElementwiseThreads, 0, stream)(a, av, b, bv, out, ov, n); \
    break;
    SG_BINARY_CASE(add)
    SG_BINARY_CASE(sub)
    SG_BINARY_CASE(mul)
    SG_BINARY_CASE(div)
    SG_BINARY_CASE(maximum)
    SG_BINARY_CASE(minimum)
    SG_BINARY_CASE(ge_mask)
#undef SG_BINARY_CASE
  }
  SG_CHECK_LAUNCH("binary");
}

}  // namespace sg::SG_KERNELS
