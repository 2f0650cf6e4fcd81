// stylegrad train|test --model sincut (apps/cut_commands.cpp on translation/train()):
// the real binary, one OpenMP thread, on one tiny image pair this test writes
// (stripes for A, blobs for B), narrow StyleGAN2 networks, 16x16 patches,
// batches of two and --max_dataset_size 4 (two iterations an epoch): SinCUT's
// files and defaults (sincut_model.py's modify_commandline_options), the D_R1
// and idt losses in loss_log.txt, an exact resume, CUT's test layout on the
// whole images with G's output bit for bit, and bad input as one line.
#include <filesystem>
#include <fstream>

#include "autograd/grad_mode.h"
#include "data/datasets.h"
#include "io/image.h"
#include "models/cyclegan_networks.h"
#include "models/stylegan_networks.h"
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
using sg::test::has_option;
namespace sg2 = sg::models::stylegan;
namespace fs = std::filesystem;

namespace {

const std::string kSinCUT = " --model sincut --crop_size 16 --ngf 4 --ndf 2 --gpu_ids -1 --display_id 0 --seed 3";
// Two iterations of two patches an epoch.
const std::string kShort = " --max_dataset_size 4 --batch_size 2";

int run_in(const TempDir& dir, const std::string& command, const std::string& args, std::string* out) {
  return test::stylegrad_in(dir, command + " " + args, out, "OMP_NUM_THREADS=1 ");
}

// One photo-like A (48x40) and one painting-like B (40x48).
void write_pair(const TempDir& dir, const std::string& root) {
  write_image(dir.file(root + "/trainA/photo.png"), 40, 48, 0);
  write_image(dir.file(root + "/trainB/painting.png"), 48, 40, 1);
}

}  // namespace

TEST_CASE("stylegrad train --model sincut: the official files, SinCUT's defaults, D_R1 and idt in the log") {
  TempDir dir;
  write_pair(dir, "data");
  std::string out;
  const int status = run_in(dir, "train", "--dataroot data --name sin --n_epochs 1 --n_epochs_decay 1 --print_freq 2 "
                                          "--display_freq 2" + kSinCUT + kShort, &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("Image sizes (48, 40) and (40, 48)") != std::string::npos);
  CHECK(out.find("The number of training images = 4") != std::string::npos);
  CHECK(out.find("End of epoch 2 / 2") != std::string::npos);

  const std::string ck = dir.file("checkpoints/sin");
  for (const std::string suffix : {"latest", "1", "2"}) {  // save_epoch_freq 1: every epoch
    for (const std::string net : {"G", "F", "D"}) CHECK(fs::is_regular_file(ck + "/" + suffix + "_net_" + net + ".pth"));
    CHECK(fs::is_regular_file(ck + "/" + suffix + "_checkpoint.safetensors"));
  }
  const std::string opt = read_all(ck + "/train_opt.txt");
  CHECK(has_option(opt, "model", "sincut", "cut"));
  CHECK(has_option(opt, "netG", "stylegan2"));
  CHECK(has_option(opt, "netD", "stylegan2"));
  CHECK(has_option(opt, "stylegan2_G_num_downsampling", "1"));
  CHECK(has_option(opt, "gan_mode", "nonsaturating"));
  CHECK(has_option(opt, "dataset_mode", "singleimage"));
  CHECK(has_option(opt, "preprocess", "zoom_and_patch"));
  CHECK(has_option(opt, "load_size", "1024"));
  CHECK(has_option(opt, "crop_size", "16", "64"));
  CHECK(has_option(opt, "ngf", "4", "10"));
  CHECK(has_option(opt, "ndf", "2", "8"));
  CHECK(has_option(opt, "batch_size", "2", "16"));
  CHECK(has_option(opt, "lr", "0.002"));
  CHECK(has_option(opt, "beta1", "0.0"));
  CHECK(has_option(opt, "beta2", "0.99"));
  CHECK(has_option(opt, "lambda_NCE", "4.0"));
  CHECK(has_option(opt, "lambda_R1", "1.0"));
  CHECK(has_option(opt, "lambda_identity", "1.0"));
  CHECK(has_option(opt, "nce_layers", "0,2,4"));
  CHECK(has_option(opt, "num_patches", "1"));
  CHECK(has_option(opt, "nce_idt", "True"));
  CHECK(has_option(opt, "nce_includes_all_negatives_from_minibatch", "True"));
  CHECK(has_option(opt, "random_scale_max", "3.0"));
  CHECK(has_option(opt, "n_epochs", "1", "8"));
  CHECK(has_option(opt, "n_epochs_decay", "1", "8"));
  CHECK(has_option(opt, "save_epoch_freq", "1"));
  CHECK(has_option(opt, "save_latest_freq", "20000"));

  const std::vector<LogLine> log = read_loss_log(ck + "/loss_log.txt");
  REQUIRE(log.size() == 4);
  CHECK(log[0].iters == 2);
  CHECK(log[3].epoch == 2);
  CHECK(log[0].names() == std::vector<std::string>{"G_GAN", "D_real", "D_fake", "G", "NCE", "NCE_Y", "D_R1", "idt"});
  for (const std::string label : {"real_A", "fake_B", "real_B", "idt_B"}) {
    CHECK(fs::is_regular_file(ck + "/web/images/epoch002_" + label + ".png"));
    CHECK(load_image(ck + "/web/images/epoch002_" + label + ".png").shape() == Shape{3, 16, 16});
  }

  // The .pth files are the StyleGAN2 G and D SinCUT builds for 16x16 patches.
  auto G = sg2::define_G("stylegan2", 3, 3, 4, 1024, 16, 1);
  G->load_state_dict(load_torch_checkpoint(ck + "/latest_net_G.pth"));
  auto D = sg2::define_D("stylegan2", 3, 2, 1024, 16);
  D->load_state_dict(load_torch_checkpoint(ck + "/latest_net_D.pth"));
  std::vector<std::string> f_keys;
  for (const auto& [key, t] : load_torch_checkpoint(ck + "/latest_net_F.pth")) f_keys.push_back(key);
  CHECK(f_keys.size() == 12);  // nce_layers 0,2,4: three MLPs, two Linears each, weight and bias
}

TEST_CASE("stylegrad train --model sincut: --continue_train --epoch_count resumes exactly") {
  TempDir dir;
  write_pair(dir, "data");
  const std::string common = "--dataroot data --print_freq 2 --no_html" + kSinCUT + kShort;
  std::string out;
  REQUIRE(run_in(dir, "train", common + " --name straight --n_epochs 1 --n_epochs_decay 2", &out) == 0);
  REQUIRE(run_in(dir, "train", common + " --name resumed --n_epochs 1 --n_epochs_decay 0", &out) == 0);
  out.clear();
  const int status = run_in(dir, "train", common + " --name resumed --n_epochs 1 --n_epochs_decay 2 --continue_train "
                                                   "--epoch_count 2", &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("loading the model from ./checkpoints/resumed/latest_checkpoint.safetensors") != std::string::npos);
  const std::vector<LogLine> straight = read_loss_log(dir.file("checkpoints/straight/loss_log.txt"));
  const std::vector<LogLine> resumed = read_loss_log(dir.file("checkpoints/resumed/loss_log.txt"));
  REQUIRE(straight.size() == 6);
  REQUIRE(resumed.size() == 6);
  for (size_t i = 0; i < 6; ++i) {
    INFO("line ", i);
    CHECK(straight[i].epoch == resumed[i].epoch);
    CHECK(straight[i].losses_text == resumed[i].losses_text);
  }
  for (const std::string net : {"G", "F", "D"})
    test::check_identical(load_torch_checkpoint(dir.file("checkpoints/resumed/3_net_" + net + ".pth")),
                          load_torch_checkpoint(dir.file("checkpoints/straight/3_net_" + net + ".pth")), net);
}

TEST_CASE("stylegrad test --model sincut: CUT's layout on the whole images, G's output bit for bit") {
  TempDir dir;
  write_pair(dir, "data");
  std::string out;
  REQUIRE(run_in(dir, "train", "--dataroot data --name sin --n_epochs 1 --n_epochs_decay 0 --no_html" + kSinCUT + kShort,
                 &out) == 0);
  out.clear();
  // The official README's line (test.py: preprocess none, batch 1, num_test 1).
  const int status = run_in(dir, "test", "--dataroot data --name sin --model sincut --crop_size 16 --ngf 4 --gpu_ids -1",
                            &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("loading the model from ./checkpoints/sin/latest_net_G.pth") != std::string::npos);
  CHECK(out.find("processing (0000)-th image... ['data/trainA/photo.png']") != std::string::npos);
  const std::string web = dir.file("results/sin/test_latest");
  const std::string html = read_all(web + "/index.html");
  CHECK(html.find("Experiment = sin, Phase = test, Epoch = latest") != std::string::npos);
  for (const std::string label : {"real_A", "fake_B", "real_B"}) {
    CHECK(fs::is_regular_file(web + "/images/" + label + "/photo.png"));
    CHECK(html.find("images/" + label + "/photo.png") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(web + "/images/idt_B"));
  CHECK(fs::directory_iterator(web + "/images/fake_B") != fs::directory_iterator());
  CHECK(std::distance(fs::directory_iterator(web + "/images/fake_B"), fs::directory_iterator()) == 1);  // num_test 1
  CHECK(load_image(web + "/images/real_A/photo.png").shape() == Shape{3, 40, 48});  // the whole image
  CHECK(load_image(web + "/images/real_B/photo.png").shape() == Shape{3, 48, 40});

  // fake_B is G(the whole photo): G built (its weights drawn, then loaded) and run
  // (its noise drawn) from the default generator seeded with --seed, as the command.
  default_generator().manual_seed(0);
  auto G = sg2::define_G("stylegan2", 3, 3, 4, 1024, 16, 1);
  models::cyclegan::load_official_network(*G, dir.file("checkpoints/sin/latest_net_G.pth"), "netG");
  const Tensor photo = load_image(dir.file("data/trainA/photo.png")).reshape({1, 3, 40, 48}) * 2.0 - 1.0;
  NoGradGuard no_grad;
  const Tensor fake = G->forward(photo.to(DType::f32));
  CHECK(fake.shape() == Shape{1, 3, 40, 48});
  test::check_identical({{"fake_B", load_image(web + "/images/fake_B/photo.png")}},
                        {{"fake_B", translation::tensor_to_image_levels(fake)}}, "fake_B/photo.png");
}

TEST_CASE("stylegrad train|test --model sincut: bad input is one line") {
  TempDir dir;
  write_pair(dir, "data");
  const auto fails_with = [&](const std::string& command, const std::string& args, const std::string& message,
                              int want_status) {
    std::string out;
    const int status = run_in(dir, command, args, &out);
    INFO(command, " ", args, "\n", out);
    CHECK(status == want_status);
    CHECK(out.find(message) != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  };
  const std::string train = "--name bad --n_epochs 1 --n_epochs_decay 0" + kSinCUT + kShort;

  write_pair(dir, "two");
  write_image(dir.file("two/trainA/photo2.png"), 40, 48, 0);
  fails_with("train", "--dataroot two " + train,
             "'two/trainA' holds 2 images; the singleimage dataset (SinCUT) takes exactly one image in each of trainA "
             "and trainB", 1);
  write_image(dir.file("small/trainA/photo.png"), 12, 12, 0);
  write_image(dir.file("small/trainB/painting.png"), 48, 40, 1);
  // An image smaller than the crop: zoom_and_patch zooms it up to the crop (as
  // the official __random_zoom, max(crop_size, size * zoom)), so it trains; the
  // crop as it is (--preprocess crop) cannot be taken from it.
  {
    std::string out;
    const int status = run_in(dir, "train", "--dataroot small --name small --n_epochs 1 --n_epochs_decay 0 --no_html" +
                                                kSinCUT + kShort, &out);
    INFO(out);
    CHECK(status == 0);
    CHECK(fs::is_regular_file(dir.file("checkpoints/small/latest_net_G.pth")));
  }
  fails_with("train", "--dataroot small --preprocess crop " + train,
             "image 'small/trainA/photo.png' is 12x12, smaller than --crop_size 16 (--preprocess crop", 1);
  write_image(dir.file("noB/trainA/photo.png"), 40, 48, 0);
  fails_with("train", "--dataroot noB " + train, "noB/trainB", 1);
  fails_with("train", "--dataroot data " + train + " --crop_size 24",
             "--netD stylegan2 is built for 32x32 images", 2);
  fails_with("train", "--dataroot data " + train + " --lambda_R1 -1", "--lambda_R1", 2);
  fails_with("train", "--dataroot data " + train + " --dataset_mode single", "--model sincut needs A and B images", 2);
  fails_with("train", "--dataroot data --name bad --CUT_mode CUT --lambda_R1 1", "unknown option --lambda_R1", 2);
  CHECK_FALSE(fs::exists(dir.file("checkpoints/bad")));
  fails_with("test", "--dataroot data --name nothing --model sincut",
             "checkpoint './checkpoints/nothing/latest_net_G.pth' not found; train one with stylegrad train --model "
             "sincut", 1);
}
