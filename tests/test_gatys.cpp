#include "style/gatys.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

namespace {
// A tiny differentiable "network": layer "a" = the image, layer "b" = relu(W x) per pixel.
class TinyNet : public style::FeatureNet {
 public:
  explicit TinyNet(bool normalized) : normalized_(normalized) {
    Generator g(11);
    w_ = randn({4, 3}, g, DType::f64);
  }
  std::map<std::string, Tensor> features(const Tensor& img, const std::vector<std::string>& layers) override {
    std::map<std::string, Tensor> out;
    const int64_t h = img.size(2), w = img.size(3);
    for (const auto& l : layers) {
      if (l == "a") out[l] = img;
      if (l == "b") out[l] = relu(matmul(w_, img.reshape({3, h * w}))).reshape({1, 4, h, w});
    }
    return out;
  }
  std::string description() const override { return "tiny"; }
  bool normalized_losses() const override { return normalized_; }
  double floats_per_pixel() const override { return 7; }  // a and b

 private:
  Tensor w_;
  bool normalized_;
};
}  // namespace

TEST_CASE("gatys: Gram matrix is V Vᵀ / (C H W)") {
  // C = 2, H*W = 3: V = [[1,2,3],[4,5,6]]
  Tensor f = t64({1, 2, 3, 4, 5, 6}, {1, 2, 1, 3});
  check_close(style::gram_matrix(f), t64({14, 32, 32, 77}, {1, 2, 2}) * (1.0 / 6.0));
}

TEST_CASE("gatys: total variation sums squared neighbour differences") {
  Tensor img = t64({0, 1, 3, 6}, {1, 1, 2, 2});
  // right: (1-0)^2 + (6-3)^2 = 10; down: (3-0)^2 + (6-1)^2 = 34
  CHECK(style::total_variation(img).item() == doctest::Approx(44));
}

TEST_CASE("gatys: losses follow neural-style's conventions and are differentiable") {
  Generator g(5);
  Tensor content = rand({1, 3, 4, 5}, g, DType::f64), style_img = rand({1, 3, 6, 4}, g, DType::f64);
  for (bool normalized : {false, true}) {
    TinyNet net(normalized);
    style::LossWeights w{2.0, 3.0, 0.5};
    auto problem = style::make_problem(net, content, {style_img}, {1.0}, {"a"}, {"a", "b"}, w);
    // at the content image the content loss is 0
    CHECK(style::evaluate(net, problem, content).content.item() == doctest::Approx(0));
    Tensor x = rand({1, 3, 4, 5}, g, DType::f64);
    style::Losses l = style::evaluate(net, problem, x);
    Tensor d = x - content;
    const double expected_content = normalized ? mean(d * d).item() / mean(content * content).item() : mean(d * d).item();
    CHECK(l.content.item() == doctest::Approx(2.0 * expected_content));
    CHECK(l.tv.item() == doctest::Approx(0.5 * style::total_variation(x).item()));
    CHECK(l.total.item() == doctest::Approx(l.content.item() + l.style.item() + l.tv.item()));
    GradcheckResult r = gradcheck([&](const TensorList& in) { return style::evaluate(net, problem, in[0]).total; },
                                  {x.detach().requires_grad_()});
    INFO(r.worst);
    CHECK(r.passed);
  }
}

TEST_CASE("gatys: blended style targets are the weighted mean of the Gram matrices") {
  Generator g(6);
  TinyNet net(false);
  Tensor c = rand({1, 3, 3, 3}, g, DType::f64), s1 = rand({1, 3, 3, 3}, g, DType::f64), s2 = rand({1, 3, 4, 4}, g, DType::f64);
  auto p = style::make_problem(net, c, {s1, s2}, {1.0, 3.0}, {"a"}, {"a"}, {});
  check_close(p.style_targets.at("a"), style::gram_matrix(s1) * 0.25 + style::gram_matrix(s2) * 0.75);
  CHECK(error_of([&] { style::make_problem(net, c, {s1}, {1.0, 2.0}, {"a"}, {"a"}, {}); }).find("blend weights") !=
        std::string::npos);
}
