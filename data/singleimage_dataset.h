// SinCUT's data (taesungp/contrastive-unpaired-translation,
// data/singleimage_dataset.py, with the parts of data/base_dataset.py's
// get_transform it uses): one image in dataroot/trainA and one in
// dataroot/trainB (whatever the phase), and, in training, 64x64 patches of them
// at random zoom:
//   zoom    resize to (round(max(crop, w * zx)), round(max(crop, h * zy))), PIL bilinear;
//           (zx, zy) uniform in [1 / random_scale_max, 1), one draw per minibatch of
//           batch_size consecutive indices, precomputed for A and B apart
//   patch   the crop_size x crop_size tile number patch_index of a grid laid from a
//           random offset (the patch indices: a precomputed shuffle of 0 .. len - 1, so
//           that the patches of nearby indices differ)
//   make_power_2 (sides to multiples of 4, bilinear), flip unless no_flip (drawn per
//   item), ToTensor, Normalize(0.5, 0.5)
// Outside training (SinCUT's test: preprocess none) the whole image, sides rounded to
// multiples of 4, randomly flipped unless no_flip. The length is 100000, as the
// official one pretends. numpy's and Python's generators are replaced by `gen`.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "data/datasets.h"

namespace sg::data {

struct SingleImageOptions {
  std::string dataroot, phase = "train";
  std::string preprocess = "zoom_and_patch";  // SinCUT trains with zoom_and_patch and tests with none
  int64_t load_size = 1024, crop_size = 64, batch_size = 16;
  double random_scale_max = 3.0;
  bool no_flip = false;
  int64_t max_dataset_size = std::numeric_limits<int64_t>::max();
};

// The transform of one item: zoom and/or patch as preprocess names them, then
// make_power_2, the flip, ToTensor and Normalize. [3, H, W] in [0, 1] -> [-1, 1].
struct SingleImageParams {
  double zoom_x = 1, zoom_y = 1;
  int64_t patch_index = 0;
  bool flip = false;
};
Tensor single_image_transform(const Tensor& image, const SingleImageOptions& opt, const SingleImageParams* params,
                              Generator& gen);

class SingleImageDataset : public Dataset {
 public:
  // Reads both images; one error line for a missing folder or not exactly one image in each.
  SingleImageDataset(const SingleImageOptions& opt, Generator& gen);
  int64_t size() const override { return 100000; }
  Sample get(int64_t index) override;  // A, B: [1, 3, h, w]
  std::vector<std::string> paths(int64_t index) const override { return {A_path, B_path}; }

  // The precomputed draws, as the official __init__ makes them.
  std::pair<double, double> zoom_A(int64_t index) const;
  std::pair<double, double> zoom_B(int64_t index) const;
  std::vector<int64_t> patch_indices_A, patch_indices_B;
  std::string A_path, B_path;

 private:
  SingleImageOptions opt_;
  Generator& gen_;
  Tensor A_img_, B_img_;
  std::vector<std::pair<double, double>> zoom_groups_A_, zoom_groups_B_;  // one per minibatch
};

}  // namespace sg::data
