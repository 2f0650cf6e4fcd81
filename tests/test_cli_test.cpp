// stylegrad test (apps/cmd_test.cpp), the real binary on small images and
// narrow generators this test saves with save_torch_state_dict: the folders
// and file names of the official test.py, the HTML page, image sizes, and
// fake images equal to the generator's output computed here.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "autograd/grad_mode.h"
#include "io/image.h"
#include "models/cyclegan_networks.h"
#include "tensor/random.h"
#include "test_util.h"
#include "weights/torch_save.h"

using namespace sg;
using sg::test::TempDir;
namespace cg = sg::models::cyclegan;
namespace fs = std::filesystem;

namespace {

int run_in(const TempDir& dir, const std::string& args, std::string* out) {
  return test::stylegrad_in(dir, "test " + args, out);
}

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A size x size RGB image with a pattern that depends on `seed`.
void write_image(const std::string& path, int64_t h, int64_t w, int seed) {
  std::vector<double> v;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v.push_back(double((seed * 37 + c * 71 + y * 13 + x * (5 + seed)) % 256) / 255.0);
  fs::create_directories(fs::path(path).parent_path());
  save_image(from_vector(v, {3, h, w}, TensorOptions(DType::f32)), path);
}

std::shared_ptr<nn::Module> save_generator(const std::string& path, int64_t ngf, const std::string& netG,
                                           const std::string& norm, bool dropout, uint64_t seed, int64_t channels = 3) {
  Generator gen(seed);
  auto net = cg::define_G(channels, channels, ngf, netG, norm, dropout, "normal", 0.02, gen);
  // Larger weights than init's 0.02, so that the output is far from 0 and differs per pixel.
  NoGradGuard no_grad;
  for (auto& [key, t] : net->named_parameters()) {
    if (t.dim() < 2) continue;
    const std::vector<double> v = t.to_vector();
    std::vector<double> w(v.size());
    for (size_t i = 0; i < v.size(); ++i) w[i] = v[i] * 20;
    t.copy_(from_vector(w, t.shape(), TensorOptions(t.dtype())));
  }
  fs::create_directories(fs::path(path).parent_path());
  save_torch_state_dict(path, net->state_dict());
  return net;
}

// The dataset's image as the network sees it: ToTensor, Normalize(0.5, 0.5), a batch of one.
Tensor network_input(const Tensor& chw) {
  const std::vector<double> v = chw.to_vector();
  std::vector<double> n(v.size());
  for (size_t i = 0; i < v.size(); ++i) n[i] = (float(v[i]) - 0.5f) / 0.5f;
  return from_vector(n, {1, chw.size(0), chw.size(1), chw.size(2)}, TensorOptions(DType::f32));
}

// PIL's convert('L') then ToTensor and Normalize, a batch of one.
Tensor to_gray_input(const Tensor& rgb) {
  const std::vector<double> v = rgb.to_vector();
  const size_t plane = size_t(rgb.size(1) * rgb.size(2));
  std::vector<double> n(plane);
  for (size_t i = 0; i < plane; ++i) {
    const long r = std::lround(v[i] * 255), g = std::lround(v[plane + i] * 255), b = std::lround(v[2 * plane + i] * 255);
    n[i] = (float((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 255.0f - 0.5f) / 0.5f;
  }
  return from_vector(n, {1, 1, rgb.size(1), rgb.size(2)}, TensorOptions(DType::f32));
}

// util.tensor2im's levels: (x + 1) / 2 * 255 in float32, truncated by astype(uint8).
std::vector<long> tensor2im_levels(const Tensor& batch) {
  std::vector<long> out;
  for (double x : batch.to_vector()) out.push_back(long((float(x) + 1.0f) / 2.0f * 255.0f));
  return out;
}

std::vector<long> png_levels(const std::string& path) {
  std::vector<long> out;
  for (double v : load_image(path).to_vector()) out.push_back(std::lround(v * 255));
  return out;
}

std::vector<long> png_levels_of(const Tensor& image) {
  std::vector<long> out;
  for (double v : image.to_vector()) out.push_back(std::lround(v * 255));
  return out;
}

Tensor forward(nn::Module& net, const Tensor& x) {
  NoGradGuard no_grad;
  return net.forward(x);
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("stylegrad test --model test: the official folders, names, page and images") {
  TempDir dir;
  write_image(dir.file("datasets/h2z/testA/n01.png"), 32, 32, 1);
  write_image(dir.file("datasets/h2z/testA/n02.png"), 32, 32, 2);
  auto net = save_generator(dir.file("checkpoints/h2z_pretrained/latest_net_G.pth"), 4, "resnet_9blocks", "instance",
                            false, 5);
  std::string out;
  REQUIRE(run_in(dir, "--dataroot ./datasets/h2z/testA --name h2z_pretrained --model test --no_dropout --ngf 4 "
                      "--crop_size 32 --load_size 32 --gpu_ids -1",
                 &out) == 0);
  INFO(out);
  CHECK(out.find("creating web directory ./results/h2z_pretrained/test_latest") != std::string::npos);
  CHECK(out.find("processing (0000)-th image... ['./datasets/h2z/testA/n01.png']") != std::string::npos);
  CHECK(out.find("processing (0001)-th image") == std::string::npos);  // every 5th, as test.py
  CHECK(out.find("note:") == std::string::npos);
  const std::string web = dir.file("results/h2z_pretrained/test_latest");
  CHECK(names_in(web) == std::vector<std::string>{"images", "index.html"});
  CHECK(names_in(web + "/images") ==
        std::vector<std::string>{"n01_fake.png", "n01_real.png", "n02_fake.png", "n02_real.png"});
  const std::string html = read_all(web + "/index.html");
  CHECK(html.find("<title>Experiment = h2z_pretrained, Phase = test, Epoch = latest</title>") != std::string::npos);
  CHECK(html.find("<h3>n01</h3>") < html.find("<h3>n02</h3>"));
  for (const char* image : {"n01_real.png", "n01_fake.png", "n02_real.png", "n02_fake.png"})
    CHECK(html.find("<img src=\"images/" + std::string(image) + "\" style=\"width:256px\">") != std::string::npos);
  CHECK(html.find("<p>real</p>") < html.find("<p>fake</p>"));

  for (const char* stem : {"n01", "n02"}) {
    INFO(stem);
    const Tensor real = network_input(load_image(dir.file("datasets/h2z/testA/" + std::string(stem) + ".png")));
    const Tensor fake = forward(*net, real);
    const std::vector<long> want = tensor2im_levels(fake);
    CHECK(load_image(web + "/images/" + stem + "_fake.png").shape() == Shape{3, 32, 32});
    CHECK(png_levels(web + "/images/" + stem + "_fake.png") == want);
    CHECK(png_levels(web + "/images/" + stem + "_real.png") == tensor2im_levels(real));
    CHECK(std::set<long>(want.begin(), want.end()).size() > 20);  // a real picture, not a constant
  }

  // Dashes, --num_test, --aspect_ratio (PIL size (h, int(w * ratio))), --results_dir, a GPU id.
  out.clear();
  REQUIRE(run_in(dir, "--dataroot ./datasets/h2z/testA --name h2z_pretrained --no-dropout --ngf 4 --crop-size 32 --load-size 32 "
                      "--num_test 1 --aspect_ratio 1.5 --results-dir out --gpu_ids 0",
                 &out) == 0);
  CHECK(out.find("note: stylegrad runs on the CPU; --gpu_ids 0 is ignored") != std::string::npos);
  CHECK(names_in(dir.file("out/h2z_pretrained/test_latest/images")) ==
        std::vector<std::string>{"n01_fake.png", "n01_real.png"});
  const Tensor stretched = load_image(dir.file("out/h2z_pretrained/test_latest/images/n01_fake.png"));
  CHECK(stretched.shape() == Shape{3, 48, 32});
  CHECK(png_levels(dir.file("out/h2z_pretrained/test_latest/images/n01_fake.png")) ==
        png_levels_of(resize_image_bicubic(load_image(web + "/images/n01_fake.png"), 48, 32)));

  // --model_suffix, --epoch
  fs::copy_file(dir.file("checkpoints/h2z_pretrained/latest_net_G.pth"), dir.file("checkpoints/h2z_pretrained/7_net_G_A.pth"));
  out.clear();
  REQUIRE(run_in(dir, "--dataroot datasets/h2z/testA --name h2z_pretrained --no_dropout --ngf 4 --crop_size 32 --load_size 32 "
                      "--epoch 7 --model_suffix _A",
                 &out) == 0);
  CHECK(png_levels(dir.file("results/h2z_pretrained/test_7/images/n02_fake.png")) ==
        png_levels(web + "/images/n02_fake.png"));
}

TEST_CASE("stylegrad test: --input_nc 1 reads grayscale and saves three equal channels") {
  TempDir dir;
  write_image(dir.file("gray/g.png"), 32, 32, 2);
  auto net = save_generator(dir.file("checkpoints/g1/latest_net_G.pth"), 4, "resnet_6blocks", "instance", false, 9, 1);
  std::string out;
  REQUIRE(run_in(dir, "--dataroot gray --name g1 --netG resnet_6blocks --ngf 4 --crop_size 32 --load_size 32 --no_dropout "
                      "--input_nc 1 --output_nc 1",
                 &out) == 0);
  INFO(out);
  const std::string images = dir.file("results/g1/test_latest/images/");
  const Tensor gray = to_gray_input(load_image(dir.file("gray/g.png")));
  const std::vector<long> want = tensor2im_levels(forward(*net, gray));  // one channel
  std::vector<long> tiled = want;
  for (int c = 1; c < 3; ++c) tiled.insert(tiled.end(), want.begin(), want.end());
  CHECK(png_levels(images + "g_fake.png") == tiled);
}

TEST_CASE("stylegrad test --model cycle_gan: real, fake and reconstructions both ways") {
  TempDir dir;
  write_image(dir.file("data/testA/a1.png"), 32, 32, 3);
  write_image(dir.file("data/testB/b1.png"), 32, 32, 4);
  write_image(dir.file("data/testB/b2.png"), 32, 32, 6);
  auto G_A = save_generator(dir.file("checkpoints/cg/latest_net_G_A.pth"), 4, "resnet_6blocks", "instance", false, 1);
  auto G_B = save_generator(dir.file("checkpoints/cg/latest_net_G_B.pth"), 4, "resnet_6blocks", "instance", false, 2);
  std::string out;
  REQUIRE(run_in(dir, "--dataroot ./data --name cg --model cycle_gan --netG resnet_6blocks --ngf 4 --crop_size 32 --load_size 32", &out) ==
          0);
  INFO(out);
  // test_opt.txt beside the networks, as test.py's print_options writes it.
  const std::string opt = read_all(dir.file("checkpoints/cg/test_opt.txt"));
  CHECK(opt.rfind("----------------- Options ---------------\n", 0) == 0);
  CHECK(opt.find("                    model: cycle_gan                     \t[default: test]\n") != std::string::npos);
  CHECK(opt.find("                  isTrain: False                         \t[default: None]\n") != std::string::npos);
  CHECK(opt.find("             aspect_ratio: 1.0                           \n") != std::string::npos);
  CHECK(opt.find("               no_dropout: True                          \n") != std::string::npos);
  CHECK(opt.find("                    phase: test                          \n") != std::string::npos);
  CHECK(opt.find("model_suffix") == std::string::npos);  // test_model's option only
  // test_options' load_size default is crop_size's default (256), not the given --crop_size.
  CHECK(opt.find("                load_size: 32                            \t[default: 256]\n") != std::string::npos);
  CHECK(opt.size() > opt.find("----------------- End -------------------\n"));
  CHECK(out.find(opt) != std::string::npos);  // printed too
  const std::string images = dir.file("results/cg/test_latest/images/");
  // max(|A|, |B|) = 2 items, named after A (serial pairing: a1 with b1, a1 with b2).
  CHECK(names_in(images) == std::vector<std::string>{"a1_fake_A.png", "a1_fake_B.png", "a1_real_A.png", "a1_real_B.png",
                                                     "a1_rec_A.png", "a1_rec_B.png"});
  const std::string html = read_all(dir.file("results/cg/test_latest/index.html"));
  const std::vector<std::string> order = {"real_A", "fake_B", "rec_A", "real_B", "fake_A", "rec_B"};
  for (size_t i = 0; i + 1 < order.size(); ++i)
    CHECK(html.find("<p>" + order[i] + "</p>") < html.find("<p>" + order[i + 1] + "</p>"));
  // The second item (a1 with b2) overwrote the first's files, as the official save_images does.
  const Tensor real_A = network_input(load_image(dir.file("data/testA/a1.png")));
  const Tensor real_B = network_input(load_image(dir.file("data/testB/b2.png")));
  const Tensor fake_B = forward(*G_A, real_A), fake_A = forward(*G_B, real_B);
  CHECK(png_levels(images + "a1_fake_B.png") == tensor2im_levels(fake_B));
  CHECK(png_levels(images + "a1_rec_A.png") == tensor2im_levels(forward(*G_B, fake_B)));
  CHECK(png_levels(images + "a1_fake_A.png") == tensor2im_levels(fake_A));
  CHECK(png_levels(images + "a1_rec_B.png") == tensor2im_levels(forward(*G_A, fake_A)));
  CHECK(png_levels(images + "a1_real_B.png") == tensor2im_levels(real_B));
}

TEST_CASE("stylegrad test --model pix2pix: aligned A|B, direction, --eval") {
  TempDir dir;
  write_image(dir.file("facades/test/1.png"), 128, 256, 7);
  auto G = save_generator(dir.file("checkpoints/fac/latest_net_G.pth"), 4, "unet_128", "batch", true, 3);
  std::string out;
  REQUIRE(run_in(dir, "--dataroot ./facades --name fac --model pix2pix --direction BtoA --netG unet_128 --ngf 4 "
                      "--crop_size 128 --load_size 128 --eval",
                 &out) == 0);
  INFO(out);
  const std::string images = dir.file("results/fac/test_latest/images/");
  CHECK(names_in(images) == std::vector<std::string>{"1_fake_B.png", "1_real_A.png", "1_real_B.png"});
  const Tensor ab = load_image(dir.file("facades/test/1.png"));
  // BtoA: real_A is the right half.
  const Tensor real_A = network_input(contiguous(narrow(ab, 2, 128, 128)));
  const Tensor real_B = network_input(contiguous(narrow(ab, 2, 0, 128)));
  G->eval();
  CHECK(png_levels(images + "1_fake_B.png") == tensor2im_levels(forward(*G, real_A)));
  CHECK(png_levels(images + "1_real_A.png") == tensor2im_levels(real_A));
  CHECK(png_levels(images + "1_real_B.png") == tensor2im_levels(real_B));
}

TEST_CASE("stylegrad test: bad input is one line and exit 1 (2 for usage errors), before anything is written") {
  TempDir dir;
  write_image(dir.file("imgs/x.png"), 32, 32, 1);
  save_generator(dir.file("checkpoints/six/latest_net_G.pth"), 4, "resnet_6blocks", "instance", false, 1);
  auto fails_with = [&](const std::string& args, const std::string& message, int want_status = 1) {
    std::string out;
    const int status = run_in(dir, args, &out);
    INFO(args, "\n", out);
    CHECK(status == want_status);
    CHECK(out.find(message) != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(dir.file("results")));
  };
  fails_with("--dataroot ./missing --name six --ngf 4", "'./missing' is not a valid directory");
  fails_with("--dataroot imgs --name horse2zebra_pretrained --no_dropout",
             "checkpoint './checkpoints/horse2zebra_pretrained/latest_net_G.pth' not found; for the official "
             "pretrained 'horse2zebra': weights/fetch.sh cyclegan-horse2zebra");
  fails_with("--dataroot imgs --name six --ngf 4 --no_dropout --crop_size 32 --load_size 32",
             "the file has 6 residual blocks, --netG resnet_9blocks expects 9");
  fails_with("--dataroot imgs --name six --ngf 4 --frobnicate", "unknown option --frobnicate", 2);  // a usage error (README "Exit status")
  fails_with("--dataroot imgs --name six --ngf 4 --batch_size 4", "--batch_size 4: stylegrad test translates one image", 2);
  fails_with("--dataroot imgs --name six --model stargan", "--model 'stargan': expected test, cycle_gan, pix2pix, cut or sincut", 2);
  fails_with("--name six", "--dataroot is required", 2);
  // Results that would land beside the inputs are refused.
  write_image(dir.file("results/six/test_latest/images/x.png"), 32, 32, 1);
  std::string out;
  CHECK(run_in(dir, "--dataroot results/six/test_latest/images --name six --netG resnet_6blocks --ngf 4 --no_dropout "
                    "--crop_size 32 --load_size 32",
               &out) == 2);
  CHECK(out.find("where it could be overwritten") != std::string::npos);
}
