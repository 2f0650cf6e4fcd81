// stylegrad test: junyanz/pytorch-CycleGAN-and-pix2pix's test.py. Its command
// lines work as written (`python test.py` -> `stylegrad test`), with the
// official option names (underscores, or dashes) and per-model defaults, and
// write the same folders and files:
//   <results_dir>/<name>/<phase>_<epoch>/index.html
//   <results_dir>/<name>/<phase>_<epoch>/images/<stem>_<label>.png
//   <checkpoints_dir>/<name>/<phase>_opt.txt (the options, as print_options writes them)
// Models (models/test_model.py, cycle_gan_model.py, pix2pix_model.py in test mode):
//   test       netG<suffix> from <epoch>_net_G<suffix>.pth; visuals real, fake
//   cycle_gan  netG_A, netG_B; visuals real_A, fake_B, rec_A, real_B, fake_A, rec_B
//   pix2pix    netG; visuals real_A, fake_B, real_B
// As test.py: no flips, serial pairing, batch 1, and the networks stay in
// training mode (batch statistics, dropout) unless --eval.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "apps/cli.h"
#include "apps/output_plan.h"
#include "apps/commands.h"
#include "apps/cut_commands.h"
#include "apps/translation_options.h"
#include "autograd/grad_mode.h"
#include "data/datasets.h"
#include "data/image_folder.h"
#include "io/atomic_file.h"
#include "io/html.h"
#include "io/image.h"
#include "models/cyclegan_networks.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "translation/trainer.h"

namespace sg::cli {

namespace {

namespace fs = std::filesystem;
namespace cg = sg::models::cyclegan;

using translation::tensor_to_image_levels;

std::string join(const std::string& a, const std::string& b) { return join_path(a, b); }

// util.save_image's aspect_ratio: PIL's resize takes (width, height), and the
// official code passes (h, int(w * ratio)) or (int(h / ratio), w).
Tensor apply_aspect_ratio(const Tensor& image, double aspect_ratio) {
  const int64_t h = image.size(1), w = image.size(2);
  int64_t new_w = w, new_h = h;
  if (aspect_ratio > 1.0) {
    new_w = h;
    new_h = int64_t(double(w) * aspect_ratio);
  } else if (aspect_ratio < 1.0) {
    new_w = int64_t(double(h) / aspect_ratio);
    new_h = w;
  } else {
    return image;
  }
  if (new_w == w && new_h == h) return image;  // PIL returns a copy
  return resize_image_bicubic(image, new_h, new_w);
}

std::string stem_of(const std::string& path) { return fs::path(path).stem().string(); }

// The one line for a missing network file; official pretrained names get the
// fetch command (weights/fetch.sh pix2pix-NAME for --model pix2pix, else cyclegan-NAME).
[[noreturn]] void missing_checkpoint(const std::string& path, const std::string& name, const std::string& model_kind) {
  const std::string suffix = "_pretrained";
  std::string hint = "train one with the official train.py (or stylegrad train), or check --checkpoints_dir, --name and --epoch";
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    const std::string model = name.substr(0, name.size() - suffix.size());
    const std::string family = model_kind == "pix2pix" ? "pix2pix" : "cyclegan";
    hint = "for the official pretrained '" + model + "': weights/fetch.sh " + family + "-" + model +
           ", then copy weights/downloads/" + family + "_" + model + ".pth to that path";
  }
  throw Error("checkpoint '" + path + "' not found; " + hint);
}

struct Network {
  std::string name;  // "G", "G_A", ...
  std::shared_ptr<nn::Module> net;
};

}  // namespace

int cmd_test(int argc, char** argv) {
  if (is_cut_command(argc, argv)) return cmd_test_cut(argc, argv);  // apps/cut_commands.cpp
  ArgParser p("stylegrad test --dataroot DIR --name NAME --model test|cycle_gan|pix2pix [options]",
              "Translates images with trained CycleGAN/pix2pix generators, as the official test.py\n"
              "(junyanz/pytorch-CycleGAN-and-pix2pix): same options (underscores or dashes), same\n"
              "defaults, same results/NAME/<phase>_<epoch>/index.html and images/<stem>_<label>.png.");
  p.accept_dashes();
  add_base_options(p);
  p.option("model", "test", "test (one generator) | cycle_gan | pix2pix")
      .option("results_dir", "./results/", "where the results are written")
      .option("phase", "test", "train, val, test, ... (folder names for aligned/unaligned data)")
      .option("num_test", "50", "how many images to translate")
      .flag("eval", "networks in evaluation mode (running batch-norm statistics, no dropout)")
      .option("aspect_ratio", "1.0", "saved images are resized to this aspect ratio, as the official util.save_image")
      .option("load_size", "256", "scale images to this size (the official test options' default: --crop_size's default, 256, whatever --crop_size is)")
      .option("model_suffix", "", "--model test loads <epoch>_net_G<model_suffix>.pth (e.g. _A)");
  add_device_option(p);
  if (!p.parse(argc, argv)) return 0;
  SG_USAGE_CHECK(p.positionals().empty(), "unexpected argument '", p.positionals()[0], "' (see --help)");
  const Device device = device_option(p);

  // ---- options and the official per-model defaults ----
  const std::string model = p.get("model");
  SG_USAGE_CHECK(model == "test" || model == "cycle_gan" || model == "pix2pix", "--model '", model,
           "': expected test, cycle_gan, pix2pix, cut or sincut");
  const NetworkChoice choice = network_choice(p, model);
  const std::string netG = choice.netG, norm = choice.norm;
  const bool use_dropout = choice.use_dropout;
  SG_USAGE_CHECK(p.get_int("batch_size") == 1, "--batch_size ", p.get("batch_size"),
           ": stylegrad test translates one image at a time (test.py, too, runs with batch_size 1)");
  note_gpu_ids(p);

  data::DatasetOptions dopt = dataset_options(p, model);
  dopt.phase = p.get("phase");
  dopt.serial_batches = true;  // test.py
  dopt.transform.load_size = p.get_int("load_size");
  dopt.transform.no_flip = true;  // test.py
  const int64_t num_test = p.get_int("num_test"), ngf = p.get_int("ngf"), load_iter = p.get_int("load_iter");
  const double aspect_ratio = p.get_double("aspect_ratio");
  SG_USAGE_CHECK(aspect_ratio > 0, "--aspect_ratio ", p.get("aspect_ratio"), " must be positive");
  const int width = int(p.get_int("display_winsize"));
  const bool atob = dopt.direction == "AtoB";

  Generator gen(uint64_t(p.get_int("seed")));
  default_generator().manual_seed(uint64_t(p.get_int("seed")));
  std::unique_ptr<data::Dataset> dataset = data::create_dataset(dopt, gen);
  SG_USAGE_CHECK(model == "test" || dopt.dataset_mode != "single", "--model ", model,
           " needs A and B images: --dataset_mode aligned or unaligned, not single");

  // ---- the networks, every file checked and loaded before anything is written ----
  const std::string load_suffix = load_iter > 0 ? "iter_" + std::to_string(load_iter) : p.get("epoch");
  const std::string expr_dir = join(p.get("checkpoints_dir"), p.get("name"));
  const int64_t input_nc = dopt.input_nc, output_nc = dopt.output_nc;
  std::vector<Network> nets;
  if (model == "test") {
    nets.push_back({"G" + p.get("model_suffix"), cg::define_G(input_nc, output_nc, ngf, netG, norm, use_dropout)});
  } else if (model == "cycle_gan") {
    nets.push_back({"G_A", cg::define_G(input_nc, output_nc, ngf, netG, norm, use_dropout)});
    nets.push_back({"G_B", cg::define_G(output_nc, input_nc, ngf, netG, norm, use_dropout)});
  } else {
    nets.push_back({"G", cg::define_G(input_nc, output_nc, ngf, netG, norm, use_dropout)});
  }
  std::vector<std::string> net_files;
  for (const Network& n : nets) {
    const std::string file = join(expr_dir, load_suffix + "_net_" + n.name + ".pth");
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) missing_checkpoint(file, p.get("name"), p.get("model"));
    net_files.push_back(file);
  }
  // All loaded before the official "loading the model from" lines, so that a
  // file that does not fit is the only line printed.
  for (size_t k = 0; k < nets.size(); ++k) cg::load_official_network(*nets[k].net, net_files[k], "net" + nets[k].name);
  for (Network& n : nets) n.net->to(device);
  for (const std::string& file : net_files) std::printf("loading the model from %s\n", file.c_str());
  std::printf("---------- Networks initialized -------------\n");
  for (const Network& n : nets) {
    int64_t count = 0;
    for (const auto& [key, t] : n.net->named_parameters()) count += t.numel();
    std::printf("[Network %s] Total number of parameters : %.3f M\n", n.name.c_str(), double(count) / 1e6);
  }
  std::printf("-----------------------------------------------\n");

  // ---- where the results go; never over an input ----
  std::string web_dir = join(join(p.get("results_dir"), p.get("name")), p.get("phase") + "_" + p.get("epoch"));
  if (load_iter > 0) web_dir += "_iter" + std::to_string(load_iter);
  require_creatable_directory(web_dir, "the results folder (--results_dir/--name)");
  {
    std::error_code ec;
    const fs::path images_dir = fs::weakly_canonical(join(web_dir, "images"), ec);
    const int64_t n = std::min(num_test, dataset->size());
    for (int64_t i = 0; i < n; ++i) {
      for (const std::string& input : dataset->paths(i)) {
        const fs::path in = fs::weakly_canonical(input, ec);
        SG_USAGE_CHECK(in.parent_path() != images_dir, "'", input, "' is in the results folder '", images_dir.string(),
                 "', where it could be overwritten: choose another --results_dir");
      }
    }
  }
  // ---- BaseOptions.print_options: printed, and saved as <checkpoints_dir>/<name>/<phase>_opt.txt ----
  {
    const std::string dataset_default = model == "test" ? "single" : model == "pix2pix" ? "aligned" : "unaligned";
    const std::string options = options_block(
        p,
        {{"netG", {netG, choice.default_netG}},
         {"norm", {norm, choice.default_norm}},
         {"no_dropout", {use_dropout ? "False" : "True", model == "cycle_gan" ? "True" : "False"}},
         {"dataset_mode", {dopt.dataset_mode, dataset_default}},
         {"isTrain", {"False", "None"}}},
        model == "test" ? std::set<std::string>{} : std::set<std::string>{"model_suffix"});  // test_model's option
    std::printf("%s\n", options.c_str());
    write_file_atomic(join(expr_dir, p.get("phase") + "_opt.txt"), options + "\n");
  }
  std::printf("creating web directory %s\n", web_dir.c_str());
  HtmlPage webpage(web_dir, "Experiment = " + p.get("name") + ", Phase = " + p.get("phase") + ", Epoch = " + p.get("epoch"));

  if (p.has("eval"))
    for (Network& n : nets) n.net->eval();
  NoGradGuard no_grad;
  for (int64_t i = 0; i < dataset->size(); ++i) {
    if (i >= num_test) break;
    data::Sample s = dataset->get(i);
    s.A = s.A.to(device);  // the images are written from CPU copies (tensor_to_image_levels)
    if (s.B.defined()) s.B = s.B.to(device);
    std::vector<std::pair<std::string, Tensor>> visuals;
    std::string image_path;
    if (model == "test") {
      image_path = s.A_path;
      visuals = {{"real", s.A}, {"fake", nets[0].net->forward(s.A)}};
    } else {
      const Tensor real_A = atob ? s.A : s.B, real_B = atob ? s.B : s.A;
      image_path = atob ? s.A_path : s.B_path;
      if (model == "cycle_gan") {
        nn::Module &G_A = *nets[0].net, &G_B = *nets[1].net;
        const Tensor fake_B = G_A.forward(real_A), rec_A = G_B.forward(fake_B);
        const Tensor fake_A = G_B.forward(real_B), rec_B = G_A.forward(fake_A);
        visuals = {{"real_A", real_A}, {"fake_B", fake_B}, {"rec_A", rec_A},
                   {"real_B", real_B}, {"fake_A", fake_A}, {"rec_B", rec_B}};
      } else {
        visuals = {{"real_A", real_A}, {"fake_B", nets[0].net->forward(real_A)}, {"real_B", real_B}};
      }
    }
    if (i % 5 == 0) {
      std::printf("processing (%04lld)-th image... ['%s']\n", (long long)i, image_path.c_str());
      std::fflush(stdout);
    }
    // util/visualizer.py save_images
    const std::string name = stem_of(image_path);
    webpage.add_header(name);
    std::vector<std::string> ims, txts, links;
    for (const auto& [label, tensor] : visuals) {
      const std::string image_name = name + "_" + label + ".png";
      save_image(apply_aspect_ratio(tensor_to_image_levels(tensor), aspect_ratio), join(webpage.image_dir(), image_name));
      ims.push_back(image_name);
      txts.push_back(label);
      links.push_back(image_name);
    }
    webpage.add_images(ims, txts, links, width);
  }
  webpage.save();
  return 0;
}

}  // namespace sg::cli
