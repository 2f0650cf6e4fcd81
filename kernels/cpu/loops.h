// The one loop every elementwise CPU kernel is built on.
//
// strided_loop(shape, {strides_0, ..., strides_K-1}, body) visits every index
// of `shape` once, for K operands that each have their own strides (0 for a
// broadcast dim). It merges dims that are contiguous in all operands, then
// hands `body` runs along the innermost dim:
//
//   body(n, offsets, inner_strides)   // n elements; offsets/strides per operand
//
// so the hot loop is a plain `for (j < n)` that the compiler vectorises when the
// inner strides are 1. Large iteration spaces are split across OpenMP threads.
#pragma once
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/shape.h"

namespace sg::cpu {

constexpr int64_t kParallelGrain = 32768;  // elements below which threads cost more than they gain

// Drops size-1 dims and merges dims that are contiguous with their inner
// neighbour in every operand; always leaves at least one dim.
template <int K>
void coalesce_dims(const Shape& shape_in, const std::array<Strides, K>& strides_in, Shape& shape,
                   std::array<Strides, K>& st) {
  for (int d = 0; d < shape_in.size(); ++d) {
    if (shape_in[d] == 1) continue;
    const int last = shape.size() - 1;
    bool merge = last >= 0;
    for (int k = 0; k < K && merge; ++k) merge = st[k][last] == strides_in[k][d] * shape_in[d];
    if (merge) {
      shape[last] *= shape_in[d];
      for (int k = 0; k < K; ++k) st[k][last] = strides_in[k][d];
    } else {
      shape.push_back(shape_in[d]);
      for (int k = 0; k < K; ++k) st[k].push_back(strides_in[k][d]);
    }
  }
  if (shape.empty()) {  // a single element
    shape.push_back(1);
    for (int k = 0; k < K; ++k) st[k].push_back(0);
  }
}

// The serial core: visits linear indices [begin, end) of an already
// coalesced iteration space, in runs along the innermost dim.
template <int K, class Body>
void strided_loop_range(const Shape& shape, const std::array<Strides, K>& st, int64_t begin, int64_t end,
                        Body&& body) {
  const int nd = shape.size();
  std::array<int64_t, K> inner;
  for (int k = 0; k < K; ++k) inner[k] = st[k][nd - 1];
  {
    int64_t idx[kMaxDims];
    std::array<int64_t, K> off{};
    int64_t rem = begin;
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
      for (int k = 0; k < K; ++k) off[k] += idx[d] * st[k][d];
    }
    int64_t pos = begin;
    while (pos < end) {
      const int64_t n = std::min(shape[nd - 1] - idx[nd - 1], end - pos);
      body(n, off.data(), inner.data());
      pos += n;
      idx[nd - 1] += n;
      for (int k = 0; k < K; ++k) off[k] += n * st[k][nd - 1];
      for (int d = nd - 1; d > 0 && idx[d] == shape[d]; --d) {
        idx[d] = 0;
        idx[d - 1]++;
        for (int k = 0; k < K; ++k) off[k] += st[k][d - 1] - shape[d] * st[k][d];
      }
    }
  }
}

template <int K, class Body>
void strided_loop(const Shape& shape_in, const std::array<Strides, K>& strides_in, Body&& body,
                  int64_t grain = kParallelGrain) {
  Shape shape;
  std::array<Strides, K> st;
  coalesce_dims<K>(shape_in, strides_in, shape, st);
  const int64_t numel = shape.numel();
  if (numel == 0) return;
  auto run_range = [&](int64_t b, int64_t e) { strided_loop_range<K>(shape, st, b, e, body); };

  if (numel < grain || omp_get_max_threads() == 1 || omp_in_parallel()) {
    run_range(0, numel);
    return;
  }
#pragma omp parallel
  {
    const int64_t nth = omp_get_num_threads(), tid = omp_get_thread_num();
    const int64_t chunk = (numel + nth - 1) / nth;
    const int64_t b = std::min(numel, tid * chunk), e = std::min(numel, b + chunk);
    if (b < e) run_range(b, e);
  }
}

// Calls f(T{}) with T = float or double according to `t`; anything else is an
// error that names the op.
template <class F>
void dispatch_float(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    default: throw Error(std::string(op) + ": expected a float32 or float64 tensor, got " + dtype_name(t));
  }
}

// Same for every dtype.
template <class F>
void dispatch_all(DType t, F&& f) {
  switch (t) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    case DType::i64: f(int64_t{}); return;
    case DType::b8: f(bool{}); return;
  }
}

}  // namespace sg::cpu
