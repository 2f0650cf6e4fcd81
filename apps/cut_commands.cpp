// stylegrad train|test --model cut|sincut: taesungp/contrastive-unpaired-
// translation's train.py and test.py for CUT, FastCUT and SinCUT. Their command
// lines work as written (`python train.py` -> `stylegrad train`), with CUT's
// option names (underscores or dashes), CUT's defaults (options/base_options.py,
// train_options.py, test_options.py, and cut_model's modify_commandline_options:
// --CUT_mode sets nce_idt, lambda_NCE, flip_equivariance, n_epochs,
// n_epochs_decay; --model sincut then sincut_model's, which differ for training
// and test: translation/sincut_options), and the same files:
//   train  <checkpoints_dir>/<name>/train_opt.txt, loss_log.txt, web/index.html,
//          web/images/epochNNN_<label>.png, <epoch>_net_G.pth, _net_F.pth,
//          _net_D.pth (torch.load reads them), and stylegrad's
//          <epoch>_checkpoint.safetensors (G, F, D, their three optimizers,
//          schedulers, the generator: --continue_train resumes exactly), loss_plot.svg
//   test   <results_dir>/<name>/<phase>_<epoch>/index.html and
//          images/<label>/<stem>.png for real_A, fake_B, real_B (CUT's save_images)
// The loop is translation/train(); CUT's data_dependent_initialize runs on the
// first batch (train.py: before model.setup, which makes the schedulers and
// loads --continue_train's networks, since F's MLPs exist only after it).
#include "apps/cut_commands.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "apps/cli.h"
#include "apps/output_plan.h"
#include "apps/loss_plot.h"
#include "apps/progress.h"
#include "apps/translation_options.h"
#include "autograd/grad_mode.h"
#include "data/datasets.h"
#include "io/atomic_file.h"
#include "io/html.h"
#include "io/image.h"
#include "models/cyclegan_networks.h"
#include "models/stylegan_networks.h"
#include "nn/module.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "translation/cut_model.h"
#include "translation/sincut_model.h"
#include "translation/trainer.h"

namespace sg::cli {

namespace {

namespace fs = std::filesystem;
namespace tr = sg::translation;
namespace cg = sg::models::cyclegan;
namespace sg2 = sg::models::stylegan;

// The value of --NAME (or --NAME=V, or dashed) in argv, or "".
std::string argument(int argc, char** argv, const std::string& name) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    for (size_t k = 2; k < a.size() && a[k] != '='; ++k)
      if (a[k] == '-') a[k] = '_';
    if (a == "--" + name && i + 1 < argc) return argv[i + 1];
    if (a.rfind("--" + name + "=", 0) == 0) return a.substr(name.size() + 3);
  }
  return "";
}

bool given(int argc, char** argv, const std::string& name) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    for (size_t k = 2; k < a.size() && a[k] != '='; ++k)
      if (a[k] == '-') a[k] = '_';
    if (a == "--" + name || a.rfind("--" + name + "=", 0) == 0) return true;
  }
  return false;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string bool_text(bool b) { return b ? "True" : "False"; }

// CUT's str2bool options (type=str2bool, nargs='?', const=True): "--nce_idt"
// alone means True, "--nce_idt False" (or =no, 0, ...) sets it. The parser
// takes options with values, so a bare one gets "True" inserted.
const std::vector<std::string> kStr2BoolOptions = {"no_dropout", "nce_idt", "nce_includes_all_negatives_from_minibatch",
                                                   "flip_equivariance"};

std::vector<std::string> with_str2bool_values(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i], name = a.size() > 2 ? a.substr(2) : "";
    for (char& c : name)
      if (c == '-') c = '_';
    out.push_back(a);
    const bool bare = a.rfind("--", 0) == 0 && name.find('=') == std::string::npos &&
                      std::find(kStr2BoolOptions.begin(), kStr2BoolOptions.end(), name) != kStr2BoolOptions.end();
    if (bare && (i + 1 >= argc || argv[i + 1][0] == '-')) out.push_back("True");
  }
  return out;
}

// util.str2bool; unset: the mode's default.
bool str2bool(const ArgParser& p, const std::string& name, bool default_value) {
  if (!p.has(name)) return default_value;
  const std::string v = lower(p.get(name));
  if (v == "yes" || v == "true" || v == "t" || v == "y" || v == "1") return true;
  if (v == "no" || v == "false" || v == "f" || v == "n" || v == "0") return false;
  throw UsageError("--" + name + " expects a boolean (yes, true, t, y, 1 or no, false, f, n, 0), got '" + p.get(name) + "'");
}

// --model sincut (given, with that value).
bool is_sincut(int argc, char** argv) { return given(argc, argv, "model") && argument(argc, argv, "model") == "sincut"; }

// The model's defaults before the command line: cut_model.py's for --CUT_mode,
// and for SinCUT sincut_model.py's set_defaults on top (which leave nce_idt and
// flip_equivariance to the mode).
tr::SinCUTOptions model_defaults(bool sincut, const std::string& CUT_mode, bool is_train) {
  const tr::CUTOptions mode = tr::cut_options(CUT_mode);
  tr::SinCUTOptions o;
  if (sincut) {
    o = tr::sincut_options(is_train);
    o.CUT_mode = mode.CUT_mode, o.nce_idt = mode.nce_idt, o.flip_equivariance = mode.flip_equivariance;
  } else {
    static_cast<tr::CUTOptions&>(o) = mode;
  }
  o.isTrain = is_train;
  return o;
}

// options/base_options.py of the CUT repository, and cut_model's options; with
// sincut, the defaults and options of sincut_model.py (training or test).
void add_cut_options(ArgParser& p, bool sincut, bool is_train) {
  const tr::SinCUTOptions s = tr::sincut_options(is_train);
  const auto pick = [&](const std::string& sincut_value, const char* cut_value) {
    return sincut ? sincut_value : std::string(cut_value);
  };
  const auto num = [](int64_t v) { return std::to_string(v); };
  p.option("dataroot", "placeholder", "path to images (with subfolders trainA, trainB, testA, testB, ...)")
      .option("name", "experiment_name", "experiment name: networks are stored in <checkpoints_dir>/<name>")
      .option("easy_label", "experiment_name", "interpretable name (accepted)")
      .option("gpu_ids", "0", "accepted for compatibility: --device picks where stylegrad runs")
      .option("checkpoints_dir", "./checkpoints", "where the networks are")
      .option("model", "cut", "cut | sincut")
      .option("input_nc", "3", "input image channels: 3 RGB, 1 grayscale")
      .option("output_nc", "3", "output image channels")
      .option("ngf", pick(num(s.ngf), "64"), "generator filters in the last conv layer")
      .option("ndf", pick(num(s.ndf), "64"), "discriminator filters in the first conv layer")
      .option("netD", pick(s.netD, "basic"), "basic | n_layers | pixel | stylegan2 | tilestylegan2")
      .option("netG", pick(s.netG, "resnet_9blocks"), "resnet_9blocks | resnet_6blocks | stylegan2 | smallstylegan2")
      .option("n_layers_D", "3", "discriminator layers for --netD n_layers")
      .option("normG", "instance", "instance | batch | none: normalisation in G")
      .option("normD", "instance", "instance | batch | none: normalisation in D")
      .option("init_type", "xavier", "normal | xavier | kaiming | orthogonal")
      .option("init_gain", "0.02", "scale of the initial weights")
      .option("no_dropout", "", "no dropout in G (default True; --no_dropout False turns dropout on)")
      .flag("no_antialias", "stride-2 convolutions instead of anti-aliased downsampling")
      .flag("no_antialias_up", "learned transposed convolutions instead of [1,3,3,1] upsampling and a conv")
      .option("dataset_mode", pick(s.dataset_mode, "unaligned"), "unaligned | singleimage (| single for test)")
      .option("direction", "AtoB", "AtoB or BtoA")
      .flag("serial_batches", "take images in order")
      .option("num_threads", "4", "accepted for compatibility")
      .option("batch_size", pick(num(s.batch_size), "1"), "images per iteration")
      .option("load_size", pick(num(s.load_size), "286"), "scale images to this size")
      .option("crop_size", pick(num(s.crop_size), "256"), "then crop to this size")
      .option("max_dataset_size", "inf", "at most this many images per folder (stylegrad: and singleimage crops)")
      .option("preprocess", pick(s.preprocess, "resize_and_crop"),
              "resize_and_crop | crop | scale_width | scale_width_and_crop | none | zoom_and_patch")
      .flag("no_flip", "no flipping")
      .option("display_winsize", "256", "image width on the HTML page")
      .option("random_scale_max", "3.0", "singleimage: the largest zoom-out")
      .option("epoch", "latest", "which networks to load: <epoch>_net_<name>.pth")
      .flag("verbose", "accepted for compatibility")
      .option("suffix", "", "accepted for compatibility")
      .option("stylegan2_G_num_downsampling", num(s.stylegan2_G_num_downsampling),
              "halvings in the StyleGAN2 generator's encoder (netG stylegan2)")
      .option("seed", "0", "stylegrad: seed for initialisation, crops, flips, orders and patch positions")
      // cut_model.py's modify_commandline_options; unset, the --CUT_mode's defaults.
      .option("CUT_mode", "CUT", "CUT | FastCUT (any case): sets the defaults below")
      .option("lambda_GAN", "1.0", "weight of the GAN loss GAN(G(X))")
      .option("lambda_NCE", "", "weight of NCE(G(X), X) (CUT 1.0, FastCUT 10.0, SinCUT 4.0)")
      .option("nce_idt", "", "also NCE(G(Y), Y) (CUT True, FastCUT False)")
      .option("nce_layers", pick(s.nce_layers, "0,4,8,12,16"), "G's layers whose features PatchNCE compares")
      .option("nce_includes_all_negatives_from_minibatch", "",
              "negatives from the whole minibatch (default False; SinCUT True)")
      .option("netF", "mlp_sample", "sample | mlp_sample")
      .option("netF_nc", "256", "width of F's MLP")
      .option("nce_T", "0.07", "PatchNCE's temperature")
      .option("num_patches", pick(num(s.num_patches), "256"), "patches per layer")
      .option("flip_equivariance", "", "flip G's input at random, its features back (CUT False, FastCUT True)");
  if (sincut)  // sincut_model.py's own options
    p.option("lambda_R1", python_float_text(s.lambda_R1), "weight for the R1 gradient penalty")
        .option("lambda_identity", python_float_text(s.lambda_identity), "the \"identity preservation loss\"");
}

// model_defaults with every option of the command line.
tr::SinCUTOptions cut_model_options(const ArgParser& p, bool is_train, bool sincut) {
  const std::string mode = lower(p.get("CUT_mode"));
  SG_USAGE_CHECK(mode == "cut" || mode == "fastcut", "--CUT_mode '", p.get("CUT_mode"), "': expected CUT or FastCUT");
  tr::SinCUTOptions o = model_defaults(sincut, p.get("CUT_mode"), is_train);
  o.input_nc = p.get_int("input_nc", 1), o.output_nc = p.get_int("output_nc", 1);
  o.ngf = p.get_int("ngf", 1), o.ndf = p.get_int("ndf", 1);
  o.netG = p.get("netG"), o.netD = p.get("netD"), o.n_layers_D = p.get_int("n_layers_D", 0);
  o.load_size = p.get_int("load_size", 1), o.crop_size = p.get_int("crop_size", 1);
  o.stylegan2_G_num_downsampling = p.get_int("stylegan2_G_num_downsampling", 0);
  o.normG = p.get("normG"), o.normD = p.get("normD");
  o.init_type = p.get("init_type"), o.init_gain = p.get_double("init_gain");
  o.no_dropout = str2bool(p, "no_dropout", true);
  o.no_antialias = p.has("no_antialias"), o.no_antialias_up = p.has("no_antialias_up");
  o.direction = p.get("direction");
  SG_USAGE_CHECK(o.direction == "AtoB" || o.direction == "BtoA", "--direction '", o.direction, "': expected AtoB or BtoA");
  o.lambda_GAN = p.get_double("lambda_GAN", Num::non_negative);
  if (p.has("lambda_NCE")) o.lambda_NCE = p.get_double("lambda_NCE", Num::non_negative);
  o.nce_idt = str2bool(p, "nce_idt", o.nce_idt);
  o.nce_layers = p.get("nce_layers");
  (void)p.get_ints("nce_layers", 0);  // integers >= 0 (the model checks them against G's layers)
  o.nce_includes_all_negatives_from_minibatch =
      str2bool(p, "nce_includes_all_negatives_from_minibatch", o.nce_includes_all_negatives_from_minibatch);
  o.netF = p.get("netF");
  o.netF_nc = p.get_int("netF_nc", 1);
  o.nce_T = p.get_double("nce_T", Num::positive);
  o.num_patches = p.get_int("num_patches", 1);
  o.flip_equivariance = str2bool(p, "flip_equivariance", o.flip_equivariance);
  if (sincut) {
    o.lambda_R1 = p.get_double("lambda_R1", Num::non_negative);
    o.lambda_identity = p.get_double("lambda_identity", Num::non_negative);
  }
  return o;
}

// The dataset options as CUT's datasets read them.
data::DatasetOptions cut_dataset_options(const ArgParser& p) {
  data::DatasetOptions d;
  d.dataset_mode = p.get("dataset_mode");
  d.dataroot = p.get("dataroot");
  SG_USAGE_CHECK(p.has("dataroot") && !d.dataroot.empty(), "--dataroot is required (the folder of images)");
  d.phase = p.get("phase");
  d.direction = p.get("direction");
  d.input_nc = p.get_int("input_nc", 1);
  d.output_nc = p.get_int("output_nc", 1);
  if (p.get("max_dataset_size") != "inf") d.max_dataset_size = p.get_int("max_dataset_size", 1);
  d.serial_batches = p.has("serial_batches");
  d.batch_size = p.get_int("batch_size", 1);
  d.random_scale_max = p.get_double("random_scale_max", Num::positive);
  d.transform.preprocess = p.get("preprocess");
  d.transform.load_size = p.get_int("load_size", 1);
  d.transform.crop_size = p.get_int("crop_size", 1);
  d.transform.no_flip = p.has("no_flip");
  // unaligned_dataset.py: --phase test reads valA / valB when there is no testA.
  std::error_code ec;
  if (d.phase == "test" && !fs::exists(join_path(d.dataroot, "testA"), ec) && fs::exists(join_path(d.dataroot, "valA"), ec))
    d.phase = "val";
  return d;
}

// Every image the dataset will read, decoded once before any work, so that a
// broken file, or one smaller than --crop_size with --preprocess crop (which
// crops the image as it is), is one line naming it.
void check_images(const data::Dataset& dataset, const data::DatasetOptions& opt) {
  std::set<std::string> paths;
  for (int64_t i = 0; i < dataset.size(); ++i)
    for (const std::string& path : dataset.paths(i)) paths.insert(path);
  const int64_t crop = opt.transform.crop_size;
  for (const std::string& path : paths) {
    Tensor image;
    try {
      image = load_image(path);
    } catch (const std::exception& e) {
      throw Error("image '" + path + "' cannot be read: " + e.what());
    }
    SG_CHECK(opt.transform.preprocess != "crop" || (image.size(1) >= crop && image.size(2) >= crop), "image '", path,
             "' is ", image.size(2), "x", image.size(1), ", smaller than --crop_size ", crop,
             " (--preprocess crop takes the crop from the image as it is)");
  }
}

// singleimage_dataset.py's print, of the sizes the dataset decoded (here once
// the images are known to be good, so that a bad one stays one error line).
void print_single_image_sizes(const data::Dataset& dataset, const data::DatasetOptions& opt) {
  if (opt.dataset_mode != "singleimage") return;
  const std::vector<std::pair<int64_t, int64_t>> sizes = dataset.loaded_image_sizes();
  SG_CHECK(sizes.size() == 2, "the singleimage dataset reported ", sizes.size(), " image sizes, not A's and B's");
  std::printf("Image sizes (%lld, %lld) and (%lld, %lld)\n", (long long)sizes[0].first, (long long)sizes[0].second,
              (long long)sizes[1].first, (long long)sizes[1].second);
}

// unaligned_dataset.py: in the epochs after n_epochs (the learning rate
// decaying) the images are loaded at crop_size, i.e. no resize-and-crop
// augmentation. Two datasets, switched by train.py's dataset.set_epoch.
class FinetuneSwitch : public data::Dataset {
 public:
  FinetuneSwitch(std::unique_ptr<data::Dataset> normal, std::unique_ptr<data::Dataset> finetune, int64_t n_epochs)
      : normal_(std::move(normal)), finetune_(std::move(finetune)), n_epochs_(n_epochs) {}
  void set_epoch(int64_t epoch) { finetuning_ = finetune_ && epoch > n_epochs_; }
  int64_t size() const override { return normal_->size(); }
  data::Sample get(int64_t index) override { return (finetuning_ ? finetune_ : normal_)->get(index); }
  std::vector<std::string> paths(int64_t index) const override { return normal_->paths(index); }

 private:
  std::unique_ptr<data::Dataset> normal_, finetune_;
  int64_t n_epochs_;
  bool finetuning_ = false;
};

int64_t parameter_count(nn::Module& net) {
  int64_t count = 0;
  for (const auto& [key, t] : net.named_parameters()) count += t.numel();
  return count;
}

}  // namespace

bool is_cut_command(int argc, char** argv) {
  if (given(argc, argv, "model")) return argument(argc, argv, "model") == "cut" || argument(argc, argv, "model") == "sincut";
  return given(argc, argv, "CUT_mode");
}

int cmd_train_cut(int argc, char** argv) {
  const bool sincut = is_sincut(argc, argv);
  const tr::SinCUTOptions s = tr::sincut_options(/*isTrain=*/true);
  const auto pick = [&](const std::string& sincut_value, const char* cut_value) {
    return sincut ? sincut_value : std::string(cut_value);
  };
  ArgParser p("stylegrad train --dataroot DIR --name NAME [--model cut] --CUT_mode CUT|FastCUT [options]\n"
              "       stylegrad train --dataroot DIR --name NAME --model sincut [options]",
              "Trains CUT, FastCUT or SinCUT as the official train.py (taesungp/contrastive-unpaired-translation):\n"
              "same options (underscores or dashes), same defaults, same files in <checkpoints_dir>/<name>.");
  p.accept_dashes();
  add_cut_options(p, sincut, /*is_train=*/true);
  // options/train_options.py
  TrainLoopDefaults loop;
  loop.display_id = "None";
  loop.save_latest_freq = pick(std::to_string(s.save_latest_freq), "5000");
  loop.save_epoch_freq = pick(std::to_string(s.save_epoch_freq), "5");
  loop.evaluation_freq = true;
  add_train_loop_options(p, loop);
  p.option("phase", "train", "the folders read: <phase>A and <phase>B")
      .option("pretrained_name", "None", "--continue_train from <checkpoints_dir>/<pretrained_name> instead of <name>")
      .option("n_epochs", "", "epochs at the initial learning rate (CUT 200, FastCUT 150, SinCUT 8)")
      .option("n_epochs_decay", "", "epochs of linear decay to 0 (CUT 200, FastCUT 50, SinCUT 8)")
      .option("beta1", pick(python_float_text(s.beta1), "0.5"), "Adam's beta1")
      .option("beta2", pick(python_float_text(s.beta2), "0.999"), "Adam's beta2")
      .option("lr", pick(python_float_text(s.lr), "0.0002"), "Adam's initial learning rate")
      .option("gan_mode", pick(s.gan_mode, "lsgan"), "lsgan | vanilla | wgangp | nonsaturating")
      .option("pool_size", "0", "accepted: CUT uses no image pool")
      .option("lr_policy", "linear", "linear | step | plateau | cosine")
      .option("lr_decay_iters", "50", "step: multiply by 0.1 every this many epochs");
  const std::vector<std::string> args = with_str2bool_values(argc, argv);
  std::vector<char*> cargs;
  for (const std::string& a : args) cargs.push_back(const_cast<char*>(a.c_str()));
  add_device_option(p);
  if (!p.parse(int(cargs.size()), cargs.data())) return 0;
  SG_USAGE_CHECK(p.positionals().empty(), "unexpected argument '", p.positionals()[0], "' (see --help)");
  SG_USAGE_CHECK(p.get("model") == "cut" || p.get("model") == "sincut", "--model '", p.get("model"),
                 "': expected cut or sincut");
  const Device device = device_option(p);

  // ---- options ----
  tr::SinCUTOptions o = cut_model_options(p, /*is_train=*/true, sincut);
  if (p.has("n_epochs")) o.n_epochs = p.get_int("n_epochs", 0);
  if (p.has("n_epochs_decay")) o.n_epochs_decay = p.get_int("n_epochs_decay", 0);
  o.gan_mode = p.get("gan_mode");
  o.lr = p.get_double("lr", Num::positive), o.beta1 = p.get_double("beta1"), o.beta2 = p.get_double("beta2");
  o.pool_size = p.get_int("pool_size", 0);
  const tr::SinCUTOptions mode_defaults = model_defaults(sincut, p.get("CUT_mode"), /*is_train=*/true);
  data::DatasetOptions dopt = cut_dataset_options(p);
  SG_USAGE_CHECK(dopt.dataset_mode != "single", "--model ", p.get("model"),
                 " needs A and B images: --dataset_mode ", sincut ? "singleimage" : "unaligned", ", not single");
  const std::string& pre = dopt.transform.preprocess;
  SG_USAGE_CHECK(pre.find("resize") == std::string::npos || dopt.transform.crop_size <= dopt.transform.load_size,
                 "--crop_size ", dopt.transform.crop_size, " is larger than --load_size ", dopt.transform.load_size,
                 ": the ", pre, " images cannot be cropped");
  // The StyleGAN2 discriminator takes images of exactly the size it is built for.
  const int64_t d_size = sg2::stylegan2_size(o.load_size, o.crop_size);
  SG_USAGE_CHECK(o.netD.find("stylegan2") == std::string::npos ||
                     (pre.find("crop") == std::string::npos && pre.find("patch") == std::string::npos) ||
                     d_size == o.crop_size,
                 "--netD ", o.netD, " is built for ", d_size, "x", d_size, " images (a power of 2: ",
                 "2^round(log2(min(load_size ", o.load_size, ", crop_size ", o.crop_size, ")))), but the crops are ",
                 o.crop_size, "x", o.crop_size, ": choose a --crop_size that is a power of 2 and at most --load_size");
  const std::string expr_dir = join_path(p.get("checkpoints_dir"), p.get("name"));
  require_creatable_directory(expr_dir, "the checkpoints folder (--checkpoints_dir/--name)");
  const bool continue_train = p.has("continue_train");
  const std::string load_dir =
      p.has("pretrained_name") ? join_path(p.get("checkpoints_dir"), p.get("pretrained_name")) : expr_dir;
  const std::string load_suffix = p.get("epoch");
  tr::TrainerOptions topt;
  topt.expr_dir = expr_dir;
  topt.device = device;
  topt.name = p.get("name");
  topt.epoch_count = p.get_int("epoch_count", 1);
  topt.n_epochs = o.n_epochs;
  topt.n_epochs_decay = o.n_epochs_decay;
  topt.batch_size = dopt.batch_size;
  topt.serial_batches = dopt.serial_batches;
  for (const char* name : {"print_freq", "display_freq", "update_html_freq", "save_latest_freq", "save_epoch_freq"})
    (void)p.get_int(name, 1);
  topt.print_freq = p.get_int("print_freq");
  topt.display_freq = p.get_int("display_freq");
  topt.update_html_freq = p.get_int("update_html_freq");
  topt.save_latest_freq = p.get_int("save_latest_freq");
  topt.save_epoch_freq = p.get_int("save_epoch_freq");
  topt.save_by_iter = p.has("save_by_iter");
  topt.no_html = p.has("no_html");
  topt.display_winsize = p.get_int("display_winsize", 1);
  tr::SchedulerOptions sopt;
  sopt.lr_policy = p.get("lr_policy");
  sopt.epoch_count = topt.epoch_count;
  sopt.n_epochs = topt.n_epochs;
  sopt.n_epochs_decay = topt.n_epochs_decay;
  sopt.lr_decay_iters = p.get_int("lr_decay_iters", 1);

  // ---- the data, every image decoded before anything is written ----
  Generator& gen = default_generator();  // init, crops, flips, orders, patch positions: one stream, checkpointed
  gen.manual_seed(uint64_t(p.get_int("seed", 0)));
  std::unique_ptr<data::Dataset> normal = data::create_dataset(dopt, gen);
  SG_CHECK(normal->size() > 0, "no training images in '", dopt.dataroot, "'");
  check_images(*normal, dopt);
  print_single_image_sizes(*normal, dopt);
  SG_CHECK(normal->size() >= topt.batch_size, "--batch_size ", topt.batch_size, " is larger than the ",
           normal->size(), " training images (the official DataLoader drops an incomplete batch)");
  std::unique_ptr<data::Dataset> finetune;
  if (dopt.dataset_mode == "unaligned" && dopt.transform.load_size != dopt.transform.crop_size) {
    data::DatasetOptions fopt = dopt;
    fopt.transform.load_size = dopt.transform.crop_size;
    finetune = data::create_dataset(fopt, gen);
  }
  const int64_t dataset_size = normal->size();
  FinetuneSwitch dataset(std::move(normal), std::move(finetune), o.n_epochs);

  // ---- the model; --continue_train's files must exist before anything is written ----
  std::unique_ptr<tr::CUTModel> model_owner;
  std::unique_ptr<tr::TrainModel> trainee;
  if (sincut) {
    auto sincut_model = std::make_unique<tr::SinCUTModel>(o, gen);
    trainee = tr::train_model(*sincut_model);
    model_owner = std::move(sincut_model);
  } else {
    model_owner = std::make_unique<tr::CUTModel>(o, gen);
    trainee = tr::train_model(*model_owner);
  }
  tr::CUTModel& model = *model_owner;
  model.to(DType::f32);
  model.to(device);  // netF's MLPs are made on the first batch's device (models/patch_sample.h)
  if (continue_train) {
    std::error_code ec;
    const std::string full = tr::checkpoint_file(load_dir, load_suffix);
    if (fs::is_regular_file(full, ec)) {
      topt.last_good = full;
    } else {
      for (const char* net : {"G", "F", "D"}) {
        const std::string file = tr::network_file(load_dir, load_suffix, net);
        SG_CHECK(fs::is_regular_file(file, ec), "--continue_train: neither '", full, "' nor '", file,
                 "' exists; check --checkpoints_dir, --name, --pretrained_name and --epoch");
      }
    }
  }

  // ---- the official prints and train_opt.txt ----
  const auto number = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return std::string(buf);
  };
  const std::string options = options_block(
      p, {{"no_dropout", {bool_text(o.no_dropout), "True"}},
          {"lambda_NCE", {p.has("lambda_NCE") ? p.get("lambda_NCE") : number(o.lambda_NCE), number(mode_defaults.lambda_NCE)}},
          {"nce_idt", {bool_text(o.nce_idt), bool_text(mode_defaults.nce_idt)}},
          {"nce_includes_all_negatives_from_minibatch",
           {bool_text(o.nce_includes_all_negatives_from_minibatch),
            bool_text(mode_defaults.nce_includes_all_negatives_from_minibatch)}},
          {"flip_equivariance", {bool_text(o.flip_equivariance), bool_text(mode_defaults.flip_equivariance)}},
          {"n_epochs", {std::to_string(o.n_epochs), std::to_string(mode_defaults.n_epochs)}},
          {"n_epochs_decay", {std::to_string(o.n_epochs_decay), std::to_string(mode_defaults.n_epochs_decay)}},
          {"isTrain", {"True", "None"}}});
  std::printf("%s\n", options.c_str());
  fs::create_directories(expr_dir);
  write_file_atomic(join_path(expr_dir, p.get("phase") + "_opt.txt"), options + "\n");
  note_gpu_ids(p);
  if (p.get("display_id") == "None" || p.get_int("display_id") > 0)  // None: a random id, so visdom
    std::printf("note: stylegrad has no visdom; the visuals go to %s/web/index.html\n", expr_dir.c_str());
  if (o.pool_size != 0) std::printf("note: CUT uses no image pool; --pool_size %lld is ignored\n", (long long)o.pool_size);
  std::printf("The number of training images = %lld\n", (long long)dataset_size);
  if (!topt.no_html) std::printf("create web directory %s...\n", join_path(expr_dir, "web").c_str());
  std::fflush(stdout);

  // ---- the loop ----
  const int64_t epochs = std::max<int64_t>(0, topt.n_epochs + topt.n_epochs_decay - topt.epoch_count + 1);
  const int64_t per_epoch = dataset_size / topt.batch_size * topt.batch_size;
  Progress progress(epochs * per_epoch, topt.print_freq);
  int64_t done = 0;
  std::vector<Series> series;
  const std::string plot_file = join_path(expr_dir, "loss_plot.svg");
  tr::TrainCallbacks callbacks;
  callbacks.print = [&](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  callbacks.epoch_start = [&](int64_t epoch) { dataset.set_epoch(epoch); };
  // train.py: data_dependent_initialize(data), then model.setup(opt): the
  // schedulers, --continue_train's networks, print_networks.
  callbacks.first_batch = [&](const Tensor& A, const Tensor& B) {
    model.data_dependent_initialize(A, B);
    std::vector<std::string> loaded;
    if (continue_train) loaded = tr::load_for_continue(*trainee, gen, load_dir, load_suffix, model.opt.lr);
    trainee->setup_schedulers(sopt);
    for (const std::string& file : loaded) std::printf("loading the model from %s\n", file.c_str());
    std::printf("---------- Networks initialized -------------\n");
    for (const auto& [name, net] : trainee->named_networks())
      std::printf("[Network %s] Total number of parameters : %.3f M\n", name.c_str(), double(parameter_count(*net)) / 1e6);
    std::printf("-----------------------------------------------\n");
    std::fflush(stdout);
    // The full checkpoint restored the generator: the trainer draws the first batch again from it.
    return loaded.size() == 1 && loaded[0] == tr::checkpoint_file(load_dir, load_suffix);
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
    done += topt.batch_size;
    progress.update(done, info);
  };
  callbacks.printed = [&](int64_t, int64_t, const std::vector<std::pair<std::string, double>>& losses) {
    if (series.empty())
      for (const auto& [name, value] : losses) series.push_back({name, {}});
    for (size_t k = 0; k < losses.size() && k < series.size(); ++k) series[k].values.push_back(losses[k].second);
    write_file_atomic(plot_file, loss_plot_svg(series, "stylegrad train " + topt.name +
                                                           (sincut ? " (sincut)" : " (cut, " + o.CUT_mode + ")")));
  };
  tr::train(*trainee, dataset, gen, topt, callbacks);
  progress.finish();
  return 0;
}

int cmd_test_cut(int argc, char** argv) {
  const bool sincut = is_sincut(argc, argv);
  ArgParser p("stylegrad test --dataroot DIR --name NAME [--model cut] --CUT_mode CUT|FastCUT [options]\n"
              "       stylegrad test --dataroot DIR --name NAME --model sincut [options]",
              "Translates images with a trained CUT/FastCUT/SinCUT generator, as the official test.py\n"
              "(taesungp/contrastive-unpaired-translation): same options (underscores or dashes), same\n"
              "defaults, same results/NAME/<phase>_<epoch>/index.html and images/<label>/<stem>.png.");
  p.accept_dashes();
  add_cut_options(p, sincut, /*is_train=*/false);
  // options/test_options.py (load_size defaults to crop_size there)
  p.option("results_dir", "./results/", "where the results are written")
      .option("phase", "test", "train, val, test, ...: the folders <phase>A and <phase>B")
      .flag("eval", "G in evaluation mode (running batch-norm statistics, no dropout)")
      .option("num_test", sincut ? std::to_string(tr::sincut_options(false).num_test) : "50",
              "how many images to translate");
  add_device_option(p);
  const std::vector<std::string> args = with_str2bool_values(argc, argv);
  std::vector<char*> cargs;
  for (const std::string& a : args) cargs.push_back(const_cast<char*>(a.c_str()));
  if (!p.parse(int(cargs.size()), cargs.data())) return 0;
  SG_USAGE_CHECK(p.positionals().empty(), "unexpected argument '", p.positionals()[0], "' (see --help)");
  SG_USAGE_CHECK(p.get("model") == "cut" || p.get("model") == "sincut", "--model '", p.get("model"),
                 "': expected cut or sincut");
  const Device device = device_option(p);
  tr::SinCUTOptions o = cut_model_options(p, /*is_train=*/false, sincut);
  note_gpu_ids(p);

  // test.py: num_threads 0, batch_size 1, serial_batches, no_flip
  data::DatasetOptions dopt = cut_dataset_options(p);
  dopt.serial_batches = true;
  dopt.batch_size = 1;
  dopt.transform.no_flip = true;
  // test_options.py sets load_size's default to crop_size's; sincut_model.py's 1024 comes after it.
  if (!p.has("load_size") && !sincut) dopt.transform.load_size = o.load_size = dopt.transform.crop_size;
  const int64_t num_test = p.get_int("num_test", 0);
  const int width = int(p.get_int("display_winsize", 1));
  const bool atob = o.direction == "AtoB";

  Generator gen(uint64_t(p.get_int("seed", 0)));
  default_generator().manual_seed(uint64_t(p.get_int("seed", 0)));

  // ---- G, loaded before anything is written ----
  std::shared_ptr<nn::Module> netG;
  if (o.netG == "stylegan2" || o.netG == "smallstylegan2")
    netG = sg2::define_G(o.netG, o.input_nc, o.output_nc, o.ngf, o.load_size, o.crop_size, o.stylegan2_G_num_downsampling);
  else
    netG = cg::define_G(o.input_nc, o.output_nc, o.ngf, o.netG, o.normG, !o.no_dropout, o.init_type, o.init_gain,
                        o.no_antialias, o.no_antialias_up, gen);
  const std::string name = p.get("name");
  const std::string file = tr::network_file(join_path(p.get("checkpoints_dir"), name), p.get("epoch"), "G");
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    std::string hint = "train one with stylegrad train --model " + p.get("model") + " (or the official train.py), or check "
                       "--checkpoints_dir, --name and --epoch";
    const std::string suffix = "_pretrained";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      hint = "for the official pretrained '" + name + "': weights/fetch.sh cut, then --checkpoints_dir "
             "weights/downloads/cut/checkpoints (or copy its " + name + "/ folder into --checkpoints_dir)";
    throw Error("checkpoint '" + file + "' not found; " + hint);
  }
  cg::load_official_network(*netG, file, "netG");
  netG->to(device);
  std::printf("loading the model from %s\n", file.c_str());
  std::printf("---------- Networks initialized -------------\n");
  std::printf("[Network G] Total number of parameters : %.3f M\n", double(parameter_count(*netG)) / 1e6);
  std::printf("-----------------------------------------------\n");
  std::unique_ptr<data::Dataset> dataset = data::create_dataset(dopt, gen);
  print_single_image_sizes(*dataset, dopt);

  // ---- where the results go; never over an input ----
  const bool has_B = dopt.dataset_mode != "single";
  const std::vector<std::string> labels =
      has_B ? std::vector<std::string>{"real_A", "fake_B", "real_B"} : std::vector<std::string>{"real_A", "fake_B"};
  const std::string web_dir = join_path(join_path(p.get("results_dir"), name), p.get("phase") + "_" + p.get("epoch"));
  require_creatable_directory(web_dir, "the results folder (--results_dir/--name)");
  {
    std::set<fs::path> label_dirs;
    for (const std::string& label : labels) label_dirs.insert(fs::weakly_canonical(join_path(join_path(web_dir, "images"), label), ec));
    const int64_t n = std::min(num_test, dataset->size());
    for (int64_t i = 0; i < n; ++i)
      for (const std::string& input : dataset->paths(i)) {
        const fs::path parent = fs::weakly_canonical(input, ec).parent_path();
        SG_USAGE_CHECK(!label_dirs.count(parent), "'", input, "' is in the results folder '", parent.string(),
                       "', where it could be overwritten: choose another --results_dir");
      }
  }
  std::printf("creating web directory %s\n", web_dir.c_str());
  HtmlPage webpage(web_dir, "Experiment = " + name + ", Phase = " + p.get("phase") + ", Epoch = " + p.get("epoch"));
  for (const std::string& label : labels) fs::create_directories(join_path(webpage.image_dir(), label));
  if (p.has("eval")) netG->eval();

  NoGradGuard no_grad;
  for (int64_t i = 0; i < dataset->size() && i < num_test; ++i) {
    const data::Sample s = dataset->get(i);
    const Tensor real_A = atob || !has_B ? s.A : s.B;
    const std::string image_path = atob || !has_B ? s.A_path : s.B_path;
    std::vector<std::pair<std::string, Tensor>> visuals = {{"real_A", real_A}, {"fake_B", netG->forward(real_A.to(device))}};
    if (has_B) visuals.push_back({"real_B", atob ? s.B : s.A});
    if (i % 5 == 0) {
      std::printf("processing (%04lld)-th image... ['%s']\n", (long long)i, image_path.c_str());
      std::fflush(stdout);
    }
    // util/visualizer.py save_images, CUT's layout: images/<label>/<stem>.png
    const std::string stem = fs::path(image_path).stem().string();
    webpage.add_header(stem);
    std::vector<std::string> ims, txts, links;
    for (const auto& [label, tensor] : visuals) {
      const std::string image_name = label + "/" + stem + ".png";
      save_image(tr::tensor_to_image_levels(tensor), join_path(webpage.image_dir(), image_name));
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
