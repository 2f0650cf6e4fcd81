#include <algorithm>

#include "style/color.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

namespace {
std::vector<double> channel_sorted(const Tensor& img, int c) {
  std::vector<double> v = img.select(0, c).contiguous().to_vector();
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST_CASE("color: histogram matching gives the content the style's value distribution") {
  Generator g(1);
  Tensor content = rand({3, 8, 8}, g, DType::f64);
  Tensor style = pow(rand({3, 8, 8}, g, DType::f64), 3.0);  // a skewed distribution
  Tensor out = style::match_histograms(content, style);
  for (int c = 0; c < 3; ++c) {
    std::vector<double> a = channel_sorted(out, c), b = channel_sorted(style, c);
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-9));
  }
  // the order of pixels (the picture) is the content's
  std::vector<double> cv = content.select(0, 0).contiguous().to_vector(), ov = out.select(0, 0).contiguous().to_vector();
  for (size_t i = 1; i < cv.size(); ++i) CHECK((cv[i] > cv[i - 1]) == (ov[i] > ov[i - 1]));
}

TEST_CASE("color: Reinhard transfer matches the style's lαβ statistics; onto itself it is the identity") {
  Generator g(2);
  Tensor content = rand({3, 6, 7}, g, DType::f64) * 0.8 + 0.1;
  check_close(style::reinhard_transfer(content, content), content, 1e-6, 1e-6);
  Tensor style = rand({3, 5, 5}, g, DType::f64) * 0.3 + 0.5;
  Tensor out = style::reinhard_transfer(content, style);
  CHECK(out.shape() == content.shape());
  // the mean colour moves towards the style's
  const double before = std::abs(mean(content).item() - mean(style).item());
  const double after = std::abs(mean(out).item() - mean(style).item());
  CHECK(after < before);
}

TEST_CASE("color: original colours keep the content's chrominance and the stylised luminance") {
  Generator g(3);
  Tensor content = rand({3, 4, 4}, g, DType::f64) * 0.5 + 0.25;
  check_close(style::keep_original_colors(content, content), content, 1e-9, 1e-9);
  Tensor grey = mean(content, {0}, true).expand({3, 4, 4}).contiguous();
  Tensor out = style::keep_original_colors(content, grey);
  auto luma = [](const Tensor& t) {
    return t.select(0, 0) * 0.299 + t.select(0, 1) * 0.587 + t.select(0, 2) * 0.114;
  };
  check_close(luma(out), luma(grey), 1e-3, 1e-3);
  CHECK(error_of([&] { style::keep_original_colors(content, zeros({3, 2, 2}, DType::f64)); }).find("differ in size") !=
        std::string::npos);
}
