#include "kernels/cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/loops.h"

namespace sg::cpu {

namespace {

// The input positions [begin, end) that avg-pool window `o` covers along one
// axis, and its length counting padding. torch ends a window at the right
// padding's edge, so a ceil_mode window may be shorter than the kernel.
struct AvgSpan {
  int64_t begin, end, padded_length;
};

std::vector<AvgSpan> avg_spans(const PoolAxis& a, int64_t size, int64_t out_size) {
  std::vector<AvgSpan> spans(out_size);
  for (int64_t o = 0; o < out_size; ++o) {
    const int64_t begin = o * a.stride - a.pad;
    const int64_t end = std::min(begin + a.kernel, size + a.pad);
    spans[o] = {std::max<int64_t>(begin, 0), std::min(end, size), end - begin};
  }
  return spans;
}

template <class T>
T divisor_of(const AvgSpan& r, const AvgSpan& c, bool count_include_pad) {
  return count_include_pad ? T(r.padded_length * c.padded_length) : T((r.end - r.begin) * (c.end - c.begin));
}

template <class T>
void max_pool2d_impl(const Tensor& x, const Tensor& y, const Tensor& indices, const PoolAxis& ra,
                     const PoolAxis& ca) {
  const int64_t planes = x.size(0) * x.size(1), H = x.size(2), W = x.size(3);
  const Tensor& out = y.defined() ? y : indices;
  const int64_t OH = out.size(2), OW = out.size(3);
  const T* px = x.data<T>();
  T* py = y.defined() ? y.data<T>() : nullptr;
  int64_t* pi = indices.defined() ? indices.data<int64_t>() : nullptr;
  // VGG's pools (2x2, stride 2, no padding or dilation, no partial ceil_mode
  // window) take a path without bounds checks: every window lies inside the
  // plane. Same order of comparisons, so the same argmax on ties and NaNs.
  const bool plain_2x2 = ra.kernel == 2 && ca.kernel == 2 && ra.stride == 2 && ca.stride == 2 && ra.pad == 0 &&
                         ca.pad == 0 && ra.dilation == 1 && ca.dilation == 1 && 2 * OH <= H && 2 * OW <= W;
#pragma omp parallel for if (planes * OH * OW * ra.kernel * ca.kernel >= kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    const T* plane = px + p * H * W;
    if (plain_2x2) {
      for (int64_t oh = 0; oh < OH; ++oh) {
        const T* r0 = plane + 2 * oh * W;
        const T* r1 = r0 + W;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t w0 = 2 * ow;
          T best = r0[w0];
          int64_t at = 0;
          // "v > best || isnan(v)": a later element wins only if larger, or NaN
          if (r0[w0 + 1] > best || std::isnan(r0[w0 + 1])) best = r0[w0 + 1], at = 1;
          if (r1[w0] > best || std::isnan(r1[w0])) best = r1[w0], at = W;
          if (r1[w0 + 1] > best || std::isnan(r1[w0 + 1])) best = r1[w0 + 1], at = W + 1;
          if (py) py[(p * OH + oh) * OW + ow] = best;
          if (pi) pi[(p * OH + oh) * OW + ow] = 2 * oh * W + w0 + at;
        }
      }
      continue;
    }
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_at = -1;
        for (int64_t i = 0; i < ra.kernel; ++i) {
          const int64_t ih = oh * ra.stride - ra.pad + i * ra.dilation;
          if (ih < 0 || ih >= H) continue;
          for (int64_t j = 0; j < ca.kernel; ++j) {
            const int64_t iw = ow * ca.stride - ca.pad + j * ca.dilation;
            if (iw < 0 || iw >= W) continue;
            const T v = plane[ih * W + iw];
            if (best_at < 0 || v > best || std::isnan(v)) {
              best = v;
              best_at = ih * W + iw;
            }
          }
        }
        if (py) py[(p * OH + oh) * OW + ow] = best;
        if (pi) pi[(p * OH + oh) * OW + ow] = best_at;
      }
  }
}

template <class T>
void avg_pool2d_impl(const Tensor& x, const Tensor& y, const PoolAxis& ra, const PoolAxis& ca,
                     bool count_include_pad) {
  const int64_t planes = x.size(0) * x.size(1), H = x.size(2), W = x.size(3);
  const int64_t OH = y.size(2), OW = y.size(3);
  const std::vector<AvgSpan> rows = avg_spans(ra, H, OH), cols = avg_spans(ca, W, OW);
  const T* px = x.data<T>();
  T* py = y.data<T>();
#pragma omp parallel for if (planes * OH * OW * ra.kernel * ca.kernel >= kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    const T* plane = px + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const AvgSpan &r = rows[oh], &c = cols[ow];
        T total = 0;
        for (int64_t ih = r.begin; ih < r.end; ++ih)
          for (int64_t iw = c.begin; iw < c.end; ++iw) total += plane[ih * W + iw];
        py[(p * OH + oh) * OW + ow] = total / divisor_of<T>(r, c, count_include_pad);
      }
  }
}

template <class T>
void avg_pool2d_backward_impl(const Tensor& gy, const Tensor& gx, const PoolAxis& ra, const PoolAxis& ca,
                              bool count_include_pad) {
  const int64_t planes = gx.size(0) * gx.size(1), H = gx.size(2), W = gx.size(3);
  const int64_t OH = gy.size(2), OW = gy.size(3);
  const std::vector<AvgSpan> rows = avg_spans(ra, H, OH), cols = avg_spans(ca, W, OW);
  const T* pg = gy.data<T>();
  T* px = gx.data<T>();
  // Windows overlap within a plane, so one thread owns each plane.
#pragma omp parallel for if (planes * OH * OW * ra.kernel * ca.kernel >= kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    T* plane = px + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const AvgSpan &r = rows[oh], &c = cols[ow];
        const T share = pg[(p * OH + oh) * OW + ow] / divisor_of<T>(r, c, count_include_pad);
        for (int64_t ih = r.begin; ih < r.end; ++ih)
          for (int64_t iw = c.begin; iw < c.end; ++iw) plane[ih * W + iw] += share;
      }
  }
}

}  // namespace

void max_pool2d(const Tensor& x, const Tensor& y, const Tensor& indices, const PoolAxis& rows, const PoolAxis& cols) {
  dispatch_float(x.dtype(), "max_pool2d", [&](auto z) { max_pool2d_impl<decltype(z)>(x, y, indices, rows, cols); });
}

void avg_pool2d(const Tensor& x, const Tensor& y, const PoolAxis& rows, const PoolAxis& cols,
                bool count_include_pad) {
  dispatch_float(x.dtype(), "avg_pool2d",
                 [&](auto z) { avg_pool2d_impl<decltype(z)>(x, y, rows, cols, count_include_pad); });
}

void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const PoolAxis& rows, const PoolAxis& cols,
                         bool count_include_pad) {
  dispatch_float(gy.dtype(), "avg_pool2d_backward",
                 [&](auto z) { avg_pool2d_backward_impl<decltype(z)>(gy, gx, rows, cols, count_include_pad); });
}

}  // namespace sg::cpu
