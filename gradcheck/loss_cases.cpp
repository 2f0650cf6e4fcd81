#include "gradcheck/cases.h"

namespace sg::cases {

std::vector<GradcheckCase> loss_cases() {
  auto input_and_target = [](double lo, double hi) {
    return [=](Generator& g) -> TensorList { return {input(g, {3, 4}, lo, hi), input(g, {3, 4}, 0.0, 1.0)}; };
  };
  return {
      {"l1_loss", "3x4",
       [](Generator& g) -> TensorList {
         // |x - t| has a kink at x = t: keep the two at least 0.05 apart.
         Tensor target = input(g, {3, 4});
         Tensor x = (target + input_away_from_zero(g, {3, 4})).detach();
         x.requires_grad_();
         return {x, target};
       },
       [](const TensorList& x) { return l1_loss(x[0], x[1]); }, true},
      {"mse_loss", "3x4", input_and_target(-1, 1), [](const TensorList& x) { return mse_loss(x[0], x[1]); }, true},
      {"bce_with_logits", "3x4", input_and_target(-4, 4),
       [](const TensorList& x) { return bce_with_logits(x[0], x[1]); }, true},
  };
}

}  // namespace sg::cases
