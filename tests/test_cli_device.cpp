// --device on every subcommand that computes: a name that is no device, and a
// CUDA device this build or machine lacks, are one error line each, before any
// work; a style transfer on cuda-emulated either matches the CPU's image or
// names the first op that has no cuda-emulated kernel yet.
#include <filesystem>
#include <sstream>

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

Run stylegrad_in(const TempDir& dir, const std::string& args) {
  Run r;
  const std::string d = dir.path.string();
  r.status = run_command("cd " + d + " && STYLEGRAD_WEIGHTS_DIR=" + d + " " + std::string(STYLEGRAD_BINARY) + " " + args,
                         &r.out);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
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
      const Run r = stylegrad_in(dir, args + " --device " + device);
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
      const Run r = stylegrad_in(dir, args + " --device " + device);
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

TEST_CASE("cli --device cuda-emulated: style matches the CPU's image, or names the op without a kernel") {
  TempDir dir;
  const std::string common = "style --content " + kContent + " --style " + kStyle +
                             " --model multiscale --multiscale-kernels 3 --multiscale-filters 4 --image-size 24"
                             " --num-iterations 3 --optimizer adam --learning-rate 0.01 --save-iter 0 --print-iter 0";
  const Run cpu = stylegrad_in(dir, common + " --output cpu.png --device cpu");
  INFO(cpu.out);
  REQUIRE(cpu.status == 0);
  const Run emu = stylegrad_in(dir, common + " --output emu.png --device cuda-emulated");
  INFO(emu.out);
  if (emu.status == 0) {  // every kernel it needs exists: the same image as on the CPU
    const Tensor a = load_image(dir.file("cpu.png")), b = load_image(dir.file("emu.png"));
    REQUIRE(a.shape() == b.shape());
    CHECK(max(abs(a - b)).item() <= 2.0 / 255.0);  // float sums in another order: a level at most, say two
  } else {
    // Not yet: the first op without a kernel names itself, in one line, and no image is written.
    CHECK(emu.status == 1);
    const std::vector<std::string> l = lines_of(emu.out);
    REQUIRE(!l.empty());
    const std::string& last = l.back();
    const std::string tail = ": no kernel on device cuda-emulated";
    CHECK(last.rfind("stylegrad style: error: ", 0) == 0);
    CHECK(last.size() > tail.size());
    CHECK(last.compare(last.size() - tail.size(), tail.size(), tail) == 0);
    CHECK(!fs::exists(dir.file("emu.png")));
  }
}
