#include "apps/translation_options.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "apps/cli.h"
#include "tensor/error.h"

namespace sg::cli {

std::string join_path(const std::string& a, const std::string& b) {
  return a.empty() || a.back() == '/' ? a + b : a + "/" + b;
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
      .option("norm", "", "instance | batch | none (default: instance; pix2pix: batch)")
      .flag("no_dropout", "no dropout in the generator (always so for cycle_gan)")
      .option("input_nc", "3", "input image channels: 3 RGB, 1 grayscale")
      .option("output_nc", "3", "output image channels")
      .option("dataset_mode", "", "single | aligned | unaligned (default: single for test, unaligned for cycle_gan, aligned for pix2pix)")
      .flag("serial_batches", "take images in order")
      .option("batch_size", "1", "1 (stylegrad runs one image at a time)")
      .option("gpu_ids", "0", "accepted for compatibility: stylegrad runs on the CPU")
      .option("max_dataset_size", "", "at most this many images per folder")
      .option("display_winsize", "256", "image width on the HTML page")
      .option("num_threads", "4", "accepted for compatibility")
      .option("init_type", "normal", "normal | xavier | kaiming | orthogonal")
      .option("init_gain", "0.02", "scale of the initial weights")
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
  if (p.get("gpu_ids") != "-1" && p.has("gpu_ids"))
    std::printf("note: stylegrad runs on the CPU; --gpu_ids %s is ignored\n", p.get("gpu_ids").c_str());
}

std::string options_block(const ArgParser& p,
                          const std::map<std::string, std::pair<std::string, std::string>>& resolved) {
  std::vector<std::string> names = p.names();
  for (const auto& [name, vd] : resolved)
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string s = "----------------- Options ---------------\n";
  for (const std::string& name : names) {
    std::string value, def;
    if (auto it = resolved.find(name); it != resolved.end()) {
      value = it->second.first;
      def = it->second.second;
    } else if (p.is_flag(name)) {
      value = p.has(name) ? "True" : "False";
      def = "False";
    } else {
      value = p.get(name);
      def = p.default_value(name);
    }
    std::string left(25 > name.size() ? 25 - name.size() : 0, ' ');
    std::string v = value;
    if (v.size() < 30) v.resize(30, ' ');
    s += left + name + ": " + v + (value != def ? "\t[default: " + def + "]" : "") + "\n";
  }
  s += "----------------- End -------------------";
  return s;
}

}  // namespace sg::cli
