#include <algorithm>
#include <numeric>

#include "gradcheck/cases.h"

namespace sg::cases {

namespace {

template <class Set>
Pool2dOptions pool_options(Set set) {
  Pool2dOptions o;
  set(o);
  return o;
}

// A leaf holding a shuffled evenly spaced grid in [-1, 1): no two values are
// within 2/numel of each other, so the finite differences of gradcheck never
// change which element of a window is the maximum.
Tensor distinct_input(Generator& gen, const Shape& shape) {
  const int64_t n = shape.numel();
  std::vector<double> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0.0);
  for (int64_t i = n - 1; i > 0; --i) std::swap(v[size_t(i)], v[gen.next_u64() % uint64_t(i + 1)]);
  for (double& x : v) x = -1.0 + 2.0 * x / double(n);
  Tensor t = from_vector(v, shape, TensorOptions(DType::f64));
  t.requires_grad_();
  return t;
}

GradcheckCase max_case(const char* variant, Shape x, Pool2dOptions o) {
  return {"max_pool2d", variant, [=](Generator& g) -> TensorList { return {distinct_input(g, x)}; },
          [=](const TensorList& t) { return max_pool2d(t[0], o); }, true};
}

GradcheckCase avg_case(const char* variant, Shape x, Pool2dOptions o) {
  return {"avg_pool2d", variant, [=](Generator& g) -> TensorList { return {input(g, x)}; },
          [=](const TensorList& t) { return avg_pool2d(t[0], o); }, true};
}

}  // namespace

std::vector<GradcheckCase> pool_cases() {
  const Pool2dOptions k3_s2_p1 = pool_options([](Pool2dOptions& o) {
    o.kernel_h = o.kernel_w = 3;
    o.pad_h = o.pad_w = 1;
  });
  const Pool2dOptions nonsquare_ceil = pool_options([](Pool2dOptions& o) {
    o.kernel_w = 3;
    o.stride_w = 2;
    o.ceil_mode = true;
  });
  const Pool2dOptions dilation2_pad1 = pool_options([](Pool2dOptions& o) {
    o.stride_h = o.stride_w = 1;
    o.pad_h = o.pad_w = 1;
    o.dilation_h = o.dilation_w = 2;
  });
  const Pool2dOptions k3_s2_p1_ceil_exclude = pool_options([](Pool2dOptions& o) {
    o.kernel_h = o.kernel_w = 3;
    o.pad_h = o.pad_w = 1;
    o.ceil_mode = true;
    o.count_include_pad = false;
  });
  const Pool2dOptions nonsquare_ceil_include = pool_options([](Pool2dOptions& o) {
    o.kernel_w = 3;
    o.stride_h = 1;
    o.pad_h = o.pad_w = 1;
    o.ceil_mode = true;
  });
  return {
      max_case("2x2", {2, 2, 4, 4}, Pool2dOptions{}),
      max_case("3x3_stride2_pad1", {1, 2, 5, 5}, k3_s2_p1),
      // ceil_mode adds a last, partial window in H (5 rows) and in W (6 columns)
      max_case("nonsquare_ceil_mode", {1, 2, 5, 6}, nonsquare_ceil),
      max_case("dilation2_pad1", {1, 2, 6, 5}, dilation2_pad1),
      avg_case("2x2", {2, 2, 4, 4}, Pool2dOptions{}),
      avg_case("3x3_stride2_pad1", {1, 2, 5, 5}, k3_s2_p1),
      avg_case("3x3_stride2_pad1_ceil_exclude_pad", {1, 2, 6, 5}, k3_s2_p1_ceil_exclude),
      avg_case("nonsquare_pad1_ceil_include_pad", {1, 2, 4, 5}, nonsquare_ceil_include),
  };
}

}  // namespace sg::cases
