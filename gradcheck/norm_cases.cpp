#include "gradcheck/cases.h"

namespace sg::cases {

std::vector<GradcheckCase> norm_cases() {
  auto f64 = [](std::vector<double> v) { return from_vector(v, {int64_t(v.size())}, TensorOptions(DType::f64)); };
  return {
      {"instance_norm", "2x3x3x3_no_affine",
       [](Generator& g) -> TensorList { return {input(g, {2, 3, 3, 3})}; },
       [](const TensorList& x) { return instance_norm(x[0], Tensor(), Tensor()); }, true},
      {"instance_norm", "2x3x2x3_affine",
       [](Generator& g) -> TensorList { return {input(g, {2, 3, 2, 3}), input(g, {3}, 0.5, 1.5), input(g, {3})}; },
       [](const TensorList& x) { return instance_norm(x[0], x[1], x[2]); }, true},
      {"instance_norm", "2x2x5_1d_eps0.1",
       [](Generator& g) -> TensorList { return {input(g, {2, 2, 5})}; },
       [](const TensorList& x) { return instance_norm(x[0], Tensor(), Tensor(), 0.1); }, true},
      {"batch_norm", "train_4x3x2x2_affine",
       [](Generator& g) -> TensorList { return {input(g, {4, 3, 2, 2}), input(g, {3}, 0.5, 1.5), input(g, {3})}; },
       [](const TensorList& x) { return batch_norm(x[0], x[1], x[2], Tensor(), Tensor(), true); }, true},
      {"batch_norm", "train_5x3_updates_running_stats",
       [](Generator& g) -> TensorList { return {input(g, {5, 3})}; },
       [](const TensorList& x) {
         // Fresh buffers on every call: the update must not change the output.
         Tensor running_mean = zeros({3}, DType::f64), running_var = ones({3}, DType::f64);
         return batch_norm(x[0], Tensor(), Tensor(), running_mean, running_var, true, 0.3);
       },
       true},
      {"batch_norm", "eval_2x3x2_affine",
       [](Generator& g) -> TensorList { return {input(g, {2, 3, 2}), input(g, {3}, 0.5, 1.5), input(g, {3})}; },
       [=](const TensorList& x) {
         return batch_norm(x[0], x[1], x[2], f64({0.1, -0.2, 0.3}), f64({0.5, 1.0, 2.0}), false);
       },
       true},
  };
}

}  // namespace sg::cases
