#include "style/gatys.h"

#include <algorithm>

#include "autograd/grad_mode.h"
#include "ops/ops.h"
#include "tensor/error.h"

namespace sg::style {

Tensor gram_matrix(const Tensor& features) {
  SG_CHECK(features.dim() == 4, "gram_matrix: expected features [N,C,H,W], got ", features.shape().str());
  const int64_t n = features.size(0), c = features.size(1), hw = features.size(2) * features.size(3);
  return gram(features.reshape({n, c, hw})) * (1.0 / double(c * hw));
}

Tensor total_variation(const Tensor& image) {
  SG_CHECK(image.dim() == 4, "total_variation: expected [N,C,H,W], got ", image.shape().str());
  const int64_t h = image.size(2), w = image.size(3);
  Tensor dy = image.narrow(2, 1, h - 1) - image.narrow(2, 0, h - 1);
  Tensor dx = image.narrow(3, 1, w - 1) - image.narrow(3, 0, w - 1);
  return sum(dy * dy) + sum(dx * dx);
}

namespace {
std::vector<std::string> union_of(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out = a;
  for (const auto& x : b)
    if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  return out;
}

Tensor mean_squared(const Tensor& a, const Tensor& b) {
  Tensor d = a - b;
  return mean(d * d);
}
}  // namespace

StyleProblem make_problem(FeatureNet& net, const Tensor& content, const std::vector<Tensor>& styles,
                          const std::vector<double>& blend_weights, const std::vector<std::string>& content_layers,
                          const std::vector<std::string>& style_layers, LossWeights weights) {
  SG_CHECK(!styles.empty(), "style: at least one style image is needed");
  SG_CHECK(blend_weights.size() == styles.size(), "style: ", styles.size(), " style images but ",
           blend_weights.size(), " blend weights");
  StyleProblem p;
  p.content_layers = content_layers;
  p.style_layers = style_layers;
  p.weights = weights;
  p.normalized = net.normalized_losses();
  NoGradGuard no_grad;
  p.content_targets = net.features(content, content_layers);
  // Blend weights are normalised to sum to 1, as neural-style does.
  double total = 0;
  for (double w : blend_weights) total += w;
  SG_CHECK(total > 0, "style: the style blend weights must sum to a positive number");
  for (size_t k = 0; k < styles.size(); ++k) {
    auto feats = net.features(styles[k], style_layers);
    for (const auto& layer : style_layers) {
      Tensor g = gram_matrix(feats.at(layer)) * (blend_weights[k] / total);
      auto it = p.style_targets.find(layer);
      p.style_targets[layer] = it == p.style_targets.end() ? g : it->second + g;
    }
  }
  if (p.normalized) {
    for (const auto& [layer, f] : p.content_targets) p.content_scale[layer] = 1.0 / std::max(mean(f * f).item(), 1e-12);
    for (const auto& [layer, g] : p.style_targets) p.style_scale[layer] = 1.0 / std::max(sum(g * g).item(), 1e-30);
  }
  return p;
}

void FeatureNet::to(Device device) {
  SG_CHECK(device.is_cpu(), description(), ": this feature network does not move to device ", device.str());
}

Losses evaluate(FeatureNet& net, const StyleProblem& p, const Tensor& image) {
  auto feats = net.features(image, union_of(p.content_layers, p.style_layers));
  Losses l;
  TensorOptions scalar(image.dtype());
  scalar.device = image.device();
  l.content = zeros({}, scalar);
  l.style = zeros({}, scalar);
  for (const auto& layer : p.content_layers) {
    const Tensor& target = p.content_targets.at(layer);
    Tensor term = mean_squared(feats.at(layer), target);
    if (p.normalized) term = term * p.content_scale.at(layer);
    l.content = l.content + term;
  }
  for (const auto& layer : p.style_layers) {
    const Tensor& target = p.style_targets.at(layer);
    Tensor g = gram_matrix(feats.at(layer));
    Tensor term;
    if (p.normalized) {
      Tensor d = g - target;
      term = sum(d * d) * p.style_scale.at(layer);
    } else {
      term = mean_squared(g, target);
    }
    l.style = l.style + term;
  }
  l.content = l.content * p.weights.content;
  l.style = l.style * p.weights.style;
  l.tv = p.weights.tv != 0 ? total_variation(image) * p.weights.tv : zeros({}, scalar);
  l.total = l.content + l.style + l.tv;
  return l;
}

}  // namespace sg::style
