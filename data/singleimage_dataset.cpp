#include "data/singleimage_dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <tuple>

#include "data/image_folder.h"
#include "data/transforms.h"
#include "io/image.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::data {

namespace {

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// np.random.randint(n): uniform in [0, n).
int64_t randint_below(Generator& gen, int64_t n) { return std::min<int64_t>(n - 1, int64_t(gen.uniform() * double(n))); }

// PIL's img.crop((x, y, x + size, y + size)) inside the image.
Tensor crop_inside(const Tensor& img, int64_t x0, int64_t y0, int64_t size) {
  return img.narrow(1, y0, size).narrow(2, x0, size).contiguous();
}

Tensor flip_left_right(const Tensor& img) { return flip(img, {2}); }

std::string the_one_image(const std::string& dir, int64_t max_dataset_size) {
  const std::vector<std::string> paths = make_dataset(dir, max_dataset_size);
  SG_CHECK(paths.size() == 1, "SingleImageDataset: '", dir, "' must hold exactly one image, it holds ", paths.size());
  return paths.front();
}

}  // namespace

Tensor single_image_transform(const Tensor& image, const SingleImageOptions& opt, const SingleImageParams* params,
                              Generator& gen) {
  SG_CHECK(image.dim() == 3, "SingleImageDataset: expected a [C, H, W] image, got ", image.str());
  Tensor img = image;
  const int64_t crop = opt.crop_size;
  if (contains(opt.preprocess, "zoom")) {  // __random_zoom
    double zx, zy;
    if (params) {
      zx = params->zoom_x, zy = params->zoom_y;
    } else {
      zx = 0.8 + 0.2 * gen.uniform(), zy = 0.8 + 0.2 * gen.uniform();
    }
    const double zw = std::max(double(crop), double(img.size(2)) * zx);
    const double zh = std::max(double(crop), double(img.size(1)) * zy);
    const int64_t w = int64_t(std::nearbyint(zw)), h = int64_t(std::nearbyint(zh));  // round(): half to even
    if (w != img.size(2) || h != img.size(1)) img = resize_image_bilinear(img, h, w);
  }
  if (contains(opt.preprocess, "patch")) {  // __patch
    SG_CHECK(params, "SingleImageDataset: --preprocess ", opt.preprocess, " needs a patch index");
    const int64_t ow = img.size(2), oh = img.size(1);
    const int64_t nw = ow / crop, nh = oh / crop;
    SG_CHECK(nw > 0 && nh > 0, "SingleImageDataset: ", ow, "x", oh, " is smaller than --crop_size ", crop);
    const int64_t startx = randint_below(gen, ow - nw * crop + 1), starty = randint_below(gen, oh - nh * crop + 1);
    const int64_t index = params->patch_index % (nw * nh);
    const int64_t ix = index / nh, iy = index % nh;
    img = crop_inside(img, startx + ix * crop, starty + iy * crop, crop);
  }
  {  // __make_power_2(base 4, bilinear): CUT applies it whatever preprocess is
    const int64_t ow = img.size(2), oh = img.size(1);
    const int64_t w = round_to_multiple_of_4(ow), h = round_to_multiple_of_4(oh);
    SG_CHECK(w > 0 && h > 0, "SingleImageDataset: ", ow, "x", oh, " pixels is too small to round to multiples of 4");
    if (w != ow || h != oh) img = resize_image_bilinear(img, h, w);
  }
  if (!opt.no_flip) {
    const bool f = params ? params->flip : gen.uniform() < 0.5;  // RandomHorizontalFlip without params
    if (f) img = flip_left_right(img);
  }
  return (img.contiguous() - 0.5) / 0.5;  // ToTensor, Normalize((0.5,) * 3, (0.5,) * 3)
}

SingleImageDataset::SingleImageDataset(const SingleImageOptions& opt, Generator& gen) : opt_(opt), gen_(gen) {
  SG_CHECK(opt.crop_size > 0 && opt.batch_size > 0, "SingleImageDataset: --crop_size (", opt.crop_size,
           ") and --batch_size (", opt.batch_size, ") must be positive");
  SG_CHECK(std::isfinite(opt.random_scale_max) && opt.random_scale_max >= 1.0,
           "SingleImageDataset: --random_scale_max must be >= 1, got ", opt.random_scale_max);
  A_path = the_one_image((std::filesystem::path(opt.dataroot) / "trainA").string(), opt.max_dataset_size);
  B_path = the_one_image((std::filesystem::path(opt.dataroot) / "trainB").string(), opt.max_dataset_size);
  A_img_ = load_image(A_path);
  B_img_ = load_image(B_path);
  std::printf("Image sizes (%lld, %lld) and (%lld, %lld)\n", (long long)A_img_.size(2), (long long)A_img_.size(1),
              (long long)B_img_.size(2), (long long)B_img_.size(1));
  // One zoom pair per minibatch (len // batch_size + 1 of them), uniform in [1 / max, 1).
  const int64_t groups = size() / opt.batch_size + 1;
  const double lo = 1.0 / opt.random_scale_max;
  for (auto* zooms : {&zoom_groups_A_, &zoom_groups_B_})
    for (int64_t g = 0; g < groups; ++g) {
      const double zx = lo + (1.0 - lo) * gen.uniform();
      const double zy = lo + (1.0 - lo) * gen.uniform();
      zooms->emplace_back(zx, zy);
    }
  // Patch indices without repetition: a shuffle of 0 .. len - 1 (Fisher-Yates, as random.shuffle).
  for (auto* ids : {&patch_indices_A, &patch_indices_B}) {
    ids->resize(size_t(size()));
    for (int64_t i = 0; i < size(); ++i) (*ids)[size_t(i)] = i;
    for (int64_t i = size() - 1; i > 0; --i) std::swap((*ids)[size_t(i)], (*ids)[size_t(randint_below(gen, i + 1))]);
  }
}

std::pair<double, double> SingleImageDataset::zoom_A(int64_t index) const {
  return zoom_groups_A_.at(size_t(index / opt_.batch_size));
}
std::pair<double, double> SingleImageDataset::zoom_B(int64_t index) const {
  return zoom_groups_B_.at(size_t(index / opt_.batch_size));
}

Sample SingleImageDataset::get(int64_t index) {
  SG_CHECK(index >= 0 && index < size(), "SingleImageDataset: index ", index, " is out of range [0, ", size(), ")");
  Sample s;
  s.A_path = A_path;
  s.B_path = B_path;
  if (opt_.phase == "train") {
    SingleImageParams pa, pb;
    std::tie(pa.zoom_x, pa.zoom_y) = zoom_A(index);
    pa.patch_index = patch_indices_A[size_t(index)];
    pa.flip = gen_.uniform() > 0.5;
    s.A = single_image_transform(A_img_, opt_, &pa, gen_).unsqueeze(0);
    std::tie(pb.zoom_x, pb.zoom_y) = zoom_B(index);
    pb.patch_index = patch_indices_B[size_t(index)];
    pb.flip = gen_.uniform() > 0.5;
    s.B = single_image_transform(B_img_, opt_, &pb, gen_).unsqueeze(0);
  } else {
    s.A = single_image_transform(A_img_, opt_, nullptr, gen_).unsqueeze(0);
    s.B = single_image_transform(B_img_, opt_, nullptr, gen_).unsqueeze(0);
  }
  return s;
}

}  // namespace sg::data
