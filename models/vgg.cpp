#include "models/vgg.h"

#include <algorithm>

#include "nn/init.h"
#include "tensor/error.h"

namespace sg::models {

namespace {
// torchvision's cfgs "D" (VGG-16) and "E" (VGG-19): channels per conv, 0 = pool.
const std::vector<int64_t> kVGG16 = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
const std::vector<int64_t> kVGG19 = {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0,
                                     512, 512, 512, 512, 0, 512, 512, 512, 512, 0};
}  // namespace

VGG::VGG(VGGOptions o) : opts_(o) {
  SG_CHECK(o.depth == 16 || o.depth == 19, "VGG: depth must be 16 or 19, got ", o.depth);
  SG_CHECK(o.width_divisor >= 1 && 64 % o.width_divisor == 0, "VGG: width_divisor must divide 64, got ",
           o.width_divisor);
  features_ = register_module("features", std::make_shared<nn::Sequential>());
  int64_t in = 3;
  int block = 1, conv = 1;
  for (int64_t width : o.depth == 19 ? kVGG19 : kVGG16) {
    if (width == 0) {
      if (o.pooling == VGGPooling::max)
        features_->push_back(std::make_shared<nn::MaxPool2d>(2, 2));
      else
        features_->push_back(std::make_shared<nn::AvgPool2d>(2, 2));
      taps_.push_back("pool" + std::to_string(block));
      ++block;
      conv = 1;
      continue;
    }
    const int64_t out = width / o.width_divisor;
    features_->push_back(std::make_shared<nn::Conv2d>(in, out, 3, 1, 1));
    features_->push_back(std::make_shared<nn::ReLU>());
    const std::string suffix = std::to_string(block) + "_" + std::to_string(conv);
    taps_.push_back("conv" + suffix);
    taps_.push_back("relu" + suffix);
    ++conv;
    in = out;
  }
}

bool VGG::has_tap(const std::string& name) const { return std::find(taps_.begin(), taps_.end(), name) != taps_.end(); }

std::map<std::string, Tensor> VGG::forward_taps(const Tensor& image, const std::vector<std::string>& taps) {
  SG_CHECK(image.dim() == 4 && image.size(1) == 3, "VGG: expected an image batch [N,3,H,W], got ",
           image.shape().str());
  size_t last = 0;
  for (const auto& t : taps) {
    auto it = std::find(taps_.begin(), taps_.end(), t);
    if (it == taps_.end()) {
      std::string names;
      for (const auto& n : taps_) names += (names.empty() ? "" : ",") + n;
      throw Error("VGG-" + std::to_string(opts_.depth) + " has no layer '" + t + "' (layers: " + names + ")");
    }
    last = std::max(last, size_t(it - taps_.begin()) + 1);
  }
  std::map<std::string, Tensor> out;
  Tensor h = imagenet_normalize(image);
  for (size_t i = 0; i < last; ++i) {
    h = (*features_)[i]->forward(h);
    if (std::find(taps.begin(), taps.end(), taps_[i]) != taps.end()) out[taps_[i]] = h;
  }
  return out;
}

void VGG::init_torchvision(Generator& gen) {
  for (size_t i = 0; i < features_->size(); ++i) {
    auto conv = std::dynamic_pointer_cast<nn::Conv2d>((*features_)[i]);
    if (!conv) continue;
    nn::init::kaiming_normal_(conv->weight, 0.0, "fan_out", "relu", gen);
    nn::init::constant_(conv->bias, 0.0);
  }
}

void VGG::load_features(const nn::NamedTensors& state) {
  nn::NamedTensors feats;
  for (const auto& [name_in, t] : state) {
    std::string name = name_in.rfind("module.", 0) == 0 ? name_in.substr(7) : name_in;
    if (name.rfind("features.", 0) == 0) feats.emplace_back(name, t);
  }
  SG_CHECK(!feats.empty(), "VGG: the weights have no 'features.*' tensors (is this a torchvision VGG state_dict?)");
  load_state_dict(feats, /*strict=*/true);
}

Tensor imagenet_normalize(const Tensor& image) {
  SG_CHECK((image.dim() == 4 && image.size(1) == 3) || (image.dim() == 3 && image.size(0) == 3),
           "imagenet_normalize: expected [N,3,H,W] or [3,H,W], got ", image.shape().str());
  TensorOptions o(image.dtype());
  o.device = image.device();
  const Shape s = image.dim() == 4 ? Shape{1, 3, 1, 1} : Shape{3, 1, 1};
  Tensor mean = from_vector({0.485, 0.456, 0.406}, s, o);
  Tensor inv_std = from_vector({1 / 0.229, 1 / 0.224, 1 / 0.225}, s, o);
  return (image - mean) * inv_std;
}

}  // namespace sg::models
