// The host side of the cuda and cuda-emulated kernel tables (kernels/kernel_table.h):
// each entry checks what its kernels take, describes the tensors as
// StridedViews and launches. Included once by kernels/cuda/cuda_kernels.cu
// (nvcc: device pointers, real launches) and once by
// kernels/cuda_emulated_kernels.cpp (host compiler: host pointers, emulated
// launches), so both run the same code.
#pragma once
#include <vector>

#include "kernels/cuda/conv.cuh"
#include "kernels/cuda/dropout.cuh"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/fill_copy.cuh"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/host_util.cuh"
#include "kernels/cuda/index.cuh"
#include "kernels/cuda/norm.cuh"
#include "kernels/cuda/optim.cuh"
#include "kernels/cuda/pad.cuh"
#include "kernels/cuda/pool.cuh"
#include "kernels/cuda/reduce.cuh"
#include "kernels/cuda/softmax.cuh"
#include "kernels/cuda/upsample.cuh"
#include "kernels/kernel_table.h"
#include "tensor/error.h"
#include "tensor/tensor.h"

namespace sg::SG_KERNELS {

inline void fill_entry(const Tensor& dst, double value) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  const StridedView v = view_of(dst);
  switch (dst.dtype()) {
    case DType::f32: fill(static_cast<float*>(dst.raw_data()), v, n, float(value), kStream); break;
    case DType::f64: fill(static_cast<double*>(dst.raw_data()), v, n, value, kStream); break;
    case DType::i64: fill(static_cast<int64_t*>(dst.raw_data()), v, n, int64_t(value), kStream); break;
    case DType::b8: fill(static_cast<bool*>(dst.raw_data()), v, n, value != 0, kStream); break;
  }
}

template <class T>
void copy_typed(const Tensor& src, const Tensor& dst) {
  copy(static_cast<const T*>(src.raw_data()), view_of(src), static_cast<T*>(dst.raw_data()), view_of(dst),
       dst.numel(), kStream);
}

inline void copy_entry(const Tensor& src, const Tensor& dst) {
  SG_CHECK(src.shape() == dst.shape(), "copy: shapes ", src.shape().str(), " and ", dst.shape().str(), " differ");
  SG_CHECK(src.dtype() == dst.dtype(), "copy: the ", kDeviceName, " kernel does not convert dtypes (",
           dtype_name(src.dtype()), " to ", dtype_name(dst.dtype()), ")");
  if (dst.numel() == 0) return;
  switch (dst.dtype()) {
    case DType::f32: copy_typed<float>(src, dst); break;
    case DType::f64: copy_typed<double>(src, dst); break;
    case DType::i64: copy_typed<int64_t>(src, dst); break;
    case DType::b8: copy_typed<bool>(src, dst); break;
  }
}

inline void matmul_entry(const Tensor& a, const Tensor& b, const Tensor& out) {
  for (const Tensor* t : {&a, &b, &out}) require_f32("matmul", *t);
  const int nd = out.dim();
  SG_CHECK(nd >= 2 && a.dim() == nd && b.dim() == nd, "matmul: a ", a.shape().str(), ", b ", b.shape().str(),
           " and out ", out.shape().str(), " need one rank >= 2");
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  SG_CHECK(b.size(-2) == K && out.size(-2) == M && out.size(-1) == N && out.is_contiguous(), "matmul: a ",
           a.shape().str(), " times b ", b.shape().str(), " into out ", out.shape().str());
  GemmBatch batch;
  int64_t n_batch = 1;
  batch.batch.ndim = batch.a_batch.ndim = batch.b_batch.ndim = nd - 2 > 0 ? nd - 2 : 1;
  batch.batch.size[0] = batch.a_batch.size[0] = batch.b_batch.size[0] = 1;
  for (int d = 0; d < nd - 2; ++d) {
    SG_CHECK(a.size(d) == out.size(d) && b.size(d) == out.size(d), "matmul: batch dims of a ", a.shape().str(),
             " and b ", b.shape().str(), " must be expand()ed to out's ", out.shape().str());
    batch.batch.size[d] = batch.a_batch.size[d] = batch.b_batch.size[d] = out.size(d);
    batch.a_batch.stride[d] = a.stride(d);
    batch.b_batch.stride[d] = b.stride(d);
    n_batch *= out.size(d);
  }
  SG_CHECK(n_batch <= 65535, "matmul: a batch of ", n_batch, " matrices is more than the kernel's grid takes (65535)");
  if (out.numel() == 0) return;
  sgemm(M, N, K, static_cast<const float*>(a.raw_data()), a.stride(-2), a.stride(-1),
        static_cast<const float*>(b.raw_data()), b.stride(-2), b.stride(-1), static_cast<float*>(out.raw_data()),
        batch, n_batch, kStream);
}

// Every entry the CPU has (tests/test_cuda_emulated.cpp checks that none is
// missing). An entry left null would be the error "<op>: no kernel on device
// cuda-emulated" when an op asks for it.
inline KernelTable make_table() {
  KernelTable t;
  t.device = kDeviceName;
  t.fill = fill_entry;
  t.copy = copy_entry;
  t.unary = unary_entry;
  t.binary = binary_entry;
  t.compare = compare_entry;
  t.where = where_entry;
  t.sum = sum_entry;
  t.max_along = max_along_entry;
  t.matmul = matmul_entry;
  t.gram = gram_entry;
  t.softmax = softmax_entry;
  t.gather = gather_entry;
  t.scatter_add = scatter_add_entry;
  t.flip = flip_entry;
  t.conv2d = conv2d_entry;
  t.conv_transpose2d = conv_transpose2d_entry;
  t.conv2d_weight_grad = conv2d_weight_grad_entry;
  t.normalize = normalize_entry;
  t.normalize_backward = normalize_backward_entry;
  t.dropout_mask = dropout_mask_entry;
  t.pad2d = pad2d_entry;
  t.pad2d_backward = pad2d_backward_entry;
  t.max_pool2d = max_pool2d_entry;
  t.avg_pool2d = avg_pool2d_entry;
  t.avg_pool2d_backward = avg_pool2d_backward_entry;
  t.upsample_nearest2d = upsample_nearest2d_entry;
  t.upsample_nearest2d_backward = upsample_nearest2d_backward_entry;
  t.upsample_bilinear2d = upsample_bilinear2d_entry;
  t.upsample_bilinear2d_backward = upsample_bilinear2d_backward_entry;
  t.adam_update = adam_update_entry;
  return t;
}

inline const KernelTable kTable = make_table();

}  // namespace sg::SG_KERNELS
