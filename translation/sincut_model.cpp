#include "translation/sincut_model.h"

#include "ops/op_util.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "translation/r1_penalty.h"

namespace sg::translation {

SinCUTOptions sincut_options(bool isTrain) {
  SinCUTOptions o;
  static_cast<CUTOptions&>(o) = cut_options("CUT");
  o.isTrain = isTrain;
  o.nce_includes_all_negatives_from_minibatch = true;
  o.dataset_mode = "singleimage";
  o.netG = "stylegan2";
  o.stylegan2_G_num_downsampling = 1;
  o.netD = "stylegan2";
  o.gan_mode = "nonsaturating";
  o.num_patches = 1;
  o.nce_layers = "0,2,4";
  o.lambda_NCE = 4.0;
  o.ngf = 10;
  o.ndf = 8;
  o.lr = 0.002;
  o.beta1 = 0.0;
  o.beta2 = 0.99;
  o.load_size = 1024;
  o.crop_size = 64;
  if (isTrain) {
    o.preprocess = "zoom_and_patch";
    o.batch_size = 16;
    o.save_epoch_freq = 1;
    o.save_latest_freq = 20000;
    o.n_epochs = 8;
    o.n_epochs_decay = 8;
  } else {
    o.preprocess = "none";  // the whole image as it is
    o.batch_size = 1;
    o.num_test = 1;
  }
  return o;
}

namespace {
const SinCUTOptions& checked(const SinCUTOptions& o) {
  SG_CHECK(o.lambda_R1 >= 0.0, "SinCUT: lambda_R1 must be >= 0, got ", o.lambda_R1);
  SG_CHECK(o.lambda_identity >= 0.0, "SinCUT: lambda_identity must be >= 0, got ", o.lambda_identity);
  SG_CHECK(!o.isTrain || o.lambda_identity == 0.0 || o.nce_idt,
           "SinCUT: the identity loss (lambda_identity ", o.lambda_identity,
           ") needs G(real_B), which forward makes only with nce_idt");
  return o;
}
}  // namespace

SinCUTModel::SinCUTModel(const SinCUTOptions& o, Generator& gen) : CUTModel(checked(o), gen), sin_opt(o) {}

Tensor SinCUTModel::compute_D_loss() {
  real_B.requires_grad_(true);  // R1 differentiates D(real_B) with respect to real_B
  const Tensor GAN_loss_D = CUTModel::compute_D_loss();
  loss_D_R1 = r1_penalty(pred_real, real_B, sin_opt.lambda_R1);
  loss_D = GAN_loss_D + loss_D_R1;
  return loss_D;
}

Tensor SinCUTModel::compute_G_loss() {
  const Tensor CUT_loss_G = CUTModel::compute_G_loss();
  // G should leave B's images as they are, pixel by pixel.
  loss_idt = sin_opt.lambda_identity > 0.0 ? l1_loss(idt_B, real_B) * sin_opt.lambda_identity
                                           : scalar_tensor(0.0, options_like(CUT_loss_G));
  // Returned, not stored: as the official, optimize_parameters keeps it as loss_G,
  // while data_dependent_initialize's loss_G stays CUT's part.
  return CUT_loss_G + loss_idt;
}

std::vector<std::pair<std::string, double>> SinCUTModel::current_losses() const {
  std::vector<std::pair<std::string, double>> losses = CUTModel::current_losses();
  auto value = [](const Tensor& t) { return t.defined() ? t.item() : 0.0; };
  if (opt.isTrain && sin_opt.lambda_R1 > 0.0) losses.push_back({"D_R1", value(loss_D_R1)});
  if (opt.isTrain && sin_opt.lambda_identity > 0.0) losses.push_back({"idt", value(loss_idt)});
  return losses;
}

}  // namespace sg::translation
