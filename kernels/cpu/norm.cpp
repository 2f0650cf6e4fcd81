#include "kernels/cpu/norm.h"

#include <cmath>

#include "kernels/cpu/loops.h"

namespace sg::cpu {

namespace {

// `omp simd reduction` lets the compiler keep one double partial sum per lane
// (the order of the additions changes, their precision does not).
template <class T>
double sum_of(const T* x, int64_t m) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < m; ++i) s += double(x[i]);
  return s;
}

template <class T>
void instance_norm_impl(const Tensor& x, const Tensor& y, const Tensor& stats, double eps) {
  const int64_t planes = stats.size(0), m = x.numel() / std::max<int64_t>(planes, 1);
  const T* px = x.data<T>();
  T* py = y.data<T>();
  T* ps = stats.data<T>();
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    const T* in = px + p * m;
    T* out = py + p * m;
    const double mean = sum_of(in, m) / double(m);
    double sq = 0;  // the second pass, over the centred values, as torch computes the variance
#pragma omp simd reduction(+ : sq)
    for (int64_t i = 0; i < m; ++i) {
      const double d = double(in[i]) - mean;
      sq += d * d;
    }
    const double rstd = 1.0 / std::sqrt(sq / double(m) + eps);
    const T mean_t = T(mean), rstd_t = T(rstd);
#pragma omp simd
    for (int64_t i = 0; i < m; ++i) out[i] = (in[i] - mean_t) * rstd_t;
    ps[2 * p] = mean_t, ps[2 * p + 1] = rstd_t;
  }
}

template <class T>
void instance_norm_backward_impl(const Tensor& x, const Tensor& stats, const Tensor& g, const Tensor& dx) {
  const int64_t planes = stats.size(0), m = x.numel() / std::max<int64_t>(planes, 1);
  const T* px = x.data<T>();
  const T* pg = g.data<T>();
  const T* ps = stats.data<T>();
  T* pd = dx.data<T>();
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    const T* in = px + p * m;
    const T* gp = pg + p * m;
    T* out = pd + p * m;
    const double mean = double(ps[2 * p]), rstd = double(ps[2 * p + 1]);
    double sg = 0, sgc = 0;  // sum(g), sum(g * (x - mean))
#pragma omp simd reduction(+ : sg, sgc)
    for (int64_t i = 0; i < m; ++i) {
      sg += double(gp[i]);
      sgc += double(gp[i]) * (double(in[i]) - mean);
    }
    // dx = rstd * (g - sg/m - (x - mean) * rstd^2 * sgc/m) = a * g + b * (x - mean) + c
    const T a_t = T(rstd), b_t = T(-rstd * rstd * rstd * sgc / double(m)), c_t = T(-rstd * sg / double(m));
    const T mean_t = T(mean);
#pragma omp simd
    for (int64_t i = 0; i < m; ++i) out[i] = a_t * gp[i] + b_t * (in[i] - mean_t) + c_t;
  }
}

}  // namespace

void instance_norm(const Tensor& x, const Tensor& y, const Tensor& stats, double eps) {
  dispatch_float(x.dtype(), "instance_norm", [&](auto z) { instance_norm_impl<decltype(z)>(x, y, stats, eps); });
}

void instance_norm_backward(const Tensor& x, const Tensor& stats, const Tensor& g, const Tensor& dx) {
  dispatch_float(x.dtype(), "instance_norm_backward",
                 [&](auto z) { instance_norm_backward_impl<decltype(z)>(x, stats, g, dx); });
}

}  // namespace sg::cpu
