// data/: image folders, the official transforms and datasets; io's PIL-exact
// bicubic resize (against files Pillow wrote: scripts/make_pil_resize_reference.py).
#include <filesystem>
#include <fstream>

#include "data/datasets.h"
#include "data/image_folder.h"
#include "data/transforms.h"
#include "io/image.h"
#include "tensor/random.h"
#include "test_util.h"

using namespace sg;
using namespace sg::data;
using sg::test::TempDir;

namespace {

const std::string kPilDir = std::string(STYLEGRAD_SOURCE_DIR) + "/tests/data/pil_resize/";

std::vector<long> levels(const Tensor& t) {
  std::vector<long> out;
  for (double v : t.to_vector()) out.push_back(std::lround(v * 255.0));
  return out;
}

// A [C, H, W] image whose pixel (c, y, x) has level (c * 71 + y * 13 + x * 7) % 256.
Tensor pattern_image(int64_t c, int64_t h, int64_t w) {
  std::vector<double> v;
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v.push_back(double((k * 71 + y * 13 + x * 7) % 256) / 255.0);
  return from_vector(v, {c, h, w}, TensorOptions(DType::f32));
}

Tensor constant_image(int64_t h, int64_t w, int level) {
  return from_vector(std::vector<double>(size_t(3 * h * w), level / 255.0), {3, h, w}, TensorOptions(DType::f32));
}

void touch(const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << "x";
}

// (level / 255 - 0.5) / 0.5 in float32, as ToTensor + Normalize.
float normalised(long level) { return (float(level) / 255.0f - 0.5f) / 0.5f; }

}  // namespace

TEST_CASE("data: bicubic resize matches Pillow's Image.resize(BICUBIC) bit for bit") {
  const Tensor input = load_image(kPilDir + "input.png");
  for (auto [w, h] : std::vector<std::pair<int, int>>{{19, 11}, {64, 50}, {37, 40}, {16, 23}, {8, 5}, {100, 7}}) {
    INFO(w, "x", h);
    const Tensor want = load_image(kPilDir + "bicubic_" + std::to_string(w) + "x" + std::to_string(h) + ".png");
    const Tensor got = resize_image_bicubic(input, h, w);
    REQUIRE(got.shape() == Shape{3, h, w});
    CHECK(levels(got) == levels(want));
  }
}

TEST_CASE("data: bilinear resize matches Pillow's Image.resize(BILINEAR) bit for bit") {
  const Tensor input = load_image(kPilDir + "input.png");
  for (auto [w, h] : std::vector<std::pair<int, int>>{{19, 11}, {64, 50}, {37, 40}, {16, 23}, {8, 5}, {100, 7}}) {
    INFO(w, "x", h);
    const Tensor want = load_image(kPilDir + "bilinear_" + std::to_string(w) + "x" + std::to_string(h) + ".png");
    const Tensor got = resize_image_pil(input, h, w, PilFilter::bilinear);
    REQUIRE(got.shape() == Shape{3, h, w});
    CHECK(levels(got) == levels(want));
    // The filters differ wherever the image is not smooth.
    CHECK(levels(got) != levels(resize_image_bicubic(input, h, w)));
  }
}

TEST_CASE("data: grayscale matches Pillow's convert('L')") {
  const Tensor gray = to_grayscale(load_image(kPilDir + "input.png"));
  const Tensor want = narrow(load_image(kPilDir + "gray.png"), 0, 0, 1);
  REQUIRE(gray.shape() == Shape{1, 23, 37});
  CHECK(levels(gray) == levels(contiguous(want)));
}

TEST_CASE("data: image folders list the official extensions, recursively, sorted by path") {
  TempDir dir;
  for (const char* name : {"b.png", "a.jpg", "c.JPEG", "sub/z.bmp", "sub/deeper/a.PNG", "d.tif", "e.ppm",
                           "notes.txt", "f.Png", "g.gif", "h.webp", "png"})
    touch(dir.file(name));
  const std::string root = dir.path.string();
  const std::vector<std::string> want = {root + "/a.jpg",     root + "/b.png",      root + "/c.JPEG",
                                         root + "/d.tif",     root + "/e.ppm",      root + "/sub/deeper/a.PNG",
                                         root + "/sub/z.bmp"};
  CHECK(make_dataset(root) == want);
  CHECK(make_dataset(root, 2) == std::vector<std::string>(want.begin(), want.begin() + 2));
  CHECK(is_image_file("x.tiff"));
  CHECK_FALSE(is_image_file("x.Jpg"));
  CHECK(test::error_of([&] { make_dataset(dir.file("missing")); }).find("is not a valid directory") !=
        std::string::npos);
}

TEST_CASE("data: transforms give the official sizes") {
  Generator gen(1);
  auto size_after = [&](const std::string& preprocess, int64_t load, int64_t crop, int64_t h, int64_t w) {
    TransformOptions opt;
    opt.preprocess = preprocess;
    opt.load_size = load;
    opt.crop_size = crop;
    opt.no_flip = true;
    const Tensor t = apply_transform(pattern_image(3, h, w), opt, nullptr, false, gen, "img");
    return std::vector<int64_t>{t.size(1), t.size(2)};
  };
  using V = std::vector<int64_t>;
  CHECK(size_after("resize_and_crop", 40, 32, 30, 50) == V{32, 32});
  CHECK(size_after("crop", 40, 16, 30, 50) == V{16, 16});
  CHECK(size_after("scale_width", 40, 16, 30, 60) == V{20, 40});                // h = 40 * 30 / 60
  CHECK(size_after("scale_width", 40, 16, 20, 80) == V{16, 40});                // h = max(10, crop 16)
  CHECK(size_after("scale_width", 40, 16, 61, 40) == V{61, 40});                // already 40 wide: kept
  CHECK(size_after("scale_width_and_crop", 40, 16, 30, 60) == V{16, 16});
  CHECK(size_after("none", 40, 16, 22, 30) == V{24, 32});                       // 5.5 -> 6, 7.5 -> 8
  CHECK(size_after("none", 40, 16, 26, 18) == V{24, 16});                       // 6.5 -> 6, 4.5 -> 4 (half to even)
  CHECK(size_after("none", 40, 16, 24, 36) == V{24, 36});
  CHECK(round_to_multiple_of_4(10) == 8);  // 2.5 -> 2
  CHECK(round_to_multiple_of_4(14) == 16); // 3.5 -> 4

  TransformOptions bad;
  bad.preprocess = "resize";
  CHECK(test::error_of([&] { check_transform_options(bad); }).find("--preprocess 'resize'") != std::string::npos);
  TransformOptions small;
  small.preprocess = "crop";
  small.crop_size = 64;
  CHECK(test::error_of([&] { apply_transform(pattern_image(3, 30, 50), small, nullptr, false, gen, "x.png"); })
            .find("'x.png': --crop_size 64 is larger than the image") != std::string::npos);
}

TEST_CASE("data: crop and flip parameters, values normalised to [-1, 1]") {
  Generator gen(3);
  const Tensor img = pattern_image(3, 30, 50);
  const std::vector<long> src = levels(img);
  TransformOptions opt;
  opt.preprocess = "crop";
  opt.crop_size = 16;
  opt.no_flip = false;
  TransformParams params;
  params.crop_x = 7;
  params.crop_y = 5;
  for (bool flip : {false, true}) {
    params.flip = flip;
    const Tensor t = apply_transform(img, opt, &params, false, gen, "img");
    REQUIRE(t.shape() == Shape{3, 16, 16});
    const std::vector<double> v = t.to_vector();
    bool same = true;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 16; ++y)
        for (int64_t x = 0; x < 16; ++x) {
          const int64_t sx = 7 + (flip ? 15 - x : x);
          same &= float(v[size_t((c * 16 + y) * 16 + x)]) == normalised(src[size_t((c * 30 + 5 + y) * 50 + sx)]);
        }
    CHECK(same);
  }
  // get_params: a crop position inside the resized image.
  opt.preprocess = "resize_and_crop";
  opt.load_size = 20;
  for (int i = 0; i < 50; ++i) {
    const TransformParams p = get_params(opt, 50, 30, gen);
    CHECK(p.crop_x >= 0);
    CHECK(p.crop_x <= 4);
    CHECK(p.crop_y <= 4);
  }
}

TEST_CASE("data: aligned images split A|B, and direction picks the grayscale side") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("test"));
  // 33 x 16: A is the left int(33 / 2) = 16 columns (level 40), B the other 17 (level 200).
  std::vector<double> v;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 33; ++x) v.push_back((x < 16 ? 40 : 200) / 255.0);
  save_image(from_vector(v, {3, 16, 33}, TensorOptions(DType::f32)), dir.file("test/1.png"));
  DatasetOptions opt;
  opt.dataset_mode = "aligned";
  opt.dataroot = dir.path.string();
  opt.phase = "test";
  opt.transform.preprocess = "none";
  opt.transform.no_flip = true;
  Generator gen(0);
  auto ds = create_dataset(opt, gen);
  REQUIRE(ds->size() == 1);
  Sample s = ds->get(0);
  REQUIRE(s.A.shape() == Shape{1, 3, 16, 16});
  REQUIRE(s.B.shape() == Shape{1, 3, 16, 16});  // 17 columns rounded to 16
  CHECK(s.A_path == dir.file("test/1.png"));
  CHECK(s.A.to_vector()[0] == doctest::Approx(normalised(40)));
  CHECK(s.B.to_vector()[5] == doctest::Approx(normalised(200)));

  opt.direction = "BtoA";
  opt.input_nc = 1;  // BtoA: B is the input, so B is read as grayscale
  auto swapped = create_dataset(opt, gen);
  s = swapped->get(0);
  CHECK(s.A.size(1) == 3);
  CHECK(s.B.size(1) == 1);
}

TEST_CASE("data: single and unaligned datasets") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("testA"));
  std::filesystem::create_directories(dir.file("testB"));
  for (int i = 0; i < 3; ++i) save_image(constant_image(8, 8, 10 * i), dir.file("testA/a" + std::to_string(i) + ".png"));
  for (int i = 0; i < 2; ++i) save_image(constant_image(8, 8, 100 + i), dir.file("testB/b" + std::to_string(i) + ".png"));
  DatasetOptions opt;
  opt.dataroot = dir.path.string();
  opt.phase = "test";
  opt.serial_batches = true;
  opt.transform.preprocess = "resize_and_crop";
  opt.transform.load_size = opt.transform.crop_size = 8;
  opt.transform.no_flip = true;
  Generator gen(0);
  auto unaligned = create_dataset(opt, gen);
  REQUIRE(unaligned->size() == 3);  // max(|A|, |B|)
  const Sample s = unaligned->get(2);
  CHECK(s.A_path == dir.file("testA/a2.png"));
  CHECK(s.B_path == dir.file("testB/b0.png"));  // 2 % 2
  CHECK(s.B.to_vector()[0] == doctest::Approx(normalised(100)));

  opt.dataset_mode = "single";
  opt.dataroot = dir.file("testA");
  opt.input_nc = 1;
  auto single = create_dataset(opt, gen);
  REQUIRE(single->size() == 3);
  const Sample a = single->get(1);
  CHECK(a.A_path == dir.file("testA/a1.png"));
  CHECK(a.A.shape() == Shape{1, 1, 8, 8});
  CHECK_FALSE(a.B.defined());

  opt.dataroot = dir.file("empty");
  std::filesystem::create_directories(opt.dataroot);
  CHECK(test::error_of([&] { create_dataset(opt, gen); }).find("holds no images") != std::string::npos);
  opt.dataset_mode = "paired";
  CHECK(test::error_of([&] { create_dataset(opt, gen); }).find("--dataset_mode 'paired'") != std::string::npos);
}

TEST_CASE("data: zoom_and_patch zooms each side, then cuts the indexed grid cell (CUT's __random_zoom, __patch)") {
  Generator gen(3);
  TransformOptions t;
  t.preprocess = "zoom_and_patch";
  t.crop_size = 32;
  t.no_flip = true;
  t.resize_filter = PilFilter::bilinear;
  const Tensor img = pattern_image(3, 96, 128);
  // 128 x 96 zoomed by (0.5, 2/3) is 64 x 64: a 2 x 2 grid with no room left,
  // so the cell's place is fixed. Cells run down the columns: index 5 % 4 = 1 is
  // column 0, row 1.
  TransformParams p;
  p.has_zoom = true;
  p.zoom_w = 0.5;
  p.zoom_h = 2.0 / 3.0;
  p.patch_index = 5;
  const Tensor got = apply_transform(img, t, &p, false, gen, "img");
  REQUIRE(got.shape() == Shape{3, 32, 32});
  const Tensor zoomed = resize_image_pil(img, 64, 64, PilFilter::bilinear);
  const Tensor cell = contiguous(narrow(narrow(zoomed, 1, 32, 32), 2, 0, 32));
  CHECK(levels((got + 1.0) * 0.5) == levels(cell));
  p.patch_index = 2;  // column 1, row 0
  const Tensor other = contiguous(narrow(narrow(zoomed, 1, 0, 32), 2, 32, 32));
  CHECK(levels((apply_transform(img, t, &p, false, gen, "img") + 1.0) * 0.5) == levels(other));
  // A zoom never goes below the crop: 0.1 of 96 rows is still 32 rows (one grid row).
  p.zoom_h = 0.1;
  p.patch_index = 1;  // 2 columns x 1 row: cell 1 is column 1
  CHECK(apply_transform(img, t, &p, false, gen, "img").shape() == Shape{3, 32, 32});
  // Without a patch index the transform cannot choose a cell.
  CHECK(test::error_of([&] { apply_transform(img, t, nullptr, false, gen, "img"); }).find("needs a patch index") !=
        std::string::npos);
}

TEST_CASE("data: the singleimage dataset (SinCUT): one image per side, patches of zoomed copies, whole images at test") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("trainA"));
  std::filesystem::create_directories(dir.file("trainB"));
  save_image(pattern_image(3, 80, 120), dir.file("trainA/photo.png"));
  save_image(constant_image(70, 90, 200), dir.file("trainB/painting.png"));
  DatasetOptions opt;
  opt.dataset_mode = "singleimage";
  opt.dataroot = dir.path.string();
  opt.batch_size = 4;
  opt.transform.preprocess = "zoom_and_patch";
  opt.transform.crop_size = 16;
  Generator gen(0);
  auto ds = create_dataset(opt, gen);
  CHECK(ds->size() == 100000);
  std::vector<std::vector<long>> seen;
  for (int64_t i = 0; i < 8; ++i) {
    const Sample s = ds->get(i);
    REQUIRE(s.A.shape() == Shape{1, 3, 16, 16});
    REQUIRE(s.B.shape() == Shape{1, 3, 16, 16});
    CHECK(s.A_path == dir.file("trainA/photo.png"));
    seen.push_back(levels(s.A));
    // The painting is one colour: every patch of every zoom is that colour.
    for (double v : s.B.to_vector()) CHECK(v == doctest::Approx((200 / 255.0 - 0.5) / 0.5).epsilon(1e-6));
  }
  std::sort(seen.begin(), seen.end());
  CHECK(std::unique(seen.begin(), seen.end()) - seen.begin() >= 6);  // different places and zooms
  // Seeded: the same generator seed gives the same items.
  Generator gen2(0);
  auto again = create_dataset(opt, gen2);
  Generator gen3(0);
  auto third = create_dataset(opt, gen3);
  CHECK(levels(again->get(3).A) == levels(third->get(3).A));

  // Test phase: the whole images, sides rounded to multiples of 4 (90 x 70 -> 88 x 72).
  opt.phase = "test";
  opt.transform.preprocess = "none";
  opt.transform.no_flip = true;
  auto test = create_dataset(opt, gen);
  const Sample s = test->get(0);
  CHECK(s.A.shape() == Shape{1, 3, 80, 120});
  CHECK(s.B.shape() == Shape{1, 3, 72, 88});

  // Exactly one image each.
  save_image(constant_image(20, 20, 1), dir.file("trainA/second.png"));
  CHECK(test::error_of([&] { create_dataset(opt, gen); })
            .find("holds 2 images; the singleimage dataset (SinCUT) takes exactly one") != std::string::npos);
}
