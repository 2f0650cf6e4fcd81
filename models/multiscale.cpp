#include "models/multiscale.h"

#include <algorithm>
#include <cmath>

#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::models {

MultiScaleNet::MultiScaleNet(MultiScaleOptions o) : opts_(std::move(o)) {
  SG_CHECK(!opts_.kernel_sizes.empty() && opts_.filters > 0, "multiscale: need at least one kernel size and filter");
  Generator gen(opts_.seed);
  for (int64_t k : opts_.kernel_sizes) {
    SG_CHECK(k > 0 && k % 2 == 1, "multiscale: kernel sizes must be odd and positive, got ", k);
    const std::string name = "k" + std::to_string(k);
    Tensor w = randn({opts_.filters, 3, k, k}, gen) * (1.0 / (double(k) * std::sqrt(3.0)));
    // Fixed random features: registered as buffers, never trained.
    weights_.push_back(register_buffer(name + ".weight", w.detach()));
    names_.push_back(name);
  }
}

std::map<std::string, Tensor> MultiScaleNet::forward_taps(const Tensor& image, const std::vector<std::string>& layers) {
  SG_CHECK(image.dim() == 4 && image.size(1) == 3, "multiscale: expected an image batch [N,3,H,W], got ",
           image.shape().str());
  std::map<std::string, Tensor> out;
  Tensor centered = image - 0.5;
  for (const auto& layer : layers) {
    auto it = std::find(names_.begin(), names_.end(), layer);
    if (it == names_.end()) {
      std::string known;
      for (const auto& n : names_) known += (known.empty() ? "" : ",") + n;
      throw Error("multiscale network has no layer '" + layer + "' (layers: " + known + ")");
    }
    const Tensor& w = weights_[it - names_.begin()];
    Conv2dOptions co;
    co.pad_h = co.pad_w = w.size(2) / 2;
    out[layer] = relu(conv2d(centered, w.to(image.dtype()), Tensor(), co));
  }
  return out;
}

}  // namespace sg::models
