#include "io/image.h"

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;
namespace fs = std::filesystem;

namespace {

// A [3, h, w] image whose values are exact 8-bit levels k / 255.
Tensor levels_image(int64_t h, int64_t w) {
  std::vector<double> v;
  for (int64_t i = 0; i < 3 * h * w; ++i) v.push_back(double((i * 37) % 256) / 255.0);
  return from_vector(v, {3, h, w});
}

// A smooth image, which JPEG compresses with small errors.
Tensor smooth_image(int64_t h, int64_t w) {
  std::vector<double> v;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v.push_back(0.5 + 0.4 * std::sin(0.1 * x + 0.07 * y + c));
  return from_vector(v, {3, h, w});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string be32(uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

// One PNG chunk: length, type, data, CRC-32 of type + data (ISO 3309, as PNG specifies).
std::string png_chunk(const std::string& type, const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : type + data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return be32(uint32_t(data.size())) + type + data + be32(crc ^ 0xFFFFFFFFu);
}

// A PNG whose header claims w x h 8-bit RGB pixels, followed by `idat_bytes`
// of (meaningless) image data and the end chunk: small on disk, huge decoded.
std::string png_claiming(uint32_t w, uint32_t h, size_t idat_bytes) {
  const std::string ihdr = be32(w) + be32(h) + std::string{8, 2, 0, 0, 0};  // depth 8, RGB, deflate, no interlace
  return "\x89PNG\r\n\x1a\n" + png_chunk("IHDR", ihdr) + png_chunk("IDAT", std::string(idat_bytes, '\0')) +
         png_chunk("IEND", "");
}

}  // namespace

TEST_CASE("image: PNG round trip is exact for 8-bit levels") {
  TempDir dir;
  Tensor img = levels_image(5, 7);
  save_image(img, dir.file("a.png"));
  Tensor back = load_image(dir.file("a.png"));
  CHECK(back.dtype() == DType::f32);
  check_close(back, img, 0, 1e-7);
  // float64 input, uppercase extension
  save_image(img.to(DType::f64), dir.file("b.PNG"));
  check_close(load_image(dir.file("b.PNG")), img, 0, 1e-7);
}

TEST_CASE("image: saving clamps to [0, 1] and rounds to the nearest level") {
  TempDir dir;
  Tensor img = from_vector({-0.5, 1.7, 0.2, 0.5, 100.0 / 255 + 0.4 / 255, 100.0 / 255 + 0.6 / 255}, {1, 2, 3});
  save_image(img, dir.file("c.png"));
  Tensor back = load_image(dir.file("c.png")).narrow(0, 0, 1);
  check_close(back, from_vector({0, 1, 51.0 / 255, 128.0 / 255, 100.0 / 255, 101.0 / 255}, {1, 2, 3}), 0, 1e-7);
}

TEST_CASE("image: JPEG round trip is close") {
  TempDir dir;
  Tensor img = smooth_image(32, 48);
  save_image(img, dir.file("a.jpg"));
  Tensor back = load_image(dir.file("a.jpg"));
  REQUIRE(back.shape() == Shape{3, 32, 48});
  CHECK(mean(abs(back - img)).item() < 0.01);
  CHECK(max(abs(back - img)).item() < 0.1);
  // lower quality: a smaller file
  save_image(img, dir.file("low.jpeg"), 10);
  CHECK(fs::file_size(dir.file("low.jpeg")) < fs::file_size(dir.file("a.jpg")));
}

TEST_CASE("image: greyscale becomes three equal channels") {
  TempDir dir;
  Tensor grey = levels_image(4, 6).narrow(0, 0, 1);  // [1, 4, 6]
  save_image(grey, dir.file("g.png"));
  save_image(grey.reshape({4, 6}), dir.file("hw.png"));
  for (const char* name : {"g.png", "hw.png"}) {
    Tensor back = load_image(dir.file(name));
    REQUIRE(back.shape() == Shape{3, 4, 6});
    for (int c = 0; c < 3; ++c) check_close(back.narrow(0, c, 1), grey, 0, 1e-7);
  }
}

TEST_CASE("image: unreadable files give one clear line") {
  TempDir dir;
  const std::string missing = dir.file("missing.png");
  CHECK(error_of([&] { load_image(missing); }) == "cannot read image '" + missing + "': no such file");

  const std::string garbage = dir.file("garbage.jpg");
  write_bytes(garbage, "this is not an image, just some bytes\n");
  const std::string e = error_of([&] { load_image(garbage); });
  CHECK(e.find("cannot read image '" + garbage + "': not a PNG/JPEG/BMP image or corrupt (") == 0);
  CHECK(e.find('\n') == std::string::npos);

  // A PNG cut in half: the header reads, the pixels do not.
  save_image(smooth_image(64, 64), dir.file("whole.png"));
  std::ifstream in(dir.file("whole.png"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_bytes(dir.file("half.png"), bytes.substr(0, bytes.size() / 2));
  CHECK(error_of([&] { load_image(dir.file("half.png")); })
            .find("cannot read image '" + dir.file("half.png") + "': not a PNG/JPEG/BMP image or corrupt (") == 0);

  CHECK(error_of([&] { load_image(dir.path.string()); }) == "cannot read image '" + dir.path.string() + "': is a directory");
}

TEST_CASE("image: absurd dimensions are refused before allocating") {
  TempDir dir;
  // A valid BMP header claiming 100000 x 100000 pixels, and no pixel data.
  auto le32 = [](uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; };
  const std::string bmp = "BM" + le32(0) + le32(0) + le32(54) + le32(40) + le32(100000) + le32(100000) + std::string{1, 0, 24, 0} +
        le32(0) + le32(0) + le32(0) + le32(0) + le32(0) + le32(0);
  write_bytes(dir.file("huge.bmp"), bmp);
  const std::string e = error_of([&] { load_image(dir.file("huge.bmp")); });
  CHECK(e == "cannot read image '" + dir.file("huge.bmp") + "': 100000x100000 pixels is outside 1..16384 per side");
}

TEST_CASE("image: small files claiming huge images are refused from their header, naming the size") {
  TempDir dir;
  // A 200 KB PNG that claims 16000 x 16000 pixels (768 MB as RGB, 3 GB as floats).
  const std::string big = dir.file("big.png");
  write_bytes(big, png_claiming(16000, 16000, 200'000));
  CHECK(error_of([&] { load_image(big); }) ==
        "cannot read image '" + big + "': 16000x16000 pixels is more than the limit of 50 megapixels");
  // 20000 x 20000: stb's own header check refuses it (over 2^30 bytes) with
  // another format's "unknown image type"; the PNG's size is read first.
  const std::string bigger = dir.file("bigger.png");
  write_bytes(bigger, png_claiming(20000, 20000, 200'000));
  CHECK(error_of([&] { load_image(bigger); }) ==
        "cannot read image '" + bigger + "': 20000x20000 pixels is outside 1..16384 per side");
  // A width past int's range is still named as too large, not wrapped round.
  const std::string wide = dir.file("wide.png");
  write_bytes(wide, png_claiming(0xFFFFFFF0u, 1, 1000));
  CHECK(error_of([&] { load_image(wide); }).find("pixels is outside 1..16384 per side") != std::string::npos);
  // Within the side limit but over the pixel limit: 9000 x 6000 = 54 megapixels.
  const std::string many = dir.file("many_pixels.png");
  write_bytes(many, png_claiming(9000, 6000, 1000));
  CHECK(error_of([&] { load_image(many); }) ==
        "cannot read image '" + many + "': 9000x6000 pixels is more than the limit of 50 megapixels");
  // Just under the limit, the header passes and decoding then finds the data corrupt.
  const std::string under = dir.file("under.png");
  write_bytes(under, png_claiming(5000, 5000, 1000));
  CHECK(error_of([&] { load_image(under); }).find("not a PNG/JPEG/BMP image or corrupt") != std::string::npos);
}

TEST_CASE("image: a failed save leaves nothing behind and keeps the old file") {
  TempDir dir;
  const std::string in_missing_dir = dir.file("no_such_dir/out.png");
  CHECK(error_of([&] { save_image(levels_image(2, 2), in_missing_dir); }) ==
        "cannot write image '" + in_missing_dir + "': directory '" + dir.file("no_such_dir") + "' does not exist");
  CHECK(!fs::exists(in_missing_dir));
  CHECK(dir.entries().empty());

  CHECK(error_of([&] { save_image(levels_image(2, 2), dir.file("out.bmp")); })
            .find("cannot write image '" + dir.file("out.bmp") + "': unknown extension '.bmp'") == 0);
  CHECK(error_of([&] { save_image(zeros({2, 2, 2}), dir.file("out.png")); })
            .find("cannot write image '" + dir.file("out.png") + "': expected shape [3, H, W], [1, H, W] or [H, W]") == 0);
  CHECK(dir.entries().empty());

  // The write succeeds but the final rename cannot (the target is a directory):
  // the temporary file must be cleaned up.
  fs::create_directory(dir.file("taken.png"));
  CHECK(error_of([&] { save_image(levels_image(2, 2), dir.file("taken.png")); })
            .find("cannot write image '" + dir.file("taken.png") + "': ") == 0);
  CHECK(dir.entries() == std::vector<std::string>{"taken.png"});
  CHECK(fs::is_directory(dir.file("taken.png")));

  // An invalid save over an existing image leaves that image intact.
  save_image(levels_image(3, 3), dir.file("keep.png"));
  CHECK(!error_of([&] { save_image(levels_image(3, 3), dir.file("keep.png"), 0); }).empty());
  check_close(load_image(dir.file("keep.png")), levels_image(3, 3), 0, 1e-7);
}

TEST_CASE("image: saving over an existing file replaces it whole") {
  TempDir dir;
  const std::string path = dir.file("out.png");
  save_image(levels_image(8, 8), path);
  save_image(zeros({3, 2, 5}), path);
  Tensor back = load_image(path);
  CHECK(back.shape() == Shape{3, 2, 5});
  check_close(back, zeros({3, 2, 5}));
  CHECK(dir.entries() == std::vector<std::string>{"out.png"});  // no temporary file left over
}

TEST_CASE("resize_image: shrinking averages areas, growing interpolates") {
  // 4x4 -> 2x2: each output pixel is the mean of its 2x2 block.
  Tensor x = arange(0, 16, 1, DType::f64).reshape({1, 4, 4});
  check_close(resize_image(x, 2, 2), t64({2.5, 4.5, 10.5, 12.5}, {1, 2, 2}), 1e-6, 1e-5);
  // A one-pixel checkerboard shrinks to flat grey instead of aliasing.
  std::vector<double> board;
  for (int y = 0; y < 8; ++y)
    for (int x2 = 0; x2 < 8; ++x2) board.push_back((x2 + y) % 2);
  check_close(resize_image(from_vector(board, {8, 8}), 4, 4), full({4, 4}, 0.5), 1e-6, 1e-6);
  // Growing 1x2 -> 1x4: linear between pixel centres, edges clamped.
  check_close(resize_image(t64({0, 1}, {1, 1, 2}), 1, 4), t64({0, 0.25, 0.75, 1}, {1, 1, 4}), 1e-6, 1e-6);
  // Shapes, dtypes and constants survive.
  Tensor img = full({3, 10, 12}, 0.3);
  Tensor r = resize_image(img, 7, 17);
  CHECK(r.shape() == Shape{3, 7, 17});
  CHECK(r.dtype() == DType::f32);
  check_close(r, full({3, 7, 17}, 0.3), 1e-6, 1e-6);
  CHECK(resize_image(zeros({5, 6}, DType::f64), 3, 3).dtype() == DType::f64);
  CHECK(error_of([&] { resize_image(img, 0, 4); }).find("resize_image: target size 0x4") == 0);
}

TEST_CASE("image: a sample photo loads (if the shared images are present)") {
  const std::string path = STYLEGRAD_SOURCE_DIR "/../shared/images/content/chelsea.png";
  if (!fs::exists(path)) {
    MESSAGE("skipped: " << path << " not found");
    return;
  }
  Tensor img = load_image(path);
  REQUIRE(img.dim() == 3);
  CHECK(img.size(0) == 3);
  CHECK(img.size(1) > 16);
  CHECK(img.size(2) > 16);
  const double lo = -max(-img).item(), hi = max(img).item();
  CHECK(lo >= 0.0);
  CHECK(hi <= 1.0);
  CHECK(hi > lo);
  Tensor small = resize_image(img, img.size(1) / 2, img.size(2) / 2);
  CHECK(mean(small).item() == doctest::Approx(mean(img).item()).epsilon(0.01));
}
