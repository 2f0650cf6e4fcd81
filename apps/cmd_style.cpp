// stylegrad style: Gatys neural style transfer with jcjohnson/neural-style's
// options and conventions. The loop is style/transfer.h, the losses
// style/gatys.h; this file parses options, prints progress and writes files.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/loss_plot.h"
#include "apps/output_plan.h"
#include "apps/progress.h"
#include "autograd/grad_mode.h"
#include "io/atomic_file.h"
#include "io/image.h"
#include "kernels/cpu/winograd.h"
#include "models/multiscale.h"
#include "models/vgg.h"
#include "ops/ops.h"
#include "style/color.h"
#include "style/transfer.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "weights/load.h"

namespace sg::cli {

namespace {

std::string with_suffix(const std::string& path, const std::string& suffix, const std::string& ext = "") {
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  const std::string stem = has_ext ? path.substr(0, dot) : path;
  return stem + suffix + (ext.empty() ? (has_ext ? path.substr(dot) : ".png") : ext);
}

// The intermediate image of save point `iter`: <output>_<iter>.png, and with
// several scales <output>_s<scale>_<iter>.png, so that no scale overwrites another's.
std::string intermediate_path(const std::string& output, const std::vector<int64_t>& scales, size_t si, int64_t iter) {
  const std::string scale = scales.size() > 1 ? "_s" + std::to_string(scales[si]) : "";
  return with_suffix(output, scale + "_" + std::to_string(iter));
}

// A checkpoint with nan or inf values would give a NaN loss blamed on the learning rate.
void require_finite(const NamedTensors& tensors, const std::string& path) {
  NoGradGuard ng;
  for (const auto& [name, t] : tensors)
    if (is_floating(t.dtype()))
      SG_CHECK(std::isfinite(sum(t * 0.0).item()), "weights '", path, "': tensor '", name,
               "' holds nan or infinite values");
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
  p.option("learning-rate", "0.04", "Adam's learning rate (images are in [0,1]; not for lbfgs)");
  p.option("init", "", "random or image (default: random for VGG, image for multiscale)");
  p.option("init-image", "", "start from this image instead");
  p.option("image-size", "512", "longer side of the output in pixels");
  p.option("style-scale", "1.0", "size of the style images relative to --image-size");
  p.flag("original-colors", "keep the content image's colours (luminance-only transfer)");
  p.option("pooling", "max", "max or avg (VGG)");
  p.option("content-layers", "", "content layers (default: relu4_2 for VGG, all for multiscale)");
  p.option("style-layers", "", "style layers (default: relu1_1,relu2_1,relu3_1,relu4_1,relu5_1 for VGG, all for multiscale)");
  p.option("print-iter", "50", "print progress every N iterations when not on a terminal (0: never)");
  p.option("save-iter", "100", "save <output>_<N>.png every N iterations (with --scales: <output>_s<scale>_<N>.png; 0: never)");
  p.option("seed", "0", "random seed >= 0 (initial image, random weights)");
  p.option("model", "auto", "vgg19, vgg16, multiscale, or auto (vgg19 when its weights are found, else multiscale)");
  p.option("weights", "", "VGG weights: a .pth (as downloaded) or .safetensors file, or 'random'");
  p.option("scales", "", "coarse-to-fine sizes, growing, e.g. 256,512 (instead of --image-size)");
  p.option("multiscale-kernels", "3,5,7,11,15,23", "kernel sizes (odd) of the multiscale network");
  p.option("multiscale-filters", "64", "filters per kernel size of the multiscale network");
  p.option("loss-log", "", "write the losses per iteration to this CSV file");
  add_device_option(p);
  if (!p.parse(argc, argv)) return 0;
  SG_USAGE_CHECK(p.positionals().empty(), "unexpected argument '", p.positionals()[0], "'");
  SG_USAGE_CHECK(!p.get("content").empty(), "--content is required");
  SG_USAGE_CHECK(!p.get("style").empty(), "--style is required");

  // ---- every option's value, before any work ----
  const Device device = device_option(p);
  const uint64_t seed = uint64_t(p.get_int("seed", 0));
  std::string model = p.get("model");
  SG_USAGE_CHECK(model == "auto" || model == "vgg19" || model == "vgg16" || model == "multiscale",
                 "--model must be vgg19, vgg16, multiscale or auto, got '", model, "'");
  const std::string optimizer = p.get("optimizer");
  SG_USAGE_CHECK(optimizer == "lbfgs" || optimizer == "adam", "--optimizer must be lbfgs or adam, got '", optimizer, "'");
  if (optimizer == "lbfgs") p.refuse_if_set("learning-rate", "to --optimizer lbfgs (its steps are not scaled by one)");
  const double learning_rate = p.get_double("learning-rate", Num::positive);
  const std::string pooling = p.get("pooling");
  SG_USAGE_CHECK(pooling == "max" || pooling == "avg", "--pooling must be max or avg, got '", pooling, "'");
  const std::string init_arg = p.get("init");
  SG_USAGE_CHECK(init_arg.empty() || init_arg == "random" || init_arg == "image", "--init must be random or image, got '",
                 init_arg, "'");
  if (!p.get("init-image").empty()) p.refuse_if_set("init", "with --init-image (that image is the start)");
  const int64_t num_iterations = p.get_int("num-iterations", 1, 1000000000);
  const int64_t print_iter = p.get_int("print-iter", 0), save_iter = p.get_int("save-iter", 0);
  const double style_scale = p.get_double("style-scale", Num::positive);
  std::vector<int64_t> scales;
  if (!p.get("scales").empty()) {
    p.refuse_if_set("image-size", "with --scales (the last scale is the output's size)");
    scales = p.get_ints("scales", 16, 8192);
    SG_USAGE_CHECK(!scales.empty(), "--scales is empty");
    for (size_t i = 1; i < scales.size(); ++i)
      SG_USAGE_CHECK(scales[i] > scales[i - 1], "--scales must grow, coarse to fine, got ", p.get("scales"));
  } else {
    scales.push_back(p.get_int("image-size", 16, 8192));
  }
  const std::vector<double> blend_weights =
      p.get("style-blend-weights").empty() ? std::vector<double>() : p.get_doubles("style-blend-weights", Num::non_negative);
  if (!blend_weights.empty()) {
    const size_t n_styles = p.get_list("style").size();
    SG_USAGE_CHECK(blend_weights.size() == n_styles, "--style-blend-weights has ", blend_weights.size(), " values for ",
                   n_styles, " style images");
    double total = 0;
    for (double b : blend_weights) total += b;
    SG_USAGE_CHECK(total > 0, "--style-blend-weights must not all be 0");
  }
  for (const char* w : {"content-weight", "style-weight", "tv-weight"})
    if (!p.get(w).empty()) p.get_double(w, Num::non_negative);

  // ---- every file it reads and writes, before any work (apps/output_plan.h) ----
  const std::string output = p.get("output");
  OutputPlan plan;
  plan.input(p.get("content"), "--content");
  for (const auto& s : p.get_list("style")) plan.input(s, "--style");
  if (!p.get("init-image").empty()) plan.input(p.get("init-image"), "--init-image");
  if (!p.get("weights").empty() && p.get("weights") != "random") plan.input(p.get("weights"), "--weights");
  plan.output(output, "--output", OutputPlan::Kind::image);
  plan.output(with_suffix(output, "_losses", ".svg"), "the loss plot");
  if (save_iter > 0)
    for (size_t si = 0; si < scales.size(); ++si)
      for (int64_t it = save_iter; it < num_iterations; it += save_iter)
        plan.output(intermediate_path(output, scales, si, it), "the intermediate image");
  if (!p.get("loss-log").empty()) plan.output(p.get("loss-log"), "--loss-log");
  plan.check();

  // ---- the feature network ----
  const std::string weights_arg = p.get("weights");
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
  if (is_vgg) {
    p.refuse_if_set("multiscale-kernels", "to a VGG model");
    p.refuse_if_set("multiscale-filters", "to a VGG model");
  } else {
    p.refuse_if_set("pooling", "to --model multiscale (it has no pooling)");
    SG_USAGE_CHECK(weights_arg.empty(), "--weights applies to VGG models, not to --model multiscale");
  }
  std::unique_ptr<style::FeatureNet> net;
  if (is_vgg) {
    models::VGGOptions vo;
    vo.depth = model == "vgg16" ? 16 : 19;
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
      const NamedTensors state = load_weights(weights_path);
      require_finite(state, weights_path);
      vgg->load_features(state);
      desc = model + " (" + weights_path + ")";
    }
    vgg->eval();
    vgg->requires_grad_(false);
    net = std::make_unique<style::VGGFeatures>(vgg, desc);
  } else {
    models::MultiScaleOptions mo;
    mo.seed = seed;
    mo.filters = p.get_int("multiscale-filters", 1, 4096);
    mo.kernel_sizes = p.get_ints("multiscale-kernels", 1, 255);
    for (int64_t k : mo.kernel_sizes) SG_USAGE_CHECK(k % 2 == 1, "--multiscale-kernels must be odd, got ", k);
    net = std::make_unique<style::MultiScaleFeatures>(mo);
  }
  net->to(device);
  std::fprintf(stderr, "features: %s\n", net->description().c_str());

  // ---- layers and weights (defaults depend on the network, see README) ----
  std::vector<std::string> all_layers;
  if (auto* ms = dynamic_cast<style::MultiScaleFeatures*>(net.get())) all_layers = ms->layer_names();
  auto layers_or = [&](const char* opt, std::vector<std::string> vgg_default) {
    if (!p.get(opt).empty()) return p.get_list(opt);
    return is_vgg ? vgg_default : all_layers;
  };
  style::TransferOptions to;
  to.content_layers = layers_or("content-layers", {"relu4_2"});
  to.style_layers = layers_or("style-layers", {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"});
  auto weight_or = [&](const char* opt, double vgg_default, double ms_default) {
    return p.get(opt).empty() ? (is_vgg ? vgg_default : ms_default) : p.get_double(opt, Num::non_negative);
  };
  to.weights.content = weight_or("content-weight", 5.0, 0.01);
  to.weights.style = weight_or("style-weight", 3e5, 1.0);
  to.weights.tv = weight_or("tv-weight", 2e-2, 0.0);
  const std::string init = init_arg.empty() ? (is_vgg ? "random" : "image") : init_arg;
  to.init = init == "image" ? style::Init::image : style::Init::random;
  to.optimizer = optimizer == "adam" ? style::Optimizer::adam : style::Optimizer::lbfgs;
  to.learning_rate = learning_rate;
  to.num_iterations = num_iterations;
  to.style_scale = style_scale;
  to.seed = seed;
  to.scales = scales;
  to.device = device;
  // The frozen network runs hundreds of times: keep its Winograd weight
  // transforms (kernels/cpu/winograd.h) unless the environment says otherwise.
  if (!std::getenv("STYLEGRAD_WINOGRAD_CACHE_MB")) cpu::set_winograd_cache_budget(size_t(512) << 20);
  if (!device.is_cuda()) {
    // Refuse sizes whose activations cannot fit, before any work (in host
    // memory: a GPU's own runs out with one error from its allocator).
    const double need = style::transfer_memory_bytes(*net, to) + double(cpu::winograd_cache_stats().budget_bytes);
    const MemoryLimit have = memory_limit();
    SG_CHECK(need < 0.8 * have.bytes, "image size ", *std::max_element(to.scales.begin(), to.scales.end()),
             " needs about ", gibibytes(need), " GiB of memory, ", have.what, " ", gibibytes(have.bytes),
             " GiB: use a smaller --image-size");
  }

  // ---- images ----
  const Tensor content_full = load_image(p.get("content"));
  std::vector<Tensor> styles_full;
  for (const auto& s : p.get_list("style")) styles_full.push_back(load_image(s));
  to.blend_weights.assign(styles_full.size(), 1.0);
  if (!blend_weights.empty()) to.blend_weights = blend_weights;
  const Tensor init_full = p.get("init-image").empty() ? Tensor() : load_image(p.get("init-image"));

  // ---- coarse-to-fine optimisation (style/transfer.h), with progress and intermediate images ----
  std::unique_ptr<Progress> progress;
  style::TransferCallbacks callbacks;
  size_t scale_index = 0;
  callbacks.scale_started = [&](size_t si, int64_t H, int64_t W) {
    scale_index = si;
    if (si == 0) std::fprintf(stderr, "content %lldx%lld, %zu style image(s)\n", (long long)W, (long long)H, styles_full.size());
    progress = std::make_unique<Progress>(to.num_iterations, print_iter);
  };
  callbacks.evaluated = [&](int64_t evals, const style::LossRecord& l, const Tensor& image) {
    char info[160];
    std::snprintf(info, sizeof info, "content %.3e style %.3e tv %.3e total %.3e", l.content, l.style, l.tv, l.total);
    progress->update(evals, info);
    if (save_iter > 0 && evals > 0 && evals % save_iter == 0 && evals < to.num_iterations)
      save_image(image.squeeze(0), intermediate_path(output, to.scales, scale_index, evals));
  };
  callbacks.scale_finished = [&](size_t si, int64_t evals) {
    progress->finish();
    std::fprintf(stderr, "scale %lld done: %lld evaluations in %s\n", (long long)to.scales[si], (long long)evals,
                 format_duration(progress->elapsed_seconds()).c_str());
  };
  const style::TransferResult run = style::run_style_transfer(*net, content_full, styles_full, init_full, to, callbacks);

  // ---- outputs ----
  NoGradGuard ng;
  Tensor result = run.image.squeeze(0).to(Device::cpu());
  if (p.has("original-colors"))
    result = style::keep_original_colors(resize_image(content_full, result.size(1), result.size(2)), result);
  save_image(result, output);
  std::fprintf(stderr, "wrote %s\n", output.c_str());
  std::vector<double> log_content, log_style, log_tv, log_total;
  for (const style::LossRecord& l : run.losses) {
    log_content.push_back(l.content);
    log_style.push_back(l.style);
    log_tv.push_back(l.tv);
    log_total.push_back(l.total);
  }
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
