#include "models/patch_sample.h"

#include <algorithm>
#include <numeric>

#include "models/cyclegan_networks.h"
#include "nn/layers.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::models::cut {

Tensor l2_normalize(const Tensor& x) {
  const Tensor norm = sqrt(sum(pow(x, 2.0), {1}, /*keepdim=*/true));  // ||x||_2 over dim 1
  return x / add_scalar(norm, 1e-7);
}

PatchSampleF::PatchSampleF(bool use_mlp, const std::string& init_type, double init_gain, int64_t nc, Generator& gen)
    : use_mlp(use_mlp), init_type(init_type), init_gain(init_gain), nc(nc), gen_(gen) {
  SG_CHECK(nc > 0, "PatchSampleF: netF_nc must be positive, got ", nc);
}

const std::shared_ptr<nn::Sequential>& PatchSampleF::mlp(size_t layer) const {
  SG_CHECK(layer < mlps_.size(), "PatchSampleF: no mlp_", layer, " (", mlps_.size(), " made)");
  return mlps_[layer];
}

void PatchSampleF::create_mlp(const std::vector<Tensor>& feats) {
  SG_CHECK(!mlp_init_, "PatchSampleF.create_mlp: the MLPs are made already");
  SG_CHECK(!feats.empty(), "PatchSampleF.create_mlp: no features");
  for (size_t l = 0; l < feats.size(); ++l) {
    SG_CHECK(feats[l].dim() == 4, "PatchSampleF: feature ", l, " must be [B, C, H, W], got ", feats[l].shape().str());
    auto mlp = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(feats[l].size(1), nc), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(nc, nc)});
    mlps_.push_back(register_module("mlp_" + std::to_string(l), mlp));
  }
  cyclegan::init_weights(*this, init_type, init_gain, gen_);  // create_mlp's init_net(self, ...)
  to(feats[0].dtype());
  to(feats[0].device());
  mlp_init_ = true;
}

namespace {

// np.random.permutation(n)[:k], from `gen` (Fisher-Yates).
std::vector<double> random_positions(int64_t n, int64_t k, Generator& gen) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t(0));
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = std::min(i, int64_t(gen.uniform() * double(i + 1)));
    std::swap(perm[size_t(i)], perm[size_t(j)]);
  }
  return std::vector<double>(perm.begin(), perm.begin() + k);
}

}  // namespace

PatchSamples PatchSampleF::forward(const std::vector<Tensor>& feats, int64_t num_patches,
                                   const std::vector<Tensor>& patch_ids) {
  SG_CHECK(num_patches >= 0, "PatchSampleF: num_patches must be >= 0, got ", num_patches);
  SG_CHECK(patch_ids.empty() || patch_ids.size() == feats.size(), "PatchSampleF: ", patch_ids.size(),
           " sets of patch ids for ", feats.size(), " feature maps");
  for (size_t l = 0; l < feats.size(); ++l)
    SG_CHECK(feats[l].dim() == 4, "PatchSampleF: feature ", l, " must be [B, C, H, W], got ", feats[l].shape().str());
  if (use_mlp && !mlp_init_) create_mlp(feats);
  if (use_mlp)
    SG_CHECK(feats.size() == mlps_.size(), "PatchSampleF: ", feats.size(), " feature maps, but the MLPs were made for ",
             mlps_.size());
  PatchSamples out;
  for (size_t l = 0; l < feats.size(); ++l) {
    const Tensor& feat = feats[l];
    const int64_t B = feat.size(0), C = feat.size(1), H = feat.size(2), W = feat.size(3);
    if (use_mlp)
      SG_CHECK(C == mlp(l)->named_parameters()[0].second.size(1), "PatchSampleF: feature ", l, " has ", C,
               " channels, mlp_", l, " was made for ", mlp(l)->named_parameters()[0].second.size(1));
    const Tensor flat = reshape(permute(feat, {0, 2, 3, 1}), {B, H * W, C});  // [B, H*W, C]
    Tensor x, ids;
    if (num_patches > 0) {
      TensorOptions i64(DType::i64);
      i64.device = feat.device();  // the ids and the gather index go where the features are
      if (!patch_ids.empty()) {
        ids = patch_ids[l];
        SG_CHECK(ids.defined() && ids.dim() == 1 && ids.dtype() == DType::i64, "PatchSampleF: patch ids ", l,
                 " must be a 1-D int64 tensor");
        for (double id : ids.to_vector())
          SG_CHECK(id >= 0 && id < double(H * W), "PatchSampleF: patch id ", int64_t(id), " of layer ", l,
                   " is outside its ", H, "x", W, " positions");
      } else {
        const int64_t k = std::min(num_patches, H * W);
        ids = from_vector(random_positions(H * W, k, gen_), {k}, i64);
      }
      // x[b, p, c] = flat[b, ids[p], c]: the index repeats ids over b and c.
      const int64_t P = ids.size(0);
      const std::vector<double> id = ids.to_vector();
      std::vector<double> index(size_t(B * P * C));
      for (int64_t b = 0; b < B; ++b)
        for (int64_t p = 0; p < P; ++p)
          std::fill_n(index.begin() + (b * P + p) * C, C, id[size_t(p)]);
      x = reshape(gather(flat, 1, from_vector(index, {B, P, C}, i64)), {B * P, C});
      if (use_mlp) x = (*mlp(l))(x);
      x = l2_normalize(x);
    } else {
      x = flat;
      if (use_mlp) x = reshape((*mlp(l))(reshape(flat, {B * H * W, C})), {B, H * W, nc});
      x = l2_normalize(x);  // over dim 1 of [B, H*W, C']: the positions, as the official reshape branch
      x = reshape(permute(x, {0, 2, 1}), {B, x.size(2), H, W});
    }
    out.feats.push_back(x);
    out.ids.push_back(ids);
  }
  return out;
}

std::shared_ptr<PatchSampleF> define_F(const std::string& netF, const std::string& init_type, double init_gain,
                                       int64_t netF_nc, Generator& gen) {
  SG_CHECK(netF == "sample" || netF == "mlp_sample", "netF '", netF,
           "' is not implemented: expected sample or mlp_sample");
  // define_F's init_net finds no weights yet: create_mlp initialises the MLPs.
  return std::make_shared<PatchSampleF>(netF == "mlp_sample", init_type, init_gain, netF_nc, gen);
}

}  // namespace sg::models::cut
