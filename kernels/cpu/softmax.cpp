// Softmax along one dim, numerically stable: exp(x - max) never overflows, and
// log_softmax = (x - max) - log(sum exp(x - max)) never takes log(0) while some
// element of the row is finite. The sum is accumulated in double.
//
// A "row" is the `len` elements that differ only in the index along `dim`.
// When neither x's nor out's rows are contiguous (softmax over the channels of
// [N, C, H, W]), a row's elements are far apart in memory but neighbouring
// rows are adjacent, so rows are processed in groups of up to kGroup neighbours
// along the innermost other dim ("lanes"): each step then reads whole cache
// lines instead of one float per line. Otherwise a group is a single row.
#include "kernels/cpu/softmax.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/loops.h"

namespace sg::cpu {

namespace {

constexpr int64_t kGroup = 32;

// Element i of row r of a group is at x[i * x_step + r * x_lane] (and likewise in out).
struct RowLayout {
  int64_t len, x_step, out_step, x_lane, out_lane;
};

// Softmax of the `width` <= G rows of one group. G is a compile-time bound, so
// that G = 1 compiles to plain loops along a single row.
template <int64_t G, class T>
void softmax_group(const T* x, T* out, int64_t width, const RowLayout& L, SoftmaxKind kind) {
  const int64_t rows = G == 1 ? 1 : width;
  auto xat = [&](int64_t i, int64_t r) -> const T& { return x[i * L.x_step + r * L.x_lane]; };
  auto yat = [&](int64_t i, int64_t r) -> T& { return out[i * L.out_step + r * L.out_lane]; };

  // 1. Each row's maximum (a NaN anywhere makes the whole row NaN, as in torch).
  T row_max[G];
  for (int64_t r = 0; r < rows; ++r) row_max[r] = xat(0, r);
  for (int64_t i = 1; i < L.len; ++i)
    for (int64_t r = 0; r < rows; ++r) row_max[r] = std::max(row_max[r], xat(i, r));

  // 2. sum_i exp(x_i - max): each term is in (0, 1] and the largest is exactly 1.
  //    softmax keeps the exponentials in `out` for step 3.
  double sum_exp[G] = {};
  for (int64_t i = 0; i < L.len; ++i)
    for (int64_t r = 0; r < rows; ++r) {
      const T e = std::exp(xat(i, r) - row_max[r]);
      if (kind == SoftmaxKind::softmax) yat(i, r) = e;
      sum_exp[r] += double(e);
    }

  // 3. Normalise.
  if (kind == SoftmaxKind::softmax) {
    T inv_sum[G];
    for (int64_t r = 0; r < rows; ++r) inv_sum[r] = T(1.0 / sum_exp[r]);
    for (int64_t i = 0; i < L.len; ++i)
      for (int64_t r = 0; r < rows; ++r) yat(i, r) *= inv_sum[r];
  } else {
    T log_sum[G];
    for (int64_t r = 0; r < rows; ++r) log_sum[r] = T(std::log(sum_exp[r]));
    for (int64_t i = 0; i < L.len; ++i)
      for (int64_t r = 0; r < rows; ++r) yat(i, r) = (xat(i, r) - row_max[r]) - log_sum[r];
  }
}

}  // namespace

void softmax(const Tensor& x, int dim, const Tensor& out, SoftmaxKind kind) {
  if (x.numel() == 0) return;
  // Every dim but `dim`: the innermost one holds the lanes, the others select a group.
  Shape outer_shape;
  Strides x_outer_st, out_outer_st;
  for (int d = 0; d < x.dim(); ++d)
    if (d != dim) {
      outer_shape.push_back(x.size(d));
      x_outer_st.push_back(x.stride(d));
      out_outer_st.push_back(out.stride(d));
    }
  int64_t lanes = 1;
  RowLayout L{1, 0, 0, 0, 0};  // a 0-d tensor is one row of one element
  if (x.dim() > 0) L = {x.size(dim), x.stride(dim), out.stride(dim), 0, 0};
  if (!outer_shape.empty()) {
    const int last = outer_shape.size() - 1;
    lanes = outer_shape[last];
    L.x_lane = x_outer_st[last];
    L.out_lane = out_outer_st[last];
    outer_shape.erase(last);
    x_outer_st.erase(last);
    out_outer_st.erase(last);
  }
  const int64_t group = (L.x_step == 1 || L.out_step == 1) ? 1 : kGroup;
  const int64_t groups_per_outer = (lanes + group - 1) / group;
  const int64_t n_groups = outer_shape.numel() * groups_per_outer;

  dispatch_float(x.dtype(), "softmax", [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelGrain)
    for (int64_t g = 0; g < n_groups; ++g) {
      // Where the group's first row starts in x and in out, and how many rows it has.
      const int64_t first_lane = (g % groups_per_outer) * group;
      int64_t x_base = first_lane * L.x_lane, out_base = first_lane * L.out_lane;
      int64_t rem = g / groups_per_outer;
      for (int d = outer_shape.size() - 1; d >= 0; --d) {
        const int64_t i = rem % outer_shape[d];
        rem /= outer_shape[d];
        x_base += i * x_outer_st[d];
        out_base += i * out_outer_st[d];
      }
      if (group == 1)
        softmax_group<1>(px + x_base, po + out_base, 1, L, kind);
      else
        softmax_group<kGroup>(px + x_base, po + out_base, std::min(group, lanes - first_lane), L, kind);
    }
  });
}

}  // namespace sg::cpu
