// SinCUT's single-image data (data/singleimage_dataset.h) and PIL's bilinear
// resize it uses (io/image.h, against files Pillow wrote:
// scripts/make_pil_resize_reference.py).
#include <filesystem>
#include <set>

#include "data/singleimage_dataset.h"
#include "io/image.h"
#include "ops/ops.h"
#include "tensor/random.h"
#include "test_util.h"

using namespace sg;
using namespace sg::data;
using sg::test::TempDir;
using sg::test::error_of;

namespace {

const std::string kPilDir = std::string(STYLEGRAD_SOURCE_DIR) + "/tests/data/pil_resize/";

std::vector<long> levels(const Tensor& t) {
  std::vector<long> out;
  for (double v : t.to_vector()) out.push_back(std::lround(v * 255.0));
  return out;
}

// A [3, h, w] image whose pixel (c, y, x) has level (c * 71 + y * 13 + x * 7) % 256.
Tensor pattern_image(int64_t h, int64_t w) {
  std::vector<double> v;
  for (int64_t k = 0; k < 3; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v.push_back(double((k * 71 + y * 13 + x * 7) % 256) / 255.0);
  return from_vector(v, {3, h, w}, TensorOptions(DType::f32));
}

// dataroot/trainA/a.png (wa x ha) and trainB/b.png (wb x hb).
void make_pair(const TempDir& dir, int64_t wa, int64_t ha, int64_t wb, int64_t hb) {
  std::filesystem::create_directories(dir.path / "trainA");
  std::filesystem::create_directories(dir.path / "trainB");
  save_image(pattern_image(ha, wa), dir.file("trainA/a.png"));
  save_image(pattern_image(hb, wb), dir.file("trainB/b.png"));
}

}  // namespace

TEST_CASE("singleimage: bilinear resize matches Pillow's Image.BILINEAR bit for bit") {
  const Tensor input = load_image(kPilDir + "input.png");
  for (auto [w, h] : std::vector<std::pair<int, int>>{{19, 11}, {64, 50}, {37, 40}, {16, 23}, {8, 5}, {100, 7}}) {
    INFO(w, "x", h);
    const Tensor want = load_image(kPilDir + "bilinear_" + std::to_string(w) + "x" + std::to_string(h) + ".png");
    const Tensor got = resize_image_bilinear(input, h, w);
    REQUIRE(got.shape() == Shape{3, h, w});
    CHECK(levels(got) == levels(want));
  }
}

TEST_CASE("singleimage: zoom_and_patch items: 64x64 patches, one zoom per minibatch, shuffled patch ids") {
  TempDir dir;
  make_pair(dir, 200, 150, 130, 260);
  SingleImageOptions opt;
  opt.dataroot = dir.path.string();
  opt.batch_size = 4;
  Generator gen(3);
  SingleImageDataset ds(opt, gen);
  CHECK(ds.size() == 100000);
  CHECK(ds.A_path == dir.file("trainA/a.png"));
  // zoom levels: in [1/3, 1), the same within a minibatch of 4 consecutive indices
  for (int64_t i = 0; i < 400; ++i) {
    const auto [zx, zy] = ds.zoom_A(i);
    CHECK(zx >= 1.0 / 3.0);
    CHECK(zx < 1.0);
    CHECK(zy >= 1.0 / 3.0);
    CHECK(zy < 1.0);
    CHECK(ds.zoom_A(i) == ds.zoom_A(i - i % 4));
  }
  CHECK(ds.zoom_A(0) != ds.zoom_A(4));
  CHECK(ds.zoom_A(0) != ds.zoom_B(0));
  // patch indices: a permutation of 0 .. 99999, not the identity
  std::vector<int64_t> sorted = ds.patch_indices_A;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100000; ++i) REQUIRE(sorted[size_t(i)] == i);
  CHECK(ds.patch_indices_A != sorted);
  CHECK(ds.patch_indices_A != ds.patch_indices_B);
  // items: [1, 3, 64, 64] in [-1, 1]
  std::set<std::vector<double>> distinct;
  for (int64_t i = 0; i < 6; ++i) {
    const Sample s = ds.get(i);
    REQUIRE(s.A.shape() == Shape{1, 3, 64, 64});
    REQUIRE(s.B.shape() == Shape{1, 3, 64, 64});
    for (double v : s.A.to_vector()) REQUIRE((v >= -1.0 && v <= 1.0));
    distinct.insert(s.A.to_vector());
  }
  CHECK(distinct.size() == 6);
  CHECK(error_of([&] { ds.get(100000); }) == "SingleImageDataset: index 100000 is out of range [0, 100000)");
}

TEST_CASE("singleimage: the transform's steps on known values") {
  SingleImageOptions opt;
  opt.crop_size = 4;
  opt.no_flip = true;
  Generator gen(1);
  const Tensor img = pattern_image(8, 12);
  // zoom 1: no resize; the patch grid is 3 x 2 tiles with no room left: index 3 -> ix 1, iy 1
  SingleImageParams p;
  p.patch_index = 3;
  const Tensor patch = single_image_transform(img, opt, &p, gen);
  const Tensor want = (img.narrow(1, 4, 4).narrow(2, 4, 4).contiguous() - 0.5) / 0.5;
  CHECK(patch.to_vector() == want.to_vector());
  // index wraps modulo the tile count (6)
  p.patch_index = 9;
  CHECK(single_image_transform(img, opt, &p, gen).to_vector() == want.to_vector());
  // the flip mirrors the patch
  opt.no_flip = false;
  p.flip = true;
  CHECK(single_image_transform(img, opt, &p, gen).to_vector() == flip(want, {2}).to_vector());
  // zoom never shrinks a side below the crop: 12 x 8 at 0.1 -> 4 x 4, one tile
  p.zoom_x = p.zoom_y = 0.1;
  p.flip = false;
  CHECK(single_image_transform(img, opt, &p, gen).to_vector() ==
        ((resize_image_bilinear(img, 4, 4) - 0.5) / 0.5).to_vector());
  // preprocess none (SinCUT's test): the whole image, sides rounded to multiples of 4
  opt.preprocess = "none";
  opt.no_flip = true;
  CHECK(single_image_transform(pattern_image(10, 13), opt, nullptr, gen).shape() == Shape{3, 8, 12});
}

TEST_CASE("singleimage: test phase gives the whole images; bad folders give one line") {
  TempDir dir;
  make_pair(dir, 60, 41, 32, 32);
  SingleImageOptions opt;
  opt.dataroot = dir.path.string();
  opt.phase = "test";
  opt.preprocess = "none";
  opt.no_flip = true;
  Generator gen(2);
  SingleImageDataset ds(opt, gen);
  const Sample s = ds.get(7);
  CHECK(s.A.shape() == Shape{1, 3, 40, 60});
  CHECK(s.B.shape() == Shape{1, 3, 32, 32});

  save_image(pattern_image(8, 8), dir.file("trainB/c.png"));
  CHECK(error_of([&] { SingleImageDataset bad(opt, gen); }) ==
        "SingleImageDataset: '" + dir.file("trainB") + "' must hold exactly one image, it holds 2");
  TempDir empty;
  opt.dataroot = empty.path.string();
  CHECK(error_of([&] { SingleImageDataset bad(opt, gen); }) == "'" + empty.file("trainA") + "' is not a valid directory");
  opt.dataroot = dir.path.string();
  opt.random_scale_max = 0.5;
  CHECK(error_of([&] { SingleImageDataset bad(opt, gen); }) ==
        "SingleImageDataset: --random_scale_max must be >= 1, got 0.5");
}
