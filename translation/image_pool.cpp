#include "translation/image_pool.h"

#include <string>

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
    SG_CHECK(images_.empty() || images_[0].shape() == image.shape(), "ImagePool.query: the pool holds images of shape ",
             images_.empty() ? "" : images_[0].shape().str(), ", the new one is ", image.shape().str(),
             " (was --crop_size or a channel count changed on resume?)");
    if (num_imgs() < pool_size_) {  // fill the pool first
      images_.push_back(image);
      returned.push_back(image);
    } else if (gen_.uniform() > 0.5) {  // return a stored image, keep the new one in its place
      const auto id = static_cast<size_t>(gen_.next_u64() % static_cast<uint64_t>(pool_size_));
      returned.push_back(images_[id].to(image.device()));  // a resumed pool was read on the CPU
      images_[id] = image;
    } else {
      returned.push_back(image);
    }
  }
  return cat(returned, 0);
}

NamedTensors ImagePool::state() const {
  NamedTensors s;
  for (size_t i = 0; i < images_.size(); ++i) s.emplace_back(std::to_string(i), images_[i]);
  return s;
}

void ImagePool::load_state(const NamedTensors& state) {
  const size_t n = state.size();
  SG_CHECK(int64_t(n) <= pool_size_, "ImagePool: the checkpoint holds ", n, " images, more than --pool_size ",
           pool_size_, " (resume with the run's pool size)");
  std::vector<Tensor> images(n);  // the file's order need not be numeric ("10" before "2")
  for (const auto& [key, t] : state) {
    size_t id = n;
    if (!key.empty() && key.size() <= 9 && key.find_first_not_of("0123456789") == std::string::npos)
      id = std::stoul(key);
    SG_CHECK(id < n && !images[id].defined(), "ImagePool: image key '", key, "' is not one of 0 .. ", n - 1,
             " (each once)");
    SG_CHECK(t.dim() == 4 && t.shape()[0] == 1, "ImagePool: image ", key, " has shape ", t.shape().str(),
             ", expected [1, C, H, W]");
    SG_CHECK(t.shape() == state[0].second.shape(), "ImagePool: image ", key, " has shape ", t.shape().str(),
             ", image ", state[0].first, " ", state[0].second.shape().str(), ": one shape for all");
    images[id] = contiguous(t);
  }
  images_ = std::move(images);
}

}  // namespace sg::translation
