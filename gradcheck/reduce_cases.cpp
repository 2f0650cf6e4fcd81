#include "gradcheck/cases.h"

namespace sg::cases {

std::vector<GradcheckCase> reduce_cases() {
  auto in = [](Shape s) { return [s](Generator& g) -> TensorList { return {input(g, s)}; }; };
  return {
      {"sum", "all", in({2, 3, 4}), [](const TensorList& x) { return sum(x[0]); }, true},
      {"sum", "dims_0_2_keepdim", in({2, 3, 4}), [](const TensorList& x) { return sum(x[0], {0, 2}, true); }, true},
      {"sum", "dim_-1", in({2, 3, 4}), [](const TensorList& x) { return sum(x[0], {-1}); }, true},
      {"mean", "dim_1", in({2, 3, 4}), [](const TensorList& x) { return mean(x[0], {1}); }, true},
      {"mean", "all", in({2, 3, 4}), [](const TensorList& x) { return mean(x[0]); }, true},
      {"var", "dims_2_3_unbiased", in({2, 3, 4, 2}), [](const TensorList& x) { return var(x[0], {2, 3}); }, true},
      {"var", "all_biased", in({3, 5}), [](const TensorList& x) { return var(x[0], {}, 0); }, true},
      {"max", "dim_1", in({3, 5, 2}), [](const TensorList& x) { return max(x[0], 1).first; }, true},
      {"max", "dim_0_keepdim", in({4, 3}), [](const TensorList& x) { return max(x[0], 0, true).first; }, true},
      {"sum_to", "2x3x4_to_3x1", in({2, 3, 4}), [](const TensorList& x) { return sum_to(x[0], {3, 1}); }, true},
  };
}

}  // namespace sg::cases
