// The style-transfer loop: Gatys et al.'s optimisation of the image itself,
// coarse to fine, with the feature networks it can run on. The losses are in
// style/gatys.h; `stylegrad style` (apps/cmd_style.cpp) parses options, prints
// progress and writes files through the callbacks below.
//
// For each scale s (longer side in pixels, coarse to fine):
//   resize content and style images to s, compute the targets (make_problem),
//   start from the previous scale's result upsampled (or, at the first scale,
//   from noise around grey, the content image or an init image), then minimise
//   the total loss over the image's pixels with L-BFGS or Adam for
//   num_iterations evaluations.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "style/gatys.h"

namespace sg::models {
class VGG;
class MultiScaleNet;
struct MultiScaleOptions;
}  // namespace sg::models

namespace sg::style {

// ---- feature networks ----

// VGG-16/19 (models/vgg.h), pretrained or random; the image in [0,1].
class VGGFeatures : public FeatureNet {
 public:
  VGGFeatures(std::shared_ptr<models::VGG> vgg, std::string description);
  std::map<std::string, Tensor> features(const Tensor& image, const std::vector<std::string>& layers) override;
  std::string description() const override { return description_; }
  // The smallest height and width the network can take up to the deepest of `layers`.
  int64_t min_side(const std::vector<std::string>& layers) const;
  // Measured: VGG-19 forward + backward holds about 310 floats per input pixel
  // at its peak (bench vgg19-fwdbwd: 325 MB at 512x512).
  double floats_per_pixel() const override { return 310.0; }
  void to(Device device) override;

 private:
  std::shared_ptr<models::VGG> vgg_;
  std::string description_;
};

// The random multi-scale network (models/multiscale.h), with normalised losses.
class MultiScaleFeatures : public FeatureNet {
 public:
  explicit MultiScaleFeatures(const models::MultiScaleOptions& o);
  ~MultiScaleFeatures() override;
  std::map<std::string, Tensor> features(const Tensor& image, const std::vector<std::string>& layers) override;
  std::string description() const override;
  bool normalized_losses() const override { return true; }
  // About 4 maps of 64 filters per kernel size and pixel, forward + backward.
  double floats_per_pixel() const override;
  void to(Device device) override;
  const std::vector<std::string>& layer_names() const;

 private:
  std::unique_ptr<models::MultiScaleNet> net_;
};

// 2^k, k the poolings (each halves the size, rounding down) up to and
// including the deepest of `layers`: smaller images leave nothing to pool.
int64_t vgg_min_side(const models::VGG& vgg, const std::vector<std::string>& layers);

// ---- the loop ----

enum class Optimizer { lbfgs, adam };
enum class Init { random, image };

struct TransferOptions {
  std::vector<std::string> content_layers, style_layers;
  LossWeights weights;
  std::vector<double> blend_weights;  // one per style image
  std::vector<int64_t> scales;        // longer side in pixels, coarse to fine
  double style_scale = 1.0;           // style images' size relative to each scale
  int64_t num_iterations = 1000;      // evaluations per scale
  Optimizer optimizer = Optimizer::lbfgs;
  double learning_rate = 0.04;        // Adam's
  Init init = Init::random;           // when no init image is given
  uint64_t seed = 0;                  // the initial noise
  // Where the network (moved there by the caller) and the image run. Images
  // are resized on the CPU and moved there; the result stays there.
  Device device = Device::cpu();
};

// The weighted losses of one evaluation (one row of --loss-log).
struct LossRecord {
  double content = 0, style = 0, tv = 0, total = 0;
};

// What the caller sees while the loop runs (all optional).
struct TransferCallbacks {
  // A scale starts: its index and the image size [H, W].
  std::function<void(size_t scale, int64_t height, int64_t width)> scale_started;
  // After each evaluation: its number within the scale (0 = the start image),
  // the losses, and the image evaluated ([1, 3, H, W], no grad).
  std::function<void(int64_t evaluation, const LossRecord& losses, const Tensor& image)> evaluated;
  // A scale is done, after `evaluations` evaluations.
  std::function<void(size_t scale, int64_t evaluations)> scale_finished;
};

struct TransferResult {
  Tensor image;                    // [1, 3, H, W] in about [0, 1]
  std::vector<LossRecord> losses;  // every evaluation of every scale, in order
};

// Bytes the loop needs at its largest scale (activations with a safety factor
// of 2.5, plus the optimiser's state: L-BFGS keeps 100 (s, y) pairs, Adam two
// moments), to refuse sizes that cannot fit before any work.
double transfer_memory_bytes(const FeatureNet& net, const TransferOptions& o);

// Runs the loop. content and styles are [3, H, W] images in [0, 1] at full
// size; init_image is optional. Before any work it refuses non-finite loss or
// blend weights and images smaller at some scale than the network can take;
// throws if a loss becomes NaN or infinite, naming the cause.
TransferResult run_style_transfer(FeatureNet& net, const Tensor& content, const std::vector<Tensor>& styles,
                                  const Tensor& init_image, const TransferOptions& o,
                                  const TransferCallbacks& callbacks = {});

}  // namespace sg::style
