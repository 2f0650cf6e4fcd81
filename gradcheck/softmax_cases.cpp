#include "gradcheck/cases.h"

namespace sg::cases {

std::vector<GradcheckCase> softmax_cases() {
  auto in = [](Shape s) { return [s](Generator& g) -> TensorList { return {input(g, s, -2.0, 2.0)}; }; };
  auto labels = [](std::vector<double> v, Shape s) { return from_vector(v, s, TensorOptions(DType::i64)); };
  return {
      {"softmax", "3x4_dim1", in({3, 4}), [](const TensorList& x) { return softmax(x[0], 1); }, true},
      {"softmax", "2x3x4_dim1_strided_rows", in({2, 3, 4}), [](const TensorList& x) { return softmax(x[0], 1); }, true},
      {"softmax", "transposed_dim-1", in({4, 3}), [](const TensorList& x) { return softmax(x[0].t(), -1); }, true},
      {"log_softmax", "3x4_dim1", in({3, 4}), [](const TensorList& x) { return log_softmax(x[0], 1); }, true},
      {"log_softmax", "2x3x4_dim0", in({2, 3, 4}), [](const TensorList& x) { return log_softmax(x[0], 0); }, true},
      {"log_softmax", "transposed_dim-1", in({4, 3}), [](const TensorList& x) { return log_softmax(x[0].t(), -1); }, true},
      {"cross_entropy", "4x5", in({4, 5}),
       [=](const TensorList& x) { return cross_entropy(x[0], labels({4, 0, 2, 2}, {4})); }, true},
      {"cross_entropy", "2x3x2x2_per_pixel", in({2, 3, 2, 2}),
       [=](const TensorList& x) { return cross_entropy(x[0], labels({0, 1, 2, 2, 1, 1, 0, 2}, {2, 2, 2})); }, true},
  };
}

}  // namespace sg::cases
