// The `stylegrad` command line, run as a user runs it: what it writes, and
// that bad input gives one clear error line, a non-zero exit and no file.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "style/gatys.h"
#include "tests/test_util.h"
#include "weights/npy.h"

using namespace sg;
using namespace sg::test;
namespace fs = std::filesystem;

namespace {

const std::string kRoot = STYLEGRAD_SOURCE_DIR;
const std::string kContent = kRoot + "/demo/images/chelsea.png", kStyle = kRoot + "/demo/images/ihc.jpg";

// A fresh directory, removed at the end. Commands run inside it, with no
// pretrained weights to be found (STYLEGRAD_WEIGHTS_DIR points into it).
struct Sandbox {
  TempDir dir;
  std::string path(const std::string& name) const { return dir.file(name); }
  // Runs `stylegrad ARGS`; returns the exit status, the output in *out.
  int run(const std::string& args, std::string* out) const { return stylegrad_in(dir, args, out); }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string last_line(const std::string& text) {
  const std::vector<std::string> l = lines_of(text);
  return l.empty() ? "" : l.back();
}

// A failed command: exit status 1 (2 for a usage error, README "Exit status"),
// its last line the error (starting with `prefix`), and the given file not written.
void check_fails(const Sandbox& box, const std::string& args, const std::string& prefix, const std::string& not_written,
                 const std::string& contains = "", int want_status = 1) {
  std::string out;
  const int status = box.run(args, &out);
  INFO("stylegrad ", args, "\n", out);
  CHECK(status == want_status);
  CHECK(last_line(out).rfind(prefix, 0) == 0);
  CHECK(last_line(out).find(contains) != std::string::npos);
  CHECK(!fs::exists(not_written));
}

}  // namespace

TEST_CASE("cli: style writes the image, the loss plot and a CSV whose row 0 is the initial image") {
  Sandbox box;
  std::string out;
  const int status = box.run("style --content " + kContent + " --style " + kStyle +
                                 " --output out.png --image-size 32 --num-iterations 5 --save-iter 0 --print-iter 1"
                                 " --loss-log losses.csv",
                             &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("features: random multi-scale network") != std::string::npos);  // says which network
  CHECK(out.find("iter 5/5") != std::string::npos);                               // the progress display
  CHECK(fs::exists(box.path("out.png")));
  CHECK(fs::exists(box.path("out_losses.svg")));
  std::ifstream csv(box.path("losses.csv"));
  std::stringstream text;
  text << csv.rdbuf();
  const std::vector<std::string> rows = lines_of(text.str());
  REQUIRE(rows.size() >= 3);
  CHECK(rows[0] == "iteration,content,style,tv,total");
  CHECK(rows[1].rfind("0,", 0) == 0);
  // The optimisation lowered the total loss (the last column).
  auto total = [](const std::string& row) { return std::stod(row.substr(row.find_last_of(',') + 1)); };
  CHECK(total(rows.back()) < total(rows[1]));
  // Nothing else was left behind (no temporary files).
  CHECK(box.dir.entries() == std::vector<std::string>{"losses.csv", "out.png", "out_losses.svg"});
}

TEST_CASE("cli: bad input to style is one clear error line, exit status 1 (2 for usage errors), and no output") {
  Sandbox box;
  const std::string out_png = box.path("out.png");
  const std::string common = " --output out.png --image-size 32 --num-iterations 2";
  check_fails(box, "style --content missing.png --style " + kStyle + common,
              "stylegrad style: error: --content 'missing.png'", out_png, "no such file");
  {
    std::ofstream(box.path("corrupt.png")) << "\x89PNG but not really";
    check_fails(box, "style --content corrupt.png --style " + kStyle + common,
                "stylegrad style: error: cannot read image 'corrupt.png'", out_png);
  }
  check_fails(box, "style --content " + kContent + " --style " + kStyle + common + " --model vgg19",
              "stylegrad style: error: no pretrained vgg19 weights found", out_png, "weights/fetch.sh vgg19");
  check_fails(box,
              "style --content " + kContent + " --style " + kStyle + common +
                  " --model vgg19 --weights random --style-layers relu1_1,relu9_9",
              "stylegrad style: error: VGG-19 has no layer 'relu9_9'", out_png);
  check_fails(box, "style --content " + kContent + " --style " + kStyle + " --output out.png --image-size 8000",
              "stylegrad style: error: image size 8000 needs about", out_png, "use a smaller --image-size");
  // A missing output directory is found before the optimisation, not after it.
  std::string out;
  CHECK(box.run("style --content " + kContent + " --style " + kStyle +
                    " --output no_dir/out.png --image-size 32 --num-iterations 2",
                &out) == 1);
  CHECK(last_line(out) == "stylegrad style: error: --output 'no_dir/out.png': directory 'no_dir' does not exist");
  CHECK(out.find("iter ") == std::string::npos);
  check_fails(box, "style --content " + kContent + " --style " + kStyle + common + " --optimizer sgd",
              "stylegrad style: error: --optimizer must be lbfgs or adam", out_png, "", 2);
}

TEST_CASE("cli: weights-info and convert; hostile and broken checkpoints are refused by name") {
  Sandbox box;
  const std::string checkpoints = kRoot + "/tests/data/checkpoints/";
  std::string out;
  REQUIRE(box.run("convert " + checkpoints + "tensors_zip.pt w.safetensors", &out) == 0);
  out.clear();
  REQUIRE(box.run("weights-info w.safetensors", &out) == 0);
  CHECK(out.find("conv.weight") != std::string::npos);
  CHECK(out.find("[2, 3, 2, 2]") != std::string::npos);

  // A failed conversion leaves an existing output as it was.
  const auto before = fs::file_size(box.path("w.safetensors"));
  check_fails(box, "convert " + checkpoints + "evil_posix_system.pt w.safetensors", "stylegrad convert: error: ",
              box.path("none"), "refusing to load global 'posix.system'");
  CHECK(fs::file_size(box.path("w.safetensors")) == before);
  check_fails(box, "weights-info " + checkpoints + "truncated_zip.pt", "stylegrad weights-info: error: ",
              box.path("none"), "truncated");
  check_fails(box, "weights-info nothing_here.pth", "stylegrad weights-info: error: ", box.path("none"));
}

TEST_CASE("cli: inspect writes activations and Gram matrices numpy can read, and channel mosaics") {
  Sandbox box;
  std::string out;
  const int status = box.run("inspect --model vgg19 --weights random --seed 3 --image " + kContent +
                                 " --image-size 32 --layers relu1_1,relu2_1 --out-dir taps --gram",
                             &out);
  INFO(out);
  REQUIRE(status == 0);
  for (const char* layer : {"relu1_1", "relu2_1"}) {
    INFO(layer);
    const Tensor a = read_npy(box.path(std::string("taps/") + layer + ".npy"));
    const Tensor g = read_npy(box.path(std::string("taps/") + layer + "_gram.npy"));
    const int64_t channels = std::string(layer) == "relu1_1" ? 64 : 128;
    REQUIRE(a.dim() == 4);
    CHECK(a.size(1) == channels);
    REQUIRE(g.shape() == Shape{channels, channels});
    check_close(g, style::gram_matrix(a).squeeze(0), 1e-4, 1e-6);  // the Gram matrix of the activation next to it
    CHECK(fs::file_size(box.path(std::string("taps/") + layer + ".png")) > 0);
  }
  check_fails(box, "inspect --model vgg19 --weights random --image " + kContent + " --layers relu7_1 --out-dir t2",
              "stylegrad inspect: error: ", box.path("t2/relu7_1.npy"), "relu7_1", 2);
}
