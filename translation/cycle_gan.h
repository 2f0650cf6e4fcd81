// CycleGAN's model (models/cycle_gan_model.py; Zhu et al. 2017): two generators
// G_A: A -> B and G_B: B -> A, two discriminators D_A (judges B images: real_B
// vs G_A's fakes) and D_B (judges A images), trained with GAN losses, cycle
// consistency and identity losses. Names follow the official code: networks
// netG_A ... (checkpoint names "G_A" ...), losses loss_D_A ..., visuals real_A ...
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "translation/base_model.h"
#include "translation/gan_loss.h"
#include "translation/image_pool.h"

namespace sg {
class Generator;
Generator& default_generator();
namespace nn {
class Module;
}  // namespace nn
}  // namespace sg

namespace sg::translation {

// The options CycleGAN reads, with the official names and CycleGAN's defaults
// (options/base_options.py, train_options.py, and cycle_gan_model's
// modify_commandline_options: --no_dropout on).
struct CycleGANOptions {
  int64_t input_nc = 3, output_nc = 3;     // channels of A and of B
  int64_t ngf = 64, ndf = 64;              // widths of G and D
  std::string netG = "resnet_9blocks";     // resnet_9blocks | resnet_6blocks | unet_128 | unet_256
  std::string netD = "basic";              // basic | n_layers | pixel
  int64_t n_layers_D = 3;                  // for netD n_layers
  std::string norm = "instance";           // instance | batch | none
  std::string init_type = "normal";        // normal | xavier | kaiming | orthogonal
  double init_gain = 0.02;
  bool no_dropout = true;                  // no Dropout in the generators
  std::string direction = "AtoB";          // AtoB | BtoA: which input is A
  bool isTrain = true;                     // false: G_A and G_B only
  std::string gan_mode = "lsgan";          // lsgan | vanilla | wgangp
  int64_t pool_size = 50;                  // ImagePool size; 0: no pool
  double lr = 0.0002, beta1 = 0.5;         // Adam(lr, betas=(beta1, 0.999)) for both optimizers
  double lambda_A = 10.0;                  // weight of the cycle loss A -> B -> A
  double lambda_B = 10.0;                  // weight of the cycle loss B -> A -> B
  double lambda_identity = 0.5;            // identity loss weight, relative to lambda_A / lambda_B
};

class CycleGANModel : public BaseModel {
 public:
  // Builds the networks with define_G / define_D (initialised from `gen`, in the
  // order G_A, G_B, D_A, D_B, as the official constructor), the pools (drawing
  // from `gen` too), GANLoss and the optimizers. `gen` must outlive the model.
  explicit CycleGANModel(const CycleGANOptions& opt, Generator& gen = default_generator());
  ~CycleGANModel() override;

  // Sets real_A and real_B from the batch's A and B images ([N, input_nc, H, W],
  // [N, output_nc, H, W]), swapped when direction is BtoA.
  void set_input(const Tensor& A, const Tensor& B);

  // fake_B = G_A(real_A), rec_A = G_B(fake_B), fake_A = G_B(real_B), rec_B = G_A(fake_A).
  void forward();

  // 0.5 (GANLoss(D(real), true) + GANLoss(D(fake.detach()), false)); calls backward()
  // on it and returns it. In every gan_mode: with wgangp the official
  // cycle_gan_model.py adds no gradient penalty (no official model calls
  // cal_gradient_penalty), and neither does this.
  Tensor backward_D_basic(nn::Module& netD, const Tensor& real, const Tensor& fake);
  void backward_D_A();  // loss_D_A: D_A on real_B vs fake_B_pool.query(fake_B)
  void backward_D_B();  // loss_D_B: D_B on real_A vs fake_A_pool.query(fake_A)
  void backward_G();    // loss_G (see cycle_gan.cpp for the terms); calls backward()

  // One training iteration, in the official order: forward; D_A, D_B frozen;
  // G step (zero_grad, backward_G, step); D_A, D_B unfrozen; D step
  // (zero_grad, backward_D_A, backward_D_B, step).
  void optimize_parameters();

  // get_current_losses(): (name, value) in loss_names order:
  // D_A, G_A, cycle_A, idt_A, D_B, G_B, cycle_B, idt_B.
  std::vector<std::pair<std::string, double>> current_losses() const;
  // get_current_visuals(): real_A, fake_B, rec_A, [idt_B,] real_B, fake_A, rec_B, [idt_A,]
  // (the idt_ images when training with lambda_identity > 0).
  NamedTensors current_visuals() const;

  // model_names with their networks: G_A, G_B, D_A, D_B (only G_A, G_B when !isTrain).
  std::vector<std::pair<std::string, nn::Module*>> named_networks() const override;
  // BaseModel's checkpoint and the pools' images (tensor sets "fake_A_pool",
  // "fake_B_pool"), so that a resumed run draws from the same history.
  nn::Checkpoint checkpoint() const override;

  const CycleGANOptions opt;
  std::shared_ptr<nn::Module> netG_A, netG_B, netD_A, netD_B;
  ImagePool fake_A_pool, fake_B_pool;
  GANLoss criterionGAN;
  // optimizer_G: Adam over chain(netG_A.parameters(), netG_B.parameters());
  // optimizer_D: over D_A's then D_B's (BaseModel's members).

  Tensor real_A, real_B, fake_A, fake_B, rec_A, rec_B, idt_A, idt_B;
  Tensor loss_D_A, loss_G_A, loss_cycle_A, loss_idt_A, loss_D_B, loss_G_B, loss_cycle_B, loss_idt_B, loss_G;

 private:
  void make_optimizers() override;  // one Adam for the generators, one for the discriminators
};

}  // namespace sg::translation
