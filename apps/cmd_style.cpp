// stylegrad style: Gatys neural style transfer with jcjohnson/neural-style's
// options and conventions (see style/gatys.h for the losses).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/loss_plot.h"
#include "apps/progress.h"
#include "autograd/grad_mode.h"
#include "models/multiscale.h"
#include "models/vgg.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "style/color.h"
#include "style/gatys.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/image.h"
#include "tensor/random.h"
#include "weights/load.h"

namespace sg::cli {

namespace {

class VGGFeatures : public style::FeatureNet {
 public:
  VGGFeatures(std::shared_ptr<models::VGG> vgg, std::string desc) : vgg_(std::move(vgg)), desc_(std::move(desc)) {}
  std::map<std::string, Tensor> features(const Tensor& image, const std::vector<std::string>& layers) override {
    return vgg_->forward_taps(image, layers);
  }
  std::string description() const override { return desc_; }

 private:
  std::shared_ptr<models::VGG> vgg_;
  std::string desc_;
};

class MultiScaleFeatures : public style::FeatureNet {
 public:
  explicit MultiScaleFeatures(models::MultiScaleOptions o) : net_(o) {}
  std::map<std::string, Tensor> features(const Tensor& image, const std::vector<std::string>& layers) override {
    return net_.forward_taps(image, layers);
  }
  std::string description() const override {
    std::string ks;
    for (int64_t k : net_.options().kernel_sizes) ks += (ks.empty() ? "" : ",") + std::to_string(k);
    return "random multi-scale network (kernels " + ks + ", " + std::to_string(net_.options().filters) +
           " filters each, seed " + std::to_string(net_.options().seed) + ")";
  }
  bool normalized_losses() const override { return true; }
  const models::MultiScaleNet& net() const { return net_; }

 private:
  models::MultiScaleNet net_;
};

std::string with_suffix(const std::string& path, const std::string& suffix, const std::string& ext = "") {
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  const std::string stem = has_ext ? path.substr(0, dot) : path;
  return stem + suffix + (ext.empty() ? (has_ext ? path.substr(dot) : ".png") : ext);
}

std::vector<double> parse_numbers(const std::vector<std::string>& items, const char* what) {
  std::vector<double> out;
  for (const auto& s : items) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    SG_CHECK(!s.empty() && end && *end == 0, what, ": '", s, "' is not a number");
    out.push_back(v);
  }
  return out;
}

}  // namespace

int cmd_style(int argc, char** argv) {
  ArgParser p("stylegrad style --content C.jpg --style S.jpg[,S2.jpg...] [--output out.png] [options]",
              "Gatys et al. neural style transfer, with jcjohnson/neural-style's options.\n"
              "Without pretrained VGG weights it uses a random multi-scale network (see README).");
  p.option("content", "", "content image (PNG/JPEG)");
  p.option("style", "", "style image(s), comma-separated");
  p.option("output", "out.png", "output image (.png or .jpg)");
  p.option("style-blend-weights", "", "weights of the style images, comma-separated (default: equal)");
  p.option("content-weight", "", "content loss weight (default: 5 for VGG, 0.01 for multiscale)");
  p.option("style-weight", "", "style loss weight (default: 3e5 for VGG, 1 for multiscale)");
  p.option("tv-weight", "", "total-variation weight (default: 2e-2 for VGG, 0 for multiscale)");
  p.option("num-iterations", "1000", "iterations (function evaluations) per scale");
  p.option("optimizer", "lbfgs", "lbfgs or adam");
  p.option("learning-rate", "0.04", "Adam's learning rate (images are in [0,1])");
  p.option("init", "", "random or image (default: random for VGG, image for multiscale)");
  p.option("init-image", "", "start from this image instead");
  p.option("image-size", "512", "longer side of the output in pixels");
  p.option("style-scale", "1.0", "size of the style images relative to --image-size");
  p.flag("original-colors", "keep the content image's colours (luminance-only transfer)");
  p.option("pooling", "max", "max or avg (VGG)");
  p.option("content-layers", "", "content layers (default: relu4_2 for VGG, all for multiscale)");
  p.option("style-layers", "", "style layers (default: relu1_1,relu2_1,relu3_1,relu4_1,relu5_1 for VGG, all for multiscale)");
  p.option("print-iter", "50", "print progress every N iterations when not on a terminal (0: never)");
  p.option("save-iter", "100", "save an intermediate image every N iterations (0: never)");
  p.option("seed", "0", "random seed (initial image, random weights)");
  p.option("model", "auto", "vgg19, vgg16, multiscale, or auto (vgg19 when its weights are found, else multiscale)");
  p.option("weights", "", "VGG weights: a .pth (as downloaded) or .safetensors file, or 'random'");
  p.option("scales", "", "coarse-to-fine sizes, e.g. 256,512 (overrides --image-size)");
  p.option("multiscale-kernels", "3,5,7,11,15,23", "kernel sizes of the multiscale network");
  p.option("multiscale-filters", "64", "filters per kernel size of the multiscale network");
  p.option("loss-log", "", "write the losses per iteration to this CSV file");
  if (!p.parse(argc, argv)) return 0;
  SG_CHECK(p.positionals().empty(), "unexpected argument '", p.positionals()[0], "'");
  SG_CHECK(!p.get("content").empty(), "--content is required");
  SG_CHECK(!p.get("style").empty(), "--style is required");

  const uint64_t seed = uint64_t(p.get_int("seed"));
  manual_seed(seed);
  const std::string output = p.get("output");
  {
    const std::string ext = output.substr(std::min(output.size(), output.find_last_of('.')));
    SG_CHECK(ext == ".png" || ext == ".jpg" || ext == ".jpeg", "--output must end in .png, .jpg or .jpeg, got '",
             output, "'");
  }
  // Now, not after the whole optimisation.
  require_directory_for(output, "--output '" + output + "'");
  if (!p.get("loss-log").empty()) require_directory_for(p.get("loss-log"), "--loss-log '" + p.get("loss-log") + "'");

  // ---- the feature network ----
  std::string model = p.get("model");
  const std::string weights_arg = p.get("weights");
  SG_CHECK(model == "auto" || model == "vgg19" || model == "vgg16" || model == "multiscale",
           "--model must be vgg19, vgg16, multiscale or auto, got '", model, "'");
  std::string weights_path = weights_arg;
  if (model == "auto") {
    if (weights_arg.empty()) weights_path = find_pretrained_weights("vgg19");
    model = (!weights_path.empty() || !weights_arg.empty()) ? "vgg19" : "multiscale";
  } else if ((model == "vgg19" || model == "vgg16") && weights_arg.empty()) {
    weights_path = find_pretrained_weights(model);
    SG_CHECK(!weights_path.empty(), "no pretrained ", model, " weights found: run `weights/fetch.sh ", model,
             "` (needs internet), or pass --weights FILE, --weights random (poor quality), or --model multiscale");
  }
  const bool is_vgg = model != "multiscale";
  std::unique_ptr<style::FeatureNet> net;
  if (is_vgg) {
    models::VGGOptions vo;
    vo.depth = model == "vgg16" ? 16 : 19;
    const std::string pooling = p.get("pooling");
    SG_CHECK(pooling == "max" || pooling == "avg", "--pooling must be max or avg, got '", pooling, "'");
    vo.pooling = pooling == "avg" ? models::VGGPooling::avg : models::VGGPooling::max;
    auto vgg = std::make_shared<models::VGG>(vo);
    std::string desc;
    if (weights_path == "random") {
      Generator g(seed);
      vgg->init_torchvision(g);
      std::fprintf(stderr, "warning: %s with random weights: expect noise, not style (use pretrained weights or --model multiscale)\n",
                   model.c_str());
      desc = model + " (random weights, seed " + std::to_string(seed) + ")";
    } else {
      vgg->load_features(load_weights(weights_path));
      desc = model + " (" + weights_path + ")";
    }
    vgg->eval();
    vgg->requires_grad_(false);
    net = std::make_unique<VGGFeatures>(vgg, desc);
  } else {
    SG_CHECK(weights_arg.empty(), "--weights applies to VGG models, not to --model multiscale");
    models::MultiScaleOptions mo;
    mo.seed = seed;
    mo.filters = p.get_int("multiscale-filters");
    mo.kernel_sizes.clear();
    for (double k : parse_numbers(p.get_list("multiscale-kernels"), "--multiscale-kernels")) mo.kernel_sizes.push_back(int64_t(k));
    net = std::make_unique<MultiScaleFeatures>(mo);
  }
  std::fprintf(stderr, "features: %s\n", net->description().c_str());

  // ---- layers and weights (defaults depend on the network, see README) ----
  std::vector<std::string> all_layers;
  if (auto* ms = dynamic_cast<MultiScaleFeatures*>(net.get())) all_layers = ms->net().layer_names();
  auto layers_or = [&](const char* opt, std::vector<std::string> vgg_default) {
    if (!p.get(opt).empty()) return p.get_list(opt);
    return is_vgg ? vgg_default : all_layers;
  };
  const auto content_layers = layers_or("content-layers", {"relu4_2"});
  const auto style_layers = layers_or("style-layers", {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"});
  auto weight_or = [&](const char* opt, double vgg_default, double ms_default) {
    return p.get(opt).empty() ? (is_vgg ? vgg_default : ms_default) : p.get_double(opt);
  };
  style::LossWeights lw;
  lw.content = weight_or("content-weight", 5.0, 0.01);
  lw.style = weight_or("style-weight", 3e5, 1.0);
  lw.tv = weight_or("tv-weight", 2e-2, 0.0);
  std::string init = p.get("init").empty() ? (is_vgg ? "random" : "image") : p.get("init");
  SG_CHECK(init == "random" || init == "image", "--init must be random or image, got '", init, "'");
  const std::string optimizer = p.get("optimizer");
  SG_CHECK(optimizer == "lbfgs" || optimizer == "adam", "--optimizer must be lbfgs or adam, got '", optimizer, "'");
  const int64_t iters = p.get_int("num-iterations");
  SG_CHECK(iters > 0, "--num-iterations must be positive");
  const int64_t print_iter = p.get_int("print-iter"), save_iter = p.get_int("save-iter");
  const double style_scale = p.get_double("style-scale");
  SG_CHECK(style_scale > 0, "--style-scale must be positive");

  std::vector<int64_t> scales;
  if (!p.get("scales").empty())
    for (double s : parse_numbers(p.get_list("scales"), "--scales")) scales.push_back(int64_t(s));
  else
    scales.push_back(p.get_int("image-size"));
  for (int64_t s : scales) SG_CHECK(s >= 16 && s <= 8192, "image size ", s, " out of range [16, 8192]");
  {
    // Refuse sizes whose activations cannot fit, before any work. Measured:
    // VGG-19 forward + backward holds about 310 floats per input pixel at its
    // peak (bench vgg19-fwdbwd: 325 MB at 512x512); the multiscale network
    // about 4 x 64 per kernel size; both with a safety factor of 2.5. L-BFGS
    // adds its history, 100 (s, y) pairs of 3 floats per pixel; Adam 2 moments.
    const int64_t s = *std::max_element(scales.begin(), scales.end());
    const double network = 2.5 * (is_vgg ? 310.0 : 4 * 64.0 * double(all_layers.size()));
    const double floats_per_pixel = network + (optimizer == "lbfgs" ? 2 * 100 * 3 : 2 * 3);
    const double need = double(s) * double(s) * floats_per_pixel * 4;
    const double have = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
    SG_CHECK(need < 0.8 * have, "image size ", s, " needs about ", int64_t(need / (1 << 30)), " GiB of memory, this machine has ",
             int64_t(have / (1 << 30)), " GiB: use a smaller --image-size");
  }

  // ---- images ----
  const Tensor content_full = load_image(p.get("content"));
  std::vector<Tensor> styles_full;
  for (const auto& s : p.get_list("style")) styles_full.push_back(load_image(s));
  std::vector<double> blend(styles_full.size(), 1.0);
  if (!p.get("style-blend-weights").empty()) {
    blend = parse_numbers(p.get_list("style-blend-weights"), "--style-blend-weights");
    SG_CHECK(blend.size() == styles_full.size(), "--style-blend-weights has ", blend.size(), " values for ",
             styles_full.size(), " style images");
  }
  Tensor init_full = p.get("init-image").empty() ? Tensor() : load_image(p.get("init-image"));

  // ---- coarse-to-fine optimisation ----
  std::vector<double> log_content, log_style, log_tv, log_total;
  Tensor image;  // [1,3,H,W], the variable being optimised
  Generator gen(seed);
  for (size_t si = 0; si < scales.size(); ++si) {
    const Tensor content = resize_to_longer_side(content_full, scales[si]).unsqueeze(0);
    const int64_t H = content.size(2), W = content.size(3);
    std::vector<Tensor> styles;
    for (const auto& s : styles_full)
      styles.push_back(resize_to_longer_side(s, std::max<int64_t>(16, int64_t(std::lround(double(scales[si]) * style_scale)))).unsqueeze(0));
    if (si == 0) std::fprintf(stderr, "content %lldx%lld, %zu style image(s)\n", (long long)W, (long long)H, styles.size());

    const style::StyleProblem problem =
        style::make_problem(*net, content, styles, blend, content_layers, style_layers, lw);
    Tensor start;
    if (!image.defined()) {
      if (init_full.defined()) start = resize_to_longer_side(init_full, scales[si]).unsqueeze(0);
      else if (init == "image") start = content;
      else start = randn(content.shape(), gen) * 0.001 + 0.5;  // neural-style: mean colour + tiny noise
      if (start.size(2) != H || start.size(3) != W) start = upsample_bilinear2d(start, H, W, false);
    } else {
      start = upsample_bilinear2d(image.detach(), H, W, false);  // previous scale's result
    }
    image = start.detach().contiguous().clone();
    image.requires_grad_();

    Progress progress(iters, print_iter);
    int64_t evals = 0;
    style::Losses last;
    auto closure = [&]() -> double {
      image.set_grad(Tensor());
      style::Losses l = style::evaluate(*net, problem, image);
      l.total.backward();
      const double total = l.total.item();
      SG_CHECK(std::isfinite(total), "the loss became ", total, " at iteration ", evals,
               " (try a smaller --learning-rate or --style-weight)");
      log_content.push_back(l.content.item());
      log_style.push_back(l.style.item());
      log_tv.push_back(l.tv.item());
      log_total.push_back(total);
      char info[160];
      std::snprintf(info, sizeof info, "content %.3e style %.3e tv %.3e total %.3e", log_content.back(),
                    log_style.back(), log_tv.back(), total);
      progress.update(evals, info);
      if (save_iter > 0 && evals > 0 && evals % save_iter == 0 && evals < iters) {
        NoGradGuard ng;
        save_image(image.detach().squeeze(0), with_suffix(output, "_" + std::to_string(evals)));
      }
      ++evals;
      return total;
    };
    if (optimizer == "lbfgs") {
      nn::LBFGS::Options o;
      o.max_iter = int(iters);
      o.max_eval = int(iters) + 1;  // one evaluation at the start and one per iteration
      o.tolerance_grad = -1;        // like neural-style: run all iterations
      o.tolerance_change = -1;
      nn::LBFGS opt({image}, o);
      opt.step(closure);
      closure();  // the losses at the final image (L-BFGS does not evaluate after its last step)
    } else {
      nn::Adam::Options o;
      o.lr = p.get_double("learning-rate");
      nn::Adam opt({image}, o);
      for (int64_t i = 0; i < iters; ++i) {
        closure();
        opt.step();
      }
      closure();  // the losses at the final image
    }
    progress.finish();
    std::fprintf(stderr, "scale %lld done: %lld evaluations in %s\n", (long long)scales[si], (long long)evals,
                 format_duration(progress.elapsed_seconds()).c_str());
  }

  // ---- outputs ----
  NoGradGuard ng;
  Tensor result = image.detach().squeeze(0);
  if (p.has("original-colors"))
    result = style::keep_original_colors(resize_image(content_full, result.size(1), result.size(2)), result);
  save_image(result, output);
  std::fprintf(stderr, "wrote %s\n", output.c_str());
  const std::vector<Series> series = {{"content", log_content}, {"style", log_style}, {"tv", log_tv}, {"total", log_total}};
  write_file_atomic(with_suffix(output, "_losses", ".svg"), loss_plot_svg(series, "stylegrad style: losses"));
  if (!p.get("loss-log").empty()) {
    std::string csv = "iteration,content,style,tv,total\n";
    char row[200];
    for (size_t i = 0; i < log_total.size(); ++i) {
      std::snprintf(row, sizeof row, "%zu,%.9g,%.9g,%.9g,%.9g\n", i, log_content[i], log_style[i], log_tv[i], log_total[i]);
      csv += row;
    }
    write_file_atomic(p.get("loss-log"), csv);
  }
  return 0;
}

}  // namespace sg::cli
