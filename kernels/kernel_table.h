// The one dispatch point between ops and kernels (in the spirit of
// ggml's backend interface): a table of kernels per device kind -- cpu, cuda,
// cuda-emulated -- looked up from a tensor's device. An op asks
//   kernel_for(t.device(), &KernelTable::fill, "fill_")(t, value);
// and never branches on the device itself. An entry a device lacks is null,
// and asking for it is the error "fill_: no kernel on device cuda:0".
// An entry that exists but does not take a dtype says so in its own error.
//
// The cuda and cuda-emulated tables are built from the same source
// (kernels/cuda/table.cuh): the first by nvcc (CUDA builds only), the second by
// the host compiler against kernels/cuda/emulation.h (every build).
#pragma once
#include <vector>

#include "kernels/kernel_args.h"
#include "tensor/device.h"

namespace sg {

class Tensor;

// One entry per kernel. The contracts -- shapes, layouts, who zeroes what --
// are the CPU kernels' (kernels/cpu/<op>.h, named beside each entry), and every
// device's kernel keeps them, so ops allocate and check once for all devices.
// Outputs are allocated by the op on the inputs' device.
struct KernelTable {
  const char* device = nullptr;  // as Device::str() spells the kind: "cpu", "cuda", "cuda-emulated"

  // copy.h: every element of the view dst := value; dst := src (same shape,
  // any strides; a broadcast src is an expand()ed view).
  void (*fill)(const Tensor& dst, double value) = nullptr;
  void (*copy)(const Tensor& src, const Tensor& dst) = nullptr;

  // elementwise.h: out := op(x) / op(a, b) / a op b / cond ? a : b, on one
  // shape (broadcast inputs are expand()ed views).
  void (*unary)(Unary op, const Tensor& x, const Tensor& out, double a, double b) = nullptr;
  void (*binary)(Binary op, const Tensor& a, const Tensor& b, const Tensor& out) = nullptr;
  void (*compare)(Compare op, const Tensor& a, const Tensor& b, const Tensor& out_bool) = nullptr;
  void (*where)(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) = nullptr;

  // reduce.h: out (keepdim shape, contiguous) := scale * sum over the dims d
  // with reduce[d]; the maximum along dim and its first index.
  void (*sum)(const Tensor& x, const std::vector<bool>& reduce, const Tensor& out, double scale) = nullptr;
  void (*max_along)(const Tensor& x, int dim, const Tensor& values, const Tensor& indices) = nullptr;

  // matmul.h: out [batch..., M, N] := a [batch..., M, K] b [batch..., K, N];
  // out := v v^T for v [batch..., C, K].
  void (*matmul)(const Tensor& a, const Tensor& b, const Tensor& out) = nullptr;
  void (*gram)(const Tensor& v, const Tensor& out) = nullptr;

  // softmax.h: softmax or log_softmax along dim.
  void (*softmax)(const Tensor& x, int dim, const Tensor& out, SoftmaxKind kind) = nullptr;

  // index.h: gather / scatter_add (out pre-zeroed) along dim; flip.
  void (*gather)(const Tensor& x, int dim, const Tensor& index, const Tensor& out) = nullptr;
  void (*scatter_add)(const Tensor& out, int dim, const Tensor& index, const Tensor& src) = nullptr;
  void (*flip)(const Tensor& x, const std::vector<int>& dims, const Tensor& out) = nullptr;

  // conv.h: the three readings of one convolution (image [N, C, H, W],
  // columns [N, O, OH, OW], weight [O, C/groups, kh, kw]; contiguous).
  void (*conv2d)(const Tensor& image, const Tensor& weight, const Tensor& bias, const Tensor& columns,
                 const ConvParams& p) = nullptr;
  void (*conv_transpose2d)(const Tensor& columns, const Tensor& weight, const Tensor& bias, const Tensor& image,
                           const ConvParams& p) = nullptr;
  void (*conv2d_weight_grad)(const Tensor& image, const Tensor& columns, const Tensor& grad_weight,
                             const ConvParams& p) = nullptr;

  // norm.h: normalisation per channel of x [outer, C, inner] with stats [C, 2] = (mean, rstd).
  void (*normalize)(const Tensor& x, const Tensor& y, const Tensor& stats, double eps) = nullptr;
  void (*normalize_backward)(const Tensor& x, const Tensor& stats, const Tensor& g, const Tensor& dx) = nullptr;

  // dropout.h: mask = scale where Philox stream d.seed's uniform number i < d.keep, else 0.
  void (*dropout_mask)(const Tensor& mask, const DropoutMask& d) = nullptr;

  // pad.h: y[p, i, j] = x[p, rows[i], cols[j]] (or value at -1); its adjoint into a zeroed gx.
  void (*pad2d)(const Tensor& x, const Tensor& y, const AxisSource& rows, const AxisSource& cols,
                double value) = nullptr;
  void (*pad2d_backward)(const Tensor& gy, const Tensor& gx, const AxisSource& rows, const AxisSource& cols) = nullptr;

  // pool.h: max (values and/or indices) and average pooling, and average's adjoint into a zeroed gx.
  void (*max_pool2d)(const Tensor& x, const Tensor& y, const Tensor& indices, const PoolAxis& rows,
                     const PoolAxis& cols) = nullptr;
  void (*avg_pool2d)(const Tensor& x, const Tensor& y, const PoolAxis& rows, const PoolAxis& cols,
                     bool count_include_pad) = nullptr;
  void (*avg_pool2d_backward)(const Tensor& gy, const Tensor& gx, const PoolAxis& rows, const PoolAxis& cols,
                              bool count_include_pad) = nullptr;

  // upsample.h: nearest and bilinear resampling, and their adjoints into a zeroed gx.
  void (*upsample_nearest2d)(const Tensor& x, const Tensor& y) = nullptr;
  void (*upsample_nearest2d_backward)(const Tensor& gy, const Tensor& gx) = nullptr;
  void (*upsample_bilinear2d)(const Tensor& x, const Tensor& y, bool align_corners) = nullptr;
  void (*upsample_bilinear2d_backward)(const Tensor& gy, const Tensor& gx, bool align_corners) = nullptr;

  // optim.h: one fused Adam/AdamW step of a parameter and its state, in place.
  void (*adam_update)(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                      const Tensor& max_exp_avg_sq, const AdamStep& s) = nullptr;
};

// Every entry's name, for code that goes over them all (the test that each
// device has every kernel). kernel_table.cpp checks that it names them all.
#define SG_KERNEL_TABLE_ENTRIES(X) \
  X(fill) X(copy) X(unary) X(binary) X(compare) \
  X(where) X(sum) X(max_along) X(matmul) X(gram) \
  X(softmax) X(gather) X(scatter_add) X(flip) X(conv2d) \
  X(conv_transpose2d) X(conv2d_weight_grad) X(normalize) X(normalize_backward) X(dropout_mask) X(pad2d) \
  X(pad2d_backward) X(max_pool2d) X(avg_pool2d) X(avg_pool2d_backward) X(upsample_nearest2d) \
  X(upsample_nearest2d_backward) X(upsample_bilinear2d) X(upsample_bilinear2d_backward) X(adam_update)

// The table of d's kind. cuda in a build without CUDA is an error that says so;
// for cuda:N it also makes N the current device, where its entries launch.
const KernelTable& kernels_on(Device d);

// The tables by kind, for the lookup above and for tests; null when the build
// has none (cuda without nvcc).
const KernelTable* cpu_kernel_table();
const KernelTable* cuda_kernel_table();
const KernelTable* cuda_emulated_kernel_table();

[[noreturn]] void throw_no_kernel(const char* op, Device d);

// The entry of d's table, or the error "op: no kernel on device D".
template <class F>
F kernel_for(Device d, F KernelTable::*entry, const char* op) {
  const F f = kernels_on(d).*entry;
  if (!f) throw_no_kernel(op, d);
  return f;
}

}  // namespace sg
