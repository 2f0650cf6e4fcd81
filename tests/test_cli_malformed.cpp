// Malformed command lines, run through the real binary: each must end with
// the exit status of the convention (2 usage error, 1 failure while running),
// one error line that names the cause, and no file in the working directory
// changed, removed or added (outputs are checked before any work).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "gradcheck/gradcheck.h"
#include "io/image.h"
#include "models/multiscale.h"
#include "style/transfer.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;
namespace fs = std::filesystem;

namespace {

const std::string kRoot = STYLEGRAD_SOURCE_DIR;

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Every entry under `dir`: directories as "<dir>", files by their bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string rel = fs::relative(e.path(), dir).string();
    std::error_code ec;
    if (e.is_directory(ec)) files[rel] = "<dir>";
    else if (::access(e.path().c_str(), R_OK) == 0) files[rel] = read_all(e.path());
    else files[rel] = "<unreadable " + std::to_string(fs::file_size(e.path(), ec)) + ">";
  }
  return files;
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const size_t nl = t.find_last_of('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

struct Case {
  std::string args;
  int status;
  std::string message;  // a substring of the last line
};

// The working directory every case runs in: inputs, an existing output, a
// folder, a plain file where a folder is expected, and (unless root, whom
// permissions do not stop) a file nobody may read.
struct Workdir {
  TempDir dir;
  Workdir() {
    fs::copy_file(kRoot + "/demo/images/chelsea.png", dir.file("c.png"));
    fs::copy_file(kRoot + "/demo/images/ihc.jpg", dir.file("s.jpg"));
    fs::copy_file(kRoot + "/demo/images/chelsea.png", dir.file("out.png"));  // an earlier result
    fs::create_directory(dir.file("adir"));
    fs::create_directory(dir.file("adir.png"));
    std::ofstream(dir.file("afile")) << "a file, not a folder";
    std::ofstream(dir.file("w.safetensors")) << "not read: refused before";
    std::ofstream(dir.file("locked.pth")) << "no one may read this";
    fs::permissions(dir.file("locked.pth"), fs::perms::none);
    // 200 x 8: at --image-size 64 it is 64 x 3, too thin for VGG's four poolings to relu5_1.
    save_image(full({3, 8, 200}, 0.5), dir.file("thin.png"));
    fs::create_hard_link(dir.file("c.png"), dir.file("c_link.png"));
  }
  // `prefix` runs first in the same shell (e.g. a ulimit).
  int run(const std::string& args, std::string* out, const std::string& prefix = "") const {
    return stylegrad_in(dir, args, out, prefix);
  }
};

void run_cases(const Workdir& w, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const auto before = snapshot(w.dir.path);
    std::string out;
    const int status = w.run(c.args, &out);
    INFO("stylegrad ", c.args, "\n", out);
    CHECK(status == c.status);
    CHECK(last_line(out).rfind("stylegrad", 0) == 0);
    CHECK(last_line(out).find(c.message) != std::string::npos);
    CHECK(out.find("iter 1/") == std::string::npos);  // refused before the optimisation started
    CHECK(snapshot(w.dir.path) == before);
  }
}

const std::string kStyleArgs = "style --content c.png --style s.jpg --image-size 32 --num-iterations 2 ";

}  // namespace

TEST_CASE("cli malformed: gradcheck refuses steps and tolerances that cannot fail") {
  Workdir w;
  run_cases(w, {
                   {"gradcheck add --eps 0", 2, "--eps must be positive"},
                   {"gradcheck add --eps -1e-6", 2, "--eps must be positive"},
                   {"gradcheck add --eps nan", 2, "--eps expects a finite number, got 'nan'"},
                   {"gradcheck add --eps inf", 2, "--eps expects a finite number"},
                   {"gradcheck add --atol nan", 2, "--atol expects a finite number"},
                   {"gradcheck add --rtol -1", 2, "--rtol must not be negative"},
                   {"gradcheck add --eps 1e-6x", 2, "--eps expects a number, got '1e-6x'"},
                   {"gradcheck no_such_op", 2, "no gradient check for op 'no_such_op'"},
                   {"gradcheck --bogus", 2, "unknown option --bogus"},
               });
}

TEST_CASE("cli malformed: gradcheck itself refuses bad options and fails on a nan error") {
  const TensorFn f = [](const TensorList& x) { return x[0] * x[0]; };
  Generator g(1);
  const TensorList in = {randn({3}, g, TensorOptions(DType::f64)).requires_grad_()};
  for (double eps : {0.0, -1.0, std::nan(""), double(INFINITY)}) {
    GradcheckOptions o;
    o.eps = eps;
    CHECK(error_of([&] { gradcheck(f, in, o); }).find("gradcheck: eps must be") == 0);
    CHECK(error_of([&] { gradgradcheck(f, in, o); }).find("gradcheck: eps must be") == 0);
  }
  GradcheckOptions o;
  o.atol = std::nan("");
  CHECK(error_of([&] { gradcheck(f, in, o); }).find("gradcheck: atol must be") == 0);
  o = {};
  o.rtol = INFINITY;
  CHECK(error_of([&] { gradcheck(f, in, o); }).find("gradcheck: rtol must be") == 0);
  // A function whose value is nan near the point: the error is nan and must fail, and show.
  const TensorFn bad = [](const TensorList& x) { return log(x[0] - x[0].detach()); };
  const GradcheckResult r = gradcheck(bad, in);
  CHECK(!r.passed);
  CHECK(std::isnan(r.max_abs_err));
  CHECK(!r.worst.empty());
  CHECK(gradcheck(f, in).passed);  // and a right gradient still passes
}

TEST_CASE("cli malformed: style refuses colliding, unwritable and misnamed outputs before any work") {
  Workdir w;
  std::vector<Case> cases = {
      {kStyleArgs + "--output c.png", 2, "--output 'c.png' is the same file as the input --content 'c.png'"},
      {kStyleArgs + "--output ./c.png", 2, "is the same file as the input --content 'c.png'"},
      {kStyleArgs + "--output adir/../c.png", 2, "is the same file as the input --content 'c.png'"},
      {kStyleArgs + "--output c_link.png", 2, "'c_link.png' is the same file as the input --content 'c.png'"},
      {kStyleArgs + "--init-image out.png --output out.png", 2, "is the same file as the input --init-image"},
      {kStyleArgs + "--output out.png --loss-log out.png", 2,
       "--loss-log 'out.png' is the same file as --output 'out.png'"},
      {kStyleArgs + "--output out.png --loss-log out_losses.svg", 2, "is the same file as the loss plot"},
      {kStyleArgs + "--output out.png --save-iter 1 --loss-log out_1.png", 2,
       "--loss-log 'out_1.png' is the same file as the intermediate image 'out_1.png'"},
      {kStyleArgs + "--output out.png --loss-log s.jpg", 2, "is the same file as the input --style"},
      {kStyleArgs + "--output adir.png", 1, "--output 'adir.png': is a directory"},
      {kStyleArgs + "--output nodir/out.png", 1, "--output 'nodir/out.png': directory 'nodir' does not exist"},
      {kStyleArgs + "--output afile/out.png", 1, "'afile' is not a directory"},
      {kStyleArgs + "--output adir/.png", 2, "--output 'adir/.png': expected a name ending in .png, .jpg or .jpeg"},
      {kStyleArgs + "--output out.txt", 2, "expected a name ending in .png, .jpg or .jpeg"},
      {kStyleArgs + "--output adir/", 2, "names a directory, not a file"},
      {kStyleArgs + "--loss-log adir", 1, "--loss-log 'adir': is a directory"},
      {kStyleArgs + "--loss-log nodir/l.csv", 1, "directory 'nodir' does not exist"},
  };
  run_cases(w, cases);
}

TEST_CASE("cli malformed: style refuses values that mean nothing, and options that do not apply") {
  Workdir w;
  run_cases(w, {
                   {kStyleArgs + "--content-weight -1", 2, "--content-weight must not be negative, got '-1'"},
                   {kStyleArgs + "--style-weight nan", 2, "--style-weight expects a finite number"},
                   {kStyleArgs + "--tv-weight inf", 2, "--tv-weight expects a finite number"},
                   {kStyleArgs + "--tv-weight 1e999", 2, "--tv-weight expects a finite number"},
                   {kStyleArgs + "--style-blend-weights -1", 2, "--style-blend-weights must not be negative"},
                   {kStyleArgs + "--style-blend-weights 0", 2, "--style-blend-weights must not all be 0"},
                   {kStyleArgs + "--style-blend-weights 1,2", 2, "has 2 values for 1 style images"},
                   {kStyleArgs + "--seed -1", 2, "--seed must be an integer >= 0, got '-1'"},
                   {kStyleArgs + "--seed 99999999999999999999", 2, "--seed must be an integer >= 0"},
                   {kStyleArgs + "--print-iter -1", 2, "--print-iter must be an integer >= 0"},
                   {kStyleArgs + "--save-iter -5", 2, "--save-iter must be an integer >= 0"},
                   {kStyleArgs + "--num-iterations 0", 2, "--num-iterations must be an integer in [1, 1000000000]"},
                   {"style --content c.png --style s.jpg --image-size 10", 2, "--image-size must be an integer in [16, 8192]"},
                   {"style --content c.png --style s.jpg --image-size 3.5", 2, "--image-size expects an integer"},
                   {"style --content c.png --style s.jpg --scales 64,32", 2, "--scales must grow, coarse to fine"},
                   {"style --content c.png --style s.jpg --scales 32,32", 2, "--scales must grow"},
                   {"style --content c.png --style s.jpg --scales 32,64 --image-size 64", 2,
                    "--image-size does not apply with --scales"},
                   {kStyleArgs + "--learning-rate 0.1", 2, "--learning-rate does not apply to --optimizer lbfgs"},
                   {kStyleArgs + "--optimizer adam --learning-rate 0", 2, "--learning-rate must be positive"},
                   {kStyleArgs + "--model multiscale --pooling avg", 2, "--pooling does not apply to --model multiscale"},
                   {kStyleArgs + "--model vgg19 --weights random --multiscale-kernels 3,5", 2,
                    "--multiscale-kernels does not apply to a VGG model"},
                   {kStyleArgs + "--multiscale-kernels 3,4", 2, "--multiscale-kernels must be odd, got 4"},
                   {kStyleArgs + "--init random --init-image c.png", 2, "--init does not apply with --init-image"},
                   {kStyleArgs + "--style-scale -1", 2, "--style-scale must be positive"},
                   {kStyleArgs + "--optimizer sgd", 2, "--optimizer must be lbfgs or adam, got 'sgd'"},
                   {kStyleArgs + "--bogus 1", 2, "unknown option --bogus"},
                   {kStyleArgs + "--seed", 2, "--seed needs a value"},
                   {kStyleArgs + "extra", 2, "unexpected argument 'extra'"},
                   {"style --content c.png", 2, "--style is required"},
               });
}

TEST_CASE("cli malformed: unreadable inputs are named for what they are") {
  Workdir w;
  std::vector<Case> cases = {
      {"style --content missing.png --style s.jpg", 1, "--content 'missing.png': no such file"},
      {"style --content adir --style s.jpg", 1, "--content 'adir': is a directory, not a file"},
      {"style --content c.png --style s.jpg,nope.jpg", 1, "--style 'nope.jpg': no such file"},
      {kStyleArgs + "--model vgg19 --weights adir", 1, "--weights 'adir': is a directory, not a file"},
      {kStyleArgs + "--model vgg19 --weights missing.pth", 1, "--weights 'missing.pth': no such file"},
      {kStyleArgs + "--model vgg19 --weights random --image-size 64 --content thin.png", 1,
       "pixels at scale 64; VGG needs at least 16 on each side"},
      {"weights-info missing.pth", 1, "FILE 'missing.pth': no such file"},
      {"weights-info adir", 1, "FILE 'adir': is a directory, not a file"},
      {"weights-info", 2, "expected one FILE"},
      {"convert w.safetensors ./w.safetensors", 2, "OUT './w.safetensors' is the same file as the input IN"},
      {"convert w.safetensors out.pth", 2, "OUT 'out.pth': expected a name ending in .safetensors"},
      {"color-transfer --content c.png --style s.jpg --output c.png", 2, "is the same file as the input --content"},
      {"color-transfer --content c.png --style s.jpg --output nodir/o.png", 1, "directory 'nodir' does not exist"},
      {"color-transfer --content c.png --style s.jpg --output o.png --method foo", 2, "--method must be histogram or reinhard"},
      {"inspect --weights random --image c.png --out-dir afile", 1, "--out-dir 'afile': exists and is not a directory"},
      {"inspect --weights random --image c.png --out-dir t --image-size 8", 1, "needs at least 16 on each side"},
      {"inspect --weights random --image c.png --out-dir t --seed -3", 2, "--seed must be an integer >= 0"},
      {"inspect --weights random --image c.png --out-dir t --layers relu7_1", 2, "vgg19 has no layer 'relu7_1'"},
      {"no-such-command", 2, "unknown command 'no-such-command'"},
  };
  if (::geteuid() != 0) {  // root reads anything
    cases.push_back({kStyleArgs + "--model vgg19 --weights locked.pth", 1, "--weights 'locked.pth': Permission denied"});
    cases.push_back({"weights-info locked.pth", 1, "FILE 'locked.pth': Permission denied"});
  }
  run_cases(w, cases);
}

TEST_CASE("cli malformed: upper-case extensions are accepted, and each scale's intermediate images are its own") {
  Workdir w;
  std::string out;
  const int status = w.run("style --content c.png --style s.jpg --scales 16,24 --num-iterations 2 --save-iter 1 "
                           "--output R.PNG --loss-log l.csv",
                           &out);
  INFO(out);
  REQUIRE(status == 0);
  for (const char* f : {"R.PNG", "R_losses.svg", "l.csv", "R_s16_1.PNG", "R_s24_1.PNG"}) {
    INFO(f);
    CHECK(fs::exists(w.dir.file(f)));
  }
  CHECK(!fs::exists(w.dir.file("R_1.PNG")));
}

TEST_CASE("style transfer: non-finite inputs are refused or named as the cause, not blamed on the learning rate") {
  models::MultiScaleOptions mo;
  mo.kernel_sizes = {3};
  mo.filters = 4;
  style::MultiScaleFeatures net(mo);
  style::TransferOptions o;
  o.content_layers = o.style_layers = net.layer_names();
  o.scales = {16};
  o.num_iterations = 2;
  o.blend_weights = {1.0};
  o.init = style::Init::image;
  Generator g(3);
  const Tensor content = rand({3, 16, 16}, g), style_img = rand({3, 16, 16}, g);
  style::TransferOptions bad = o;
  bad.weights.style = std::nan("");
  CHECK(error_of([&] { style::run_style_transfer(net, content, {style_img}, Tensor(), bad); })
            .find("style transfer: the loss weights must be finite") == 0);
  bad = o;
  bad.blend_weights = {-1.0};
  CHECK(error_of([&] { style::run_style_transfer(net, content, {style_img}, Tensor(), bad); })
            .find("style transfer: blend weight -1 is not a finite number >= 0") == 0);
  // A content image holding a nan (the start image here; the TV term sees it, ReLU
  // features may not): the loss is nan before any step, and the message says so.
  o.weights.tv = 1.0;
  Tensor broken = content.clone();
  broken.data<float>()[5] = std::nanf("");
  const std::string e = error_of([&] { style::run_style_transfer(net, broken, {style_img}, Tensor(), o); });
  INFO(e);
  CHECK(e.find("at the start image, before any optimisation") != std::string::npos);
  CHECK(e.find("learning-rate") == std::string::npos);
  CHECK(error_of([&] { style::run_style_transfer(net, content, {style_img}, Tensor(), o); }) == "");
}

// Address-space limits (ulimit -v) cannot be combined with AddressSanitizer,
// which reserves terabytes of shadow memory up front.
#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("cli malformed: running out of memory is one line and exit 1; a size that cannot fit is refused first") {
  Workdir w;
  const auto before = snapshot(w.dir.path);
  std::string out;
  // 1.5 GB of address space: the size check counts the limit, not the machine's memory.
  CHECK(w.run("style --content c.png --style s.jpg --image-size 1024 --output big.png", &out, "ulimit -v 1500000 && ") == 1);
  INFO(out);
  CHECK(last_line(out).find("needs about") != std::string::npos);
  CHECK(last_line(out).find("this process may use (ulimit -v) 1 GiB") != std::string::npos);
  CHECK(out.find("iter 1/") == std::string::npos);
  out.clear();
  // A job with no size check runs out for real: one line, no trace.
  CHECK(w.run("bench --workload vgg19-fwd --size 2048 --repeat 1", &out, "ulimit -v 1500000 && ") == 1);
  CHECK(last_line(out).rfind("stylegrad bench: error: out of memory", 0) == 0);
  CHECK(out.find("terminate") == std::string::npos);
  CHECK(snapshot(w.dir.path) == before);
}
#endif

TEST_CASE("cli malformed: train refuses a checkpoints folder that cannot be made, before any work") {
  Workdir w;
  // afile is a plain file: nothing can be created under it.
  run_cases(w, {
      {"train --dataroot adir --name x --checkpoints_dir afile", 1,
       "the checkpoints folder (--checkpoints_dir/--name) 'afile/x': 'afile' exists and is not a directory"},
      {"train --dataroot adir --name x --checkpoints_dir afile/deeper --CUT_mode CUT", 1,
       "'afile' exists and is not a directory"},
      {"train --dataroot adir --checkpoints_dir . --name afile", 1, "exists and is not a directory"},
  });
}
