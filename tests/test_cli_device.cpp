// --device on every subcommand that computes: a name that is no device, and a
// CUDA device this build or machine lacks, are one error line each, before any
// work; a style transfer, a CycleGAN train and test, a pix2pix train and a
// CUT train on cuda-emulated give the CPU's images and losses.
#include <filesystem>
#include <sstream>

#include "cli_train_util.h"
#include "io/image.h"
#include "ops/ops.h"
#include "tensor/device.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;
namespace fs = std::filesystem;

namespace {

const std::string kRoot = STYLEGRAD_SOURCE_DIR;
const std::string kContent = kRoot + "/demo/images/chelsea.png", kStyle = kRoot + "/demo/images/ihc.jpg";

struct Run {
  int status = -1;
  std::string out;
};

Run run_in(const TempDir& dir, const std::string& args) {
  Run r;
  r.status = test::stylegrad_in(dir, args, &r.out);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// `stylegrad train` with `options` on the CPU (name on_cpu) and on
// cuda-emulated (on_emu): both succeed, with the same losses iteration by
// iteration in their loss_log.txt (printed to 3 decimals; the devices sum in
// other orders).
void train_on_cpu_and_emulated(const TempDir& dir, const std::string& options) {
  const Run cpu = run_in(dir, "train --dataroot data --name on_cpu" + options + " --device cpu");
  INFO(cpu.out);
  REQUIRE(cpu.status == 0);
  const Run emu = run_in(dir, "train --dataroot data --name on_emu" + options + " --device cuda-emulated");
  INFO(emu.out);
  REQUIRE(emu.status == 0);
  const auto a = test::read_loss_log(dir.file("checkpoints/on_cpu/loss_log.txt"));
  const auto b = test::read_loss_log(dir.file("checkpoints/on_emu/loss_log.txt"));
  REQUIRE(a.size() == b.size());
  REQUIRE(!a.empty());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].names() == b[i].names());
    for (size_t k = 0; k < a[i].losses.size(); ++k) CHECK(std::abs(a[i].losses[k].second - b[i].losses[k].second) <= 2e-3);
  }
}

// max |a - b| over two images of one shape.
double image_difference(const std::string& a, const std::string& b) {
  const Tensor x = load_image(a), y = load_image(b);
  REQUIRE(x.shape() == y.shape());
  return max(abs(x - y)).item();
}

// Each computing subcommand, with just enough arguments to reach --device.
const std::vector<std::pair<std::string, std::string>> kCommands = {
    {"style", "style --content " + kContent + " --style " + kStyle},
    {"train", "train --dataroot data --name x"},
    {"train", "train --model cut --dataroot data --name x"},
    {"train", "train --model sincut --dataroot data --name x"},
    {"test", "test --dataroot data --name x"},
    {"test", "test --model cut --dataroot data --name x"},
    {"inspect", "inspect --weights random --image " + kContent + " --out-dir acts"},
    {"bench", "bench --workload add --size 8 --repeat 1"},
};

}  // namespace

TEST_CASE("cli --device: a name that is no device is one usage error naming the valid ones, on every subcommand") {
  TempDir dir;
  for (const auto& [command, args] : kCommands) {
    for (const std::string device : {"tpu", "cuda:", "cuda:x", "gpu"}) {
      const Run r = run_in(dir, args + " --device " + device);
      INFO(args, " --device ", device, "\n", r.out);
      CHECK(r.status == 2);
      CHECK(lines_of(r.out).size() == 1);  // the error, before any work
      CHECK(r.out == "stylegrad " + command + ": error: --device: unknown device '" + device +
                         "' (expected cpu, cuda, cuda:N or cuda-emulated)\n");
    }
  }
  CHECK(dir.entries().empty());  // nothing written
}

TEST_CASE("cli --device cuda without a GPU (or without CUDA): one error line that names cuda-emulated") {
  if (cuda_available()) return;  // a GPU is present: cuda is a valid device here
  TempDir dir;
  for (const auto& [command, args] : kCommands) {
    for (const std::string device : {"cuda", "cuda:1"}) {
      const Run r = run_in(dir, args + " --device " + device);
      INFO(args, " --device ", device, "\n", r.out);
      CHECK(r.status == 1);
      CHECK(lines_of(r.out).size() == 1);
      const std::string name = device == "cuda" ? "cuda:0" : device;
      CHECK(r.out == "stylegrad " + command + ": error: " + device_unavailable_reason(parse_device(device)) + "\n");
      CHECK(r.out.find("device " + name + ": ") != std::string::npos);
      CHECK(r.out.find("cuda-emulated") != std::string::npos);
    }
  }
  CHECK(dir.entries().empty());
}

TEST_CASE("cli --device cuda-emulated: style gives the CPU's image") {
  TempDir dir;
  const std::string common = "style --content " + kContent + " --style " + kStyle +
                             " --model multiscale --multiscale-kernels 3 --multiscale-filters 4 --image-size 24"
                             " --num-iterations 3 --optimizer adam --learning-rate 0.01 --save-iter 0 --print-iter 0";
  const Run cpu = run_in(dir, common + " --output cpu.png --device cpu");
  INFO(cpu.out);
  REQUIRE(cpu.status == 0);
  const Run emu = run_in(dir, common + " --output emu.png --device cuda-emulated");
  INFO(emu.out);
  REQUIRE(emu.status == 0);
  CHECK(image_difference(dir.file("cpu.png"), dir.file("emu.png")) <= 2.0 / 255.0);  // sums in another order
}

TEST_CASE("cli --device cuda-emulated: CycleGAN train and test match the CPU's") {
  TempDir dir;
  test::write_unaligned(dir, "data", 2);
  const std::string tiny = " --model cycle_gan --n_epochs 1 --n_epochs_decay 0 --print_freq 1 --serial_batches"
                           " --no_flip --load_size 32 --crop_size 32 --ngf 2 --ndf 2 --netG resnet_6blocks"
                           " --display_id 0 --seed 3 --no_html --save_epoch_freq 1";
  train_on_cpu_and_emulated(dir, tiny);
  for (const char* f : {"latest_net_G_A.pth", "latest_net_D_B.pth", "latest_checkpoint.safetensors"})
    CHECK(fs::exists(dir.file("checkpoints/on_emu/") + f));
  // test.py with the CPU-trained G_A, on each device: the same images (written from CPU copies)
  fs::copy_file(dir.file("checkpoints/on_cpu/latest_net_G_A.pth"), dir.file("checkpoints/on_cpu/latest_net_G.pth"));
  const std::string test_args = "test --dataroot data/trainA --name on_cpu --model test --no_dropout --ngf 2"
                                " --netG resnet_6blocks --crop_size 32 --load_size 32 --num_test 1";
  const Run cpu_test = run_in(dir, test_args + " --results_dir cpu_results --device cpu");
  INFO(cpu_test.out);
  REQUIRE(cpu_test.status == 0);
  const Run emu_test = run_in(dir, test_args + " --results_dir emu_results --device cuda-emulated");
  INFO(emu_test.out);
  const std::string fake = "/on_cpu/test_latest/images/a0_fake.png";
  REQUIRE(fs::exists(dir.file("cpu_results") + fake));
  REQUIRE(emu_test.status == 0);
  CHECK(image_difference(dir.file("cpu_results") + fake, dir.file("emu_results") + fake) <= 2.0 / 255.0);
}

// pix2pix's defaults put batch norm and dropout in G (here a ResNet, with
// dropout in its blocks): the fused batch-norm kernels and Philox's masks
// must give the CPU's losses, the masks the same on both devices.
TEST_CASE("cli --device cuda-emulated: pix2pix train (batch norm, dropout) matches the CPU's") {
  TempDir dir;
  for (int i = 0; i < 2; ++i) test::write_image(dir.file("data/train/" + std::to_string(i) + ".png"), 40, 80, i % 2, i);
  const std::string tiny = " --model pix2pix --n_epochs 1 --n_epochs_decay 0 --print_freq 1 --serial_batches"
                           " --no_flip --load_size 32 --crop_size 32 --ngf 2 --ndf 2 --netG resnet_6blocks"
                           " --display_id 0 --seed 3 --no_html --save_epoch_freq 1";
  train_on_cpu_and_emulated(dir, tiny);
  const std::string opt = read_all(dir.file("checkpoints/on_emu/train_opt.txt"));
  CHECK(opt.find("                     norm: batch ") != std::string::npos);
  CHECK(opt.find("               no_dropout: False ") != std::string::npos);
}

TEST_CASE("cli --device cuda-emulated: CUT train matches the CPU's") {
  // CUT's netF makes its MLPs on the first batch, on that batch's device (models/patch_sample.h).
  TempDir dir;
  test::write_unaligned(dir, "data", 2);
  const std::string tiny = " --model cut --n_epochs 1 --n_epochs_decay 0 --print_freq 1 --serial_batches --no_flip"
                           " --load_size 32 --crop_size 32 --ngf 2 --ndf 2 --netG resnet_6blocks --netF_nc 16"
                           " --num_patches 8 --display_id 0 --seed 3 --no_html --save_epoch_freq 1";
  train_on_cpu_and_emulated(dir, tiny);
  CHECK(fs::exists(dir.file("checkpoints/on_emu/latest_net_F.pth")));
}
