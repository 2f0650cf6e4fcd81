#include "gradcheck/cases.h"

namespace sg::cases {

std::vector<GradcheckCase> matmul_cases() {
  auto two = [](Shape a, Shape b) {
    return [a, b](Generator& g) -> TensorList { return {input(g, a), input(g, b)}; };
  };
  return {
      {"matmul", "3x4@4x2", two({3, 4}, {4, 2}), [](const TensorList& x) { return matmul(x[0], x[1]); }, true},
      {"matmul", "transposed_operands", two({4, 3}, {2, 4}),
       [](const TensorList& x) { return matmul(x[0].t(), x[1].t()); }, true},
      {"matmul", "batched_broadcast_2x3x4@4x5", two({2, 3, 4}, {4, 5}),
       [](const TensorList& x) { return matmul(x[0], x[1]); }, true},
      {"bmm", "2x3x4@2x4x2", two({2, 3, 4}, {2, 4, 2}), [](const TensorList& x) { return bmm(x[0], x[1]); }, true},
      {"gram", "3x5", [](Generator& g) -> TensorList { return {input(g, {3, 5})}; },
       [](const TensorList& x) { return gram(x[0]); }, true},
      {"gram", "batched_2x3x4_strided", [](Generator& g) -> TensorList { return {input(g, {2, 4, 3})}; },
       [](const TensorList& x) { return gram(x[0].transpose(1, 2)); }, true},
      {"linear", "with_bias",
       [](Generator& g) -> TensorList { return {input(g, {2, 4}), input(g, {3, 4}), input(g, {3})}; },
       [](const TensorList& x) { return linear(x[0], x[1], x[2]); }, true},
  };
}

}  // namespace sg::cases
