#include "apps/translation_options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <vector>

#include "apps/cli.h"
#include "tensor/error.h"

namespace sg::cli {

std::string join_path(const std::string& a, const std::string& b) {
  return a.empty() || a.back() == '/' ? a + b : a + "/" + b;
}

void add_train_loop_options(ArgParser& p, const TrainLoopDefaults& d) {
  p.option("display_freq", "400", "save the visuals to web/ every this many images")
      .option("display_ncols", "4", "accepted for compatibility (visdom)")
      .option("display_id", d.display_id, "accepted: there is no visdom; the visuals go to web/index.html")
      .option("display_server", "http://localhost", "accepted for compatibility (visdom)")
      .option("display_env", "main", "accepted for compatibility (visdom)")
      .option("display_port", "8097", "accepted for compatibility (visdom)")
      .option("update_html_freq", "1000", "save the visuals to the page at least every this many images")
      .option("print_freq", "100", "print and log the losses every this many images")
      .flag("no_html", "no web/ page of visuals")
      .option("save_latest_freq", d.save_latest_freq, "save the latest networks every this many images")
      .option("save_epoch_freq", d.save_epoch_freq, "save the networks every this many epochs");
  if (d.evaluation_freq) p.option("evaluation_freq", "5000", "accepted for compatibility");
  p.flag("save_by_iter", "save the latest networks as iter_<n> instead of latest")
      .flag("continue_train", "continue from the networks (and stylegrad checkpoint) of --epoch")
      .option("epoch_count", "1", "the first epoch's number");
}

void add_base_options(ArgParser& p) {
  p.option("dataroot", "", "images: a folder (--dataset_mode single), or holding <phase>A and <phase>B (unaligned) or <phase> (aligned A|B)")
      .option("name", "experiment_name", "experiment name: networks are stored in <checkpoints_dir>/<name>")
      .option("checkpoints_dir", "./checkpoints", "where the networks are")
      .option("epoch", "latest", "which networks to load: <epoch>_net_<name>.pth")
      .option("load_iter", "0", "> 0: load iter_<load_iter>_net_<name>.pth instead of --epoch")
      .option("preprocess", "resize_and_crop", "resize_and_crop | crop | scale_width | scale_width_and_crop | none")
      .option("crop_size", "256", "then crop to this size")
      .flag("no_flip", "no flipping")
      .option("direction", "AtoB", "AtoB or BtoA")
      .option("netG", "", "resnet_9blocks | resnet_6blocks | unet_256 | unet_128 (default: resnet_9blocks; pix2pix: unet_256)")
      .option("ngf", "64", "generator filters in the last conv layer")
      .option("ndf", "64", "discriminator filters in the first conv layer (train)")
      .option("netD", "basic", "basic | n_layers | pixel (train)")
      .option("n_layers_D", "3", "discriminator layers for --netD n_layers (train)")
      .option("norm", "", "instance | batch | none (default: instance; pix2pix: batch)")
      .flag("no_dropout", "no dropout in the generator (always so for cycle_gan)")
      .option("input_nc", "3", "input image channels: 3 RGB, 1 grayscale")
      .option("output_nc", "3", "output image channels")
      .option("dataset_mode", "", "single | aligned | unaligned (default: single for test, unaligned for cycle_gan, aligned for pix2pix)")
      .flag("serial_batches", "take images in order")
      .option("batch_size", "1", "1 (stylegrad runs one image at a time)")
      .option("gpu_ids", "0", "accepted for compatibility: --device picks where stylegrad runs")
      .option("max_dataset_size", "", "at most this many images per folder")
      .option("display_winsize", "256", "image width on the HTML page")
      .option("num_threads", "4", "accepted for compatibility")
      .option("init_type", "normal", "normal | xavier | kaiming | orthogonal")
      .option("init_gain", "0.02", "scale of the initial weights")
      .flag("verbose", "accepted for compatibility")
      .option("suffix", "", "accepted for compatibility")
      .option("seed", "0", "seed for initialisation, random crops, flips, orders and dropout");
}

NetworkChoice network_choice(const ArgParser& p, const std::string& model) {
  NetworkChoice c;
  const bool is_pix2pix = model == "pix2pix";
  c.default_netG = is_pix2pix ? "unet_256" : "resnet_9blocks";
  c.default_norm = is_pix2pix ? "batch" : "instance";
  c.netG = p.has("netG") ? p.get("netG") : c.default_netG;
  c.norm = p.has("norm") ? p.get("norm") : c.default_norm;
  c.use_dropout = model == "cycle_gan" ? false : !p.has("no_dropout");
  return c;
}

data::DatasetOptions dataset_options(const ArgParser& p, const std::string& model) {
  data::DatasetOptions d;
  d.dataset_mode = p.has("dataset_mode") ? p.get("dataset_mode")
                   : model == "test"     ? "single"
                   : model == "pix2pix"  ? "aligned"
                                         : "unaligned";
  SG_USAGE_CHECK(p.has("dataroot") && !p.get("dataroot").empty(), "--dataroot is required (the folder of images)");
  d.dataroot = p.get("dataroot");
  d.direction = p.get("direction");
  d.input_nc = p.get_int("input_nc");
  d.output_nc = p.get_int("output_nc");
  if (p.has("max_dataset_size")) d.max_dataset_size = p.get_int("max_dataset_size");
  d.transform.preprocess = p.get("preprocess");
  d.transform.crop_size = p.get_int("crop_size");
  return d;
}

void note_gpu_ids(const ArgParser& p) {
  if (p.get("gpu_ids") == "-1" || !p.has("gpu_ids")) return;
  if (p.get("device") == "cpu")
    std::printf("note: stylegrad runs on the CPU; --gpu_ids %s is ignored\n", p.get("gpu_ids").c_str());
  else
    std::printf("note: stylegrad runs on --device %s; --gpu_ids %s is ignored\n", p.get("device").c_str(),
                p.get("gpu_ids").c_str());
}

std::string python_float_text(double x) {
  // repr(float): the fewest significant digits that read back as x, in
  // positional notation for decimal exponents -4 .. 15 ("0.0002", "10.0"),
  // else scientific ("1e-05", "1e+16").
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (x == 0) return std::signbit(x) ? "-0.0" : "0.0";
  char buf[64];
  int digits = 1;
  for (; digits < 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, x);
  const std::string e = buf;  // [-]d.ddde[+-]XX
  const size_t epos = e.find('e');
  const int exponent = std::atoi(e.c_str() + epos + 1);
  const bool negative = e[0] == '-';
  std::string mantissa;  // the significant digits, without the point
  for (size_t i = negative ? 1 : 0; i < epos; ++i)
    if (e[i] != '.') mantissa += e[i];
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += mantissa.substr(0, 1);
    if (mantissa.size() > 1) out += "." + mantissa.substr(1);
    char exp_text[16];
    std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp_text;
  }
  if (exponent < 0) return out + "0." + std::string(size_t(-exponent - 1), '0') + mantissa;
  const size_t int_digits = size_t(exponent) + 1;
  if (mantissa.size() <= int_digits) return out + mantissa + std::string(int_digits - mantissa.size(), '0') + ".0";
  return out + mantissa.substr(0, int_digits) + "." + mantissa.substr(int_digits);
}

namespace {

// The type= of each numeric option in the official parsers (everything else
// is a str or a store_true flag): print_options writes str() of the parsed value.
bool is_float_option(const std::string& name) {
  static const std::set<std::string> names = {"init_gain", "aspect_ratio", "lr", "beta1", "lambda_A",
                                              "lambda_B", "lambda_identity", "lambda_L1"};
  return names.count(name) > 0;
}
bool is_int_option(const std::string& name) {
  static const std::set<std::string> names = {
      "input_nc",     "output_nc",       "ngf",         "ndf",           "n_layers_D",      "batch_size",
      "load_size",    "crop_size",       "max_dataset_size", "display_winsize", "num_threads", "load_iter",
      "display_freq", "display_ncols",   "display_id",  "display_port",  "update_html_freq", "print_freq",
      "save_latest_freq", "save_epoch_freq", "epoch_count", "n_epochs",  "n_epochs_decay",  "pool_size",
      "lr_decay_iters", "num_test",      "seed"};
  return names.count(name) > 0;
}

// str() of the value argparse holds for `text`.
std::string python_text(const std::string& name, const std::string& text) {
  if (is_float_option(name)) return python_float_text(std::strtod(text.c_str(), nullptr));
  if (is_int_option(name)) return std::to_string(std::strtoll(text.c_str(), nullptr, 10));
  return text;
}

}  // namespace

std::string options_block(const ArgParser& p,
                          const std::map<std::string, std::pair<std::string, std::string>>& resolved,
                          const std::set<std::string>& omitted) {
  std::vector<std::string> names = p.names();
  for (const auto& [name, vd] : resolved)
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string s = "----------------- Options ---------------\n";
  for (const std::string& name : names) {
    // --device is stylegrad's own (the official --gpu_ids is noted, not used): not in the official block.
    if (omitted.count(name) || name == "device") continue;
    std::string value, def;
    if (auto it = resolved.find(name); it != resolved.end()) {
      value = it->second.first;
      def = it->second.second;
    } else if (p.is_flag(name)) {
      value = p.has(name) ? "True" : "False";
      def = "False";
    } else {
      value = python_text(name, p.get(name));
      def = p.default_value(name);
      // Defaults the official parsers hold as something else than our text:
      // --dataroot is required (None), --max_dataset_size is float("inf").
      if (name == "dataroot") def = "None";
      if (name == "max_dataset_size" && def.empty()) {
        def = "inf";
        if (!p.has(name)) value = "inf";
      }
      if (!def.empty() && def != "None" && def != "inf") def = python_text(name, def);
    }
    // --load_iter's official default is the string '0', which argparse parses
    // into the int 0: the two never compare equal, so it is always noted.
    const bool noted = value != def || name == "load_iter";
    std::string left(25 > name.size() ? 25 - name.size() : 0, ' ');
    std::string v = value;
    if (v.size() < 30) v.resize(30, ' ');
    s += left + name + ": " + v + (noted ? "\t[default: " + def + "]" : "") + "\n";
  }
  s += "----------------- End -------------------";
  return s;
}

}  // namespace sg::cli
