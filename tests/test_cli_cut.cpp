// stylegrad train|test --model cut (apps/cut_commands.cpp on translation/train()):
// the real binary on tiny images this test writes (stripes for A, blobs for B)
// and narrow networks: CUT's files in checkpoints/NAME/ (G, F, D .pth files
// that load, train_opt.txt with CUT's and FastCUT's defaults, loss_log.txt,
// web/), batches of two, an exact resume, the test layout
// results/NAME/<phase>_<epoch>/images/<label>/<stem>.png with G's output
// bit for bit, and bad input as one line.
#include <filesystem>
#include <fstream>

#include "autograd/grad_mode.h"
#include "data/datasets.h"
#include "io/image.h"
#include "models/cyclegan_networks.h"
#include "tensor/random.h"
#include "cli_train_util.h"
#include "test_util.h"
#include "translation/trainer.h"
#include "weights/torch_checkpoint.h"

using namespace sg;
using sg::test::TempDir;
using sg::test::LogLine;
using sg::test::read_all;
using sg::test::read_loss_log;
using sg::test::write_image;
using sg::test::write_unaligned;
namespace cg = sg::models::cyclegan;
namespace fs = std::filesystem;

namespace {

// netF_nc 64: with a very narrow MLP head a patch's hidden ReLUs can all be 0,
// and the official Normalize (x / (|x| + 1e-7)) has no finite gradient at 0.
const std::string kCut = " --load_size 36 --crop_size 32 --ngf 4 --ndf 4 --netG resnet_6blocks --netF_nc 64 "
                         "--num_patches 16 --gpu_ids -1 --display_id 0 --seed 3";

int run_in(const TempDir& dir, const std::string& command, const std::string& args, std::string* out) {
  return test::stylegrad_in(dir, command + " " + args, out);
}

bool has_line(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

}  // namespace

TEST_CASE("stylegrad train --model cut: CUT's files, batches of two, the official defaults") {
  TempDir dir;
  write_unaligned(dir, "data");
  std::string out;
  // No --model: the CUT repository's command lines leave it at its default, cut.
  const int status = run_in(dir, "train", "--dataroot data --name cut --CUT_mode CUT --n_epochs 1 --n_epochs_decay 1 "
                                          "--batch_size 2 --print_freq 2 --display_freq 2 --save_epoch_freq 1" + kCut,
                            &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("The number of training images = 4") != std::string::npos);
  CHECK(out.find("[Network F] Total number of parameters : ") != std::string::npos);
  CHECK(out.find("End of epoch 2 / 2") != std::string::npos);

  const std::string ck = dir.file("checkpoints/cut");
  for (const std::string suffix : {"latest", "1", "2"}) {
    for (const std::string net : {"G", "F", "D"}) CHECK(fs::is_regular_file(ck + "/" + suffix + "_net_" + net + ".pth"));
    CHECK(fs::is_regular_file(ck + "/" + suffix + "_checkpoint.safetensors"));
  }
  // train_opt.txt: CUT's options, CUT's defaults.
  const std::string opt = read_all(ck + "/train_opt.txt");
  CHECK(has_line(opt, "                    model: cut                           "));
  CHECK(has_line(opt, "                 CUT_mode: CUT                           "));
  CHECK(has_line(opt, "                  nce_idt: True                          "));
  CHECK(has_line(opt, "               lambda_NCE: 1.0                           "));
  CHECK(has_line(opt, "                 n_epochs: 1                             \t[default: 200]"));
  CHECK(has_line(opt, "           n_epochs_decay: 1                             \t[default: 200]"));
  CHECK(has_line(opt, "                    normG: instance                      "));
  CHECK(has_line(opt, "                init_type: xavier                        "));
  CHECK(has_line(opt, "               nce_layers: 0,4,8,12,16                   "));
  CHECK(has_line(opt, "               batch_size: 2                             \t[default: 1]"));

  // Batches of two: epoch_iter and total_iters count images (print_freq 2: every batch).
  const std::vector<LogLine> log = read_loss_log(ck + "/loss_log.txt");
  REQUIRE(log.size() == 4);
  CHECK(log[0].epoch == 1);
  CHECK(log[0].iters == 2);
  CHECK(log[1].iters == 4);
  CHECK(log[3].epoch == 2);
  CHECK(log[0].names() == std::vector<std::string>{"G_GAN", "D_real", "D_fake", "G", "NCE", "NCE_Y"});
  for (const std::string label : {"real_A", "fake_B", "real_B", "idt_B"})
    CHECK(fs::is_regular_file(ck + "/web/images/epoch002_" + label + ".png"));

  // The .pth files: G is CUT's anti-aliased ResNet; F holds one MLP per NCE layer.
  auto G = cg::define_G(3, 3, 4, "resnet_6blocks", "instance", false, "xavier", 0.02, false, false);
  G->load_state_dict(load_torch_checkpoint(ck + "/latest_net_G.pth"));
  const NamedTensors F = load_torch_checkpoint(ck + "/latest_net_F.pth");
  std::vector<std::string> keys;
  for (const auto& [key, t] : F) keys.push_back(key);
  CHECK(keys.size() == 20);  // 5 layers x (Linear, ReLU, Linear): weight and bias each
  CHECK(std::find(keys.begin(), keys.end(), "mlp_4.2.weight") != keys.end());
  auto D = cg::define_D(3, 4, "basic", 3, "instance", "xavier", 0.02, false);
  D->load_state_dict(load_torch_checkpoint(ck + "/latest_net_D.pth"));
}

TEST_CASE("stylegrad train --CUT_mode FastCUT: its defaults; str2bool options bare, dashed or with a value") {
  TempDir dir;
  write_unaligned(dir, "data", 2);
  std::string out;
  int status = run_in(dir, "train", "--dataroot data --name fast --model cut --CUT_mode FastCUT --n_epochs 1 "
                                    "--n_epochs_decay 0 --print_freq 1 --no_html" + kCut, &out);
  INFO(out);
  REQUIRE(status == 0);
  std::string opt = read_all(dir.file("checkpoints/fast/train_opt.txt"));
  CHECK(has_line(opt, "                  nce_idt: False                         "));
  CHECK(has_line(opt, "        flip_equivariance: True                          "));
  CHECK(has_line(opt, "               lambda_NCE: 10.0                          "));
  CHECK(has_line(opt, "                 n_epochs: 1                             \t[default: 150]"));
  CHECK(has_line(opt, "           n_epochs_decay: 0                             \t[default: 50]"));
  CHECK(read_loss_log(dir.file("checkpoints/fast/loss_log.txt"))[0].names() ==
        std::vector<std::string>{"G_GAN", "D_real", "D_fake", "G", "NCE"});

  out.clear();
  status = run_in(dir, "train", "--dataroot data --name fast2 --CUT_mode fastcut --nce-idt --flip_equivariance no "
                                "--n_epochs 1 --n_epochs_decay 0 --print_freq 1 --no_html" + kCut, &out);
  REQUIRE(status == 0);
  opt = read_all(dir.file("checkpoints/fast2/train_opt.txt"));
  CHECK(has_line(opt, "                  nce_idt: True                          \t[default: False]"));
  CHECK(has_line(opt, "        flip_equivariance: False                         \t[default: True]"));
  CHECK(read_loss_log(dir.file("checkpoints/fast2/loss_log.txt"))[0].names().back() == "NCE_Y");
}

TEST_CASE("stylegrad train --model cut: --continue_train --epoch_count resumes exactly (G, F, D, optimizers, generator)") {
  TempDir dir;
  write_unaligned(dir, "data");
  // Shuffled, flipped, random pairs, random patches, batches of two, and the
  // finetuning epochs (after n_epochs: loaded at crop_size) on both sides of the cut.
  const std::string common = "--dataroot data --CUT_mode CUT --batch_size 2 --print_freq 2 --no_html "
                             "--save_epoch_freq 1 --lr 0.001" + kCut;
  std::string out;
  REQUIRE(run_in(dir, "train", common + " --name straight --n_epochs 2 --n_epochs_decay 2", &out) == 0);
  REQUIRE(run_in(dir, "train", common + " --name resumed --n_epochs 2 --n_epochs_decay 0", &out) == 0);
  out.clear();
  const int status = run_in(dir, "train", common + " --name resumed --n_epochs 2 --n_epochs_decay 2 --continue_train "
                                                   "--epoch_count 3", &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("loading the model from ./checkpoints/resumed/latest_checkpoint.safetensors") != std::string::npos);
  const std::vector<LogLine> straight = read_loss_log(dir.file("checkpoints/straight/loss_log.txt"));
  const std::vector<LogLine> resumed = read_loss_log(dir.file("checkpoints/resumed/loss_log.txt"));
  REQUIRE(straight.size() == 8);
  REQUIRE(resumed.size() == 8);
  for (size_t i = 0; i < 8; ++i) {
    INFO("line ", i);
    CHECK(straight[i].epoch == resumed[i].epoch);
    CHECK(straight[i].losses_text == resumed[i].losses_text);
  }
  for (const std::string net : {"G", "F", "D"})
    test::check_identical(load_torch_checkpoint(dir.file("checkpoints/resumed/4_net_" + net + ".pth")),
                          load_torch_checkpoint(dir.file("checkpoints/straight/4_net_" + net + ".pth")), net);

  // Without stylegrad's checkpoint: the official .pth files, G, F and D (F's MLPs made first).
  fs::remove(dir.file("checkpoints/straight/latest_checkpoint.safetensors"));
  out.clear();
  REQUIRE(run_in(dir, "train", common + " --name straight --n_epochs 5 --n_epochs_decay 0 --continue_train "
                                        "--epoch_count 5", &out) == 0);
  for (const std::string net : {"G", "F", "D"})
    CHECK(out.find("loading the model from ./checkpoints/straight/latest_net_" + net + ".pth") != std::string::npos);
}

TEST_CASE("stylegrad test --model cut: CUT's layout, G's output bit for bit") {
  TempDir dir;
  write_unaligned(dir, "data", 3);
  std::string out;
  REQUIRE(run_in(dir, "train", "--dataroot data --name cut --CUT_mode CUT --n_epochs 1 --n_epochs_decay 0 --no_html "
                               "--save_epoch_freq 1" + kCut, &out) == 0);
  out.clear();
  // The official README's test line: --phase train reads trainA / trainB.
  const int status = run_in(dir, "test", "--dataroot data --name cut --CUT_mode CUT --phase train --preprocess none "
                                         "--ngf 4 --netG resnet_6blocks --gpu_ids -1", &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("loading the model from ./checkpoints/cut/latest_net_G.pth") != std::string::npos);
  CHECK(out.find("processing (0000)-th image... ['data/trainA/a0.png']") != std::string::npos);
  const std::string web = dir.file("results/cut/train_latest");
  const std::string html = read_all(web + "/index.html");
  CHECK(html.find("Experiment = cut, Phase = train, Epoch = latest") != std::string::npos);
  for (const std::string stem : {"a0", "a1", "a2"})
    for (const std::string label : {"real_A", "fake_B", "real_B"}) {
      CHECK(fs::is_regular_file(web + "/images/" + label + "/" + stem + ".png"));
      CHECK(html.find("images/" + label + "/" + stem + ".png") != std::string::npos);
    }
  CHECK_FALSE(fs::exists(web + "/images/idt_B"));

  // fake_B/a1.png is G(a1) as tensor2im writes it.
  auto G = cg::define_G(3, 3, 4, "resnet_6blocks", "instance", false, "xavier", 0.02, false, false);
  cg::load_official_network(*G, dir.file("checkpoints/cut/latest_net_G.pth"), "netG");
  data::DatasetOptions d;
  d.dataset_mode = "single";
  d.dataroot = dir.file("data/trainA");
  d.transform.preprocess = "none";
  d.transform.no_flip = true;
  Generator gen(0);
  const Tensor a1 = data::create_dataset(d, gen)->get(1).A;
  NoGradGuard no_grad;
  test::check_identical({{"fake_B", load_image(web + "/images/fake_B/a1.png")}},
                        {{"fake_B", translation::tensor_to_image_levels(G->forward(a1))}}, "fake_B/a1.png");
}

TEST_CASE("stylegrad train|test --model cut: bad input is one line") {
  TempDir dir;
  write_unaligned(dir, "data");
  const auto fails_with = [&](const std::string& command, const std::string& args, const std::string& message,
                              int want_status) {
    std::string out;
    const int status = run_in(dir, command, args, &out);
    INFO(command, " ", args, "\n", out);
    CHECK(status == want_status);
    CHECK(out.find(message) != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  };
  const std::string train = "--dataroot data --name bad --CUT_mode CUT --n_epochs 1 --n_epochs_decay 0" + kCut;
  fails_with("train", train + " --nce_layers 0,4,99", "layer 99 is out of range", 1);
  fails_with("train", train + " --preprocess crop --crop_size 64",
             "image 'data/trainA/a0.png' is 40x40, smaller than --crop_size 64", 1);
  fails_with("train", train + " --CUT_mode SlowCUT", "--CUT_mode 'SlowCUT': expected CUT or FastCUT", 2);
  fails_with("train", train + " --nce_idt maybe", "--nce_idt expects a boolean", 2);
  fails_with("train", train + " --batch_size 8", "--batch_size 8 is larger than the 4 training images", 1);
  fails_with("train", train + " --continue_train",
             "--continue_train: neither './checkpoints/bad/latest_checkpoint.safetensors' nor "
             "'./checkpoints/bad/latest_net_G.pth' exists", 1);
  fails_with("train", train + " --norm batch", "unknown option --norm", 2);
  CHECK_FALSE(fs::exists(dir.file("checkpoints/bad")));
  {  // Images of two sizes in one batch (no crop): found while training, still one error line.
    write_image(dir.file("mixed/trainA/a0.png"), 40, 40, 0, 0);
    write_image(dir.file("mixed/trainA/a1.png"), 44, 44, 0, 1);
    write_image(dir.file("mixed/trainB/b0.png"), 40, 40, 1, 0);
    std::string out;
    const int status = run_in(dir, "train", "--dataroot mixed --name mixed --CUT_mode CUT --n_epochs 1 --n_epochs_decay 0 "
                                            "--preprocess none --batch_size 2 --serial_batches" + kCut, &out);
    INFO(out);
    CHECK(status == 1);
    CHECK(out.find("stylegrad train: error: a batch's images must have one size: 'mixed/trainA/a1.png' is 44x44, "
                   "'mixed/trainA/a0.png' 40x40 after --preprocess") != std::string::npos);
  }
  fails_with("test", "--dataroot data --phase train --name horse2zebra_cut_pretrained --CUT_mode CUT",
             "checkpoint './checkpoints/horse2zebra_cut_pretrained/latest_net_G.pth' not found; for the official "
             "pretrained 'horse2zebra_cut_pretrained': weights/fetch.sh cut", 1);

  // A CUT generator (anti-aliased) is not CycleGAN's: the key that does not fit, and why.
  std::string out;
  REQUIRE(run_in(dir, "train", "--dataroot data --name cut --CUT_mode CUT --n_epochs 1 --n_epochs_decay 0 --no_html "
                               "--save_epoch_freq 1" + kCut, &out) == 0);
  fails_with("test", "--dataroot data/trainA --name cut --model test --netG resnet_6blocks --ngf 4 --no_dropout",
             "'model.7.weight' [16, 8, 3, 3] is not in the file; the file looks anti-aliased", 1);
  fs::copy_file(dir.file("checkpoints/cut/latest_net_G.pth"), dir.file("checkpoints/cut/latest_net_G_A.pth"));
  fs::copy_file(dir.file("checkpoints/cut/latest_net_G.pth"), dir.file("checkpoints/cut/latest_net_G_B.pth"));
  fails_with("test", "--dataroot data --phase train --name cut --model cycle_gan --netG resnet_6blocks --ngf 4",
             "netG_A: './checkpoints/cut/latest_net_G_A.pth' does not fit", 1);
}
