// ImagePool (util/image_pool.py): a history of generated images, so that the
// discriminators see fakes from earlier generators too (Shrivastava et al. 2017),
// which the CycleGAN paper uses to reduce model oscillation.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace sg {
class Generator;
}

namespace sg::translation {

class ImagePool {
 public:
  // pool_size 0: no pool, query returns its input. The pool draws from `gen`
  // (kept by reference: it must outlive the pool), so a seeded run repeats.
  ImagePool(int64_t pool_size, Generator& gen);

  // images [N, C, H, W]; returns [N, C, H, W], detached. For each image in turn:
  //   while the pool holds fewer than pool_size images: store it and return it;
  //   else with probability 0.5 return a stored image picked uniformly and store
  //   the new one in its place, otherwise return the new one (the pool unchanged).
  Tensor query(const Tensor& images);

  int64_t pool_size() const { return pool_size_; }
  int64_t num_imgs() const { return static_cast<int64_t>(images_.size()); }
  const std::vector<Tensor>& images() const { return images_; }  // each [1, C, H, W]

  // The pool's contents for a checkpoint (nn::TensorSet): image i as key "<i>";
  // their count is the number of images held. load_state replaces the contents
  // with such a set: keys 0 .. n-1, each [1, C, H, W] of one shape, n <= pool_size.
  NamedTensors state() const;
  void load_state(const NamedTensors& state);

 private:
  int64_t pool_size_;
  Generator& gen_;
  std::vector<Tensor> images_;
};

}  // namespace sg::translation
