// The official datasets (data/single_dataset.py, aligned_dataset.py,
// unaligned_dataset.py) for stylegrad test/train: each item holds the
// transformed images (float32 [1, C, H, W] in [-1, 1], a batch of one) and
// their paths.
//   single     dataroot's images (recursive, sorted); A only
//   aligned    dataroot/<phase>'s images, each A|B side by side: A the left
//              int(w / 2) columns, B the rest, one get_params draw for both
//   unaligned  dataroot/<phase>A and <phase>B; A[i % |A|] with B[i % |B|]
//              (serial_batches) or a random B; length max(|A|, |B|)
//   singleimage  (CUT's SinCUT) dataroot/trainA and trainB, one image each,
//              read once; 100 000 items (or --max_dataset_size, a stylegrad
//              extension for short runs), each a patch of a zoomed copy: in
//              training, per batch_size consecutive items one zoom factor per
//              side uniform in [1 / random_scale_max, 1) (A and B their own),
//              patch indices a random permutation (so that negatives come from
//              other places), a random flip; at test time the whole images.
//              Images are resized with PIL's BILINEAR, as the official dataset.
// --direction BtoA swaps input_nc and output_nc for the grayscale choice,
// as the official datasets do; the model swaps A and B themselves.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/transforms.h"
#include "tensor/tensor.h"

namespace sg::data {

struct DatasetOptions {
  std::string dataset_mode = "unaligned";  // single | aligned | unaligned
  std::string dataroot, phase = "train", direction = "AtoB";
  int64_t input_nc = 3, output_nc = 3;
  int64_t max_dataset_size = std::numeric_limits<int64_t>::max();
  bool serial_batches = false;
  int64_t batch_size = 1;         // singleimage: items that share a zoom
  double random_scale_max = 3.0;  // singleimage: the largest zoom-out
  TransformOptions transform;
};

struct Sample {
  Tensor A, B;  // B undefined for single
  std::string A_path, B_path;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Sample get(int64_t index) = 0;
  // The files get(index) reads (without reading them).
  virtual std::vector<std::string> paths(int64_t index) const = 0;
  // (width, height) of the images the dataset decoded when it was made, in
  // paths' order: singleimage's A and B (its official print "Image sizes");
  // empty for the others, which decode in get().
  virtual std::vector<std::pair<int64_t, int64_t>> loaded_image_sizes() const { return {}; }
};

// Checks the options and lists the folders (one error line for a missing or
// empty folder, naming it); images are read only by get().
std::unique_ptr<Dataset> create_dataset(const DatasetOptions& opt, Generator& gen);

}  // namespace sg::data
