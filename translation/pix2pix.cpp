#include "translation/pix2pix.h"

#include "models/cyclegan_networks.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "translation/base_model.h"

namespace sg::translation {

namespace cg = sg::models::cyclegan;

Pix2PixModel::Pix2PixModel(const Pix2PixOptions& o, Generator& gen)
    : BaseModel("Pix2PixModel", o.isTrain), opt(o), criterionGAN(gan_mode_from_name(o.gan_mode)) {
  SG_CHECK(o.direction == "AtoB" || o.direction == "BtoA", "pix2pix: direction '", o.direction,
           "' is not AtoB or BtoA");
  netG = cg::define_G(o.input_nc, o.output_nc, o.ngf, o.netG, o.norm, !o.no_dropout, o.init_type, o.init_gain, gen);
  if (!o.isTrain) return;
  // A conditional GAN: D sees the input and the output together.
  netD = cg::define_D(o.input_nc + o.output_nc, o.ndf, o.netD, o.n_layers_D, o.norm, o.init_type, o.init_gain, gen);
  make_optimizers();
}

void Pix2PixModel::make_optimizers() {
  nn::Adam::Options adam;
  adam.lr = opt.lr;
  adam.beta1 = opt.beta1;
  adam.beta2 = 0.999;
  optimizer_G = std::make_unique<nn::Adam>(netG->parameters(), adam);
  optimizer_D = std::make_unique<nn::Adam>(netD->parameters(), adam);
}

Pix2PixModel::~Pix2PixModel() = default;

void Pix2PixModel::set_input(const Tensor& A, const Tensor& B) {
  const bool AtoB = opt.direction == "AtoB";
  real_A = AtoB ? A : B;
  real_B = AtoB ? B : A;
}

void Pix2PixModel::forward() {
  SG_CHECK(real_A.defined() && real_B.defined(), "pix2pix.forward: call set_input first");
  fake_B = (*netG)(real_A);
}

void Pix2PixModel::backward_D() {
  // Fake pair first, detached so that no gradient reaches G (the official order:
  // with BatchNorm in D it sets the running statistics).
  const Tensor fake_AB = cat({real_A, fake_B}, 1);
  loss_D_fake = criterionGAN((*netD)(fake_AB.detach()), false);
  const Tensor real_AB = cat({real_A, real_B}, 1);
  loss_D_real = criterionGAN((*netD)(real_AB), true);
  loss_D = (loss_D_fake + loss_D_real) * 0.5;
  loss_D.backward();
}

void Pix2PixModel::backward_G() {
  // G wants D to judge cat(A, G(A)) real, and G(A) close to B:
  //   loss_G = GAN(D(cat(a, G(a))), real) + lambda_L1 E||G(a) - b||_1
  const Tensor fake_AB = cat({real_A, fake_B}, 1);
  loss_G_GAN = criterionGAN((*netD)(fake_AB), true);
  loss_G_L1 = l1_loss(fake_B, real_B) * opt.lambda_L1;
  loss_G = loss_G_GAN + loss_G_L1;
  loss_G.backward();
}

void Pix2PixModel::optimize_parameters() {
  SG_CHECK(opt.isTrain, "pix2pix.optimize_parameters: the model was built with isTrain false");
  forward();
  set_requires_grad({netD.get()}, true);
  optimizer_D->zero_grad();
  backward_D();
  optimizer_D->step();
  set_requires_grad({netD.get()}, false);  // D is not updated by G's loss
  optimizer_G->zero_grad();
  backward_G();
  optimizer_G->step();
}

std::vector<std::pair<std::string, double>> Pix2PixModel::current_losses() const {
  auto value = [](const Tensor& t) { return t.defined() ? t.item() : 0.0; };
  return {{"G_GAN", value(loss_G_GAN)},
          {"G_L1", value(loss_G_L1)},
          {"D_real", value(loss_D_real)},
          {"D_fake", value(loss_D_fake)}};
}

NamedTensors Pix2PixModel::current_visuals() const {
  return {{"real_A", real_A}, {"fake_B", fake_B}, {"real_B", real_B}};
}

std::vector<std::pair<std::string, nn::Module*>> Pix2PixModel::named_networks() const {
  if (!opt.isTrain) return {{"G", netG.get()}};
  return {{"G", netG.get()}, {"D", netD.get()}};
}

}  // namespace sg::translation
