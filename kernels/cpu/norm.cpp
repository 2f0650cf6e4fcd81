#include "kernels/cpu/norm.h"

#include <cmath>
#include <initializer_list>

#include "kernels/cpu/loops.h"
#include "tensor/error.h"

namespace sg::cpu {

namespace {

// x's [outer, C, inner] layout, checked with the stats [C, 2] and the
// tensors that must be like x (y; g and dx).
struct ChannelLayout {
  int64_t outer, channels, inner;
  int64_t count() const { return outer * inner; }  // the elements of one channel
  // Where sample n of channel c starts.
  int64_t start(int64_t n, int64_t c) const { return (n * channels + c) * inner; }
};

ChannelLayout layout_of(const char* op, const Tensor& x, const Tensor& stats,
                        std::initializer_list<const Tensor*> like_x) {
  SG_CHECK(x.dim() == 3 && x.is_contiguous(), op, ": expected a contiguous [outer, C, inner] input, got ",
           x.shape().str());
  SG_CHECK(stats.dim() == 2 && stats.size(0) == x.size(1) && stats.size(1) == 2 && stats.is_contiguous(), op,
           ": stats ", stats.shape().str(), " must be a contiguous [", x.size(1), ", 2]");
  for (const Tensor* t : like_x)
    SG_CHECK(t->is_contiguous() && t->shape() == x.shape(), op, ": ", t->shape().str(),
             " is not a contiguous tensor like x ", x.shape().str());
  return {x.size(0), x.size(1), x.size(2)};
}

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
double squares_about(const T* x, int64_t m, double mean) {
  double sq = 0;
#pragma omp simd reduction(+ : sq)
  for (int64_t i = 0; i < m; ++i) {
    const double d = double(x[i]) - mean;
    sq += d * d;
  }
  return sq;
}

template <class T>
void normalize_impl(const Tensor& x, const Tensor& y, const Tensor& stats, double eps) {
  const ChannelLayout L = layout_of("normalize", x, stats, {&y});
  const T* px = x.data<T>();
  T* py = y.data<T>();
  T* ps = stats.data<T>();
  const int64_t m = L.inner;
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelGrain)
  for (int64_t c = 0; c < L.channels; ++c) {
    double s = 0;
    for (int64_t n = 0; n < L.outer; ++n) s += sum_of(px + L.start(n, c), m);
    const double mean = s / double(L.count());
    double sq = 0;  // the second pass, over the centred values, as torch computes the variance
    for (int64_t n = 0; n < L.outer; ++n) sq += squares_about(px + L.start(n, c), m, mean);
    const double rstd = 1.0 / std::sqrt(sq / double(L.count()) + eps);
    const T mean_t = T(mean), rstd_t = T(rstd);
    for (int64_t n = 0; n < L.outer; ++n) {
      const T* in = px + L.start(n, c);
      T* out = py + L.start(n, c);
#pragma omp simd
      for (int64_t i = 0; i < m; ++i) out[i] = (in[i] - mean_t) * rstd_t;
    }
    ps[2 * c] = mean_t, ps[2 * c + 1] = rstd_t;
  }
}

template <class T>
void normalize_backward_impl(const Tensor& x, const Tensor& stats, const Tensor& g, const Tensor& dx) {
  const ChannelLayout L = layout_of("normalize_backward", x, stats, {&g, &dx});
  const T* px = x.data<T>();
  const T* pg = g.data<T>();
  const T* ps = stats.data<T>();
  T* pd = dx.data<T>();
  const int64_t m = L.inner;
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelGrain)
  for (int64_t c = 0; c < L.channels; ++c) {
    const double mean = double(ps[2 * c]), rstd = double(ps[2 * c + 1]);
    double sg = 0, sgc = 0;  // sum(g), sum(g * (x - mean))
    for (int64_t n = 0; n < L.outer; ++n) {
      const T* in = px + L.start(n, c);
      const T* gp = pg + L.start(n, c);
#pragma omp simd reduction(+ : sg, sgc)
      for (int64_t i = 0; i < m; ++i) {
        sg += double(gp[i]);
        sgc += double(gp[i]) * (double(in[i]) - mean);
      }
    }
    // dx = rstd * (g - sg/count - (x - mean) * rstd^2 * sgc/count) = a * g + b * (x - mean) + c
    const double count = double(L.count());
    const T a_t = T(rstd), b_t = T(-rstd * rstd * rstd * sgc / count), c_t = T(-rstd * sg / count);
    const T mean_t = T(mean);
    for (int64_t n = 0; n < L.outer; ++n) {
      const T* in = px + L.start(n, c);
      const T* gp = pg + L.start(n, c);
      T* out = pd + L.start(n, c);
#pragma omp simd
      for (int64_t i = 0; i < m; ++i) out[i] = a_t * gp[i] + b_t * (in[i] - mean_t) + c_t;
    }
  }
}

}  // namespace

void normalize(const Tensor& x, const Tensor& y, const Tensor& stats, double eps) {
  dispatch_float(x.dtype(), "normalize", [&](auto z) { normalize_impl<decltype(z)>(x, y, stats, eps); });
}

void normalize_backward(const Tensor& x, const Tensor& stats, const Tensor& g, const Tensor& dx) {
  dispatch_float(x.dtype(), "normalize_backward",
                 [&](auto z) { normalize_backward_impl<decltype(z)>(x, stats, g, dx); });
}

}  // namespace sg::cpu
