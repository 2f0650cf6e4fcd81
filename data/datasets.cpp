#include "data/datasets.h"

#include <algorithm>
#include <cmath>

#include "data/image_folder.h"
#include "io/image.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::data {

namespace {

std::string join(const std::string& a, const std::string& b) {
  return a.empty() || a.back() == '/' ? a + b : a + "/" + b;
}

std::vector<std::string> list_nonempty(const std::string& dir, const DatasetOptions& opt) {
  std::vector<std::string> paths = make_dataset(dir, opt.max_dataset_size);
  SG_CHECK(!paths.empty(), "'", dir, "' holds no images (.jpg, .jpeg, .png, .ppm, .bmp, .tif, .tiff)");
  return paths;
}

Tensor batch_of_one(const Tensor& chw) { return reshape(chw, {1, chw.size(0), chw.size(1), chw.size(2)}); }

bool btoa(const DatasetOptions& opt) { return opt.direction == "BtoA"; }
// The channels A and B have in the files: input_nc and output_nc, swapped for BtoA.
int64_t a_channels(const DatasetOptions& opt) { return btoa(opt) ? opt.output_nc : opt.input_nc; }
int64_t b_channels(const DatasetOptions& opt) { return btoa(opt) ? opt.input_nc : opt.output_nc; }

class SingleDataset : public Dataset {
 public:
  SingleDataset(const DatasetOptions& opt, Generator& gen)
      : opt_(opt), gen_(gen), paths_(list_nonempty(opt.dataroot, opt)) {}
  int64_t size() const override { return int64_t(paths_.size()); }
  std::vector<std::string> paths(int64_t index) const override { return {paths_[size_t(index)]}; }
  Sample get(int64_t index) override {
    Sample s;
    s.A_path = paths_[size_t(index)];
    s.A = batch_of_one(
        apply_transform(load_image(s.A_path), opt_.transform, nullptr, a_channels(opt_) == 1, gen_, s.A_path));
    return s;
  }

 private:
  DatasetOptions opt_;
  Generator& gen_;
  std::vector<std::string> paths_;
};

class AlignedDataset : public Dataset {
 public:
  AlignedDataset(const DatasetOptions& opt, Generator& gen)
      : opt_(opt), gen_(gen), paths_(list_nonempty(join(opt.dataroot, opt.phase), opt)) {
    SG_CHECK(opt.transform.load_size >= opt.transform.crop_size, "--crop_size ", opt.transform.crop_size,
             " is larger than --load_size ", opt.transform.load_size);
  }
  int64_t size() const override { return int64_t(paths_.size()); }
  std::vector<std::string> paths(int64_t index) const override { return {paths_[size_t(index)]}; }
  Sample get(int64_t index) override {
    Sample s;
    s.A_path = s.B_path = paths_[size_t(index)];
    const Tensor ab = load_image(s.A_path);
    const int64_t w = ab.size(2), h = ab.size(1), w2 = w / 2;
    SG_CHECK(w2 > 0, "'", s.A_path, "': ", w, "x", h, " is too narrow to hold A|B side by side");
    const Tensor a = contiguous(narrow(ab, 2, 0, w2)), b = contiguous(narrow(ab, 2, w2, w - w2));
    const TransformParams params = get_params(opt_.transform, w2, h, gen_);
    s.A = batch_of_one(apply_transform(a, opt_.transform, &params, a_channels(opt_) == 1, gen_, s.A_path));
    s.B = batch_of_one(apply_transform(b, opt_.transform, &params, b_channels(opt_) == 1, gen_, s.B_path));
    return s;
  }

 private:
  DatasetOptions opt_;
  Generator& gen_;
  std::vector<std::string> paths_;
};

class UnalignedDataset : public Dataset {
 public:
  UnalignedDataset(const DatasetOptions& opt, Generator& gen)
      : opt_(opt),
        gen_(gen),
        a_paths_(list_nonempty(join(opt.dataroot, opt.phase + "A"), opt)),
        b_paths_(list_nonempty(join(opt.dataroot, opt.phase + "B"), opt)) {}
  int64_t size() const override { return int64_t(std::max(a_paths_.size(), b_paths_.size())); }
  // Every B might be drawn when not serial.
  std::vector<std::string> paths(int64_t index) const override {
    std::vector<std::string> p = {a_paths_[size_t(index) % a_paths_.size()]};
    if (opt_.serial_batches) p.push_back(b_paths_[size_t(index) % b_paths_.size()]);
    else p.insert(p.end(), b_paths_.begin(), b_paths_.end());
    return p;
  }
  Sample get(int64_t index) override {
    Sample s;
    s.A_path = a_paths_[size_t(index) % a_paths_.size()];
    const size_t b_index = opt_.serial_batches ? size_t(index) % b_paths_.size()
                                               : std::min(b_paths_.size() - 1, size_t(gen_.uniform() * b_paths_.size()));
    s.B_path = b_paths_[b_index];
    s.A = batch_of_one(
        apply_transform(load_image(s.A_path), opt_.transform, nullptr, a_channels(opt_) == 1, gen_, s.A_path));
    s.B = batch_of_one(
        apply_transform(load_image(s.B_path), opt_.transform, nullptr, b_channels(opt_) == 1, gen_, s.B_path));
    return s;
  }

 private:
  DatasetOptions opt_;
  Generator& gen_;
  std::vector<std::string> a_paths_, b_paths_;
};

class SingleImageDataset : public Dataset {
 public:
  static constexpr int64_t kLength = 100000;  // "pretend the single image contains 100,000 crops"

  // stylegrad: --max_dataset_size also caps the 100 000 crops (the official
  // applies it to the file lists only), so that a short run is possible.
  SingleImageDataset(const DatasetOptions& opt, Generator& gen)
      : opt_(opt), gen_(gen), length_(std::min(kLength, opt.max_dataset_size)) {
    // The folders are trainA and trainB in every phase, as the official dataset.
    a_path_ = only_image(join(opt.dataroot, "trainA"));
    b_path_ = only_image(join(opt.dataroot, "trainB"));
    SG_CHECK(opt.batch_size > 0, "--batch_size ", opt.batch_size, " must be positive");
    SG_CHECK(std::isfinite(opt.random_scale_max) && opt.random_scale_max >= 1.0, "--random_scale_max ",
             opt.random_scale_max, " must be at least 1");
    a_img_ = load_image(a_path_);
    b_img_ = load_image(b_path_);
    // One zoom per side for each batch_size consecutive items, so a minibatch shares its scale.
    const double min_zoom = 1.0 / opt.random_scale_max;
    const int64_t batches = length_ / opt.batch_size + 1;
    auto zoom_levels = [&] {
      std::vector<std::pair<double, double>> z(static_cast<size_t>(batches));
      for (auto& wh : z) {
        wh.first = min_zoom + (1.0 - min_zoom) * gen_.uniform();
        wh.second = min_zoom + (1.0 - min_zoom) * gen_.uniform();
      }
      return z;
    };
    zoom_a_ = zoom_levels();
    zoom_b_ = zoom_levels();
    patch_a_ = shuffled_indices();
    patch_b_ = shuffled_indices();
  }
  int64_t size() const override { return length_; }
  std::vector<std::string> paths(int64_t) const override { return {a_path_, b_path_}; }
  std::vector<std::pair<int64_t, int64_t>> loaded_image_sizes() const override {
    return {{a_img_.size(2), a_img_.size(1)}, {b_img_.size(2), b_img_.size(1)}};
  }
  Sample get(int64_t index) override {
    Sample s;
    s.A_path = a_path_;
    s.B_path = b_path_;
    TransformOptions t = opt_.transform;
    t.resize_filter = PilFilter::bilinear;
    if (opt_.phase != "train") {
      s.A = batch_of_one(apply_transform(a_img_, t, nullptr, a_channels(opt_) == 1, gen_, a_path_));
      s.B = batch_of_one(apply_transform(b_img_, t, nullptr, b_channels(opt_) == 1, gen_, b_path_));
      return s;
    }
    auto params = [&](const std::vector<std::pair<double, double>>& zoom, const std::vector<int64_t>& patch) {
      TransformParams p;
      p.has_zoom = true;
      p.zoom_w = zoom[size_t(index / opt_.batch_size)].first;
      p.zoom_h = zoom[size_t(index / opt_.batch_size)].second;
      p.patch_index = patch[size_t(index)];
      p.flip = gen_.uniform() > 0.5;
      return p;
    };
    const TransformParams pa = params(zoom_a_, patch_a_);
    s.A = batch_of_one(apply_transform(a_img_, t, &pa, a_channels(opt_) == 1, gen_, a_path_));
    const TransformParams pb = params(zoom_b_, patch_b_);
    s.B = batch_of_one(apply_transform(b_img_, t, &pb, b_channels(opt_) == 1, gen_, b_path_));
    return s;
  }

 private:
  std::string only_image(const std::string& dir) const {
    const std::vector<std::string> paths = list_nonempty(dir, opt_);
    SG_CHECK(paths.size() == 1, "'", dir, "' holds ", paths.size(),
             " images; the singleimage dataset (SinCUT) takes exactly one image in each of trainA and trainB");
    return paths[0];
  }
  std::vector<int64_t> shuffled_indices() {  // random.shuffle(list(range(len))): Fisher-Yates
    std::vector<int64_t> v(static_cast<size_t>(length_));
    for (int64_t i = 0; i < length_; ++i) v[size_t(i)] = i;
    for (int64_t i = length_ - 1; i > 0; --i)
      std::swap(v[size_t(i)], v[size_t(std::min<int64_t>(i, int64_t(gen_.uniform() * double(i + 1))))]);
    return v;
  }

  DatasetOptions opt_;
  Generator& gen_;
  int64_t length_;
  std::string a_path_, b_path_;
  Tensor a_img_, b_img_;
  std::vector<std::pair<double, double>> zoom_a_, zoom_b_;
  std::vector<int64_t> patch_a_, patch_b_;
};

}  // namespace

std::unique_ptr<Dataset> create_dataset(const DatasetOptions& opt, Generator& gen) {
  check_transform_options(opt.transform);
  SG_CHECK(opt.direction == "AtoB" || opt.direction == "BtoA", "--direction '", opt.direction,
           "': expected AtoB or BtoA");
  SG_CHECK(opt.input_nc == 1 || opt.input_nc == 3, "--input_nc ", opt.input_nc, ": expected 1 or 3");
  SG_CHECK(opt.output_nc == 1 || opt.output_nc == 3, "--output_nc ", opt.output_nc, ": expected 1 or 3");
  if (opt.dataset_mode == "single") return std::make_unique<SingleDataset>(opt, gen);
  if (opt.dataset_mode == "aligned") return std::make_unique<AlignedDataset>(opt, gen);
  if (opt.dataset_mode == "unaligned") return std::make_unique<UnalignedDataset>(opt, gen);
  if (opt.dataset_mode == "singleimage") return std::make_unique<SingleImageDataset>(opt, gen);
  throw Error("--dataset_mode '" + opt.dataset_mode + "': expected single, aligned, unaligned or singleimage");
}

}  // namespace sg::data
