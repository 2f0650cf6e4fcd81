// VGG-19 with torchvision's architecture (narrowed 16x) loads the checkpoints
// torch.save wrote in both formats and matches torch's activation at every tap
// (tests/reference/vgg19_taps.safetensors; scripts/make_vgg_reference.py).
#include "models/vgg.h"
#include "tests/test_util.h"
#include "weights/load.h"

using namespace sg;
using namespace sg::test;

namespace {
const std::string kData = STYLEGRAD_SOURCE_DIR "/tests/data/vgg/";

void check_taps_match_torch(const std::string& checkpoint) {
  models::VGGOptions o;
  o.width_divisor = 16;
  models::VGG vgg(o);
  vgg.load_features(load_weights(kData + checkpoint));
  NamedTensors ref = read_safetensors(STYLEGRAD_SOURCE_DIR "/tests/reference/vgg19_taps.safetensors");
  REQUIRE(ref.size() == vgg.tap_names().size() + 1);
  REQUIRE(ref[0].first == "image");
  auto acts = vgg.forward_taps(ref[0].second, vgg.tap_names());
  for (size_t i = 1; i < ref.size(); ++i) {
    INFO("tap ", ref[i].first);
    REQUIRE(acts.count(ref[i].first));
    check_close(acts.at(ref[i].first), ref[i].second, 1e-4, 1e-5);
  }
}
}  // namespace

TEST_CASE("vgg: torchvision names, taps and sizes") {
  models::VGG vgg19;
  CHECK(vgg19.tap_names().size() == 16 * 2 + 5);
  CHECK(vgg19.tap_names().front() == "conv1_1");
  CHECK(vgg19.tap_names().back() == "pool5");
  auto params = vgg19.named_parameters();
  CHECK(params.front().first == "features.0.weight");
  CHECK(params.back().first == "features.34.bias");
  CHECK(vgg19.num_parameters() == 20024384);  // torchvision's vgg19().features
  models::VGGOptions o16;
  o16.depth = 16;
  CHECK(models::VGG(o16).named_parameters().back().first == "features.28.bias");
}

TEST_CASE("vgg: loads torch.save's zip format and matches torch at every tap") { check_taps_match_torch("vgg19_narrow_zip.pth"); }

TEST_CASE("vgg: loads torch.save's legacy format and matches torch at every tap") {
  check_taps_match_torch("vgg19_narrow_legacy.pth");
}

TEST_CASE("vgg: errors name the layer or the key") {
  models::VGGOptions o;
  o.width_divisor = 16;
  models::VGG vgg(o);
  CHECK(error_of([&] { vgg.forward_taps(zeros({1, 3, 8, 8}), {"relu9_9"}); }).find("has no layer 'relu9_9'") != std::string::npos);
  NamedTensors sd = load_weights(kData + "vgg19_narrow_zip.pth");
  NamedTensors missing(sd.begin() + 1, sd.end());
  CHECK(error_of([&] { vgg.load_features(missing); }).find("missing key 'features.0.weight'") != std::string::npos);
  models::VGG full;  // full-width VGG-19: shapes differ
  CHECK(error_of([&] { full.load_features(sd); }).find("'features.0.weight' has shape [4, 3, 3, 3]") != std::string::npos);
  CHECK(error_of([&] { load_weights(STYLEGRAD_SOURCE_DIR "/README.md"); }).find("not a safetensors file nor a PyTorch checkpoint") !=
        std::string::npos);
}
