// The GAN objectives of junyanz/pytorch-CycleGAN-and-pix2pix (models/networks.py:
// GANLoss, cal_gradient_penalty), shared by CycleGAN and pix2pix; CUT's copy of
// GANLoss (taesungp/contrastive-unpaired-translation) adds 'nonsaturating' (SinCUT).
#pragma once
#include <string>

#include "tensor/tensor.h"

namespace sg {
class Generator;
Generator& default_generator();
namespace nn {
class Module;
}
}  // namespace sg

namespace sg::translation {

// --gan_mode: lsgan (least squares), vanilla (the original cross-entropy), wgangp (Wasserstein),
// nonsaturating (the CUT repository only: StyleGAN2's logistic loss).
enum class GanMode { lsgan, vanilla, wgangp, nonsaturating };
// "lsgan", "vanilla", "wgangp" (and "nonsaturating" when allowed: CUT's models);
// else one error line.
GanMode gan_mode_from_name(const std::string& name, bool allow_nonsaturating = false);
const char* gan_mode_name(GanMode mode);

// GANLoss(gan_mode, target_real_label=1.0, target_fake_label=0.0): the loss of a
// discriminator's output `prediction` (any shape, e.g. PatchGAN's [N,1,h,w])
// against "real" or "fake", with the target label broadcast to its shape:
//   lsgan:   mean((prediction - t)^2)                       t = 1 (real) | 0 (fake)
//   vanilla: mean(-t log s(p) - (1-t) log(1 - s(p)))        BCE with logits, s = sigmoid
//   wgangp:  -mean(prediction) (real) | +mean(prediction) (fake)
//   nonsaturating: mean(softplus(-prediction)) (real) | mean(softplus(prediction)) (fake)
// (CUT's GANLoss returns the nonsaturating loss per sample, softplus(.).view(N, -1).mean(1),
// and its callers take .mean(): with equal sizes per sample, the mean over all.)
class GANLoss {
 public:
  explicit GANLoss(GanMode mode, double target_real_label = 1.0, double target_fake_label = 0.0);
  Tensor operator()(const Tensor& prediction, bool target_is_real) const;
  GanMode mode() const { return mode_; }

 private:
  GanMode mode_;
  double real_label_, fake_label_;
};

// cal_gradient_penalty's type: where the penalty's inputs come from.
enum class PenaltyType { real, fake, mixed };
PenaltyType penalty_type_from_name(const std::string& name);  // "real", "fake", "mixed"

struct GradientPenalty {
  Tensor penalty;    // 0-d, differentiable w.r.t. D's parameters (create_graph); 0 when lambda_gp == 0
  Tensor gradients;  // dD/dx at the interpolates, [N, C*H*W]; undefined when lambda_gp == 0
};

// cal_gradient_penalty(netD, real_data, fake_data, type='mixed', constant=1.0,
// lambda_gp=10.0), WGAN-GP (Gulrajani et al. 2017):
//   x = real | fake | alpha real + (1 - alpha) fake, alpha ~ U[0,1) one per sample
//   g = d(sum D(x)) / dx, flattened per sample (create_graph, so the penalty
//       can be back-propagated into D's parameters)
//   penalty = lambda_gp * mean_n (|| g_n + 1e-16 ||_2 - constant)^2
// (networks.py adds 1e-16 to every element of g before the norm, which keeps the
// norm's gradient finite at g = 0.) alpha [N] may be passed in (a torch run's
// draw, in tests); else it is drawn from `gen`. x is detached from real_data's and
// fake_data's graphs: the penalty trains D only.
GradientPenalty cal_gradient_penalty(nn::Module& netD, const Tensor& real_data, const Tensor& fake_data,
                                     PenaltyType type = PenaltyType::mixed, double constant = 1.0,
                                     double lambda_gp = 10.0, Generator& gen = default_generator(),
                                     const Tensor& alpha = Tensor());

}  // namespace sg::translation
