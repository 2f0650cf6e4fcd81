#include "gradcheck/cases.h"

namespace sg {

namespace cases {

Tensor input(Generator& gen, const Shape& shape, double lo, double hi) {
  Tensor t = rand(shape, gen, TensorOptions(DType::f64)) * (hi - lo) + lo;
  t = t.detach();
  t.requires_grad_();
  return t;
}

Tensor input_away_from_zero(Generator& gen, const Shape& shape, double gap) {
  Tensor u = rand(shape, gen, TensorOptions(DType::f64));  // [0, 1)
  // map to [-1, -gap) U [gap, 1)
  std::vector<double> v = u.to_vector();
  for (double& x : v) x = x < 0.5 ? -(gap + (1 - gap) * (x / 0.5)) : gap + (1 - gap) * ((x - 0.5) / 0.5);
  Tensor t = from_vector(v, shape, TensorOptions(DType::f64));
  t.requires_grad_();
  return t;
}

Tensor constant(Generator& gen, const Shape& shape, double lo, double hi) {
  return (rand(shape, gen, TensorOptions(DType::f64)) * (hi - lo) + lo).detach();
}

}  // namespace cases

const std::vector<GradcheckCase>& all_gradcheck_cases() {
  static const std::vector<GradcheckCase> all = [] {
    std::vector<GradcheckCase> v;
    for (auto family : {
             cases::elementwise_cases,
             cases::reduce_cases,
             cases::view_cases,
             cases::index_cases,
             cases::matmul_cases,
             cases::norm_cases,
             cases::softmax_cases,
             cases::dropout_cases,
             cases::loss_cases,
             cases::conv_cases,
             cases::pool_cases,
             cases::pad_cases,
             cases::upsample_cases,
         }) {
      auto f = family();
      v.insert(v.end(), f.begin(), f.end());
    }
    return v;
  }();
  return all;
}

}  // namespace sg
