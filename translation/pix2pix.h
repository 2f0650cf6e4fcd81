// pix2pix's model (models/pix2pix_model.py; Isola et al. 2017): a conditional
// GAN on paired images. G maps A to B; D judges the pair cat(A, B) (input_nc +
// output_nc channels), and G is also pulled towards the true B by an L1 loss.
// Names follow the official code: netG, netD (checkpoint names "G", "D"),
// losses loss_G_GAN, loss_G_L1, loss_D_real, loss_D_fake, visuals real_A ...
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "translation/base_model.h"
#include "translation/gan_loss.h"

namespace sg {
class Generator;
Generator& default_generator();
namespace nn {
class Module;
}  // namespace nn
}  // namespace sg

namespace sg::translation {

// The options pix2pix reads, with the official names and pix2pix's defaults
// (modify_commandline_options: --norm batch --netG unet_256, and for training
// --pool_size 0 --gan_mode vanilla --lambda_L1 100; dropout on, as
// base_options' --no_dropout is off).
struct Pix2PixOptions {
  int64_t input_nc = 3, output_nc = 3;
  int64_t ngf = 64, ndf = 64;
  std::string netG = "unet_256";
  std::string netD = "basic";
  int64_t n_layers_D = 3;
  std::string norm = "batch";
  std::string init_type = "normal";
  double init_gain = 0.02;
  bool no_dropout = false;
  std::string direction = "AtoB";
  bool isTrain = true;  // false: G only
  std::string gan_mode = "vanilla";
  double lr = 0.0002, beta1 = 0.5;
  double lambda_L1 = 100.0;
};

class Pix2PixModel : public BaseModel {
 public:
  // Builds netG (define_G) and, for training, netD (define_D on input_nc +
  // output_nc channels), in that order from `gen`; GANLoss and one Adam each.
  explicit Pix2PixModel(const Pix2PixOptions& opt, Generator& gen = default_generator());
  ~Pix2PixModel() override;

  void set_input(const Tensor& A, const Tensor& B);  // swapped when direction is BtoA
  void forward();                                     // fake_B = G(real_A)
  void backward_D();  // loss_D = 0.5 (GAN(D(cat(A, fake_B.detach())), false) + GAN(D(cat(A, B)), true))
  void backward_G();  // loss_G = GAN(D(cat(A, fake_B)), true) + lambda_L1 E||fake_B - B||_1

  // One iteration, in the official order: forward; D unfrozen, D step (zero_grad,
  // backward_D, step); D frozen, G step (zero_grad, backward_G, step).
  void optimize_parameters();

  // loss_names order: G_GAN, G_L1, D_real, D_fake.
  std::vector<std::pair<std::string, double>> current_losses() const;
  NamedTensors current_visuals() const;  // real_A, fake_B, real_B

  // model_names with their networks: G, D (G only when !isTrain).
  std::vector<std::pair<std::string, nn::Module*>> named_networks() const override;

  const Pix2PixOptions opt;
  std::shared_ptr<nn::Module> netG, netD;
  GANLoss criterionGAN;

  Tensor real_A, real_B, fake_B;
  Tensor loss_G_GAN, loss_G_L1, loss_D_real, loss_D_fake, loss_D, loss_G;

 private:
  void make_optimizers() override;  // one Adam for netG, one for netD
};

}  // namespace sg::translation
