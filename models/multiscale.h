// A network that needs no download: one layer of random convolutions at
// several kernel sizes (Ustyuzhaninov, Brendel, Gatys, Bethge, "What does it
// take to generate natural textures?", ICLR 2017). For each kernel size k it
// has `filters` filters drawn from N(0, (1/(k sqrt 3))^2), applied with 'same'
// zero padding to the image minus 0.5, then ReLU. Its Gram matrices capture
// texture at several scales well enough for style transfer, where a VGG with
// random weights gives mostly noise.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nn/module.h"

namespace sg {
class Generator;
}

namespace sg::models {

struct MultiScaleOptions {
  std::vector<int64_t> kernel_sizes = {3, 5, 7, 11, 15, 23};
  int64_t filters = 64;
  uint64_t seed = 0;
};

class MultiScaleNet : public nn::Module {
 public:
  explicit MultiScaleNet(MultiScaleOptions o = {});
  // Layer names are "k3", "k5", ...: the ReLU output of each kernel size.
  const std::vector<std::string>& layer_names() const { return names_; }
  std::map<std::string, Tensor> forward_taps(const Tensor& image, const std::vector<std::string>& layers);
  const MultiScaleOptions& options() const { return opts_; }

 private:
  MultiScaleOptions opts_;
  std::vector<std::string> names_;
  std::vector<Tensor> weights_;  // weights_[i]: [filters, 3, k, k]
};

}  // namespace sg::models
