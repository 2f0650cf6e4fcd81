// Image files <-> tensors, on top of stb: stb_image decodes, stb_image_write
// encodes, stb_image_resize resamples. The implementations are compiled into
// Debian's libstb, so only the headers are included here.
#include "io/image.h"

#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "io/atomic_file.h"
#include "tensor/error.h"

namespace sg {

namespace fs = std::filesystem;

// ---------------- load ----------------

Tensor load_image(const std::string& path) {
  auto fail = [&](const std::string& why) { return Error("cannot read image '" + path + "': " + why); };

  std::error_code ec;
  if (fs::is_directory(path, ec)) throw fail("is a directory");
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw fail(errno == ENOENT ? "no such file" : std::strerror(errno));

  // Read the header first: a corrupt or hostile file must not make us allocate
  // width * height pixels before we have looked at width and height.
  int w = 0, h = 0, channels_in_file = 0;
  if (!stbi_info_from_file(file.get(), &w, &h, &channels_in_file))
    throw fail(std::string("not a PNG/JPEG/BMP image or corrupt (") + stbi_failure_reason() + ")");
  if (w <= 0 || h <= 0 || w > kMaxImageSide || h > kMaxImageSide)
    throw fail(std::to_string(w) + "x" + std::to_string(h) + " pixels is outside 1.." +
               std::to_string(kMaxImageSide) + " per side");
  if (int64_t(w) * h > kMaxImagePixels)
    throw fail(std::to_string(w) + "x" + std::to_string(h) + " pixels is more than the limit of " +
               std::to_string(kMaxImagePixels / 1'000'000) + " megapixels");
  const int info_w = w, info_h = h;

  // Decode to 8-bit RGB: asking stb for 3 channels turns greyscale into three
  // equal channels and drops alpha (16-bit PNGs are reduced to 8 bits).
  std::unique_ptr<unsigned char, void (*)(void*)> rgb(stbi_load_from_file(file.get(), &w, &h, &channels_in_file, 3),
                                                       &stbi_image_free);
  if (!rgb) throw fail(std::string("not a PNG/JPEG/BMP image or corrupt (") + stbi_failure_reason() + ")");
  // The decoder reports the size again; it must be the one checked above.
  if (w != info_w || h != info_h)
    throw fail("the header says " + std::to_string(info_w) + "x" + std::to_string(info_h) + " pixels, the data " +
               std::to_string(w) + "x" + std::to_string(h));

  // Interleaved HWC bytes -> planar CHW floats in [0, 1].
  Tensor out = empty({3, h, w}, TensorOptions(DType::f32));
  float* dst = out.data<float>();
  const unsigned char* src = rgb.get();
  const int64_t plane = int64_t(h) * w;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < plane; ++i) dst[c * plane + i] = float(src[i * 3 + c]) / 255.0f;
  return out;
}

// ---------------- save ----------------

namespace {

enum class ImageFormat { png, jpeg };

ImageFormat format_of(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == ".png") return ImageFormat::png;
  if (ext == ".jpg" || ext == ".jpeg") return ImageFormat::jpeg;
  throw Error("cannot write image '" + path + "': unknown extension '" + ext + "' (use .png, .jpg or .jpeg)");
}

// The interleaved 8-bit pixels stb writes: row-major, `channels` bytes per pixel.
struct Pixels8 {
  int width = 0, height = 0, channels = 0;
  std::vector<unsigned char> bytes;
};

Pixels8 quantize(const Tensor& chw, const std::string& path) {
  auto fail = [&](const std::string& why) { return Error("cannot write image '" + path + "': " + why); };
  if (!chw.defined()) throw fail("the image is an undefined tensor");
  if (!is_floating(chw.dtype())) throw fail("expected a float tensor, got " + std::string(dtype_name(chw.dtype())));
  const bool planar = chw.dim() == 3 && (chw.size(0) == 3 || chw.size(0) == 1);
  if (!planar && chw.dim() != 2) throw fail("expected shape [3, H, W], [1, H, W] or [H, W], got " + chw.shape().str());

  Pixels8 p;
  p.channels = planar ? int(chw.size(0)) : 1;
  const int64_t h = chw.size(-2), w = chw.size(-1);
  if (h < 1 || w < 1 || h > kMaxImageSide || w > kMaxImageSide)
    throw fail("image size " + chw.shape().str() + " is outside 1.." + std::to_string(kMaxImageSide) + " per side");
  p.height = int(h);
  p.width = int(w);

  const Tensor values = chw.detach().to(Device::cpu()).to(DType::f64).contiguous();
  const double* v = values.data<double>();
  p.bytes.resize(size_t(h * w * p.channels));
  for (int64_t c = 0; c < p.channels; ++c)
    for (int64_t i = 0; i < h * w; ++i) {
      const double x = v[c * h * w + i];
      const double clamped = std::isnan(x) ? 0.0 : std::clamp(x, 0.0, 1.0);
      p.bytes[size_t(i * p.channels + c)] = static_cast<unsigned char>(std::lround(clamped * 255.0));
    }
  return p;
}

// stb hands the encoded bytes to this callback, a chunk at a time.
void append_to_string(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
}

}  // namespace

void save_image(const Tensor& chw, const std::string& path, int jpeg_quality) {
  auto fail = [&](const std::string& why) { return Error("cannot write image '" + path + "': " + why); };
  const ImageFormat format = format_of(path);
  if (jpeg_quality < 1 || jpeg_quality > 100)
    throw fail("JPEG quality must be in 1..100, got " + std::to_string(jpeg_quality));
  const Pixels8 pixels = quantize(chw, path);

  // Encode in memory, then write the file in one go (io/atomic_file.h).
  std::string encoded;
  const int ok = format == ImageFormat::png
                     ? stbi_write_png_to_func(append_to_string, &encoded, pixels.width, pixels.height,
                                              pixels.channels, pixels.bytes.data(), pixels.width * pixels.channels)
                     : stbi_write_jpg_to_func(append_to_string, &encoded, pixels.width, pixels.height,
                                              pixels.channels, pixels.bytes.data(), jpeg_quality);
  if (!ok) throw fail("the encoder failed");
  AtomicFile file(path, "cannot write image '" + path + "'");
  file.write(encoded.data(), encoded.size());
  file.commit();
}

// ---------------- resize ----------------

Tensor resize_image(const Tensor& chw, int64_t h, int64_t w) {
  SG_CHECK(chw.defined(), "resize_image: the image is an undefined tensor");
  SG_CHECK(is_floating(chw.dtype()), "resize_image: expected a float tensor, got ", dtype_name(chw.dtype()));
  SG_CHECK(chw.device().is_cpu(), "resize_image: no CUDA kernel yet (tensor is on ", chw.device().str(), ")");
  SG_CHECK(chw.dim() == 2 || chw.dim() == 3, "resize_image: expected [C, H, W] or [H, W], got shape ",
           chw.shape().str());
  const int64_t channels = chw.dim() == 3 ? chw.size(0) : 1;
  const int64_t in_h = chw.size(-2), in_w = chw.size(-1);
  SG_CHECK(in_h >= 1 && in_w >= 1 && in_h <= kMaxImageSide && in_w <= kMaxImageSide, "resize_image: input ",
           chw.shape().str(), " is outside 1..", kMaxImageSide, " per side");
  SG_CHECK(h >= 1 && w >= 1 && h <= kMaxImageSide && w <= kMaxImageSide, "resize_image: target size ", h, "x", w,
           " is outside 1..", kMaxImageSide, " per side");

  // Shrinking: box filter (stb weighs each input pixel by the area it covers).
  // Growing or same size: triangle filter, i.e. linear interpolation.
  auto filter_for = [](int64_t in, int64_t out) { return out < in ? STBIR_FILTER_BOX : STBIR_FILTER_TRIANGLE; };

  // stb resamples float32 planes; each channel is resized as a one-channel image.
  const Tensor src = chw.detach().to(DType::f32).contiguous();
  Tensor dst = empty({channels, h, w}, TensorOptions(DType::f32));
  for (int64_t c = 0; c < channels; ++c) {
    const int ok = stbir_resize(src.data<float>() + c * in_h * in_w, int(in_w), int(in_h), int(in_w * sizeof(float)),
                                dst.data<float>() + c * h * w, int(w), int(h), int(w * sizeof(float)),
                                STBIR_TYPE_FLOAT, 1, STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_EDGE_CLAMP,
                                filter_for(in_w, w), filter_for(in_h, h), STBIR_COLORSPACE_LINEAR, nullptr);
    SG_CHECK(ok, "resize_image: stb_image_resize failed (out of memory?) resizing ", chw.shape().str(), " to ", h,
             "x", w);
  }
  if (chw.dim() == 2) dst = dst.reshape({h, w});
  return dst.to(chw.dtype());
}

Tensor resize_to_longer_side(const Tensor& chw, int64_t max_side) {
  SG_CHECK(chw.dim() == 3 && max_side > 0, "resize: expected [C,H,W] and a positive size, got ", chw.shape().str());
  const int64_t h = chw.size(1), w = chw.size(2);
  const double s = double(max_side) / double(std::max(h, w));
  const int64_t nh = std::max<int64_t>(1, int64_t(std::lround(double(h) * s)));
  const int64_t nw = std::max<int64_t>(1, int64_t(std::lround(double(w) * s)));
  return (nh == h && nw == w) ? chw : resize_image(chw, nh, nw);
}

}  // namespace sg

// ---------------- PIL-exact bicubic resize ----------------

namespace sg {

namespace {

// Pillow's filters (libImaging/Resample.c): bilinear (a triangle, support 1) and
// bicubic (a = -0.5, support 2).
double pil_bilinear(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double pil_bicubic(double x) {
  const double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

constexpr int kPilPrecisionBits = 32 - 8 - 2;

// One axis: for every output index, the first input index, how many inputs,
// and their fixed-point weights (precompute_coeffs + normalize_coeffs_8bpc).
struct AxisWeights {
  int64_t ksize = 0;
  std::vector<int64_t> first, count;
  std::vector<int32_t> weights;  // ksize per output index
};

struct PilFilter {
  double (*fn)(double);
  double support;
};
const PilFilter kPilBilinear = {pil_bilinear, 1.0}, kPilBicubic = {pil_bicubic, 2.0};

AxisWeights pil_axis_weights(int64_t in_size, int64_t out_size, const PilFilter& filter) {
  const double support_1 = filter.support;
  const double scale = double(in_size) / double(out_size);
  const double filterscale = std::max(scale, 1.0);
  const double support = support_1 * filterscale;
  AxisWeights a;
  a.ksize = int64_t(std::ceil(support)) * 2 + 1;
  a.first.resize(out_size);
  a.count.resize(out_size);
  a.weights.assign(size_t(out_size * a.ksize), 0);
  std::vector<double> k(size_t(a.ksize));
  for (int64_t xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int64_t xmin = int64_t(center - support + 0.5);  // C's truncating cast, as Pillow
    if (xmin < 0) xmin = 0;
    int64_t xmax = int64_t(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int64_t x = 0; x < xmax; ++x) {
      k[size_t(x)] = filter.fn((x + xmin - center + 0.5) * ss);
      ww += k[size_t(x)];
    }
    for (int64_t x = 0; x < xmax; ++x) {
      const double kx = ww != 0.0 ? k[size_t(x)] / ww : k[size_t(x)];
      a.weights[size_t(xx * a.ksize + x)] =
          int32_t(kx < 0 ? -0.5 + kx * (1 << kPilPrecisionBits) : 0.5 + kx * (1 << kPilPrecisionBits));
    }
    a.first[size_t(xx)] = xmin;
    a.count[size_t(xx)] = xmax;
  }
  return a;
}

uint8_t pil_clip8(int64_t acc) {
  const int64_t v = acc >> kPilPrecisionBits;
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Image.resize((w, h), filter) of the 8-bit image chw holds (see resize_image_bicubic).
Tensor pil_resize(const Tensor& chw, int64_t h, int64_t w, const PilFilter& filter, const char* who) {
  SG_CHECK(chw.dim() == 3, who, ": expected [C, H, W], got ", chw.dim(), " dimensions");
  SG_CHECK(h > 0 && w > 0, who, ": target size ", w, "x", h, " must be positive");
  const int64_t C = chw.size(0), H = chw.size(1), W = chw.size(2);
  const std::vector<double> src = chw.to_vector();
  std::vector<uint8_t> in(src.size());
  for (size_t i = 0; i < src.size(); ++i) in[i] = uint8_t(std::clamp(std::lround(src[i] * 255.0), 0L, 255L));

  // Pillow skips a pass whose axis keeps its size.
  std::vector<uint8_t> horizontal = in;
  if (w != W) {
    const AxisWeights a = pil_axis_weights(W, w, filter);
    horizontal.assign(size_t(C * H * w), 0);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < H; ++y) {
        const uint8_t* row = &in[size_t((c * H + y) * W)];
        for (int64_t x = 0; x < w; ++x) {
          int64_t acc = int64_t(1) << (kPilPrecisionBits - 1);
          const int32_t* k = &a.weights[size_t(x * a.ksize)];
          for (int64_t i = 0; i < a.count[size_t(x)]; ++i) acc += int64_t(row[a.first[size_t(x)] + i]) * k[i];
          horizontal[size_t((c * H + y) * w + x)] = pil_clip8(acc);
        }
      }
  }
  std::vector<uint8_t> out = horizontal;
  if (h != H) {
    const AxisWeights a = pil_axis_weights(H, h, filter);
    out.assign(size_t(C * h * w), 0);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < h; ++y) {
        const int32_t* k = &a.weights[size_t(y * a.ksize)];
        for (int64_t x = 0; x < w; ++x) {
          int64_t acc = int64_t(1) << (kPilPrecisionBits - 1);
          for (int64_t i = 0; i < a.count[size_t(y)]; ++i)
            acc += int64_t(horizontal[size_t((c * H + a.first[size_t(y)] + i) * w + x)]) * k[i];
          out[size_t((c * h + y) * w + x)] = pil_clip8(acc);
        }
      }
  }
  Tensor result = empty({C, h, w}, TensorOptions(DType::f32));
  float* dst = result.data<float>();
  for (size_t i = 0; i < out.size(); ++i) dst[i] = float(out[i]) / 255.0f;
  return result;
}

}  // namespace

Tensor resize_image_bicubic(const Tensor& chw, int64_t h, int64_t w) {
  return pil_resize(chw, h, w, kPilBicubic, "resize_image_bicubic");
}

Tensor resize_image_bilinear(const Tensor& chw, int64_t h, int64_t w) {
  return pil_resize(chw, h, w, kPilBilinear, "resize_image_bilinear");
}

}  // namespace sg
