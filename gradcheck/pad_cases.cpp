#include "gradcheck/cases.h"

namespace sg::cases {

namespace {

GradcheckCase pad_case(const char* variant, Shape x, int64_t left, int64_t right, int64_t top, int64_t bottom,
                       PadMode mode, double value = 0.0) {
  return {"pad2d", variant, [=](Generator& g) -> TensorList { return {input(g, x)}; },
          [=](const TensorList& t) { return pad2d(t[0], left, right, top, bottom, mode, value); }, true};
}

}  // namespace

std::vector<GradcheckCase> pad_cases() {
  return {
      pad_case("zeros_value0.5_1_2_0_3", {2, 2, 3, 4}, 1, 2, 0, 3, PadMode::zeros, 0.5),
      // the widest reflection allowed: size - 1 on each side
      pad_case("reflect_3_1_2_2", {1, 2, 3, 4}, 3, 1, 2, 2, PadMode::reflect),
      pad_case("reflect_3d_input", {2, 4, 3}, 1, 2, 3, 0, PadMode::reflect),
      // pads wider than the input: the edge pixels collect many gradients
      pad_case("replicate_2_3_4_1", {1, 2, 3, 2}, 2, 3, 4, 1, PadMode::replicate),
  };
}

}  // namespace sg::cases
