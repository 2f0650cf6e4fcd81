// CUT's model (taesungp/contrastive-unpaired-translation, models/cut_model.py;
// Park et al. 2020): one generator G: X -> Y, a PatchGAN discriminator D on Y,
// and the feature sampler F (models/patch_sample.h). G is trained with a GAN
// loss and PatchNCE (translation/patchnce.h) between the patches of its input
// and of its output, in G's own encoder features at nce_layers; CUT adds the
// same loss between y and G(y) (nce_idt), FastCUT a flip-equivariance instead.
// Names follow the official code: networks netG, netF, netD (checkpoint
// names "G", "F", "D"), losses loss_G_GAN ..., visuals real_A ...
#pragma once
#include <cstdint>
#include <functional>
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
namespace models::cut {
class PatchSampleF;
}  // namespace models::cut
}  // namespace sg

namespace sg::translation {

// The options CUT reads, with the official names and CUT's defaults
// (options/base_options.py, train_options.py, and cut_model's
// modify_commandline_options for --CUT_mode CUT; cut_options("FastCUT") gives
// FastCUT's).
struct CUTOptions {
  std::string CUT_mode = "CUT";           // CUT | FastCUT (any case): which defaults cut_options applied
  int64_t input_nc = 3, output_nc = 3;    // channels of A and of B
  int64_t ngf = 64, ndf = 64;             // widths of G and D
  std::string netG = "resnet_9blocks";    // resnet_9blocks | resnet_6blocks | stylegan2 | smallstylegan2
  std::string netD = "basic";             // basic | n_layers | pixel | stylegan2 | tilestylegan2
  // The StyleGAN2 networks are built for 2^round(log2(min(load_size, crop_size)))
  // (D takes exactly that size); the G's encoder halves it num_downsampling times.
  int64_t load_size = 286, crop_size = 256;
  int64_t stylegan2_G_num_downsampling = 1;
  int64_t n_layers_D = 3;                 // for netD n_layers
  std::string normG = "instance", normD = "instance";  // instance | batch | none
  std::string init_type = "xavier";       // normal | xavier | kaiming | orthogonal
  double init_gain = 0.02;
  bool no_dropout = true;                 // no Dropout in G
  // false (the official default): blur-pool Downsample / Upsample in G and D;
  // true: CycleGAN's strided / transposed convolutions. (Not used by StyleGAN2 networks.)
  bool no_antialias = false, no_antialias_up = false;
  std::string direction = "AtoB";         // AtoB | BtoA: which input is A
  bool isTrain = true;                    // false: G only
  std::string gan_mode = "lsgan";         // lsgan | vanilla | wgangp | nonsaturating
  int64_t pool_size = 0;                  // CUT sets 0 and uses no image pool; kept for the command line
  double lr = 0.0002, beta1 = 0.5, beta2 = 0.999;  // Adam for G, D and F
  int64_t n_epochs = 200, n_epochs_decay = 200;    // the schedule (SchedulerOptions); FastCUT 150 + 50
  double lambda_GAN = 1.0;                // weight of GAN(G(X))
  double lambda_NCE = 1.0;                // weight of NCE(G(X), X); FastCUT 10
  bool nce_idt = true;                    // also NCE(G(Y), Y) (CUT's default; FastCUT false)
  std::string nce_layers = "0,4,8,12,16"; // G's layers (indices into its Sequential) to tap
  bool nce_includes_all_negatives_from_minibatch = false;
  std::string netF = "mlp_sample";        // sample | mlp_sample
  int64_t netF_nc = 256;                  // width of F's MLP
  double nce_T = 0.07;                    // PatchNCE's temperature
  int64_t num_patches = 256;              // patches per layer
  bool flip_equivariance = false;         // FastCUT: G's input flipped at random, its features flipped back
};

// CUTOptions with --CUT_mode's defaults: CUT (lambda_NCE 1, nce_idt) or FastCUT
// (lambda_NCE 10, no nce_idt, flip_equivariance, n_epochs 150, n_epochs_decay 50),
// compared in lower case as the official; another mode is one error line.
CUTOptions cut_options(const std::string& CUT_mode = "CUT");

class CUTModel : public BaseModel {
 public:
  // Builds netG (define_G), netF (define_F) and, training, netD (define_D), all
  // initialised in that order as the official constructor, GANLoss, and
  // optimizer_G, optimizer_D. Every network draws its weights from `gen` (the
  // ResNet / PatchGAN ones and F in init_net, the StyleGAN2 ones in their
  // constructors, as torch.randn); `gen` also draws FastCUT's flips, F's patch
  // positions (the official np.random) and the StyleGAN2 decoder's noise (its
  // normal_()), so a model is reproducible from `gen` alone; it must outlive
  // the model. A bad option (an NCE layer out of G's range, an unknown netG,
  // ...) is one error line.
  explicit CUTModel(const CUTOptions& opt, Generator& gen = default_generator());
  ~CUTModel() override;

  // real_A, real_B from the batch's A and B images, swapped when direction is BtoA.
  void set_input(const Tensor& A, const Tensor& B);

  // data_dependent_initialize(data): set_input, forward, compute_D_loss().backward(),
  // compute_G_loss().backward() (which makes F's MLPs from the features' channel
  // counts), then optimizer_F (when lambda_NCE > 0 and F has parameters); with
  // isTrain false, set_input and forward only. Call it once (a second call is
  // an error), on the first batch, before setup_schedulers (an error too:
  // optimizer_F gets a scheduler) and before loading a checkpoint (F's keys
  // exist only then).
  void data_dependent_initialize(const Tensor& A, const Tensor& B);

  // real = cat(real_A, real_B) (nce_idt, training) or real_A; FastCUT flips it
  // (dim 3) when flip_choice says so; fake = G(real), fake_B its first half, idt_B the rest.
  void forward();
  // loss_D = 0.5 (GAN(D(fake_B.detach()), false) + GAN(pred_real = D(real_B), true)).
  virtual Tensor compute_D_loss();
  // loss_G = lambda_GAN GAN(D(fake_B), true) + NCE(real_A, fake_B)
  //          (+ NCE(real_B, idt_B), the two NCE terms then averaged).
  virtual Tensor compute_G_loss();
  // (1 / L) sum_l mean_i lambda_NCE PatchNCE(F(q)_l, F(k)_l)_i over the L nce_layers:
  // k = G's features of src, q = those of tgt (flipped back when forward flipped),
  // F samples the same positions of both.
  Tensor calculate_NCE_loss(const Tensor& src, const Tensor& tgt);
  // netG(x, nce_layers, encode_only=True): G's features at nce_layers, as the
  // official computes them (ResnetGenerator::forward_features, with torch's
  // in-place ReLUs; StyleGAN2Generator::forward_features, its encoder's layers).
  std::vector<Tensor> nce_features(const Tensor& x);

  // One training iteration, in the official order: forward; D unfrozen, D step
  // (zero_grad, compute_D_loss, backward, step); D frozen; G and F step together
  // (zero_grad both, compute_G_loss, backward, step G, step F).
  void optimize_parameters();

  // get_current_losses(): G_GAN, D_real, D_fake, G, NCE [, NCE_Y with nce_idt].
  virtual std::vector<std::pair<std::string, double>> current_losses() const;
  // get_current_visuals(): real_A, fake_B, real_B [, idt_B with nce_idt, training].
  NamedTensors current_visuals() const;
  // model_names: G, F, D (training), G (test).
  std::vector<std::pair<std::string, nn::Module*>> named_networks() const override;
  // optimizer_G, optimizer_D, and optimizer_F once data_dependent_initialize made it.
  std::vector<std::pair<std::string, nn::Optimizer*>> named_optimizers() const override;

  const CUTOptions opt;
  const std::vector<int64_t> nce_layers;  // parsed from opt.nce_layers
  std::shared_ptr<nn::Module> netG, netD;
  std::shared_ptr<models::cut::PatchSampleF> netF;
  std::unique_ptr<GANLoss> criterionGAN;  // training only
  std::unique_ptr<nn::Adam> optimizer_F;  // null until data_dependent_initialize

  // Where the random choices come from; unset, from `gen` (the official
  // np.random): flip_choice, forward's "np.random.random() < 0.5" (FastCUT);
  // patch_ids_choice, the positions calculate_NCE_loss samples (one int64
  // tensor per NCE layer; empty: F draws them). Tests set them to a torch run's.
  // noise_choice: the decoder's noises of forward's G call (one [N, 1, H, W] per
  // StyledConv, as StyleGAN2Decoder::forward takes them; empty: drawn), for a
  // StyleGAN2 generator that injects noise; the official draws normal_() there.
  std::function<bool()> flip_choice;
  std::function<std::vector<Tensor>()> patch_ids_choice;
  std::function<std::vector<Tensor>()> noise_choice;

  Tensor real_A, real_B, real, fake, fake_B, idt_B, pred_real;
  bool flipped_for_equivariance = false;
  Tensor loss_D_fake, loss_D_real, loss_D, loss_G_GAN, loss_NCE, loss_NCE_Y, loss_G;

 private:
  void make_optimizers() override;  // optimizer_G, optimizer_D (and optimizer_F anew once made)
  Generator& gen_;
  bool data_initialized_ = false;  // data_dependent_initialize ran (it runs once)
  // netG's two calls, set by the constructor for the generator define_G built:
  // G(x) (forward) and its features at nce_layers (nce_features).
  std::function<Tensor(const Tensor&)> run_G_;
  std::function<std::vector<Tensor>(const Tensor&)> encode_G_;
};

}  // namespace sg::translation
