// 2-d padding of contiguous [planes, H, W], float32, with the CPU kernel's
// contract (kernels/cpu/pad.h): y[p, i, j] = x[p, rows[i], cols[j]], or value
// where either is -1; and its adjoint into a zeroed gx.
//
// The tables are host vectors; a kernel can only read device memory, so each
// entry copies them into one small int64 tensor on the output's device first.
//
// The adjoint is a gather, not a scatter with atomics: reflect and replicate
// send several outputs to one input pixel, so each gx pixel sums the outputs
// that copied it, found through the inverse of each axis's table (built on the
// host: for input position h, the output positions i with rows[i] == h, in
// increasing order). That is deterministic, and adds in the CPU's order.
#pragma once
#include <vector>

#include "kernels/cuda/fill_copy.cuh"
#include "kernels/cuda/host_util.cuh"
#include "kernels/kernel_args.h"
#include "tensor/storage.h"

namespace sg::SG_KERNELS {

__global__ void pad2d_kernel(const float* x, float* y, const int64_t* rows, const int64_t* cols, int64_t H,
                             int64_t W, int64_t OH, int64_t OW, int64_t n, float value) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t j = o % OW, i = o / OW % OH, p = o / (OW * OH);
    const int64_t r = rows[i], c = cols[j];
    y[o] = r < 0 || c < 0 ? value : x[(p * H + r) * W + c];
  }
}

// row_begin[h]..row_begin[h + 1]: the range of row_list holding the output rows
// that copy input row h; the same for columns.
__global__ void pad2d_backward_kernel(const float* gy, float* gx, const int64_t* row_begin, const int64_t* row_list,
                                      const int64_t* col_begin, const int64_t* col_list, int64_t H, int64_t W,
                                      int64_t OH, int64_t OW, int64_t n) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t w = o % W, h = o / W % H, p = o / (W * H);
    const float* plane = gy + p * OH * OW;
    float total = 0.f;
    for (int64_t a = row_begin[h]; a < row_begin[h + 1]; ++a) {
      const float* row = plane + row_list[a] * OW;
      for (int64_t b = col_begin[w]; b < col_begin[w + 1]; ++b) total += row[col_list[b]];
    }
    gx[o] += total;
  }
}

// host -> a new int64 tensor on device d.
inline Tensor device_table(const std::vector<int64_t>& host, Device d) {
  TensorOptions o(DType::i64);
  o.device = d;
  Tensor t = empty({int64_t(host.size())}, o);
  if (!host.empty()) device_copy(t.raw_data(), d, host.data(), Device::cpu(), host.size() * sizeof(int64_t));
  return t;
}

// Checks what the kernels take; returns the number of planes.
inline int64_t pad_planes(const char* op, const Tensor& in, const Tensor& out, const AxisSource& rows,
                          const AxisSource& cols) {
  for (const Tensor* t : {&in, &out}) {
    require_f32(op, *t);
    SG_CHECK(t->dim() >= 2 && t->is_contiguous(), op, ": ", t->shape().str(), " is not a contiguous [..., H, W]");
  }
  const int64_t H = in.size(-2), W = in.size(-1);
  int64_t planes = 1;  // every dim but the last two
  for (int d = 0; d < in.dim() - 2; ++d) planes *= in.size(d);
  SG_CHECK(out.dim() == in.dim() && int64_t(rows.size()) == out.size(-2) && int64_t(cols.size()) == out.size(-1) &&
               out.numel() == planes * out.size(-2) * out.size(-1),
           op, ": ", rows.size(), " x ", cols.size(), " sources for input ", in.shape().str(), " and output ",
           out.shape().str());
  for (const AxisSource* s : {&rows, &cols}) {
    const int64_t size = s == &rows ? H : W;
    for (int64_t v : *s)
      SG_CHECK(v >= -1 && v < size, op, ": source position ", v, " outside an axis of ", size);
  }
  return planes;
}

inline void pad2d_entry(const Tensor& x, const Tensor& y, const AxisSource& rows, const AxisSource& cols,
                        double value) {
  pad_planes("pad2d", x, y, rows, cols);
  const int64_t n = y.numel();
  if (n == 0) return;
  std::vector<int64_t> sources(rows);
  sources.insert(sources.end(), cols.begin(), cols.end());
  const Tensor table = device_table(sources, y.device());
  const int64_t* t = table.device_data<int64_t>();
  SG_LAUNCH(pad2d_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)(
      x.device_data<float>(), y.device_data<float>(), t, t + rows.size(), x.size(-2), x.size(-1), y.size(-2),
      y.size(-1), n, float(value));
  SG_CHECK_LAUNCH("pad2d");
}

// Appends the inverse of `source` (an axis of `size` input positions) to `out`:
// size + 1 range starts, relative to the list that follows, then the list.
inline void append_inverse(const AxisSource& source, int64_t size, std::vector<int64_t>& out) {
  std::vector<int64_t> begin(size_t(size) + 1, 0);
  for (int64_t s : source)
    if (s >= 0) ++begin[size_t(s) + 1];
  for (int64_t h = 0; h < size; ++h) begin[size_t(h) + 1] += begin[size_t(h)];
  std::vector<int64_t> next = begin;  // where the next reader of each position goes
  std::vector<int64_t> list(static_cast<size_t>(begin.back()));
  for (size_t i = 0; i < source.size(); ++i)
    if (source[i] >= 0) list[static_cast<size_t>(next[static_cast<size_t>(source[i])]++)] = int64_t(i);
  out.insert(out.end(), begin.begin(), begin.end());
  out.insert(out.end(), list.begin(), list.end());
}

inline void pad2d_backward_entry(const Tensor& gy, const Tensor& gx, const AxisSource& rows, const AxisSource& cols) {
  pad_planes("pad2d_backward", gx, gy, rows, cols);
  const int64_t n = gx.numel(), H = gx.size(-2), W = gx.size(-1);
  if (n == 0 || gy.numel() == 0) return;
  std::vector<int64_t> inverse;
  append_inverse(rows, H, inverse);
  const size_t col_at = inverse.size();
  append_inverse(cols, W, inverse);
  const Tensor table = device_table(inverse, gx.device());
  const int64_t* t = table.device_data<int64_t>();
  SG_LAUNCH(pad2d_backward_kernel, blocks_for(n, kElementwiseThreads), kElementwiseThreads, 0, kStream)(
      gy.device_data<float>(), gx.device_data<float>(), t, t + H + 1, t + col_at, t + col_at + W + 1, H, W, gy.size(-2),
      gy.size(-1), n);
  SG_CHECK_LAUNCH("pad2d_backward");
}

}  // namespace sg::SG_KERNELS
