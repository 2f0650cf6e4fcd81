#include "kernels/cpu/reduce.h"

#include <cmath>

#include "kernels/cpu/loops.h"

namespace sg::cpu {

void sum(const Tensor& x, const std::vector<bool>& reduce, const Tensor& out, double scale) {
  // Split x's dims into kept (one output each) and reduced (summed).
  Shape kept_shape, red_shape;
  std::array<Strides, 1> kept_st, red_st;
  for (int d = 0; d < x.dim(); ++d) {
    (reduce[d] ? red_shape : kept_shape).push_back(x.size(d));
    (reduce[d] ? red_st[0] : kept_st[0]).push_back(x.stride(d));
  }
  Shape rs;
  std::array<Strides, 1> rst;
  coalesce_dims<1>(red_shape, red_st, rs, rst);
  const int64_t n_out = kept_shape.numel(), n_red = rs.numel();

  dispatch_float(x.dtype(), "sum", [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    // Sums x[base + i] over linear indices [b, e) of the reduced space.
    auto partial = [&](int64_t base, int64_t b, int64_t e) {
      double acc = 0;
      strided_loop_range<1>(rs, rst, b, e, [&](int64_t n, const int64_t* off, const int64_t* st) {
        const T* p = px + base + off[0];
        double a = 0;
        if (st[0] == 1) {
          // Sixteen running sums (four AVX2 vectors of doubles): one sum
          // would wait on its own previous add every step.
          double lanes[16] = {};
          int64_t j = 0;
          for (; j + 16 <= n; j += 16)
#pragma GCC unroll 16
            for (int l = 0; l < 16; ++l) lanes[l] += double(p[j + l]);
          for (; j < n; ++j) a += double(p[j]);
          for (double v : lanes) a += v;
        } else {
          for (int64_t j = 0; j < n; ++j) a += double(p[j * st[0]]);
        }
        acc += a;
      });
      return acc;
    };
    auto base_of = [&](int64_t o) {
      int64_t base = 0;
      for (int d = kept_shape.size() - 1; d >= 0; --d) {
        base += (o % kept_shape[d]) * kept_st[0][d];
        o /= kept_shape[d];
      }
      return base;
    };
    const int nth = omp_get_max_threads();
    if (n_out >= 4 * nth || n_out * n_red < kParallelGrain || nth == 1) {
      // Many outputs: one thread per block of outputs.
#pragma omp parallel for schedule(static) if (n_out * n_red >= kParallelGrain && nth > 1)
      for (int64_t o = 0; o < n_out; ++o) po[o] = T(scale * partial(base_of(o), 0, n_red));
    } else {
      // Few outputs, long reductions: split each reduction across threads.
      for (int64_t o = 0; o < n_out; ++o) {
        const int64_t base = base_of(o);
        double total = 0;
#pragma omp parallel reduction(+ : total)
        {
          const int64_t t = omp_get_thread_num(), T_ = omp_get_num_threads();
          const int64_t chunk = (n_red + T_ - 1) / T_;
          const int64_t b = std::min(n_red, t * chunk), e = std::min(n_red, b + chunk);
          if (b < e) total += partial(base, b, e);
        }
        po[o] = T(scale * total);
      }
    }
  });
}

void max_along(const Tensor& x, int dim, const Tensor& values, const Tensor& indices) {
  const int64_t len = x.size(dim), step = x.stride(dim);
  Shape kept_shape;
  Strides kept_st;
  for (int d = 0; d < x.dim(); ++d)
    if (d != dim) {
      kept_shape.push_back(x.size(d));
      kept_st.push_back(x.stride(d));
    }
  const int64_t n_out = kept_shape.numel();
  dispatch_float(x.dtype(), "max", [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x.raw_data());
    T* pv = static_cast<T*>(values.raw_data());
    int64_t* pi = static_cast<int64_t*>(indices.raw_data());
#pragma omp parallel for if (n_out * len >= kParallelGrain)
    for (int64_t o = 0; o < n_out; ++o) {
      int64_t base = 0, r = o;
      for (int d = kept_shape.size() - 1; d >= 0; --d) {
        base += (r % kept_shape[d]) * kept_st[d];
        r /= kept_shape[d];
      }
      const T* p = px + base;
      T best = p[0];
      int64_t arg = 0;
      for (int64_t i = 1; i < len && !std::isnan(best); ++i) {
        const T v = p[i * step];
        if (v > best || std::isnan(v)) {
          best = v;
          arg = i;
        }
      }
      pv[o] = best;
      pi[o] = arg;
    }
  });
}

}  // namespace sg::cpu
