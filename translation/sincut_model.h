// SinCUT (taesungp/contrastive-unpaired-translation, models/sincut_model.py;
// Park et al. 2020, Fig. 9): CUT on the patches of one image pair, with the
// StyleGAN2-style networks (models/stylegan_networks.h), the non-saturating GAN
// loss, and two more terms:
//   D: + R1 = lambda_R1 / 2 * mean_n || d(sum D(real_B)) / d real_B[n] ||^2
//        (translation/r1_penalty.h; real_B requires grad for it)
//   G: + idt = lambda_identity * mean |G(real_B) - real_B|     (the L1 identity loss)
// The rest (forward, NCE, the order of the steps) is CUTModel's.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "translation/cut_model.h"

namespace sg::translation {

// SinCUT's options: CUT's (--CUT_mode CUT) plus lambda_R1 and lambda_identity,
// and the fields the command line takes its defaults from (the official
// modify_commandline_options sets them for the dataset and the trainer).
struct SinCUTOptions : CUTOptions {
  double lambda_R1 = 1.0;        // weight of the R1 gradient penalty on real_B
  double lambda_identity = 1.0;  // weight of the identity L1 loss |G(B) - B|
  std::string dataset_mode = "singleimage";
  std::string preprocess = "zoom_and_patch";  // test: none (the whole image)
  int64_t batch_size = 16;                    // test: 1
  int64_t save_epoch_freq = 1, save_latest_freq = 20000;  // training
  int64_t num_test = 1;                                   // test
};

// SinCUTModel.modify_commandline_options' defaults, for training (isTrain) or
// test: on top of cut_options("CUT"): nce_includes_all_negatives_from_minibatch,
// netG / netD stylegan2, stylegan2_G_num_downsampling 1, gan_mode
// nonsaturating, num_patches 1, nce_layers 0,2,4, lambda_NCE 4, ngf 10, ndf 8,
// lr 0.002, beta1 0, beta2 0.99, load_size 1024, crop_size 64; training:
// preprocess zoom_and_patch, batch 16, save_epoch_freq 1, save_latest_freq
// 20000, n_epochs 8, n_epochs_decay 8; test: preprocess none, batch 1, num_test 1.
SinCUTOptions sincut_options(bool isTrain = true);

class SinCUTModel : public CUTModel {
 public:
  // CUTModel's networks and optimizers; lambda_R1 and lambda_identity must be >= 0
  // (one error line otherwise).
  explicit SinCUTModel(const SinCUTOptions& opt, Generator& gen = default_generator());

  // real_B.requires_grad_(); CUT's D loss (which keeps pred_real = D(real_B));
  // loss_D = that + loss_D_R1 = r1_penalty(pred_real, real_B, lambda_R1).
  Tensor compute_D_loss() override;
  // CUT's G loss (which sets loss_G to it) + loss_idt = l1_loss(idt_B, real_B) *
  // lambda_identity; optimize_parameters stores the sum as loss_G.
  Tensor compute_G_loss() override;
  // CUT's losses, then D_R1 (lambda_R1 > 0) and idt (lambda_identity > 0), training.
  std::vector<std::pair<std::string, double>> current_losses() const override;

  const SinCUTOptions sin_opt;
  Tensor loss_D_R1, loss_idt;
};

}  // namespace sg::translation
