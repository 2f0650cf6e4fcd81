#include "gradcheck/cases.h"

namespace sg::cases {

std::vector<GradcheckCase> view_cases() {
  auto in = [](Shape s) { return [s](Generator& g) -> TensorList { return {input(g, s)}; }; };
  // Each view is followed by a multiplication with a fixed pattern so that the
  // check sees where every element went.
  auto weighted = [](const Tensor& y) {
    Tensor w = arange(1, double(y.numel()) + 1, 1, TensorOptions(DType::f64)).reshape(y.shape());
    return y * w;
  };
  return {
      {"reshape", "2x3x4_to_6x4", in({2, 3, 4}), [=](const TensorList& x) { return weighted(x[0].reshape({6, -1})); }, true},
      {"reshape", "of_transposed", in({3, 4}), [=](const TensorList& x) { return weighted(x[0].t().reshape({12})); }, true},
      {"permute", "2x3x4_201", in({2, 3, 4}), [=](const TensorList& x) { return weighted(x[0].permute({2, 0, 1})); }, true},
      {"transpose", "3x4", in({3, 4}), [=](const TensorList& x) { return weighted(x[0].transpose(0, 1)); }, true},
      {"narrow", "dim1_1_2", in({3, 4}), [=](const TensorList& x) { return weighted(x[0].narrow(1, 1, 2)); }, true},
      {"expand", "3x1_to_2x3x4", in({3, 1}), [=](const TensorList& x) { return weighted(x[0].expand({2, 3, 4})); }, true},
      {"unsqueeze", "dim1", in({3, 4}), [=](const TensorList& x) { return weighted(x[0].unsqueeze(1)); }, true},
      {"squeeze", "dim1", in({3, 1, 4}), [=](const TensorList& x) { return weighted(x[0].squeeze(1)); }, true},
      {"contiguous", "of_permuted", in({2, 3}), [=](const TensorList& x) { return weighted(x[0].t().contiguous()); }, true},
      {"clone", "3x4", in({3, 4}), [=](const TensorList& x) { return weighted(x[0].clone()); }, true},
  };
}

}  // namespace sg::cases
