#include "kernels/cpu/pad.h"

#include "kernels/cpu/loops.h"

namespace sg::cpu {

namespace {

// The number of [H, W] planes: the product of every dim but the last two.
int64_t planes_of(const Tensor& t) {
  int64_t planes = 1;
  for (int d = 0; d < t.dim() - 2; ++d) planes *= t.size(d);
  return planes;
}

template <class T>
void pad2d_impl(const Tensor& x, const Tensor& y, const AxisSource& rows, const AxisSource& cols, T value) {
  const int64_t H = x.size(-2), W = x.size(-1), OH = y.size(-2), OW = y.size(-1);
  const int64_t planes = planes_of(x);
  const T* px = x.data<T>();
  T* py = y.data<T>();
#pragma omp parallel for if (y.numel() >= kParallelGrain)
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < OH; ++i) {
      T* out = py + (p * OH + i) * OW;
      if (rows[i] < 0) {
        for (int64_t j = 0; j < OW; ++j) out[j] = value;
        continue;
      }
      const T* in = px + (p * H + rows[i]) * W;
      for (int64_t j = 0; j < OW; ++j) out[j] = cols[j] < 0 ? value : in[cols[j]];
    }
}

template <class T>
void pad2d_backward_impl(const Tensor& gy, const Tensor& gx, const AxisSource& rows, const AxisSource& cols) {
  const int64_t H = gx.size(-2), W = gx.size(-1), OH = gy.size(-2), OW = gy.size(-1);
  const int64_t planes = planes_of(gx);
  const T* pg = gy.data<T>();
  T* px = gx.data<T>();
  // Reflect and replicate send several outputs to one input pixel, so one
  // thread owns each plane.
#pragma omp parallel for if (gy.numel() >= kParallelGrain)
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < OH; ++i) {
      if (rows[i] < 0) continue;
      const T* in = pg + (p * OH + i) * OW;
      T* out = px + (p * H + rows[i]) * W;
      for (int64_t j = 0; j < OW; ++j)
        if (cols[j] >= 0) out[cols[j]] += in[j];
    }
}

}  // namespace

void pad2d(const Tensor& x, const Tensor& y, const AxisSource& rows, const AxisSource& cols, double value) {
  dispatch_float(x.dtype(), "pad2d", [&](auto z) {
    using T = decltype(z);
    pad2d_impl<T>(x, y, rows, cols, T(value));
  });
}

void pad2d_backward(const Tensor& gy, const Tensor& gx, const AxisSource& rows, const AxisSource& cols) {
  dispatch_float(gy.dtype(), "pad2d_backward", [&](auto z) { pad2d_backward_impl<decltype(z)>(gy, gx, rows, cols); });
}

}  // namespace sg::cpu
