// VGG-16/19 feature extractors with torchvision's layer indices, so that
// `features.N.weight` in torchvision's vgg19-dcbbb69f.pth / vgg16-397923af.pth
// load as they are, and with named taps (conv1_1 ... relu5_4, pool1 ... pool5)
// for style and content losses.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nn/layers.h"

namespace sg::models {

enum class VGGPooling { max, avg };

struct VGGOptions {
  int depth = 19;                  // 16 or 19
  VGGPooling pooling = VGGPooling::max;
  int64_t width_divisor = 1;       // > 1 makes a narrow VGG (for tests: same layers, fewer channels)
};

class VGG : public nn::Module {
 public:
  explicit VGG(VGGOptions o = {});
  // Every tap name in network order: conv1_1, relu1_1, conv1_2, ..., pool5.
  const std::vector<std::string>& tap_names() const { return taps_; }
  bool has_tap(const std::string& name) const;
  // Runs the network on `image` ([N,3,H,W], RGB in [0,1]; normalised with
  // ImageNet's mean/std as torchvision expects) only as far as the last tap
  // asked for, and returns those activations.
  std::map<std::string, Tensor> forward_taps(const Tensor& image, const std::vector<std::string>& taps);
  // torchvision's initialisation: conv weights kaiming_normal(fan_out, relu), biases 0.
  void init_torchvision(Generator& gen);
  // Loads a state_dict: "features.N.*" keys are used, "classifier.*" ignored;
  // an optional "module." prefix (DataParallel) is stripped. Missing or
  // mis-shaped conv weights are an error naming the key.
  void load_features(const nn::NamedTensors& state);
  nn::Sequential& features() { return *features_; }
  const VGGOptions& options() const { return opts_; }

 private:
  VGGOptions opts_;
  std::shared_ptr<nn::Sequential> features_;
  std::vector<std::string> taps_;  // taps_[i] is the name of features[i]'s output
};

// (x - mean) / std with ImageNet statistics, on [N,3,H,W] or [3,H,W].
Tensor imagenet_normalize(const Tensor& image);

}  // namespace sg::models
