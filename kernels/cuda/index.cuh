// gather and scatter_add along one dim (float32, int64 indices) and flip (every
// dtype): kernels/cpu/index.h's contracts. One thread per element of the index
// (gather's output, scatter_add's source), in a grid-stride loop; scatter_add
// adds with atomicAdd, since two source elements may land on one output.
//
// Index tensors are untrusted (class labels from a file). The kernels skip an
// index out of range and record it in a two-slot device buffer: how many there
// were and one of them; the entry then reads the buffer back and raises the
// CPU kernel's error. (That read waits for the kernel; a GPU-side assert would
// not, but would leave the device unusable after a bad label.)
#pragma once
#include <vector>

#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/fill_copy.cuh"
#include "kernels/cuda/host_util.cuh"
#include "tensor/storage.h"

namespace sg::SG_KERNELS {

// bad[0]: how many indices were out of range; bad[1]: the first of them to be counted.
__device__ __forceinline__ bool index_in_range(int64_t i, int64_t size, long long* bad) {
  if (i >= 0 && i < size) return true;
  if (atomicAdd(reinterpret_cast<unsigned long long*>(bad), 1ull) == 0ull) bad[1] = i;
  return false;
}

// out[o] = x[x_at(o) + index[o] * x_dim_stride], with x_at = x_view's offset of
// o: out's sizes, x's strides, 0 along dim.
__global__ void gather_kernel(const float* x, StridedView x_view, int64_t x_dim_stride, int64_t x_dim_size,
                              const int64_t* index, StridedView index_view, float* out, StridedView out_view,
                              int64_t n, long long* bad) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t i = index[offset_of(index_view, o)];
    if (index_in_range(i, x_dim_size, bad)) out[offset_of(out_view, o)] = x[offset_of(x_view, o) + i * x_dim_stride];
  }
}

// out[out_at(s) + index[s] * out_dim_stride] += src[s], with out_at = out_view's
// offset of s: src's sizes, out's strides, 0 along dim.
__global__ void scatter_add_kernel(float* out, StridedView out_view, int64_t out_dim_stride, int64_t out_dim_size,
                                   const int64_t* index, StridedView index_view, const float* src,
                                   StridedView src_view, int64_t n, long long* bad) {
  for (int64_t s = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; s < n; s += int64_t(blockDim.x) * gridDim.x) {
    const int64_t i = index[offset_of(index_view, s)];
    if (index_in_range(i, out_dim_size, bad))
      atomicAdd(out + offset_of(out_view, s) + i * out_dim_stride, src[offset_of(src_view, s)]);
  }
}

// ---- host side: the table's entries ----

// The two-slot buffer the kernels count bad indices in, zeroed, on index's device.
inline Tensor bad_index_buffer(const Tensor& index) {
  TensorOptions o(DType::i64);
  o.device = index.device();
  return zeros({2}, o);
}

inline void check_bad_indices(const Tensor& bad, int64_t size, const char* op) {
  int64_t b[2];
  device_copy(b, Device::cpu(), bad.raw_data(), bad.device(), sizeof b);
  SG_CHECK(b[0] == 0, op, ": index ", b[1], " out of range for a dim of size ", size);
}

// What gather and scatter_add both check: an int64 index with the iterated
// tensor's shape, of one rank with the indexed one, float32 data.
inline void check_index_args(const char* op, const Tensor& indexed, int dim, const Tensor& index,
                             const Tensor& iterated) {
  require_f32(op, indexed);
  require_f32(op, iterated);
  SG_CHECK(index.dtype() == DType::i64, op, ": index must be int64, not ", dtype_name(index.dtype()));
  SG_CHECK(index.shape() == iterated.shape() && index.dim() == indexed.dim() && dim >= 0 && dim < indexed.dim(), op,
           ": index ", index.shape().str(), ", ", indexed.shape().str(), " and ", iterated.shape().str(),
           " along dim ", dim);
  for (int d = 0; d < index.dim(); ++d)
    SG_CHECK(d == dim || index.size(d) <= indexed.size(d), op, ": index ", index.shape().str(),
             " is larger than ", indexed.shape().str(), " at dim ", d);
}

inline void gather_entry(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  check_index_args("gather", x, dim, index, out);
  const int64_t n = out.numel();
  if (n == 0) return;
  StridedView xv = view_of(out), iv = view_of(index), ov = view_of(out);  // xv: out's sizes, x's strides
  for (int d = 0; d < x.dim(); ++d) xv.stride[d] = d == dim ? 0 : x.stride(d);
  coalesce({&xv, &iv, &ov});
  const Tensor bad = bad_index_buffer(index);
  SG_LAUNCH(gather_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)
  (static_cast<const float*>(x.raw_data()), xv, x.stride(dim), x.size(dim),
   static_cast<const int64_t*>(index.raw_data()), iv, static_cast<float*>(out.raw_data()), ov, n,
   static_cast<long long*>(bad.raw_data()));
  SG_CHECK_LAUNCH("gather");
  check_bad_indices(bad, x.size(dim), "gather");
}

// out pre-zeroed by the caller.
inline void scatter_add_entry(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  check_index_args("scatter_add", out, dim, index, src);
  const int64_t n = src.numel();
  if (n == 0) return;
  StridedView ov = view_of(src), iv = view_of(index), sv = view_of(src);  // ov: src's sizes, out's strides
  for (int d = 0; d < out.dim(); ++d) ov.stride[d] = d == dim ? 0 : out.stride(d);
  coalesce({&ov, &iv, &sv});
  const Tensor bad = bad_index_buffer(index);
  SG_LAUNCH(scatter_add_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)
  (static_cast<float*>(out.raw_data()), ov, out.stride(dim), out.size(dim),
   static_cast<const int64_t*>(index.raw_data()), iv, static_cast<const float*>(src.raw_data()), sv, n,
   static_cast<long long*>(bad.raw_data()));
  SG_CHECK_LAUNCH("scatter_add");
  check_bad_indices(bad, out.size(dim), "scatter_add");
}

// A strided copy that reads each flipped dim backwards: from its last index,
// with its stride negated (so the dims never reach the kernel).
template <class T>
void flip_typed(const Tensor& x, StridedView xv, int64_t last, const Tensor& out) {
  StridedView ov = view_of(out);
  coalesce({&xv, &ov});
  copy(static_cast<const T*>(x.raw_data()) + last, xv, static_cast<T*>(out.raw_data()), ov, out.numel(), kStream);
}

// Every dtype, as the CPU's; dims distinct and non-negative.
inline void flip_entry(const Tensor& x, const std::vector<int>& dims, const Tensor& out) {
  SG_CHECK(x.shape() == out.shape() && x.dtype() == out.dtype(), "flip: x ", x.shape().str(), " ",
           dtype_name(x.dtype()), " and out ", out.shape().str(), " ", dtype_name(out.dtype()), " differ");
  if (x.numel() == 0) return;
  StridedView xv = view_of(x);
  int64_t last = 0;
  std::vector<bool> flipped(size_t(x.dim()), false);
  for (int d : dims) {
    SG_CHECK(d >= 0 && d < x.dim() && !flipped[size_t(d)], "flip: dim ", d, " of x ", x.shape().str(),
             " is out of range or repeated");
    flipped[size_t(d)] = true;
    last += (x.size(d) - 1) * x.stride(d);
    xv.stride[d] = -x.stride(d);
  }
  switch (x.dtype()) {
    case DType::f32: flip_typed<float>(x, xv, last, out); break;
    case DType::f64: flip_typed<double>(x, xv, last, out); break;
    case DType::i64: flip_typed<int64_t>(x, xv, last, out); break;
    case DType::b8: flip_typed<bool>(x, xv, last, out); break;
  }
}

}  // namespace sg::SG_KERNELS
