// Elementwise maps: out = op(x) (float32), out = op(a, b) (float32), the
// comparisons a op b into bool, and where(cond, a, b) -- the last two for every
// dtype, as on the CPU. Every input has out's shape, a broadcast input being an
// expand()ed view (stride 0), and the semantics are the CPU kernels'
// (kernels/cpu/elementwise.cpp), NaN and signed zeros included. One thread per
// output element, in a grid-stride loop; the map is a template parameter so
// that each kernel is one tight loop.
#pragma once
#include <math.h>

#include <initializer_list>

#include "kernels/cuda/fill_copy.cuh"
#include "kernels/cuda/host_util.cuh"
#include "kernels/kernel_args.h"

namespace sg::SG_KERNELS {

// ---- device side ----

// torch's maximum/minimum propagate NaN, which fmaxf/fminf do not.
__device__ __forceinline__ float binary_map(Binary op, float x, float y) {
  switch (op) {
    case Binary::add: return x + y;
    case Binary::sub: return x - y;
    case Binary::mul: return x * y;
    case Binary::div: return x / y;
    case Binary::maximum: return (x != x || y != y) ? x + y : (x > y ? x : y);
    case Binary::minimum: return (x != x || y != y) ? x + y : (x < y ? x : y);
    case Binary::ge_mask: return x >= y ? 1.f : 0.f;
  }
  return 0.f;
}

// The CPU's formulas, in float: rsqrt as 1 / sqrt (not the approximate
// rsqrtf), sign(0) = sign(NaN) = 0, relu(NaN) = 0, clamp(NaN) = NaN.
__device__ __forceinline__ float unary_map(Unary op, float v, float a, float b) {
  switch (op) {
    case Unary::neg: return -v;
    case Unary::exp: return expf(v);
    case Unary::log: return logf(v);
    case Unary::sqrt: return sqrtf(v);
    case Unary::rsqrt: return 1.f / sqrtf(v);
    case Unary::abs: return fabsf(v);
    case Unary::sign: return float((v > 0.f) - (v < 0.f));
    case Unary::relu: return v > 0.f ? v : 0.f;
    case Unary::tanh: return tanhf(v);
    case Unary::sigmoid: return 1.f / (1.f + expf(-v));
    case Unary::softplus: return (v > 0.f ? v : 0.f) + log1pf(expf(-fabsf(v)));  // no overflow
    case Unary::pow: return a == 2.f ? v * v : powf(v, a);
    case Unary::leaky_relu: return v > 0.f ? v : a * v;
    case Unary::leaky_slope: return v > 0.f ? 1.f : a;
    case Unary::clamp: return v < a ? a : (v > b ? b : v);
    case Unary::inside: return (v >= a && v <= b) ? 1.f : 0.f;
    case Unary::positive: return v > 0.f ? 1.f : 0.f;
    case Unary::add_scalar: return v + a;
    case Unary::mul_scalar: return v * a;
  }
  return 0.f;
}

template <class T>
__device__ __forceinline__ bool compare_map(Compare op, T x, T y) {
  switch (op) {
    case Compare::gt: return x > y;
    case Compare::lt: return x < y;
    case Compare::ge: return x >= y;
    case Compare::le: return x <= y;
    case Compare::eq: return x == y;
  }
  return false;
}

template <Unary op>
__global__ void unary_kernel(const float* x, StridedView x_view, float* out, StridedView out_view, int64_t n, float a,
                             float b) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x)
    out[offset_of(out_view, i)] = unary_map(op, x[offset_of(x_view, i)], a, b);
}

template <Binary op>
__global__ void binary_kernel(const float* a, StridedView a_view, const float* b, StridedView b_view, float* out,
                              StridedView out_view, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x)
    out[offset_of(out_view, i)] = binary_map(op, a[offset_of(a_view, i)], b[offset_of(b_view, i)]);
}

// The comparison is a run-time argument: one branch that every thread takes
// alike, next to memory traffic that dominates.
template <class T>
__global__ void compare_kernel(Compare op, const T* a, StridedView a_view, const T* b, StridedView b_view, bool* out,
                               StridedView out_view, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x)
    out[offset_of(out_view, i)] = compare_map(op, a[offset_of(a_view, i)], b[offset_of(b_view, i)]);
}

template <class T>
__global__ void where_kernel(const bool* cond, StridedView cond_view, const T* a, StridedView a_view, const T* b,
                             StridedView b_view, T* out, StridedView out_view, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x)
    out[offset_of(out_view, i)] = cond[offset_of(cond_view, i)] ? a[offset_of(a_view, i)] : b[offset_of(b_view, i)];
}

// ---- host side: the table's entries ----

// Drops size-1 dims and merges neighbouring dims that are contiguous in every
// view (views of one shape), keeping the row-major order of elements: a
// contiguous tensor becomes one dim, so offset_of does one division per
// element instead of one per dim (64-bit divisions are slow on a GPU).
inline void coalesce(std::initializer_list<StridedView*> views) {
  StridedView& first = **views.begin();
  const int ndim = first.ndim;
  int kept = 0;
  for (int d = 0; d < ndim; ++d) {
    const int64_t size = first.size[d];
    if (size == 1) continue;
    bool merge = kept > 0;
    for (StridedView* v : views) merge = merge && v->stride[kept - 1] == v->stride[d] * size;
    for (StridedView* v : views) {
      if (merge) {
        v->size[kept - 1] *= size;
        v->stride[kept - 1] = v->stride[d];
      } else {
        v->size[kept] = size;
        v->stride[kept] = v->stride[d];
      }
    }
    if (!merge) ++kept;
  }
  for (StridedView* v : views) v->ndim = kept;
}

// Every operand has out's shape; the error names the op and the shapes.
inline void require_same_shapes(const char* op, std::initializer_list<const Tensor*> inputs, const Tensor& out) {
  for (const Tensor* t : inputs)
    SG_CHECK(t->shape() == out.shape(), op, ": input ", t->shape().str(), " and out ", out.shape().str(),
             " differ (expand() broadcast inputs first)");
}

inline void unary_entry(Unary op, const Tensor& x, const Tensor& out, double a, double b) {
  require_same_shapes("unary", {&x}, out);
  require_f32("unary", x);
  require_f32("unary", out);
  const int64_t n = out.numel();
  if (n == 0) return;
  const float* px = static_cast<const float*>(x.raw_data());
  float* po = static_cast<float*>(out.raw_data());
  StridedView xv = view_of(x), ov = view_of(out);
  coalesce({&xv, &ov});
  const unsigned blocks = blocks_for(n, kElementwiseThreads);
  switch (op) {
#define SG_UNARY_CASE(name)                                                                                     \
  case Unary::name:                                                                                             \
    SG_LAUNCH(unary_kernel<Unary::name>, blocks, kElementwiseThreads, 0, kStream)(px, xv, po, ov, n, float(a),  \
                                                                                   float(b));                   \
    break;
    SG_UNARY_CASE(neg)
    SG_UNARY_CASE(exp)
    SG_UNARY_CASE(log)
    SG_UNARY_CASE(sqrt)
    SG_UNARY_CASE(rsqrt)
    SG_UNARY_CASE(abs)
    SG_UNARY_CASE(sign)
    SG_UNARY_CASE(relu)
    SG_UNARY_CASE(tanh)
    SG_UNARY_CASE(sigmoid)
    SG_UNARY_CASE(softplus)
    SG_UNARY_CASE(pow)
    SG_UNARY_CASE(leaky_relu)
    SG_UNARY_CASE(leaky_slope)
    SG_UNARY_CASE(clamp)
    SG_UNARY_CASE(inside)
    SG_UNARY_CASE(positive)
    SG_UNARY_CASE(add_scalar)
    SG_UNARY_CASE(mul_scalar)
#undef SG_UNARY_CASE
  }
  SG_CHECK_LAUNCH("unary");
}

inline void binary_entry(Binary op, const Tensor& a, const Tensor& b, const Tensor& out) {
  require_same_shapes("binary", {&a, &b}, out);
  for (const Tensor* t : {&a, &b, &out}) require_f32("binary", *t);
  const int64_t n = out.numel();
  if (n == 0) return;
  const float* pa = static_cast<const float*>(a.raw_data());
  const float* pb = static_cast<const float*>(b.raw_data());
  float* po = static_cast<float*>(out.raw_data());
  StridedView av = view_of(a), bv = view_of(b), ov = view_of(out);
  coalesce({&av, &bv, &ov});
  const unsigned blocks = blocks_for(n, kElementwiseThreads);
  switch (op) {
#define SG_BINARY_CASE(name)                                                                                     \
  case Binary::name:                                                                                             \
    SG_LAUNCH(binary_kernel<Binary::name>, blocks, kElementwiseThreads, 0, kStream)(pa, av, pb, bv, po, ov, n); \
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

template <class T>
void compare_typed(Compare op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  bool* po = static_cast<bool*>(out.raw_data());
  StridedView av = view_of(a), bv = view_of(b), ov = view_of(out);
  coalesce({&av, &bv, &ov});
  SG_LAUNCH(compare_kernel<T>, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)
  (op, pa, av, pb, bv, po, ov, n);
  SG_CHECK_LAUNCH("compare");
}

// Every dtype, as the CPU's: a and b of one dtype, out bool.
inline void compare_entry(Compare op, const Tensor& a, const Tensor& b, const Tensor& out) {
  require_same_shapes("compare", {&a, &b}, out);
  SG_CHECK(a.dtype() == b.dtype(), "compare: inputs of different dtypes (", dtype_name(a.dtype()), " and ",
           dtype_name(b.dtype()), ")");
  SG_CHECK(out.dtype() == DType::b8, "compare: out must be bool, not ", dtype_name(out.dtype()));
  if (out.numel() == 0) return;
  switch (a.dtype()) {
    case DType::f32: compare_typed<float>(op, a, b, out); break;
    case DType::f64: compare_typed<double>(op, a, b, out); break;
    case DType::i64: compare_typed<int64_t>(op, a, b, out); break;
    case DType::b8: compare_typed<bool>(op, a, b, out); break;
  }
}

template <class T>
void where_typed(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
  StridedView cv = view_of(cond), av = view_of(a), bv = view_of(b), ov = view_of(out);
  coalesce({&cv, &av, &bv, &ov});
  SG_LAUNCH(where_kernel<T>, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)
  (static_cast<const bool*>(cond.raw_data()), cv, static_cast<const T*>(a.raw_data()), av,
   static_cast<const T*>(b.raw_data()), bv, static_cast<T*>(out.raw_data()), ov, n);
  SG_CHECK_LAUNCH("where");
}

// Every dtype, as the CPU's: cond bool, a, b and out of one dtype.
inline void where_entry(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  require_same_shapes("where", {&cond, &a, &b}, out);
  SG_CHECK(cond.dtype() == DType::b8, "where: condition must be bool, not ", dtype_name(cond.dtype()));
  SG_CHECK(a.dtype() == out.dtype() && b.dtype() == out.dtype(), "where: a (", dtype_name(a.dtype()), "), b (",
           dtype_name(b.dtype()), ") and out (", dtype_name(out.dtype()), ") must have one dtype");
  if (out.numel() == 0) return;
  switch (out.dtype()) {
    case DType::f32: where_typed<float>(cond, a, b, out); break;
    case DType::f64: where_typed<double>(cond, a, b, out); break;
    case DType::i64: where_typed<int64_t>(cond, a, b, out); break;
    case DType::b8: where_typed<bool>(cond, a, b, out); break;
  }
}

}  // namespace sg::SG_KERNELS
