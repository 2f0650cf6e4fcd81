// stylegrad inspect: what does each VGG layer see? Writes activations (.npy),
// optionally their Gram matrices, and a PNG mosaic of each layer's channels.
#include <cmath>
#include <cstdio>
#include <sys/stat.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/output_plan.h"
#include "autograd/grad_mode.h"
#include "models/vgg.h"
#include "ops/ops.h"
#include "style/gatys.h"
#include "style/transfer.h"
#include "tensor/error.h"
#include "io/image.h"
#include "tensor/random.h"
#include "weights/load.h"
#include "weights/npy.h"

namespace sg::cli {

namespace {
// Channels [C,H,W] tiled in a near-square grid, each normalised to [0,1] on its own
// (so that weak channels are visible too), one pixel of white between tiles.
Tensor channel_mosaic(const Tensor& chw) {
  const int64_t c = chw.size(0), h = chw.size(1), w = chw.size(2);
  const int64_t cols = int64_t(std::ceil(std::sqrt(double(c)))), rows = (c + cols - 1) / cols;
  Tensor out = ones({rows * (h + 1) - 1, cols * (w + 1) - 1});
  for (int64_t i = 0; i < c; ++i) {
    Tensor ch = chw.select(0, i);
    const double lo = -max(neg(ch)).item(), hi = max(ch).item();
    Tensor norm = hi > lo ? (ch - lo) * (1.0 / (hi - lo)) : zeros_like(ch);
    out.narrow(0, (i / cols) * (h + 1), h).narrow(1, (i % cols) * (w + 1), w).copy_(norm);
  }
  return out;
}
}  // namespace

int cmd_inspect(int argc, char** argv) {
  ArgParser p("stylegrad inspect --model vgg19 --weights FILE|random --image IMG --layers relu1_1,relu4_2 --out-dir DIR",
              "Runs a VGG on an image and writes, per layer, its activation as DIR/<layer>.npy\n"
              "(numpy's format: np.load), a PNG mosaic of its channels, and with --gram its Gram\n"
              "matrix G = V Vᵀ / (C·H·W) as DIR/<layer>_gram.npy.");
  p.option("model", "vgg19", "vgg19 or vgg16");
  p.option("weights", "", "weights file (.pth as downloaded, or .safetensors), or 'random'");
  p.option("seed", "0", "seed for --weights random");
  p.option("image", "", "input image");
  p.option("image-size", "0", "resize so the longer side is this many pixels (0: as is)");
  p.option("layers", "relu1_1,relu2_1,relu3_1,relu4_1,relu4_2,relu5_1", "layers to write, comma-separated");
  p.option("pooling", "max", "max or avg");
  p.option("out-dir", "", "output directory (created if missing)");
  p.flag("gram", "also write each layer's Gram matrix");
  add_device_option(p);
  if (!p.parse(argc, argv)) return 0;
  SG_USAGE_CHECK(p.positionals().empty(), "unexpected argument '", p.positionals()[0], "'");
  for (const char* o : {"weights", "image", "out-dir"}) SG_USAGE_CHECK(!p.get(o).empty(), "--", o, " is required");
  const Device device = device_option(p);
  const std::string model = p.get("model");
  SG_USAGE_CHECK(model == "vgg19" || model == "vgg16", "--model must be vgg19 or vgg16, got '", model, "'");
  SG_USAGE_CHECK(p.get("pooling") == "max" || p.get("pooling") == "avg", "--pooling must be max or avg, got '",
                 p.get("pooling"), "'");
  const int64_t seed = p.get_int("seed", 0), image_size = p.get_int("image-size", 0, kMaxImageSide);
  if (p.get("weights") != "random") p.refuse_if_set("seed", "to pretrained weights (only to --weights random)");
  models::VGGOptions vo;
  vo.depth = model == "vgg16" ? 16 : 19;
  vo.pooling = p.get("pooling") == "avg" ? models::VGGPooling::avg : models::VGGPooling::max;
  models::VGG vgg(vo);
  const auto layers = p.get_list("layers");
  SG_USAGE_CHECK(!layers.empty(), "--layers is empty");
  for (const auto& l : layers) SG_USAGE_CHECK(vgg.has_tap(l), model, " has no layer '", l, "'");
  const std::string dir = p.get("out-dir");
  OutputPlan plan;
  plan.input(p.get("image"), "--image");
  if (p.get("weights") != "random") plan.input(p.get("weights"), "--weights");
  plan.output(dir, "--out-dir", OutputPlan::Kind::directory);
  for (const auto& l : layers) {
    plan.output(dir + "/" + l + ".npy", "an activation");
    plan.output(dir + "/" + l + ".png", "a channel mosaic");
    if (p.has("gram")) plan.output(dir + "/" + l + "_gram.npy", "a Gram matrix");
  }
  plan.check();
  if (p.get("weights") == "random") {
    Generator g(static_cast<uint64_t>(seed));
    vgg.init_torchvision(g);
    std::fprintf(stderr, "note: random torchvision-style weights (seed %lld)\n", (long long)seed);
  } else {
    vgg.load_features(load_weights(p.get("weights")));
  }
  Tensor img = load_image(p.get("image"));
  if (image_size > 0) img = resize_to_longer_side(img, image_size);
  const int64_t need = style::vgg_min_side(vgg, layers);
  SG_CHECK(img.size(1) >= need && img.size(2) >= need, "the image is ", img.size(2), "x", img.size(1), " pixels; ",
           model, " needs at least ", need, " on each side up to these layers (use a larger --image-size)");
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) throw Error("cannot create directory '" + dir + "'");
  NoGradGuard ng;
  vgg.to(device);
  auto acts = vgg.forward_taps(img.unsqueeze(0).to(device), layers);
  for (const auto& l : layers) {
    const Tensor a = acts.at(l).to(Device::cpu());  // the mosaic and the files are host work
    write_npy(dir + "/" + l + ".npy", a);
    save_image(channel_mosaic(a.squeeze(0)), dir + "/" + l + ".png");
    if (p.has("gram")) write_npy(dir + "/" + l + "_gram.npy", style::gram_matrix(a).squeeze(0));
    std::printf("%-8s %s -> %s/%s.npy%s\n", l.c_str(), a.shape().str().c_str(), dir.c_str(), l.c_str(),
                p.has("gram") ? " (+ _gram.npy)" : "");
  }
  return 0;
}

}  // namespace sg::cli
