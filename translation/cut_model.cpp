#include "translation/cut_model.h"

#include <algorithm>
#include <cctype>

#include "models/cyclegan_networks.h"
#include "models/patch_sample.h"
#include "models/stylegan_networks.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "translation/patchnce.h"

namespace sg::translation {

namespace cg = sg::models::cyclegan;
namespace sg2 = sg::models::stylegan;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "0,4,8,12,16" -> {0, 4, 8, 12, 16}: non-negative and increasing (G's taps
// come back in the order of its layers, and the official encoder stops after
// the last one listed).
std::vector<int64_t> parse_nce_layers(const std::string& text) {
  std::vector<int64_t> layers;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    size_t used = 0;
    int64_t v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    SG_CHECK(!item.empty() && used == item.size() && v >= 0, "CUT: nce_layers '", text, "': '", item,
             "' is not a layer index (expected non-negative integers separated by commas, e.g. 0,4,8,12,16)");
    SG_CHECK(layers.empty() || v > layers.back(), "CUT: nce_layers '", text, "' must be increasing");
    layers.push_back(v);
    start = comma + 1;
  }
  return layers;
}

TensorOptions options_like(const Tensor& t) {
  TensorOptions o(t.dtype());
  o.device = t.device();
  return o;
}

}  // namespace

CUTOptions cut_options(const std::string& CUT_mode) {
  CUTOptions o;
  o.CUT_mode = CUT_mode;
  const std::string mode = lower(CUT_mode);
  if (mode == "cut") {
    o.nce_idt = true;
    o.lambda_NCE = 1.0;
  } else if (mode == "fastcut") {
    o.nce_idt = false;
    o.lambda_NCE = 10.0;
    o.flip_equivariance = true;
    o.n_epochs = 150;
    o.n_epochs_decay = 50;
  } else {
    SG_CHECK(false, "CUT_mode '", CUT_mode, "' is not CUT or FastCUT");
  }
  return o;
}

CUTModel::CUTModel(const CUTOptions& o, Generator& gen)
    : BaseModel("CUTModel", o.isTrain), opt(o), nce_layers(parse_nce_layers(o.nce_layers)), gen_(gen) {
  SG_CHECK(o.direction == "AtoB" || o.direction == "BtoA", "CUT: direction '", o.direction, "' is not AtoB or BtoA");
  SG_CHECK(o.num_patches >= 0, "CUT: num_patches must be >= 0, got ", o.num_patches);
  const bool stylegan_G = o.netG == "stylegan2" || o.netG == "smallstylegan2";
  int64_t n = 0;  // the layers nce_layers index
  if (stylegan_G) {
    // define_G skips init_net for stylegan2: the constructors draw their own weights.
    auto G = sg2::define_G(o.netG, o.input_nc, o.output_nc, o.ngf, o.load_size, o.crop_size,
                           o.stylegan2_G_num_downsampling, gen);
    netG = G;
    n = int64_t(G->encoder->convs->size());
    sg2::StyleGAN2Generator* g = G.get();  // owned by netG, which outlives these
    run_G_ = [this, g](const Tensor& x) {
      const std::vector<Tensor> noises = noise_choice ? noise_choice() : std::vector<Tensor>{};
      return g->forward_features(x, {}, /*encode_only=*/false, noises).output;
    };
    encode_G_ = [this, g](const Tensor& x) { return g->forward_features(x, nce_layers, /*encode_only=*/true).features; };
  } else {
    netG = cg::define_G(o.input_nc, o.output_nc, o.ngf, o.netG, o.normG, !o.no_dropout, o.init_type, o.init_gain,
                        o.no_antialias, o.no_antialias_up, gen);
    auto resnet = std::dynamic_pointer_cast<cg::ResnetGenerator>(netG);
    SG_CHECK(resnet, "CUT: netG '", o.netG,
             "' has no layer list to take NCE features from: use resnet_9blocks, resnet_6blocks, stylegan2 or "
             "smallstylegan2");
    n = int64_t(resnet->model->size());
    cg::ResnetGenerator* g = resnet.get();
    run_G_ = [this](const Tensor& x) { return (*netG)(x); };
    encode_G_ = [this, g](const Tensor& x) { return g->forward_features(x, nce_layers, /*encode_only=*/true).features; };
  }
  for (int64_t layer : nce_layers)
    SG_CHECK(layer < n, "CUT: nce_layers '", o.nce_layers, "': layer ", layer, " is out of range: netG ", o.netG,
             " has ", n, " layers (0 to ", n - 1, ")");
  netF = models::cut::define_F(o.netF, o.init_type, o.init_gain, o.netF_nc, gen);
  if (!o.isTrain) return;
  if (o.nce_idt)  // G(real_B) must be defined: B has A's channels
    SG_CHECK(o.input_nc == o.output_nc, "CUT: nce_idt needs input_nc == output_nc, got ", o.input_nc, " and ",
             o.output_nc);
  if (o.netD == "stylegan2" || o.netD == "tilestylegan2")  // no init_net either
    netD = sg2::define_D(o.netD, o.output_nc, o.ndf, o.load_size, o.crop_size, o.n_layers_D, gen);
  else
    netD = cg::define_D(o.output_nc, o.ndf, o.netD, o.n_layers_D, o.normD, o.init_type, o.init_gain, o.no_antialias,
                        gen);
  criterionGAN = std::make_unique<GANLoss>(gan_mode_from_name(o.gan_mode, /*allow_nonsaturating=*/true));
  make_optimizers();
}

CUTModel::~CUTModel() = default;

void CUTModel::make_optimizers() {
  nn::Adam::Options adam;
  adam.lr = opt.lr;
  adam.beta1 = opt.beta1;
  adam.beta2 = opt.beta2;
  optimizer_G = std::make_unique<nn::Adam>(netG->parameters(), adam);
  optimizer_D = std::make_unique<nn::Adam>(netD->parameters(), adam);
  if (optimizer_F) optimizer_F = std::make_unique<nn::Adam>(netF->parameters(), adam);
}

void CUTModel::set_input(const Tensor& A, const Tensor& B) {
  const bool AtoB = opt.direction == "AtoB";
  real_A = AtoB ? A : B;
  real_B = AtoB ? B : A;
}

void CUTModel::data_dependent_initialize(const Tensor& A, const Tensor& B) {
  SG_CHECK(schedulers.empty(), "CUT.data_dependent_initialize: call it before setup_schedulers (optimizer_F needs its scheduler)");
  SG_CHECK(!data_initialized_, "CUT.data_dependent_initialize: called twice (once, on the first batch, makes netF's "
           "MLPs and optimizer_F)");
  set_input(A, B);
  forward();
  if (opt.isTrain) {
    compute_D_loss().backward();
    compute_G_loss().backward();
    if (opt.lambda_NCE > 0.0 && !netF->parameters().empty()) {
      // netF sample has no parameters: the official would fail here (Adam of an
      // empty list); there is simply nothing to optimise.
      nn::Adam::Options adam;
      adam.lr = opt.lr;
      adam.beta1 = opt.beta1;
      adam.beta2 = opt.beta2;
      optimizer_F = std::make_unique<nn::Adam>(netF->parameters(), adam);
    }
  }
  data_initialized_ = true;
}

void CUTModel::forward() {
  SG_CHECK(real_A.defined() && real_B.defined(), "CUT.forward: call set_input first");
  const bool with_B = opt.nce_idt && opt.isTrain;
  real = with_B ? cat({real_A, real_B}, 0) : real_A;
  if (opt.flip_equivariance) {
    flipped_for_equivariance = opt.isTrain && (flip_choice ? flip_choice() : gen_.uniform() < 0.5);
    if (flipped_for_equivariance) real = flip(real, {3});
  }
  fake = run_G_(real);
  const int64_t nA = real_A.size(0);
  fake_B = narrow(fake, 0, 0, nA);
  if (with_B) idt_B = narrow(fake, 0, nA, fake.size(0) - nA);
}

Tensor CUTModel::compute_D_loss() {
  SG_CHECK(opt.isTrain, "CUT.compute_D_loss: the model was built with isTrain false");
  // GANLoss returns the mean already (the official's .mean() is of a scalar).
  loss_D_fake = (*criterionGAN)((*netD)(fake_B.detach()), false);  // no gradient into G
  pred_real = (*netD)(real_B);
  loss_D_real = (*criterionGAN)(pred_real, true);
  loss_D = (loss_D_fake + loss_D_real) * 0.5;
  return loss_D;
}

Tensor CUTModel::compute_G_loss() {
  SG_CHECK(opt.isTrain, "CUT.compute_G_loss: the model was built with isTrain false");
  const TensorOptions scalar = options_like(fake_B);
  // G(A) should fool D.
  loss_G_GAN = opt.lambda_GAN > 0.0 ? (*criterionGAN)((*netD)(fake_B), true) * opt.lambda_GAN
                                    : scalar_tensor(0.0, scalar);
  // Each patch of G(A) should be closer to the same patch of A than to A's other patches.
  loss_NCE = opt.lambda_NCE > 0.0 ? calculate_NCE_loss(real_A, fake_B) : scalar_tensor(0.0, scalar);
  Tensor loss_NCE_both = loss_NCE;
  if (opt.nce_idt && opt.lambda_NCE > 0.0) {
    // The same for y and G(y): G should leave Y's images as they are, patch by patch.
    loss_NCE_Y = calculate_NCE_loss(real_B, idt_B);
    loss_NCE_both = (loss_NCE + loss_NCE_Y) * 0.5;
  }
  loss_G = loss_G_GAN + loss_NCE_both;
  return loss_G;
}

std::vector<Tensor> CUTModel::nce_features(const Tensor& x) { return encode_G_(x); }

Tensor CUTModel::calculate_NCE_loss(const Tensor& src, const Tensor& tgt) {
  const int64_t n_layers = int64_t(nce_layers.size());
  std::vector<Tensor> feat_q = nce_features(tgt);
  if (opt.flip_equivariance && flipped_for_equivariance)  // G's output was of the flipped input: flip back
    for (Tensor& f : feat_q) f = flip(f, {3});
  const std::vector<Tensor> feat_k = nce_features(src);
  const std::vector<Tensor> given = patch_ids_choice ? patch_ids_choice() : std::vector<Tensor>{};
  const models::cut::PatchSamples k = netF->forward(feat_k, opt.num_patches, given);
  const models::cut::PatchSamples q = netF->forward(feat_q, opt.num_patches, k.ids);  // the same positions
  const PatchNCELoss criterionNCE(src.size(0), opt.nce_T, opt.nce_includes_all_negatives_from_minibatch);
  Tensor total;
  for (int64_t l = 0; l < n_layers; ++l) {
    const Tensor loss = mean(criterionNCE(q.feats[size_t(l)], k.feats[size_t(l)]) * opt.lambda_NCE);
    total = total.defined() ? total + loss : loss;
  }
  return total / double(n_layers);
}

void CUTModel::optimize_parameters() {
  SG_CHECK(opt.isTrain, "CUT.optimize_parameters: the model was built with isTrain false");
  SG_CHECK(!netF->use_mlp || netF->mlp_init(),
           "CUT.optimize_parameters: call data_dependent_initialize first (it makes netF's MLPs and optimizer_F)");
  forward();
  // D, on the detached fake.
  set_requires_grad({netD.get()}, true);
  optimizer_D->zero_grad();
  loss_D = compute_D_loss();
  loss_D.backward();
  optimizer_D->step();
  // G and F together; D needs no gradients while G's loss flows through it.
  set_requires_grad({netD.get()}, false);
  optimizer_G->zero_grad();
  if (optimizer_F) optimizer_F->zero_grad();
  loss_G = compute_G_loss();
  loss_G.backward();
  optimizer_G->step();
  if (optimizer_F) optimizer_F->step();
}

std::vector<std::pair<std::string, double>> CUTModel::current_losses() const {
  auto value = [](const Tensor& t) { return t.defined() ? t.item() : 0.0; };
  std::vector<std::pair<std::string, double>> losses = {{"G_GAN", value(loss_G_GAN)},
                                                        {"D_real", value(loss_D_real)},
                                                        {"D_fake", value(loss_D_fake)},
                                                        {"G", value(loss_G)},
                                                        {"NCE", value(loss_NCE)}};
  if (opt.nce_idt && opt.isTrain) losses.push_back({"NCE_Y", value(loss_NCE_Y)});
  return losses;
}

NamedTensors CUTModel::current_visuals() const {
  NamedTensors v = {{"real_A", real_A}, {"fake_B", fake_B}, {"real_B", real_B}};
  if (opt.nce_idt && opt.isTrain) v.push_back({"idt_B", idt_B});
  return v;
}

std::vector<std::pair<std::string, nn::Module*>> CUTModel::named_networks() const {
  if (!opt.isTrain) return {{"G", netG.get()}};
  return {{"G", netG.get()}, {"F", netF.get()}, {"D", netD.get()}};
}

std::vector<std::pair<std::string, nn::Optimizer*>> CUTModel::named_optimizers() const {
  std::vector<std::pair<std::string, nn::Optimizer*>> optimizers = BaseModel::named_optimizers();
  if (optimizer_F) optimizers.push_back({"optimizer_F", optimizer_F.get()});
  return optimizers;
}

}  // namespace sg::translation
