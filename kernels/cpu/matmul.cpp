#include "kernels/cpu/matmul.h"

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/loops.h"

namespace sg::cpu {

void matmul(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int nd = out.dim();
  const int64_t M = out.size(-2), N = out.size(-1), K = a.size(-1);
  const int64_t nbatch = M * N == 0 ? 0 : out.numel() / (M * N);
  dispatch_float(a.dtype(), "matmul", [&](auto z) {
    using T = decltype(z);
    const T* pa = static_cast<const T*>(a.raw_data());
    const T* pb = static_cast<const T*>(b.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    // Batches in parallel only when there are several and enough work; one big
    // product is threaded inside the GEMM instead.
#pragma omp parallel for if (nbatch > 1 && M * N * K * nbatch > (1 << 18))
    for (int64_t i = 0; i < nbatch; ++i) {
      int64_t oa = 0, ob = 0, r = i;  // offsets of batch i in a and b
      for (int d = nd - 3; d >= 0; --d) {
        const int64_t idx = r % out.size(d);
        r /= out.size(d);
        oa += idx * a.stride(d);
        ob += idx * b.stride(d);
      }
      gemm<T>(M, N, K, T(1), pa + oa, a.stride(nd - 2), a.stride(nd - 1), pb + ob, b.stride(nd - 2),
              b.stride(nd - 1), T(0), po + i * M * N, N);
    }
  });
}

void gram(const Tensor& v, const Tensor& out) {
  const int64_t C = v.size(-2), K = v.size(-1);
  const int64_t nbatch = C == 0 ? 0 : out.numel() / (C * C);
  dispatch_float(v.dtype(), "gram", [&](auto z) {
    using T = decltype(z);
    for (int64_t i = 0; i < nbatch; ++i)
      syrk<T>(C, K, T(1), v.data<T>() + i * C * K, K, out.data<T>() + i * C * C, C);
  });
}

}  // namespace sg::cpu
