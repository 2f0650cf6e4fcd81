// CUT's feature sampler (taesungp/contrastive-unpaired-translation,
// models/networks.py: PatchSampleF, Normalize, define_F): from each feature map
// the generator's encoder taps, it takes the feature vectors at a set of
// positions (the same positions for the query, the output's features, and for
// the key, the input's), passes them through a small MLP head of its own (one
// per tapped layer) and scales them to unit length, ready for PatchNCE
// (translation/patchnce.h).
//
// The MLPs are made on the first forward, when the channel counts of the taps
// are known ("data-dependent initialisation"), and registered as mlp_0, mlp_1,
// ... so that the state_dict keys are the official ones: mlp_0.0.weight,
// mlp_0.0.bias, mlp_0.2.weight, mlp_0.2.bias, mlp_1.0.weight, ...
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace sg {
class Generator;
Generator& default_generator();
namespace nn {
class Sequential;
}
}  // namespace sg

namespace sg::models::cut {

// Normalize(2): x / (||x||_2 + 1e-7), the norm taken over dim 1 (per row of
// [N, C]). The 1e-7 keeps the division finite for a zero row.
Tensor l2_normalize(const Tensor& x);

// What PatchSampleF's forward returns, per tapped layer.
struct PatchSamples {
  // num_patches > 0: [B * P, C'] (image b's P patches in rows b*P .. b*P + P - 1),
  //   C' = nc with the MLP, else the layer's C; every row of unit length.
  // num_patches == 0 (the official reshape branch): all H*W positions, the MLP
  //   applied to each, L2-normalised over dim 1 of [B, H*W, C'] (over the
  //   positions, as the official code does there), returned as [B, C', H, W].
  std::vector<Tensor> feats;
  // int64 [P]: the positions (row-major index h * W + w) taken, one set shared
  // by all images of the batch; undefined with num_patches == 0.
  std::vector<Tensor> ids;
};

// PatchSampleF(use_mlp=False, init_type='normal', init_gain=0.02, nc=256).
// `gen` initialises the MLPs (init_weights, as create_mlp's init_net) and draws
// the random positions (the official np.random.permutation); it must outlive
// this module.
class PatchSampleF : public nn::Module {
 public:
  explicit PatchSampleF(bool use_mlp = false, const std::string& init_type = "normal", double init_gain = 0.02,
                        int64_t nc = 256, Generator& gen = default_generator());

  // forward(feats, num_patches=64, patch_ids=None). Each feats[l] is [B, C_l, H_l, W_l].
  // patch_ids empty: for each layer a random permutation of its H*W positions,
  // the first min(num_patches, H*W); else patch_ids[l] (int64, each in
  // [0, H_l*W_l)) is used as given. With use_mlp, the first call makes the
  // MLPs (create_mlp). Differentiable with respect to feats and the MLPs.
  PatchSamples forward(const std::vector<Tensor>& feats, int64_t num_patches = 64,
                       const std::vector<Tensor>& patch_ids = {});

  // create_mlp(feats): for each layer l, mlp_l = Sequential(Linear(C_l, nc), ReLU,
  // Linear(nc, nc)) in feats[l]'s dtype and device, then init_weights(init_type,
  // init_gain) on the whole module (Linear weights; biases 0). Once only.
  void create_mlp(const std::vector<Tensor>& feats);
  bool mlp_init() const { return mlp_init_; }
  size_t num_mlps() const { return mlps_.size(); }
  const std::shared_ptr<nn::Sequential>& mlp(size_t layer) const;  // checks the range

  const bool use_mlp;
  const std::string init_type;
  const double init_gain;
  const int64_t nc;

 private:
  Generator& gen_;
  bool mlp_init_ = false;
  std::vector<std::shared_ptr<nn::Sequential>> mlps_;
};

// define_F(input_nc, netF, ..., init_type, init_gain, ..., opt) for netF
// sample (no MLP) | mlp_sample (the MLP head, CUT's default), nc = netF_nc.
// Another netF (global_pool, reshape, strided_conv: not built here) is one error line.
std::shared_ptr<PatchSampleF> define_F(const std::string& netF, const std::string& init_type = "normal",
                                       double init_gain = 0.02, int64_t netF_nc = 256,
                                       Generator& gen = default_generator());

}  // namespace sg::models::cut
