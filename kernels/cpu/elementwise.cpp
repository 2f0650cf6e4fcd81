#include "kernels/cpu/elementwise.h"

#include <cmath>

#include "kernels/cpu/loops.h"

namespace sg::cpu {

namespace {

// Runs out[i] = f(x[i]) over strided views; the stride-1 case gets its own
// loop so that it vectorises.
template <class T, class F>
void map1(const Tensor& x, const Tensor& out, F f) {
  const T* px = static_cast<const T*>(x.raw_data());
  T* po = static_cast<T*>(out.raw_data());
  strided_loop<2>(out.shape(), {out.strides(), x.strides()}, [&](int64_t n, const int64_t* off, const int64_t* st) {
    T* o = po + off[0];
    const T* a = px + off[1];
    if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) o[j] = f(a[j]);
    } else {
      for (int64_t j = 0; j < n; ++j) o[j * st[0]] = f(a[j * st[1]]);
    }
  });
}

template <class TO, class T, class F>
void map2(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  TO* po = static_cast<TO*>(out.raw_data());
  strided_loop<3>(out.shape(), {out.strides(), a.strides(), b.strides()},
                  [&](int64_t n, const int64_t* off, const int64_t* st) {
                    TO* o = po + off[0];
                    const T* x = pa + off[1];
                    const T* y = pb + off[2];
                    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
#pragma omp simd
                      for (int64_t j = 0; j < n; ++j) o[j] = f(x[j], y[j]);
                    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {  // tensor (op) broadcast scalar row
                      const T yv = y[0];
#pragma omp simd
                      for (int64_t j = 0; j < n; ++j) o[j] = f(x[j], yv);
                    } else {
                      for (int64_t j = 0; j < n; ++j) o[j * st[0]] = f(x[j * st[1]], y[j * st[2]]);
                    }
                  });
}

}  // namespace

void unary(Unary op, const Tensor& x, const Tensor& out, double a_, double b_) {
  dispatch_float(x.dtype(), "unary op", [&](auto z) {
    using T = decltype(z);
    const T a = T(a_), b = T(b_);
    switch (op) {
      case Unary::neg: map1<T>(x, out, [](T v) { return -v; }); break;
      case Unary::exp: map1<T>(x, out, [](T v) { return std::exp(v); }); break;
      case Unary::log: map1<T>(x, out, [](T v) { return std::log(v); }); break;
      case Unary::sqrt: map1<T>(x, out, [](T v) { return std::sqrt(v); }); break;
      case Unary::rsqrt: map1<T>(x, out, [](T v) { return T(1) / std::sqrt(v); }); break;
      case Unary::abs: map1<T>(x, out, [](T v) { return std::abs(v); }); break;
      case Unary::sign: map1<T>(x, out, [](T v) { return T((v > 0) - (v < 0)); }); break;
      case Unary::relu: map1<T>(x, out, [](T v) { return v > 0 ? v : T(0); }); break;
      case Unary::tanh: map1<T>(x, out, [](T v) { return std::tanh(v); }); break;
      case Unary::sigmoid: map1<T>(x, out, [](T v) { return T(1) / (T(1) + std::exp(-v)); }); break;
      case Unary::softplus:  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), no overflow
        map1<T>(x, out, [](T v) { return (v > 0 ? v : T(0)) + std::log1p(std::exp(-std::abs(v))); });
        break;
      case Unary::pow:
        if (a == T(2)) map1<T>(x, out, [](T v) { return v * v; });
        else map1<T>(x, out, [a](T v) { return std::pow(v, a); });
        break;
      case Unary::leaky_relu: map1<T>(x, out, [a](T v) { return v > 0 ? v : a * v; }); break;
      case Unary::leaky_slope: map1<T>(x, out, [a](T v) { return v > 0 ? T(1) : a; }); break;
      case Unary::clamp: map1<T>(x, out, [a, b](T v) { return v < a ? a : (v > b ? b : v); }); break;
      case Unary::inside: map1<T>(x, out, [a, b](T v) { return T(v >= a && v <= b); }); break;
      case Unary::positive: map1<T>(x, out, [](T v) { return T(v > 0); }); break;
      case Unary::add_scalar: map1<T>(x, out, [a](T v) { return v + a; }); break;
      case Unary::mul_scalar: map1<T>(x, out, [a](T v) { return v * a; }); break;
    }
  });
}

void binary(Binary op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), "binary op", [&](auto z) {
    using T = decltype(z);
    switch (op) {
      case Binary::add: map2<T, T>(a, b, out, [](T x, T y) { return x + y; }); break;
      case Binary::sub: map2<T, T>(a, b, out, [](T x, T y) { return x - y; }); break;
      case Binary::mul: map2<T, T>(a, b, out, [](T x, T y) { return x * y; }); break;
      case Binary::div: map2<T, T>(a, b, out, [](T x, T y) { return x / y; }); break;
      // A NaN in either operand is the result, as torch.maximum/minimum (x != x: x is NaN).
      case Binary::maximum: map2<T, T>(a, b, out, [](T x, T y) { return x >= y || x != x ? x : y; }); break;
      case Binary::minimum: map2<T, T>(a, b, out, [](T x, T y) { return x <= y || x != x ? x : y; }); break;
      case Binary::ge_mask: map2<T, T>(a, b, out, [](T x, T y) { return T(x >= y); }); break;
    }
  });
}

void compare(Compare op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_all(a.dtype(), [&](auto z) {
    using T = decltype(z);
    switch (op) {
      case Compare::gt: map2<bool, T>(a, b, out, [](T x, T y) { return x > y; }); break;
      case Compare::lt: map2<bool, T>(a, b, out, [](T x, T y) { return x < y; }); break;
      case Compare::ge: map2<bool, T>(a, b, out, [](T x, T y) { return x >= y; }); break;
      case Compare::le: map2<bool, T>(a, b, out, [](T x, T y) { return x <= y; }); break;
      case Compare::eq: map2<bool, T>(a, b, out, [](T x, T y) { return x == y; }); break;
    }
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_all(a.dtype(), [&](auto z) {
    using T = decltype(z);
    const bool* pc = static_cast<const bool*>(cond.raw_data());
    const T* pa = static_cast<const T*>(a.raw_data());
    const T* pb = static_cast<const T*>(b.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    strided_loop<4>(out.shape(), {out.strides(), cond.strides(), a.strides(), b.strides()},
                    [&](int64_t n, const int64_t* off, const int64_t* st) {
                      for (int64_t j = 0; j < n; ++j)
                        po[off[0] + j * st[0]] =
                            pc[off[1] + j * st[1]] ? pa[off[2] + j * st[2]] : pb[off[3] + j * st[3]];
                    });
  });
}

}  // namespace sg::cpu
