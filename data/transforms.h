// The official preprocessing (data/base_dataset.py: get_params, get_transform)
// on images from io/image.h (float [C, H, W], 8-bit levels / 255): in order
//   grayscale (input_nc 1: PIL's convert('L'))
//   'resize' in preprocess:       resize to load_size x load_size (bicubic)
//   else 'scale_width' in it:     width load_size, height max(load_size * h / w, crop_size)
//   'zoom' in preprocess:         each side times its zoom factor, at least crop_size (CUT's __random_zoom)
//   'crop' in preprocess:         crop_size x crop_size at params' position (or a random one)
//   'patch' in preprocess:        the crop_size patch of a grid cell, by params' patch_index (CUT's __patch)
//   'none', 'zoom' or 'patch':    sides rounded to the nearest multiple of 4 (one warning)
//   flip unless no_flip:          left-right, by params (or at random)
// then ToTensor and Normalize(0.5, 0.5): values in [-1, 1]. Every resize is
// PIL's (io/image.h: resize_image_pil) with opt.resize_filter: BICUBIC, or
// BILINEAR in CUT's single-image dataset. 'zoom' and 'patch' come from CUT's
// data/base_dataset.py; SinCUT trains with --preprocess zoom_and_patch.
#pragma once
#include <cstdint>
#include <string>

#include "io/image.h"
#include "tensor/tensor.h"

namespace sg {
class Generator;
}

namespace sg::data {

struct TransformOptions {
  // resize_and_crop | crop | scale_width | scale_width_and_crop | none | zoom_and_patch
  std::string preprocess = "resize_and_crop";
  int64_t load_size = 286, crop_size = 256;
  bool no_flip = false;
  PilFilter resize_filter = PilFilter::bicubic;
};

// One error line unless preprocess is one of the six and the sizes are positive.
void check_transform_options(const TransformOptions& opt);

// get_params(opt, size): the crop's top-left corner and the flip, drawn once
// and applied to both halves of an aligned A|B image.
// CUT's single-image dataset passes the zoom factors (width, height) and the
// patch's index instead of a crop position.
struct TransformParams {
  int64_t crop_x = 0, crop_y = 0;
  bool flip = false;
  bool has_zoom = false;
  double zoom_w = 1.0, zoom_h = 1.0;
  int64_t patch_index = -1;  // < 0: none given
};
TransformParams get_params(const TransformOptions& opt, int64_t width, int64_t height, Generator& gen);

// get_transform(opt, params, grayscale)(image): [C, H, W] float32 in [-1, 1]
// (C = 1 with grayscale). params null: RandomCrop and RandomHorizontalFlip draw from gen.
// `what` names the image in errors (a crop larger than an image without params).
Tensor apply_transform(const Tensor& image, const TransformOptions& opt, const TransformParams* params,
                       bool grayscale, Generator& gen, const std::string& what);

// PIL's convert('L') of an RGB image: (299 R + 587 G + 114 B) / 1000 in 16-bit fixed point.
Tensor to_grayscale(const Tensor& rgb);

// __make_power_2's target size: each side round(side / 4) * 4 (Python's round: half to even).
int64_t round_to_multiple_of_4(int64_t side);

}  // namespace sg::data
