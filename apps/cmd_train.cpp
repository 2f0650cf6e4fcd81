// stylegrad train: junyanz/pytorch-CycleGAN-and-pix2pix's train.py for
// --model cycle_gan and pix2pix. Its command lines work as written
// (`python train.py` -> `stylegrad train`), with the official option names,
// defaults and per-model defaults, and write the official files in
// <checkpoints_dir>/<name>: train_opt.txt, loss_log.txt, web/index.html and
// web/images/epochNNN_<label>.png, <epoch>_net_<net>.pth (torch.load reads
// them), plus stylegrad's full checkpoints <epoch>_checkpoint.safetensors,
// from which --continue_train --epoch_count N resumes exactly, and
// loss_plot.svg. The loop is translation/train(); this file parses, checks
// the input before any training, and prints.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "apps/cli.h"
#include "apps/output_plan.h"
#include "apps/commands.h"
#include "apps/cut_commands.h"
#include "apps/loss_plot.h"
#include "apps/progress.h"
#include "apps/translation_options.h"
#include "data/datasets.h"
#include "io/atomic_file.h"
#include "io/image.h"
#include "nn/module.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "translation/cycle_gan.h"
#include "translation/pix2pix.h"
#include "translation/trainer.h"

namespace sg::cli {

namespace {

namespace fs = std::filesystem;
namespace tr = sg::translation;

// --model's value, read before the parser is built (the model decides which options exist).
std::string model_argument(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) return argv[i + 1];
    if (a.rfind("--model=", 0) == 0) return a.substr(8);
  }
  return "cycle_gan";
}

std::string bool_text(bool b) { return b ? "True" : "False"; }

// Every image the dataset will read, decoded once, so that a broken file is
// one line naming it before any training.
void check_images(const data::Dataset& dataset) {
  std::set<std::string> paths;
  for (int64_t i = 0; i < dataset.size(); ++i)
    for (const std::string& path : dataset.paths(i)) paths.insert(path);
  for (const std::string& path : paths) {
    try {
      (void)load_image(path);
    } catch (const std::exception& e) {
      throw Error("training image '" + path + "' cannot be read: " + e.what());
    }
  }
}

}  // namespace

int cmd_train(int argc, char** argv) {
  if (is_cut_command(argc, argv)) return cmd_train_cut(argc, argv);  // apps/cut_commands.cpp
  const std::string model = model_argument(argc, argv);
  SG_USAGE_CHECK(model == "cycle_gan" || model == "pix2pix", "--model '", model, "': expected cycle_gan, pix2pix, cut or sincut");
  const bool is_pix2pix = model == "pix2pix";

  ArgParser p("stylegrad train --dataroot DIR --name NAME --model cycle_gan|pix2pix [options]",
              "Trains CycleGAN or pix2pix as the official train.py (junyanz/pytorch-CycleGAN-and-pix2pix):\n"
              "same options (underscores or dashes), same defaults, same files in <checkpoints_dir>/<name>.");
  p.accept_dashes();
  add_base_options(p);
  p.option("model", "cycle_gan", "cycle_gan | pix2pix")
      .option("phase", "train", "the folder(s) read: <phase>A and <phase>B (unaligned) or <phase> (aligned)")
      .option("load_size", "286", "scale images to this size");
  add_train_loop_options(p, TrainLoopDefaults{});
  p.option("n_epochs", "100", "epochs at the initial learning rate")
      .option("n_epochs_decay", "100", "epochs of linear decay to 0")
      .option("beta1", "0.5", "Adam's beta1")
      .option("lr", "0.0002", "Adam's initial learning rate")
      .option("gan_mode", "", "lsgan | vanilla | wgangp (default: lsgan; pix2pix: vanilla)")
      .option("pool_size", "", "image pool size for the discriminators (default: 50; pix2pix: 0)")
      .option("lr_policy", "linear", "linear | step | plateau | cosine")
      .option("lr_decay_iters", "50", "step: multiply by 0.1 every this many epochs");
  if (is_pix2pix)
    p.option("lambda_L1", "100.0", "weight of the L1 loss");
  else
    p.option("lambda_A", "10.0", "weight of the cycle loss A -> B -> A")
        .option("lambda_B", "10.0", "weight of the cycle loss B -> A -> B")
        .option("lambda_identity", "0.5", "identity loss weight, relative to lambda_A and lambda_B");
  add_device_option(p);
  if (!p.parse(argc, argv)) return 0;
  SG_USAGE_CHECK(p.positionals().empty(), "unexpected argument '", p.positionals()[0], "' (see --help)");
  const Device device = device_option(p);
  SG_USAGE_CHECK(p.get_int("batch_size") == 1, "--batch_size ", p.get("batch_size"),
           ": stylegrad train runs one image at a time (batch size 1, the official default)");

  // ---- options ----
  const NetworkChoice choice = network_choice(p, model);
  const std::string default_gan_mode = is_pix2pix ? "vanilla" : "lsgan", default_pool = is_pix2pix ? "0" : "50";
  const std::string gan_mode = p.has("gan_mode") ? p.get("gan_mode") : default_gan_mode;
  const std::string pool_text = p.has("pool_size") ? p.get("pool_size") : default_pool;
  data::DatasetOptions dopt = dataset_options(p, model);
  dopt.phase = p.get("phase");
  dopt.serial_batches = p.has("serial_batches");
  dopt.transform.load_size = p.get_int("load_size");
  dopt.transform.no_flip = p.has("no_flip");
  const std::string& pre = dopt.transform.preprocess;
  SG_USAGE_CHECK(pre == "crop" || pre.find("crop") == std::string::npos ||
               dopt.transform.crop_size <= dopt.transform.load_size,
           "--crop_size ", dopt.transform.crop_size, " is larger than --load_size ", dopt.transform.load_size,
           ": the ", pre, " images cannot be cropped");
  const std::string expr_dir = join_path(p.get("checkpoints_dir"), p.get("name"));
  require_creatable_directory(expr_dir, "the checkpoints folder (--checkpoints_dir/--name)");
  tr::TrainerOptions topt;
  topt.expr_dir = expr_dir;
  topt.device = device;
  topt.name = p.get("name");
  topt.epoch_count = p.get_int("epoch_count");
  topt.n_epochs = p.get_int("n_epochs");
  topt.n_epochs_decay = p.get_int("n_epochs_decay");
  topt.serial_batches = dopt.serial_batches;
  topt.print_freq = p.get_int("print_freq");
  topt.display_freq = p.get_int("display_freq");
  topt.update_html_freq = p.get_int("update_html_freq");
  topt.save_latest_freq = p.get_int("save_latest_freq");
  topt.save_epoch_freq = p.get_int("save_epoch_freq");
  topt.save_by_iter = p.has("save_by_iter");
  topt.no_html = p.has("no_html");
  topt.display_winsize = p.get_int("display_winsize");
  for (const char* name : {"print_freq", "display_freq", "update_html_freq", "save_latest_freq", "save_epoch_freq"})
    SG_USAGE_CHECK(p.get_int(name) > 0, "--", name, " ", p.get(name), " must be positive");
  SG_USAGE_CHECK(topt.epoch_count >= 1, "--epoch_count ", topt.epoch_count, " must be at least 1");
  tr::SchedulerOptions sopt;
  sopt.lr_policy = p.get("lr_policy");
  sopt.epoch_count = topt.epoch_count;
  sopt.n_epochs = topt.n_epochs;
  sopt.n_epochs_decay = topt.n_epochs_decay;
  sopt.lr_decay_iters = p.get_int("lr_decay_iters");

  // ---- the data, every image decoded before anything is written ----
  Generator& gen = default_generator();  // init, pools, crops, flips, orders, dropout: one stream, checkpointed
  gen.manual_seed(uint64_t(p.get_int("seed")));
  std::unique_ptr<data::Dataset> dataset = data::create_dataset(dopt, gen);
  SG_USAGE_CHECK(dopt.dataset_mode != "single", "--model ", model,
           " needs A and B images: --dataset_mode aligned or unaligned, not single");
  SG_CHECK(dataset->size() > 0, "no training images in '", dopt.dataroot, "'");
  check_images(*dataset);

  // ---- the model ----
  std::unique_ptr<tr::CycleGANModel> cycle_gan;
  std::unique_ptr<tr::Pix2PixModel> pix2pix;
  std::unique_ptr<tr::TrainModel> trainee;
  if (is_pix2pix) {
    tr::Pix2PixOptions o;
    o.input_nc = dopt.input_nc, o.output_nc = dopt.output_nc, o.ngf = p.get_int("ngf"), o.ndf = p.get_int("ndf");
    o.netG = choice.netG, o.netD = p.get("netD"), o.n_layers_D = p.get_int("n_layers_D"), o.norm = choice.norm;
    o.init_type = p.get("init_type"), o.init_gain = p.get_double("init_gain"), o.no_dropout = !choice.use_dropout;
    o.direction = dopt.direction, o.gan_mode = gan_mode, o.lr = p.get_double("lr"), o.beta1 = p.get_double("beta1");
    o.lambda_L1 = p.get_double("lambda_L1");
    SG_USAGE_CHECK(pool_text == "0", "--pool_size ", pool_text, ": pix2pix has no image pool (0)");
    pix2pix = std::make_unique<tr::Pix2PixModel>(o, gen);
    pix2pix->to(DType::f32);
    pix2pix->to(device);
    trainee = tr::train_model(*pix2pix);
  } else {
    tr::CycleGANOptions o;
    o.input_nc = dopt.input_nc, o.output_nc = dopt.output_nc, o.ngf = p.get_int("ngf"), o.ndf = p.get_int("ndf");
    o.netG = choice.netG, o.netD = p.get("netD"), o.n_layers_D = p.get_int("n_layers_D"), o.norm = choice.norm;
    o.init_type = p.get("init_type"), o.init_gain = p.get_double("init_gain"), o.no_dropout = !choice.use_dropout;
    o.direction = dopt.direction, o.gan_mode = gan_mode, o.lr = p.get_double("lr"), o.beta1 = p.get_double("beta1");
    o.pool_size = std::stoll(pool_text);
    o.lambda_A = p.get_double("lambda_A"), o.lambda_B = p.get_double("lambda_B");
    o.lambda_identity = p.get_double("lambda_identity");
    cycle_gan = std::make_unique<tr::CycleGANModel>(o, gen);
    cycle_gan->to(DType::f32);
    cycle_gan->to(device);
    trainee = tr::train_model(*cycle_gan);
  }
  std::vector<std::string> loaded;
  if (p.has("continue_train")) {
    const int64_t load_iter = p.get_int("load_iter");
    loaded = tr::load_for_continue(*trainee, gen, expr_dir,
                                   load_iter > 0 ? "iter_" + std::to_string(load_iter) : p.get("epoch"),
                                   p.get_double("lr"));
    topt.last_good = loaded.size() == 1 ? loaded[0] : "";
  }
  trainee->setup_schedulers(sopt);

  // ---- the official prints and train_opt.txt ----
  const std::string dropout_default = model == "cycle_gan" ? "True" : "False";
  const std::string options = options_block(
      p, {{"netG", {choice.netG, choice.default_netG}},
          {"norm", {choice.norm, choice.default_norm}},
          {"no_dropout", {bool_text(!choice.use_dropout), dropout_default}},
          {"gan_mode", {gan_mode, default_gan_mode}},
          {"pool_size", {pool_text, default_pool}},
          {"dataset_mode", {dopt.dataset_mode, is_pix2pix ? "aligned" : "unaligned"}},
          {"isTrain", {"True", "None"}}});
  std::printf("%s\n", options.c_str());
  fs::create_directories(expr_dir);
  write_file_atomic(join_path(expr_dir, p.get("phase") + "_opt.txt"), options + "\n");
  note_gpu_ids(p);
  if (p.has("display_id") && p.get_int("display_id") > 0)
    std::printf("note: stylegrad has no visdom; --display_id %s is ignored (the visuals go to %s/web/index.html)\n",
                p.get("display_id").c_str(), expr_dir.c_str());
  std::printf("The number of training images = %lld\n", (long long)dataset->size());
  for (const std::string& file : loaded) std::printf("loading the model from %s\n", file.c_str());
  std::printf("---------- Networks initialized -------------\n");
  for (const auto& [name, net] : trainee->named_networks()) {
    int64_t count = 0;
    for (const auto& [key, t] : net->named_parameters()) count += t.numel();
    std::printf("[Network %s] Total number of parameters : %.3f M\n", name.c_str(), double(count) / 1e6);
  }
  std::printf("-----------------------------------------------\n");
  if (!topt.no_html) std::printf("create web directory %s...\n", join_path(expr_dir, "web").c_str());
  std::fflush(stdout);

  // ---- the loop ----
  const int64_t epochs = std::max<int64_t>(0, topt.n_epochs + topt.n_epochs_decay - topt.epoch_count + 1);
  Progress progress(epochs * dataset->size(), topt.print_freq);
  int64_t done = 0;
  std::vector<Series> series;
  const std::string plot_file = join_path(expr_dir, "loss_plot.svg");
  tr::TrainCallbacks callbacks;
  callbacks.print = [&](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  callbacks.iteration = [&](int64_t epoch, int64_t epoch_iter, int64_t epoch_size,
                            const std::vector<std::pair<std::string, double>>& losses) {
    std::string info = "epoch " + std::to_string(epoch) + " " + std::to_string(epoch_iter) + "/" +
                       std::to_string(epoch_size);
    char buf[64];
    for (const auto& [name, value] : losses) {
      std::snprintf(buf, sizeof buf, " %s %.3f", name.c_str(), value);
      info += buf;
    }
    progress.update(++done, info);
  };
  callbacks.printed = [&](int64_t, int64_t, const std::vector<std::pair<std::string, double>>& losses) {
    if (series.empty())
      for (const auto& [name, value] : losses) series.push_back({name, {}});
    for (size_t k = 0; k < losses.size() && k < series.size(); ++k) series[k].values.push_back(losses[k].second);
    write_file_atomic(plot_file, loss_plot_svg(series, "stylegrad train " + topt.name + " (" + model + ")"));
  };
  tr::train(*trainee, *dataset, gen, topt, callbacks);
  progress.finish();
  return 0;
}

}  // namespace sg::cli
