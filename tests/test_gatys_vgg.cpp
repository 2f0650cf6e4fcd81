// Gatys losses and the image gradient through a (narrow, torchvision) VGG-19
// against torch (tests/reference/gatys.safetensors; scripts/make_vgg_reference.py).
#include <cmath>

#include "models/vgg.h"
#include "style/transfer.h"
#include "tests/test_util.h"
#include "weights/load.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("gatys: losses and image gradient match torch through VGG-19 (1e-4 relative)") {
  models::VGGOptions o;
  o.width_divisor = 16;
  auto vgg = std::make_shared<models::VGG>(o);
  vgg->load_features(load_weights(STYLEGRAD_SOURCE_DIR "/tests/data/vgg/vgg19_narrow_zip.pth"));
  vgg->requires_grad_(false);
  NamedTensors ref_list = read_safetensors(STYLEGRAD_SOURCE_DIR "/tests/reference/gatys.safetensors");
  std::map<std::string, Tensor> ref(ref_list.begin(), ref_list.end());
  style::VGGFeatures net(vgg, "narrow vgg19");
  // The network is float32 (as in use); the reference is float64.
  auto problem = style::make_problem(net, ref.at("content"), {ref.at("style")}, {1.0}, {"relu4_2"},
                                     {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"}, {5.0, 3e5, 2e-2});
  Tensor x = ref.at("image").detach().clone();
  x.requires_grad_();
  style::Losses l = style::evaluate(net, problem, x);
  l.total.backward();
  CHECK(l.content.item() == doctest::Approx(ref.at("content_loss").item()).epsilon(1e-4));
  CHECK(l.style.item() == doctest::Approx(ref.at("style_loss").item()).epsilon(1e-4));
  CHECK(l.tv.item() == doctest::Approx(ref.at("tv_loss").item()).epsilon(1e-4));
  CHECK(l.total.item() == doctest::Approx(ref.at("total_loss").item()).epsilon(1e-4));
  const Tensor& g = ref.at("grad");
  const double scale = max(abs(g)).item();
  check_close(x.grad(), g, 1e-4, 1e-4 * scale);
}
