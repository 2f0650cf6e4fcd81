// stylegrad train (apps/cmd_train.cpp, translation/trainer.cpp), the real
// binary on a few tiny images this test writes (stripes for A, blobs for B)
// and narrow networks: the official folder layout and file names, the
// loss_log.txt format, .pth files that load into define_G, a falling cycle
// loss, an exact resume, the stop on a non-finite loss, and the error lines.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "io/image.h"
#include "models/cyclegan_networks.h"
#include "cli_train_util.h"
#include "test_util.h"
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

const std::string kTiny =
    " --load_size 36 --crop_size 32 --ngf 4 --ndf 4 --netG resnet_6blocks --gpu_ids -1 --display_id 0 --seed 3";

// One OpenMP thread: these networks are tiny, and ctest runs tests two at a
// time, where two threads per run mostly wait for each other.
int train_in(const TempDir& dir, const std::string& args, std::string* out) {
  return test::stylegrad_in(dir, "train " + args, out, "OMP_NUM_THREADS=1 ");
}

double mean_of(const std::vector<LogLine>& lines, int64_t epoch, const std::string& loss) {
  double sum = 0;
  int n = 0;
  for (const LogLine& l : lines)
    if (l.epoch == epoch)
      for (const auto& [name, v] : l.losses)
        if (name == loss) sum += v, ++n;
  REQUIRE(n > 0);
  return sum / n;
}

}  // namespace

TEST_CASE("stylegrad train --model cycle_gan: the official files, names and formats") {
  TempDir dir;
  write_unaligned(dir, "data");
  std::string out;
  const int status = train_in(dir, "--dataroot data --name tiny --model cycle_gan --n_epochs 1 --n_epochs_decay 1 "
                                   "--print_freq 1 --display_freq 2 --save_epoch_freq 1 --lambda_A 10 --beta1 5e-1 "
                                   "--init_gain 2e-2 --save_latest_freq 05000" + kTiny, &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("----------------- Options ---------------") != std::string::npos);
  CHECK(out.find("The number of training images = 4") != std::string::npos);
  CHECK(out.find("[Network G_A] Total number of parameters : ") != std::string::npos);
  CHECK(out.find("End of epoch 2 / 2") != std::string::npos);
  CHECK(out.find("learning rate 0.0002000 -> 0.0001000") != std::string::npos);  // linear: 1 - 1 / (n_epochs_decay + 1)

  const std::string ck = dir.file("checkpoints/tiny");
  for (const std::string suffix : {"latest", "1", "2"}) {
    for (const std::string net : {"G_A", "G_B", "D_A", "D_B"})
      CHECK(fs::is_regular_file(ck + "/" + suffix + "_net_" + net + ".pth"));
    CHECK(fs::is_regular_file(ck + "/" + suffix + "_checkpoint.safetensors"));
  }
  CHECK(fs::is_regular_file(ck + "/loss_plot.svg"));

  // train_opt.txt: BaseOptions.print_options' block, sorted, defaults noted.
  const std::string opt = read_all(ck + "/train_opt.txt");
  CHECK(opt.rfind("----------------- Options ---------------\n", 0) == 0);
  CHECK(opt.find("                      ngf: 4                             \t[default: 64]\n") != std::string::npos);
  CHECK(opt.find("                    model: cycle_gan                     \n") != std::string::npos);
  CHECK(opt.find("                     netG: resnet_6blocks                \t[default: resnet_9blocks]\n") != std::string::npos);
  CHECK(opt.find("               no_dropout: True                          \n") != std::string::npos);
  CHECK(opt.find("----------------- End -------------------\n") != std::string::npos);
  CHECK(opt.find("                dataroot:") < opt.find("                     name:"));
  // Values as str() of what argparse parsed (int, float), compared as values.
  CHECK(opt.find("                 lambda_A: 10.0                          \n") != std::string::npos);
  CHECK(opt.find("                    beta1: 0.5                           \n") != std::string::npos);
  CHECK(opt.find("                init_gain: 0.02                          \n") != std::string::npos);
  CHECK(opt.find("         save_latest_freq: 5000                          \n") != std::string::npos);
  CHECK(opt.find("                 dataroot: data                          \t[default: None]\n") != std::string::npos);
  CHECK(opt.find("         max_dataset_size: inf                           \n") != std::string::npos);
  CHECK(opt.find("                load_iter: 0                             \t[default: 0]\n") != std::string::npos);
  CHECK(opt.find("                  isTrain: True                          \t[default: None]\n") != std::string::npos);
  {  // every line "{:>25}: {:<30}" [+ "\t[default: D]"], the names sorted
    std::istringstream lines(opt);
    std::string line, previous;
    std::getline(lines, line);
    const std::regex entry(R"(^ *(\w+): (.{30,}?)(\t\[default: .*\])?$)");
    int n = 0;
    while (std::getline(lines, line) && line != "----------------- End -------------------") {
      std::smatch m;
      INFO("train_opt.txt line '", line, "'");
      REQUIRE(std::regex_match(line, m, entry));
      CHECK(m.position(1) + m.length(1) == 25);
      CHECK(previous < m[1].str());
      previous = m[1];
      ++n;
    }
    CHECK(n > 50);
  }

  // loss_log.txt: a header, then one line per iteration (print_freq 1), the
  // losses in cycle_gan's loss_names order.
  CHECK(read_all(ck + "/loss_log.txt").rfind("================ Training Loss (", 0) == 0);
  const std::vector<LogLine> log = read_loss_log(ck + "/loss_log.txt");
  REQUIRE(log.size() == 8);
  CHECK(log[0].epoch == 1);
  CHECK(log[0].iters == 1);
  CHECK(log[7].epoch == 2);
  CHECK(log[7].iters == 4);
  std::vector<std::string> names;
  for (const auto& [name, v] : log[0].losses) names.push_back(name);
  CHECK(names == std::vector<std::string>{"D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B"});

  // The web page: visuals of both epochs, newest first, refreshing.
  const std::string html = read_all(ck + "/web/index.html");
  CHECK(html.find("Experiment name = tiny") != std::string::npos);
  CHECK(html.find("refresh") != std::string::npos);
  CHECK(html.find("epoch [2]") < html.find("epoch [1]"));
  for (const std::string label : {"real_A", "fake_B", "rec_A", "idt_B", "real_B", "fake_A", "rec_B", "idt_A"})
    for (const std::string e : {"001", "002"}) {
      const std::string png = ck + "/web/images/epoch" + e + "_" + label + ".png";
      REQUIRE(fs::is_regular_file(png));
      CHECK(load_image(png).shape() == Shape{3, 32, 32});
    }

  // The .pth files are torch.save'd state_dicts that fit define_G, and
  // latest is the last epoch's.
  auto G_A = cg::define_G(3, 3, 4, "resnet_6blocks", "instance", false);
  const NamedTensors latest = load_torch_checkpoint(ck + "/latest_net_G_A.pth");
  G_A->load_state_dict(latest);
  test::check_identical(load_torch_checkpoint(ck + "/2_net_G_A.pth"), latest, "2 vs latest");
  cg::load_official_network(*G_A, ck + "/1_net_G_A.pth", "netG_A");
  auto D_A = cg::define_D(3, 4, "basic", 3, "instance");
  D_A->load_state_dict(load_torch_checkpoint(ck + "/latest_net_D_A.pth"));
}

TEST_CASE("stylegrad train --model cycle_gan: the cycle loss falls over three epochs") {
  TempDir dir;
  write_unaligned(dir, "data");
  std::string out;
  const int status = train_in(dir, "--dataroot data --name fall --model cycle_gan --n_epochs 3 --n_epochs_decay 0 "
                                   "--print_freq 1 --lr 0.002 --no_html" + kTiny, &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK_FALSE(fs::exists(dir.file("checkpoints/fall/web")));
  const std::vector<LogLine> log = read_loss_log(dir.file("checkpoints/fall/loss_log.txt"));
  REQUIRE(log.size() == 12);
  const double first = mean_of(log, 1, "cycle_A") + mean_of(log, 1, "cycle_B");
  const double last = mean_of(log, 3, "cycle_A") + mean_of(log, 3, "cycle_B");
  INFO("cycle loss, epoch 1: ", first, ", epoch 3: ", last);
  CHECK(last < 0.8 * first);
}

TEST_CASE("stylegrad train: --continue_train --epoch_count resumes exactly, image pool included") {
  TempDir dir;
  write_unaligned(dir, "data", 11);
  // Shuffled, flipped, random pairs and the default image pool of 50: after 5
  // epochs of 11 images each pool is full, so epoch 6 draws from it. The
  // generator's state and the pools' images are in the checkpoint.
  const std::string common = "--dataroot data --model cycle_gan --print_freq 1 --no_html --save_epoch_freq 1 "
                             "--n_epochs 4 --n_epochs_decay 2 --load_size 28 --crop_size 24 --ngf 4 --ndf 4 "
                             "--netG resnet_6blocks --gpu_ids -1 --display_id 0 --seed 3";
  std::string out;
  REQUIRE(train_in(dir, common + " --name straight --lr 0.001", &out) == 0);
  // Resume from the straight run's epoch-5 files, in a folder of its own.
  for (const std::string name : {"resumed", "new_lr"}) {
    fs::create_directories(dir.file("checkpoints/" + name));
    fs::copy_file(dir.file("checkpoints/straight/5_checkpoint.safetensors"),
                  dir.file("checkpoints/" + name + "/5_checkpoint.safetensors"));
  }
  out.clear();
  int status = train_in(dir, common + " --name resumed --lr 0.001 --continue_train --epoch 5 --epoch_count 6", &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("loading the model from ./checkpoints/resumed/5_checkpoint.safetensors") != std::string::npos);

  const std::vector<LogLine> straight = read_loss_log(dir.file("checkpoints/straight/loss_log.txt"));
  const std::vector<LogLine> resumed = read_loss_log(dir.file("checkpoints/resumed/loss_log.txt"));
  REQUIRE(straight.size() == 66);
  REQUIRE(resumed.size() == 11);
  for (size_t i = 0; i < 11; ++i) {
    INFO("epoch 6, line ", i);
    CHECK(resumed[i].epoch == 6);
    CHECK(straight[55 + i].epoch == 6);
    CHECK(straight[55 + i].iters == resumed[i].iters);
    CHECK(straight[55 + i].losses_text == resumed[i].losses_text);
  }
  for (const std::string net : {"G_A", "G_B", "D_A", "D_B"})
    test::check_identical(load_torch_checkpoint(dir.file("checkpoints/resumed/6_net_" + net + ".pth")),
                          load_torch_checkpoint(dir.file("checkpoints/straight/6_net_" + net + ".pth")), net);

  // A new --lr on resume is used, as the official code makes the optimizers
  // from --lr and the schedulers anew from --epoch_count: epoch 6 of a linear
  // decay over epochs 5 and 6 runs at lr (1 - 2/3), then 0. The checkpoint's
  // own lr (0.001 / 3) is not kept.
  out.clear();
  status = train_in(dir, common + " --name new_lr --lr 0.0006 --continue_train --epoch 5 --epoch_count 6", &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("learning rate 0.0002000 -> 0.0000000") != std::string::npos);
}

TEST_CASE("stylegrad train: a non-finite loss stops the run and keeps the last good checkpoint") {
  TempDir dir;
  write_unaligned(dir, "data");
  std::string out;
  // lr 1e30: the first step multiplies the weights by ~1e30, the next forward overflows.
  const int status = train_in(dir, "--dataroot data --name nan --model cycle_gan --n_epochs 2 --n_epochs_decay 0 "
                                   "--no_html --save_latest_freq 1 --lr 1e30" + kTiny, &out);
  INFO(out);
  CHECK(status == 1);
  const std::regex stop(R"(stylegrad train: error: (loss \w+ became (nan|inf)|parameter \S+ became non-finite) at epoch 1, iteration \d+; (not saved; )?the last good checkpoint is \./checkpoints/nan/latest_checkpoint\.safetensors\n$)");
  CHECK(std::regex_search(out, stop));
  // The last good networks hold finite weights.
  for (const std::string net : {"G_A", "G_B", "D_A", "D_B"})
    for (const auto& [key, t] : load_torch_checkpoint(dir.file("checkpoints/nan/latest_net_" + net + ".pth")))
      for (double v : t.to_vector()) REQUIRE(std::isfinite(v));
}

TEST_CASE("stylegrad train: bad input is one line and exit 1 (2 for usage errors), before any training") {
  TempDir dir;
  write_unaligned(dir, "data");
  write_image(dir.file("onlyA/trainA/a.png"), 40, 40, 0, 0);
  fs::create_directories(dir.file("emptyB/trainA"));
  fs::create_directories(dir.file("emptyB/trainB"));
  write_image(dir.file("emptyB/trainA/a.png"), 40, 40, 0, 0);
  write_unaligned(dir, "broken");
  { std::ofstream(dir.file("broken/trainB/bad.png")) << "not a png"; }
  const auto fails_with = [&](const std::string& args, const std::string& message, const std::string& after = "",
                              int want_status = 1) {
    std::string out;
    const int status = train_in(dir, args + " --n_epochs 1 --n_epochs_decay 0" + kTiny + after, &out);
    INFO(args, "\n", out);
    CHECK(status == want_status);
    CHECK(out.find(message) != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  };
  fails_with("--dataroot onlyA --name x", "onlyA/trainB");
  fails_with("--dataroot emptyB --name x", "emptyB/trainB");
  fails_with("--dataroot broken --name x", "training image 'broken/trainB/bad.png' cannot be read");
  // Usage errors (README "Exit status") exit 2.
  fails_with("--dataroot data --name x", "--crop_size 32 is larger than --load_size 30", " --load_size 30", 2);
  fails_with("--dataroot data --name x --frobnicate", "unknown option --frobnicate", "", 2);
  fails_with("--dataroot data --name x --continue_train",
             "--continue_train: neither './checkpoints/x/latest_checkpoint.safetensors' nor "
             "'./checkpoints/x/latest_net_G_A.pth' exists");
  fails_with("--dataroot data --name x --model stargan", "--model 'stargan': expected cycle_gan, pix2pix, cut or sincut", "", 2);
  CHECK_FALSE(fs::exists(dir.file("checkpoints/x")));

  // A checkpoint of another architecture: the full checkpoint's line, and
  // without it, load_official_network's.
  std::string out;
  REQUIRE(train_in(dir, "--dataroot data --name six --n_epochs 1 --n_epochs_decay 0 --save_epoch_freq 1 --no_html" + kTiny,
                   &out) == 0);
  fails_with("--dataroot data --name six --continue_train", "latest_checkpoint.safetensors", " --netG resnet_9blocks");
  fs::remove(dir.file("checkpoints/six/latest_checkpoint.safetensors"));
  fails_with("--dataroot data --name six --continue_train", "the file has 6 residual blocks, --netG resnet_9blocks expects 9",
             " --netG resnet_9blocks");
}

TEST_CASE("stylegrad train --model pix2pix: aligned A|B images, its files and losses") {
  TempDir dir;
  for (int i = 0; i < 3; ++i) write_image(dir.file("p2p/train/" + std::to_string(i) + ".png"), 40, 80, i % 2, i);
  std::string out;
  const int status = train_in(dir, "--dataroot p2p --name p2p --model pix2pix --n_epochs 1 --n_epochs_decay 1 "
                                   "--print_freq 1 --display_freq 1 --save_epoch_freq 1" + kTiny, &out);
  INFO(out);
  REQUIRE(status == 0);
  const std::string ck = dir.file("checkpoints/p2p");
  for (const std::string f : {"latest_net_G.pth", "latest_net_D.pth", "2_net_G.pth", "2_net_D.pth",
                              "latest_checkpoint.safetensors", "train_opt.txt", "web/index.html",
                              "web/images/epoch002_fake_B.png"})
    CHECK(fs::is_regular_file(ck + "/" + f));
  const std::vector<LogLine> log = read_loss_log(ck + "/loss_log.txt");
  REQUIRE(log.size() == 6);
  std::vector<std::string> names;
  for (const auto& [name, v] : log[0].losses) names.push_back(name);
  CHECK(names == std::vector<std::string>{"G_GAN", "G_L1", "D_real", "D_fake"});
  const std::string opt = read_all(ck + "/train_opt.txt");
  CHECK(opt.find("                     norm: batch                         \n") != std::string::npos);
  CHECK(opt.find("                 gan_mode: vanilla                       \n") != std::string::npos);
  auto G = cg::define_G(3, 3, 4, "resnet_6blocks", "batch", true);
  G->load_state_dict(load_torch_checkpoint(ck + "/latest_net_G.pth"));
}
