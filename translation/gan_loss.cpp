#include "translation/gan_loss.h"

#include "autograd/node.h"
#include "nn/module.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::translation {

namespace {
TensorOptions options_like(const Tensor& t) {  // t's dtype and device
  TensorOptions o(t.dtype());
  o.device = t.device();
  return o;
}
}  // namespace

GanMode gan_mode_from_name(const std::string& name, bool allow_nonsaturating) {
  if (name == "lsgan") return GanMode::lsgan;
  if (name == "vanilla") return GanMode::vanilla;
  if (name == "wgangp") return GanMode::wgangp;
  if (allow_nonsaturating && name == "nonsaturating") return GanMode::nonsaturating;
  SG_CHECK(false, "gan_mode '" + name + "' is not implemented: expected lsgan, vanilla" +
                      (allow_nonsaturating ? ", wgangp or nonsaturating" : " or wgangp"));
  return GanMode::lsgan;
}

const char* gan_mode_name(GanMode mode) {
  switch (mode) {
    case GanMode::lsgan: return "lsgan";
    case GanMode::vanilla: return "vanilla";
    case GanMode::wgangp: return "wgangp";
    case GanMode::nonsaturating: return "nonsaturating";
  }
  return "?";
}

GANLoss::GANLoss(GanMode mode, double target_real_label, double target_fake_label)
    : mode_(mode), real_label_(target_real_label), fake_label_(target_fake_label) {}

Tensor GANLoss::operator()(const Tensor& prediction, bool target_is_real) const {
  if (mode_ == GanMode::wgangp) {
    const Tensor m = mean(prediction);
    return target_is_real ? neg(m) : m;  // -E[D(real)], +E[D(fake)]
  }
  if (mode_ == GanMode::nonsaturating)  // -log sigmoid(p) for real, -log(1 - sigmoid(p)) for fake
    return mean(softplus(target_is_real ? neg(prediction) : prediction));
  const double label = target_is_real ? real_label_ : fake_label_;
  const Tensor target = full(prediction.shape(), label, options_like(prediction));
  if (mode_ == GanMode::lsgan) return mse_loss(prediction, target);  // mean (p - t)^2
  return bce_with_logits(prediction, target);                        // mean BCE(sigmoid(p), t)
}

PenaltyType penalty_type_from_name(const std::string& name) {
  if (name == "real") return PenaltyType::real;
  if (name == "fake") return PenaltyType::fake;
  if (name == "mixed") return PenaltyType::mixed;
  SG_CHECK(false, "cal_gradient_penalty: type '" + name + "' is not implemented: expected real, fake or mixed");
  return PenaltyType::mixed;
}

GradientPenalty cal_gradient_penalty(nn::Module& netD, const Tensor& real_data, const Tensor& fake_data,
                                     PenaltyType type, double constant, double lambda_gp, Generator& gen,
                                     const Tensor& alpha) {
  const TensorOptions opt = options_like(real_data);
  if (lambda_gp <= 0) return {scalar_tensor(0.0, opt), Tensor()};
  SG_CHECK(real_data.shape() == fake_data.shape(),
           "cal_gradient_penalty: real_data and fake_data must have the same shape");
  const int64_t n = real_data.shape()[0];
  Tensor x;
  if (type == PenaltyType::real) {
    x = real_data.detach();
  } else if (type == PenaltyType::fake) {
    x = fake_data.detach();
  } else {
    // x = alpha real + (1 - alpha) fake, one alpha per sample, broadcast over C, H, W.
    Tensor a = alpha.defined() ? alpha : rand({n}, gen, opt);
    SG_CHECK(a.numel() == n, "cal_gradient_penalty: alpha must hold one value per sample (" + std::to_string(n) + ")");
    Shape per_sample = Shape::filled(real_data.dim(), 1);
    per_sample[0] = n;
    a = reshape(to_dtype(a, real_data.dtype()), per_sample);
    x = (a * real_data + (1.0 - a) * fake_data).detach();
  }
  x.requires_grad_(true);
  const Tensor d = netD(x);
  // g = dD(x)/dx with grad_outputs = ones, kept differentiable (create_graph).
  const Tensor g = grad({d}, {x}, {ones_like(d)}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  const Tensor g_flat = reshape(g, {n, -1});
  // lambda * mean_n (||g_n + 1e-16||_2 - c)^2
  const Tensor norm = sqrt(sum(pow(add_scalar(g_flat, 1e-16), 2.0), {1}));
  const Tensor penalty = mean(pow(add_scalar(norm, -constant), 2.0)) * lambda_gp;
  return {penalty, g_flat};
}

}  // namespace sg::translation
