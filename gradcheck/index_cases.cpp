#include "gradcheck/cases.h"

namespace sg::cases {

std::vector<GradcheckCase> index_cases() {
  auto idx = [](std::vector<double> v, Shape s) { return from_vector(v, s, TensorOptions(DType::i64)); };
  return {
      {"where", "broadcast",
       [](Generator& g) -> TensorList { return {input(g, {3, 4}), input(g, {4})}; },
       [](const TensorList& x) {
         Tensor cond = gt(from_vector({1, -1, 2, -3, 0.5, 1, -1, 1, -2, 3, 1, -1}, {3, 4}, TensorOptions(DType::f64)), 0.0);
         return where(cond, x[0] * x[0], x[1]);
       },
       true},
      {"masked_fill", "3x4",
       [](Generator& g) -> TensorList { return {input(g, {3, 4})}; },
       [](const TensorList& x) {
         Tensor mask = gt(from_vector({1, -1, 2, -3}, {4}, TensorOptions(DType::f64)), 0.0);
         return masked_fill(x[0] * x[0], mask, 0.25);
       },
       true},
      {"gather", "dim1",
       [](Generator& g) -> TensorList { return {input(g, {2, 4})}; },
       [=](const TensorList& x) { return gather(x[0] * x[0], 1, idx({3, 0, 0, 1, 2, 2}, {2, 3})); }, true},
      {"scatter_add", "dim0_collisions",
       [](Generator& g) -> TensorList { return {input(g, {3, 2})}; },
       [=](const TensorList& x) { return scatter_add({2, 2}, 0, idx({1, 0, 1, 1, 0, 1}, {3, 2}), x[0] * x[0]); }, true},
      {"cat", "dim1_three",
       [](Generator& g) -> TensorList { return {input(g, {2, 1}), input(g, {2, 3}), input(g, {2, 2})}; },
       [](const TensorList& x) { return cat({x[0] * x[0], x[1], x[2] * x[1].narrow(1, 0, 2)}, 1); }, true},
      {"stack", "dim0",
       [](Generator& g) -> TensorList { return {input(g, {2, 3}), input(g, {2, 3})}; },
       [](const TensorList& x) { return stack({x[0] * x[1], x[1]}, 0); }, true},
      {"flip", "dims_0_2",
       [](Generator& g) -> TensorList { return {input(g, {2, 3, 4})}; },
       [](const TensorList& x) { return flip(x[0] * x[0], {0, 2}); }, true},
      {"flip", "neg_dim_of_transposed",
       [](Generator& g) -> TensorList { return {input(g, {3, 4})}; },
       [](const TensorList& x) { return flip((x[0] * x[0]).t(), {-1}); }, true},
  };
}

}  // namespace sg::cases
