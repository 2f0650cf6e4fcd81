// Reading, writing and resizing images (PNG, JPEG; BMP and a few more formats
// can be read). Images are float tensors [C, H, W] with values in [0, 1].
// Built on stb (Debian's libstb), which stays private to image.cpp.
#pragma once
#include <cstdint>
#include <string>

#include "tensor/tensor.h"

namespace sg {

// The largest width or height accepted, checked before any pixel is allocated.
constexpr int64_t kMaxImageSide = 16384;
// The most pixels load_image decodes: 50 megapixels (e.g. 8660 x 5773), 150 MB
// as 8-bit RGB and 600 MB as the float tensor. The size in the file's header is
// checked before decoding, so a small file that claims a huge image costs nothing.
constexpr int64_t kMaxImagePixels = 50'000'000;

// float32 [3, H, W] in [0, 1]. Greyscale becomes three equal channels; an alpha
// channel is dropped. A missing, unreadable or corrupt file, or one larger than
// kMaxImageSide per side or kMaxImagePixels in all, throws one sg::Error line
// that starts with "cannot read image '<path>': ".
Tensor load_image(const std::string& path);

// Writes [3, H, W], [1, H, W] or [H, W] (float32 or float64) as 8-bit PNG or
// JPEG, chosen by the extension (.png, .jpg, .jpeg). Values are clamped to
// [0, 1] and rounded to the nearest of 256 levels. The image is written to a
// temporary file in the same directory and renamed over `path`, so a failed
// save never leaves a half-written file nor destroys an existing one.
void save_image(const Tensor& chw, const std::string& path, int jpeg_quality = 95);

// [C, H, W] or [H, W] resized to h x w (float32 or float64, same as the input).
// Each axis shrinks with a box filter (an output pixel is the average of the
// input area it covers, so fine texture is averaged, not aliased) and grows by
// linear interpolation between pixel centres (as bilinear with
// align_corners = false). Not differentiable: a preprocessing step.
Tensor resize_image(const Tensor& chw, int64_t h, int64_t w);

// Resizes so that the longer side is `max_side` pixels, keeping the aspect
// ratio (neural-style's -image_size); returns the image as is if it already fits exactly.
Tensor resize_to_longer_side(const Tensor& chw, int64_t max_side);

}  // namespace sg

namespace sg {

// [C, H, W] float32 resized to h x w as PIL's Image.resize(size, Image.BICUBIC)
// resizes an 8-bit image (the official CycleGAN/pix2pix data pipeline): values
// are taken as 8-bit levels (round(v * 255), clamped), each axis is resampled
// with the cubic kernel a = -0.5 stretched by the shrink factor (so shrinking
// filters, as PIL does), horizontal pass first, with PIL's 22-bit fixed-point
// weights and rounding to 8 bits after each pass; returns level / 255.
// Bit-exact with Pillow (tests/test_data.cpp checks against a file Pillow wrote).
Tensor resize_image_bicubic(const Tensor& chw, int64_t h, int64_t w);

// The same with PIL's Image.BILINEAR (a triangle filter, support 1, stretched
// when shrinking): CUT's data pipeline (get_transform(..., method=Image.BILINEAR)).
Tensor resize_image_bilinear(const Tensor& chw, int64_t h, int64_t w);

}  // namespace sg
