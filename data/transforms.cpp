#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "io/image.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::data {

namespace {

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// Python's random.randint(0, n) stands in as a uniform draw from gen.
int64_t randint(Generator& gen, int64_t n) { return std::min<int64_t>(n, int64_t(gen.uniform() * double(n + 1))); }

// PIL's img.crop((x, y, x + size, y + size)): pixels outside the image are 0.
Tensor crop(const Tensor& img, int64_t x0, int64_t y0, int64_t size) {
  const int64_t C = img.size(0), H = img.size(1), W = img.size(2);
  const Tensor src = contiguous(img);
  const float* s = src.data<float>();
  Tensor out = zeros({C, size, size}, TensorOptions(DType::f32));
  float* d = out.data<float>();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < size; ++y)
      for (int64_t x = 0; x < size; ++x) {
        const int64_t sy = y0 + y, sx = x0 + x;
        if (sy >= 0 && sy < H && sx >= 0 && sx < W) d[(c * size + y) * size + x] = s[(c * H + sy) * W + sx];
      }
  return out;
}

Tensor flip_left_right(const Tensor& img) {
  const int64_t C = img.size(0), H = img.size(1), W = img.size(2);
  const Tensor src = contiguous(img);
  const float* s = src.data<float>();
  Tensor out = empty({C, H, W}, TensorOptions(DType::f32));
  float* d = out.data<float>();
  for (int64_t r = 0; r < C * H; ++r)
    for (int64_t x = 0; x < W; ++x) d[r * W + x] = s[r * W + (W - 1 - x)];
  return out;
}

}  // namespace

void check_transform_options(const TransformOptions& opt) {
  const std::string& p = opt.preprocess;
  SG_CHECK(p == "resize_and_crop" || p == "crop" || p == "scale_width" || p == "scale_width_and_crop" || p == "none" ||
               p == "zoom_and_patch",
           "--preprocess '", p,
           "': expected resize_and_crop, crop, scale_width, scale_width_and_crop, none or zoom_and_patch");
  SG_CHECK(opt.load_size > 0, "--load_size ", opt.load_size, " must be positive");
  SG_CHECK(opt.crop_size > 0, "--crop_size ", opt.crop_size, " must be positive");
}

TransformParams get_params(const TransformOptions& opt, int64_t width, int64_t height, Generator& gen) {
  int64_t new_w = width, new_h = height;
  if (opt.preprocess == "resize_and_crop") {
    new_w = new_h = opt.load_size;
  } else if (opt.preprocess == "scale_width_and_crop") {
    new_w = opt.load_size;
    new_h = opt.load_size * height / width;
  }
  TransformParams p;
  p.crop_x = randint(gen, std::max<int64_t>(0, new_w - opt.crop_size));
  p.crop_y = randint(gen, std::max<int64_t>(0, new_h - opt.crop_size));
  p.flip = gen.uniform() > 0.5;
  return p;
}

int64_t round_to_multiple_of_4(int64_t side) { return int64_t(std::nearbyint(double(side) / 4.0)) * 4; }

Tensor to_grayscale(const Tensor& rgb) {
  SG_CHECK(rgb.dim() == 3 && rgb.size(0) == 3, "to_grayscale: expected [3, H, W]");
  const int64_t plane = rgb.size(1) * rgb.size(2);
  const std::vector<double> v = rgb.to_vector();
  Tensor out = empty({1, rgb.size(1), rgb.size(2)}, TensorOptions(DType::f32));
  float* d = out.data<float>();
  for (int64_t i = 0; i < plane; ++i) {
    const int64_t r = std::lround(v[size_t(i)] * 255), g = std::lround(v[size_t(plane + i)] * 255),
                  b = std::lround(v[size_t(2 * plane + i)] * 255);
    d[i] = float((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 255.0f;
  }
  return out;
}

Tensor apply_transform(const Tensor& image, const TransformOptions& opt, const TransformParams* params,
                       bool grayscale, Generator& gen, const std::string& what) {
  Tensor img = grayscale ? to_grayscale(image) : contiguous(image);
  const std::string& p = opt.preprocess;
  if (contains(p, "resize")) {
    if (img.size(1) != opt.load_size || img.size(2) != opt.load_size)
      img = resize_image_pil(img, opt.load_size, opt.load_size, opt.resize_filter);
  } else if (contains(p, "scale_width")) {
    const int64_t ow = img.size(2), oh = img.size(1);
    if (!(ow == opt.load_size && oh >= opt.crop_size)) {
      // int(max(target_size * oh / ow, crop_size)): true division, then truncation.
      const int64_t h = int64_t(std::max(double(opt.load_size) * double(oh) / double(ow), double(opt.crop_size)));
      img = resize_image_pil(img, h, opt.load_size, opt.resize_filter);
    }
  }
  if (contains(p, "zoom")) {
    // __random_zoom: factors from params, or uniform in [0.8, 1) per side;
    // never below the crop, sides rounded (Python's round: half to even).
    const double zw = params && params->has_zoom ? params->zoom_w : 0.8 + 0.2 * gen.uniform();
    const double zh = params && params->has_zoom ? params->zoom_h : 0.8 + 0.2 * gen.uniform();
    const double zoomw = std::max(double(opt.crop_size), double(img.size(2)) * zw);
    const double zoomh = std::max(double(opt.crop_size), double(img.size(1)) * zh);
    img = resize_image_pil(img, int64_t(std::nearbyint(zoomh)), int64_t(std::nearbyint(zoomw)), opt.resize_filter);
  }
  if (contains(p, "crop")) {
    const int64_t ow = img.size(2), oh = img.size(1), size = opt.crop_size;
    if (params) {
      if (ow > size || oh > size) img = crop(img, params->crop_x, params->crop_y, size);
    } else {
      SG_CHECK(ow >= size && oh >= size, "'", what, "': --crop_size ", size, " is larger than the image (", ow, "x",
               oh, " after --preprocess ", p, ")");
      // torchvision's RandomCrop: top then left, each uniform over the valid range.
      const int64_t y = randint(gen, oh - size), x = randint(gen, ow - size);
      img = crop(img, x, y, size);
    }
  }
  if (contains(p, "patch")) {
    // __patch: the image as a grid of crop_size cells, shifted by a random
    // offset within the room the grid leaves; cell patch_index, column-major.
    SG_CHECK(params && params->patch_index >= 0, "'", what, "': --preprocess ", p, " needs a patch index");
    const int64_t ow = img.size(2), oh = img.size(1), size = opt.crop_size;
    const int64_t nw = ow / size, nh = oh / size;
    SG_CHECK(nw > 0 && nh > 0, "'", what, "': ", ow, "x", oh, " pixels is smaller than --crop_size ", size);
    const int64_t startx = randint(gen, ow - nw * size), starty = randint(gen, oh - nh * size);
    const int64_t index = params->patch_index % (nw * nh);
    img = crop(img, startx + (index / nh) * size, starty + (index % nh) * size, size);
  }
  // CUT rounds every image's sides to multiples of 4; the CycleGAN repository only with 'none'.
  if (p == "none" || contains(p, "zoom") || contains(p, "patch")) {
    const int64_t ow = img.size(2), oh = img.size(1);
    const int64_t w = round_to_multiple_of_4(ow), h = round_to_multiple_of_4(oh);
    SG_CHECK(w > 0 && h > 0, "'", what, "': ", ow, "x", oh, " pixels is too small for --preprocess ", p);
    if (w != ow || h != oh) {
      static bool warned = false;  // the official warning is printed once per run
      if (!warned) {
        std::printf(
            "The image size needs to be a multiple of 4. The loaded image size was (%lld, %lld), so it was adjusted "
            "to (%lld, %lld). This adjustment will be done to all images whose sizes are not multiples of 4\n",
            (long long)ow, (long long)oh, (long long)w, (long long)h);
        std::fflush(stdout);
        warned = true;
      }
      img = resize_image_pil(img, h, w, opt.resize_filter);
    }
  }
  if (!opt.no_flip) {
    const bool flip = params ? params->flip : gen.uniform() < 0.5;
    if (flip) img = flip_left_right(img);
  }
  // ToTensor then Normalize((0.5, ...), (0.5, ...)), in float32 as torch: (x - 0.5) / 0.5.
  Tensor out = empty(img.shape(), TensorOptions(DType::f32));
  const float* s = img.data<float>();
  float* d = out.data<float>();
  for (int64_t i = 0; i < img.numel(); ++i) d[i] = (s[i] - 0.5f) / 0.5f;
  return out;
}

}  // namespace sg::data
