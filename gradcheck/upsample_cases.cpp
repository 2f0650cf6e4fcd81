#include "gradcheck/cases.h"

namespace sg::cases {

namespace {

GradcheckCase nearest_case(const char* variant, Shape x, int64_t out_h, int64_t out_w) {
  return {"upsample_nearest2d", variant, [=](Generator& g) -> TensorList { return {input(g, x)}; },
          [=](const TensorList& t) { return upsample_nearest2d(t[0], out_h, out_w); }, true};
}

GradcheckCase bilinear_case(const char* variant, Shape x, int64_t out_h, int64_t out_w, bool align_corners) {
  return {"upsample_bilinear2d", variant, [=](Generator& g) -> TensorList { return {input(g, x)}; },
          [=](const TensorList& t) { return upsample_bilinear2d(t[0], out_h, out_w, align_corners); }, true};
}

}  // namespace

std::vector<GradcheckCase> upsample_cases() {
  return {
      nearest_case("2x", {2, 2, 3, 3}, 6, 6),
      nearest_case("non_integer_3x4_to_5x7", {1, 2, 3, 4}, 5, 7),
      nearest_case("shrink_5x6_to_3x4", {1, 2, 5, 6}, 3, 4),
      bilinear_case("2x_half_pixel", {2, 2, 3, 3}, 6, 6, false),
      bilinear_case("2x_align_corners", {2, 2, 3, 3}, 6, 6, true),
      bilinear_case("3x4_to_5x7_half_pixel", {1, 2, 3, 4}, 5, 7, false),
      bilinear_case("3x4_to_5x7_align_corners", {1, 2, 3, 4}, 5, 7, true),
      bilinear_case("shrink_5x6_to_3x2_half_pixel", {1, 1, 5, 6}, 3, 2, false),
      bilinear_case("to_1x1_align_corners", {1, 2, 3, 2}, 1, 1, true),
  };
}

}  // namespace sg::cases
