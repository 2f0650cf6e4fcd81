#include "translation/image_pool.h"

#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::translation {

ImagePool::ImagePool(int64_t pool_size, Generator& gen) : pool_size_(pool_size), gen_(gen) {
  SG_CHECK(pool_size >= 0, "ImagePool: pool_size must be >= 0, got ", pool_size);
}

Tensor ImagePool::query(const Tensor& images) {
  if (pool_size_ == 0) return images;
  SG_CHECK(images.dim() >= 1 && images.shape()[0] >= 1, "ImagePool.query: expected a batch [N, ...] with N >= 1");
  std::vector<Tensor> returned;
  for (int64_t i = 0; i < images.shape()[0]; ++i) {
    // A copy of image i, off the graph (image_pool.py takes image.data).
    const Tensor image = contiguous(narrow(images.detach(), 0, i, 1));
    if (num_imgs() < pool_size_) {  // fill the pool first
      images_.push_back(image);
      returned.push_back(image);
    } else if (gen_.uniform() > 0.5) {  // return a stored image, keep the new one in its place
      const auto id = static_cast<size_t>(gen_.next_u64() % static_cast<uint64_t>(pool_size_));
      returned.push_back(images_[id]);
      images_[id] = image;
    } else {
      returned.push_back(image);
    }
  }
  return cat(returned, 0);
}

}  // namespace sg::translation
