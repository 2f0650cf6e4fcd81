// Gatys, Ecker, Bethge, "A Neural Algorithm of Artistic Style" (2016):
//
//   argmin over y of  λ_c Σ_i mean((F_i(y) - F_i(x_content))²)
//                   + λ_s Σ_j mean((G_j(y) - G_j(x_style))²)
//                   + λ_tv TV(y)
//
// with F_i the features of layer i and G_j = V Vᵀ / (C H W) the Gram matrix of
// layer j's features V [C, H·W]: which features occur together, wherever they
// are — the "style". The conventions (means, Gram divided by C·H·W, blended
// style targets) are jcjohnson/neural-style's.
//
// The random multi-scale network uses normalised losses instead
// (Ustyuzhaninov et al. 2017): style ‖G - G_s‖² / ‖G_s‖² per layer, content
// mean((F - F_c)²) / mean(F_c²), so that no layer dominates by its scale.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sg::style {

// G = V Vᵀ / (C·H·W) for features [N, C, H, W]; returns [N, C, C]. The
// product is the gram op (ops/matmul.cpp): its backward is dV = (dG + dGᵀ) V.
Tensor gram_matrix(const Tensor& features);
// Σ over pixels of squared differences with the right and lower neighbour
// (neural-style's TVLoss), on [N, C, H, W].
Tensor total_variation(const Tensor& image);

// Something that maps an image [1,3,H,W] in [0,1] to named feature maps.
class FeatureNet {
 public:
  virtual ~FeatureNet() = default;
  virtual std::map<std::string, Tensor> features(const Tensor& image, const std::vector<std::string>& layers) = 0;
  virtual std::string description() const = 0;
  // true: use the normalised losses above (the random multi-scale network)
  virtual bool normalized_losses() const { return false; }
  // Floats held per input pixel at the peak of a forward + backward pass,
  // for estimating memory before any work (style/transfer.h).
  virtual double floats_per_pixel() const = 0;
  // Moves the network's weights to `device` (nn::Module::to); the default
  // refuses any device but the CPU.
  virtual void to(Device device);
};

struct LossWeights {
  double content = 1, style = 1, tv = 0;
};

// Everything fixed during one optimisation: the layers, the weights and the
// targets computed once from the content and style images.
struct StyleProblem {
  std::vector<std::string> content_layers, style_layers;
  LossWeights weights;
  bool normalized = false;
  std::map<std::string, Tensor> content_targets;  // F_i(x_content)
  std::map<std::string, Tensor> style_targets;    // Σ_k w_k G_j(x_style_k)
  // normalised losses only: 1 / mean(F_c²) per content layer, 1 / ‖G_s‖² per style layer
  std::map<std::string, double> content_scale, style_scale;
};

StyleProblem make_problem(FeatureNet& net, const Tensor& content, const std::vector<Tensor>& styles,
                          const std::vector<double>& blend_weights, const std::vector<std::string>& content_layers,
                          const std::vector<std::string>& style_layers, LossWeights weights);

struct Losses {
  Tensor content, style, tv, total;  // weighted; total is what is minimised
};
Losses evaluate(FeatureNet& net, const StyleProblem& problem, const Tensor& image);

}  // namespace sg::style
