#include "style/transfer.h"

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "io/image.h"
#include "models/multiscale.h"
#include "models/vgg.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::style {

// ---- feature networks ----

VGGFeatures::VGGFeatures(std::shared_ptr<models::VGG> vgg, std::string description)
    : vgg_(std::move(vgg)), description_(std::move(description)) {}

std::map<std::string, Tensor> VGGFeatures::features(const Tensor& image, const std::vector<std::string>& layers) {
  return vgg_->forward_taps(image, layers);
}

int64_t vgg_min_side(const models::VGG& vgg, const std::vector<std::string>& layers) {
  int64_t pools = 0, deepest = 0;
  for (const std::string& tap : vgg.tap_names()) {
    if (tap.rfind("pool", 0) == 0) ++pools;
    if (std::find(layers.begin(), layers.end(), tap) != layers.end()) deepest = pools;
  }
  return int64_t(1) << deepest;
}

void VGGFeatures::to(Device device) { vgg_->to(device); }

int64_t VGGFeatures::min_side(const std::vector<std::string>& layers) const { return vgg_min_side(*vgg_, layers); }

MultiScaleFeatures::MultiScaleFeatures(const models::MultiScaleOptions& o)
    : net_(std::make_unique<models::MultiScaleNet>(o)) {}
MultiScaleFeatures::~MultiScaleFeatures() = default;

std::map<std::string, Tensor> MultiScaleFeatures::features(const Tensor& image,
                                                           const std::vector<std::string>& layers) {
  return net_->forward_taps(image, layers);
}

std::string MultiScaleFeatures::description() const {
  const models::MultiScaleOptions& o = net_->options();
  std::string ks;
  for (int64_t k : o.kernel_sizes) ks += (ks.empty() ? "" : ",") + std::to_string(k);
  return "random multi-scale network (kernels " + ks + ", " + std::to_string(o.filters) + " filters each, seed " +
         std::to_string(o.seed) + ")";
}

double MultiScaleFeatures::floats_per_pixel() const {
  return 4.0 * double(net_->options().filters) * double(net_->layer_names().size());
}

void MultiScaleFeatures::to(Device device) { net_->to(device); }

const std::vector<std::string>& MultiScaleFeatures::layer_names() const { return net_->layer_names(); }

// ---- the loop ----

double transfer_memory_bytes(const FeatureNet& net, const TransferOptions& o) {
  SG_CHECK(!o.scales.empty(), "style transfer: no scales given");
  const double s = double(*std::max_element(o.scales.begin(), o.scales.end()));
  const double optimizer_floats = o.optimizer == Optimizer::lbfgs ? 2 * 100 * 3 : 2 * 3;
  return s * s * (2.5 * net.floats_per_pixel() + optimizer_floats) * sizeof(float);
}

namespace {

// The image the first scale starts from, at its size [1, 3, H, W].
Tensor first_start(const Tensor& content, const Tensor& init_image, int64_t scale, Init init, Generator& gen) {
  const int64_t H = content.size(2), W = content.size(3);
  Tensor start;
  if (init_image.defined()) start = resize_to_longer_side(init_image.to(Device::cpu()), scale).unsqueeze(0);
  else if (init == Init::image) start = content;
  else start = randn(content.shape(), gen) * 0.001 + 0.5;  // neural-style: mean colour + tiny noise
  if (start.size(2) != H || start.size(3) != W) start = upsample_bilinear2d(start.to(content.device()), H, W, false);
  return start.to(content.device());
}

}  // namespace

TransferResult run_style_transfer(FeatureNet& net, const Tensor& content_full, const std::vector<Tensor>& styles_full,
                                  const Tensor& init_image, const TransferOptions& o,
                                  const TransferCallbacks& callbacks) {
  SG_CHECK(!o.scales.empty(), "style transfer: no scales given");
  SG_CHECK(o.num_iterations > 0, "style transfer: num_iterations must be positive");
  SG_CHECK(o.blend_weights.size() == styles_full.size(), "style transfer: ", o.blend_weights.size(),
           " blend weights for ", styles_full.size(), " style images");
  SG_CHECK(std::isfinite(o.weights.content) && std::isfinite(o.weights.style) && std::isfinite(o.weights.tv),
           "style transfer: the loss weights must be finite, got content ", o.weights.content, ", style ",
           o.weights.style, ", tv ", o.weights.tv);
  for (double b : o.blend_weights) SG_CHECK(std::isfinite(b) && b >= 0, "style transfer: blend weight ", b, " is not a finite number >= 0");
  if (const auto* vgg = dynamic_cast<const VGGFeatures*>(&net)) {
    // Up front: an image too small for the network's poolings fails deep in max_pool2d otherwise.
    std::vector<std::string> layers = o.content_layers;
    layers.insert(layers.end(), o.style_layers.begin(), o.style_layers.end());
    const int64_t need = vgg->min_side(layers);
    for (int64_t scale : o.scales) {
      auto check = [&](const Tensor& full, int64_t side, const std::string& what) {
        const Tensor t = resize_to_longer_side(full.to(Device::cpu()), side);
        SG_CHECK(t.size(1) >= need && t.size(2) >= need, "the ", what, " image is ", t.size(2), "x", t.size(1),
                 " pixels at scale ", scale, "; VGG needs at least ", need, " on each side for these layers (",
                 "use a larger --image-size or --style-scale, or a less elongated image)");
      };
      check(content_full, scale, "content");
      const int64_t style_side = std::max<int64_t>(16, int64_t(std::lround(double(scale) * o.style_scale)));
      for (const Tensor& s : styles_full) check(s, style_side, "style");
    }
  }
  TransferResult result;
  Tensor& image = result.image;  // [1,3,H,W], the variable being optimised
  Generator gen(o.seed);
  for (size_t si = 0; si < o.scales.size(); ++si) {
    const int64_t scale = o.scales[si];
    // Resizing is host code (io/image.h): on the CPU, then to the device.
    const Tensor content = resize_to_longer_side(content_full.to(Device::cpu()), scale).unsqueeze(0).to(o.device);
    const int64_t H = content.size(2), W = content.size(3);
    const int64_t style_side = std::max<int64_t>(16, int64_t(std::lround(double(scale) * o.style_scale)));
    std::vector<Tensor> styles;
    for (const Tensor& s : styles_full)
      styles.push_back(resize_to_longer_side(s.to(Device::cpu()), style_side).unsqueeze(0).to(o.device));
    if (callbacks.scale_started) callbacks.scale_started(si, H, W);

    const StyleProblem problem =
        make_problem(net, content, styles, o.blend_weights, o.content_layers, o.style_layers, o.weights);
    const Tensor start = image.defined() ? upsample_bilinear2d(image.detach(), H, W, false)  // previous scale's
                                         : first_start(content, init_image, scale, o.init, gen);
    image = start.detach().contiguous().clone();
    image.requires_grad_();

    // One evaluation: the losses at the current image and their gradient.
    int64_t evaluation = 0;
    auto closure = [&]() -> double {
      image.set_grad(Tensor());
      const Losses l = evaluate(net, problem, image);
      l.total.backward();
      LossRecord r{l.content.item(), l.style.item(), l.tv.item(), l.total.item()};
      if (!std::isfinite(r.total)) {
        // At the start image nothing has been optimised yet: the inputs themselves are not finite.
        SG_CHECK(evaluation > 0 || si > 0, "the loss is ", r.total, " at the start image, before any optimisation (content ",
                 r.content, ", style ", r.style, ", tv ", r.tv, "): the network's weights or an image hold non-finite values");
        throw Error(detail::concat("the loss became ", r.total, " at iteration ", evaluation,
                                   " (try a smaller --learning-rate or --style-weight)"));
      }
      result.losses.push_back(r);
      if (callbacks.evaluated) {
        NoGradGuard ng;
        callbacks.evaluated(evaluation, r, image.detach());
      }
      ++evaluation;
      return r.total;
    };
    if (o.optimizer == Optimizer::lbfgs) {
      nn::LBFGS::Options lo;
      lo.max_iter = int(o.num_iterations);
      lo.max_eval = int(o.num_iterations) + 1;  // one evaluation at the start and one per iteration
      lo.tolerance_grad = -1;                   // like neural-style: run all iterations
      lo.tolerance_change = -1;
      nn::LBFGS opt({image}, lo);
      opt.step(closure);
    } else {
      nn::Adam::Options ao;
      ao.lr = o.learning_rate;
      nn::Adam opt({image}, ao);
      for (int64_t i = 0; i < o.num_iterations; ++i) {
        closure();
        opt.step();
      }
    }
    closure();  // the losses at the final image (neither optimiser evaluates after its last step)
    if (callbacks.scale_finished) callbacks.scale_finished(si, evaluation);
  }
  image = image.detach();
  return result;
}

}  // namespace sg::style
