#include "gradcheck/cases.h"

namespace sg::cases {

std::vector<GradcheckCase> dropout_cases() {
  return {
      {"dropout", "3x4_p0.4_train",
       [](Generator& g) -> TensorList { return {input(g, {3, 4})}; },
       [](const TensorList& x) {
         Generator gen(7);  // seeded here: every call of the check sees the same mask
         return dropout(x[0] * x[0], 0.4, true, gen);
       },
       true},
  };
}

}  // namespace sg::cases
