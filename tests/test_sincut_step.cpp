// SinCUT's training (translation/sincut_model.h) against PyTorch: the losses of
// data_dependent_initialize and of one optimize_parameters, and every weight of
// G, D and F after it (Adam(0.002, (0, 0.99))), for a narrow SinCUT (netG and
// netD stylegan2 at ngf 1, ndf 1, crop 64, a batch of 2) with the patch ids of
// the torch run and the same decoder noise. The reference file is written by
// scripts/make_sincut_step_reference.py (see its header: the initial weights,
// inputs and noises are hashed values both sides compute). Also: the official
// defaults, names, and bad options.
#include <map>

#include "autograd/grad_mode.h"
#include "models/patch_sample.h"
#include "models/stylegan_networks.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tensor/random.h"
#include "tests/test_util.h"
#include "translation/sincut_model.h"
#include "weights/safetensors.h"

using namespace sg;
using namespace sg::test;
using namespace sg::translation;

namespace {

using Reference = std::map<std::string, Tensor>;

const Reference& reference() {
  static const Reference r = [] {
    Reference m;
    for (auto& [name, t] :
         read_safetensors(STYLEGRAD_SOURCE_DIR "/tests/data/sincut_step/sincut.safetensors", DType::f64))
      m.emplace(name, t);
    return m;
  }();
  return r;
}

const Tensor& entry(const std::string& name) {
  auto it = reference().find(name);
  REQUIRE_MESSAGE(it != reference().end(), "the reference has no '", name, "'");
  return it->second;
}

size_t count_prefix(const std::string& prefix) {
  size_t n = 0;
  for (auto& [name, t] : reference()) n += name.rfind(prefix, 0) == 0;
  return n;
}

uint32_t fnv1a32(const std::string& text) {
  uint32_t h = 0x811C9DC5u;
  for (unsigned char c : text) h = (h ^ c) * 0x01000193u;
  return h;
}

// The script's hashed_parameters: every parameter hashed_input(shape,
// fnv1a32("<net>.<key>")) * sqrt(3), biases and noise weights * 0.25.
void hashed_parameters(nn::Module& net, const std::string& prefix) {
  NoGradGuard no_grad;
  for (auto& [key, p] : net.named_parameters()) {
    const bool small = (key.size() >= 4 && key.compare(key.size() - 4, 4, "bias") == 0) ||
                       (key.size() >= 12 && key.compare(key.size() - 12, 12, "noise.weight") == 0);
    const Tensor h = hashed_input(p.shape(), fnv1a32(prefix + "." + key), DType::f64);
    p.copy_(h * (small ? 0.25 : 1.7320508075688772));
  }
}

// The reference's narrow SinCUT.
SinCUTOptions narrow_options() {
  SinCUTOptions o = sincut_options();
  o.ngf = 1;
  o.ndf = 1;
  o.netF_nc = 8;
  o.num_patches = 4;
  o.lambda_R1 = 1000.0;  // see the script: R1's part of D's gradient must show
  return o;
}

const std::vector<std::string> kLossNames = {"G_GAN", "D_real", "D_fake", "G", "NCE", "NCE_Y", "D_R1", "idt"};

void check_losses(const std::vector<std::pair<std::string, double>>& losses, const std::string& prefix) {
  std::vector<std::string> got;
  for (auto& [name, value] : losses) {
    got.push_back(name);
    const double want = entry(prefix + name).item();
    INFO(prefix, name, ": got ", value, ", torch ", want);
    CHECK(std::abs(value - want) <= 1e-4 * std::abs(want) + 1e-12);
  }
  CHECK(got == kLossNames);
}

}  // namespace

TEST_CASE("sincut step: one SinCUT iteration matches PyTorch (losses, every weight of G, D, F)") {
  Generator gen(0);
  SinCUTModel model(narrow_options(), gen);
  model.to(DType::f64);
  hashed_parameters(*model.netG, "G");
  hashed_parameters(*model.netD, "D");
  const Tensor A = hashed_input({2, 3, 64, 64}, 101, DType::f64), B = hashed_input({2, 3, 64, 64}, 102, DType::f64);
  model.netF->create_mlp(model.nce_features(A));  // as the script: F's MLPs before data_dependent_initialize
  hashed_parameters(*model.netF, "F");
  // Initial state, to see every network move.
  std::map<std::string, NamedTensors> init;
  for (auto& [name, net] : model.named_networks()) {
    NamedTensors copy;
    for (auto& [key, t] : net->state_dict()) copy.push_back({key, t.clone()});
    init[name] = copy;
  }

  int calls = 0, noises = 0;
  model.patch_ids_choice = [&] {
    std::vector<Tensor> ids;
    for (int l = 0; l < 3; ++l) ids.push_back(entry("ids.call" + std::to_string(calls) + ".layer" + std::to_string(l)));
    ++calls;
    return ids;
  };
  model.noise_choice = [&] {
    return std::vector<Tensor>{hashed_input({4, 1, 64, 64}, uint32_t(301 + noises++), DType::f64)};
  };

  model.data_dependent_initialize(A, B);
  REQUIRE(model.optimizer_F);
  check_losses(model.current_losses(), "ddi.loss.");
  model.optimize_parameters();
  check_losses(model.current_losses(), "loss.");
  CHECK(calls == 4);   // NCE and NCE_Y in each G loss
  CHECK(noises == 2);  // one G forward each
  CHECK(model.real_B.requires_grad());  // R1's doing, as the official real_B.requires_grad_()

  for (auto& [name, net] : model.named_networks()) {
    const NamedTensors state = net->state_dict();
    CHECK(state.size() == count_prefix("after." + name + "."));
    double moved = 0;
    for (size_t i = 0; i < state.size(); ++i) {
      const auto& [key, t] = state[i];
      INFO(name, ".", key);
      check_close(t, entry("after." + name + "." + key), 1e-4, 1e-9);
      const std::vector<double> a = t.to_vector(), b = init[name][i].second.to_vector();
      for (size_t j = 0; j < a.size(); ++j) moved = std::max(moved, std::abs(a[j] - b[j]));
    }
    INFO(name, " moved by ", moved);
    CHECK(moved > 1e-3);  // Adam's first step moves by about lr = 0.002
  }
}

TEST_CASE("sincut step: the options are the official SinCUT defaults") {
  const SinCUTOptions o = sincut_options();
  CHECK(o.nce_includes_all_negatives_from_minibatch);
  CHECK(o.dataset_mode == "singleimage");
  CHECK(o.netG == "stylegan2");
  CHECK(o.netD == "stylegan2");
  CHECK(o.stylegan2_G_num_downsampling == 1);
  CHECK(o.gan_mode == "nonsaturating");
  CHECK(o.num_patches == 1);
  CHECK(o.nce_layers == "0,2,4");
  CHECK(o.lambda_NCE == 4.0);
  CHECK(o.ngf == 10);
  CHECK(o.ndf == 8);
  CHECK(o.lr == 0.002);
  CHECK(o.beta1 == 0.0);
  CHECK(o.beta2 == 0.99);
  CHECK(o.load_size == 1024);
  CHECK(o.crop_size == 64);
  CHECK(o.preprocess == "zoom_and_patch");
  CHECK(o.lambda_R1 == 1.0);
  CHECK(o.lambda_identity == 1.0);
  CHECK(o.batch_size == 16);
  CHECK(o.save_epoch_freq == 1);
  CHECK(o.save_latest_freq == 20000);
  CHECK(o.n_epochs == 8);
  CHECK(o.n_epochs_decay == 8);
  CHECK(o.nce_idt);  // --CUT_mode CUT's, kept
  CHECK(o.lambda_GAN == 1.0);
  const SinCUTOptions t = sincut_options(false);
  CHECK(!t.isTrain);
  CHECK(t.preprocess == "none");
  CHECK(t.batch_size == 1);
  CHECK(t.num_test == 1);
  CHECK(t.netG == "stylegan2");
}

TEST_CASE("sincut step: full-size networks, names, and a step on the default options") {
  manual_seed(3);
  SinCUTOptions o = sincut_options();
  o.num_patches = 2;
  Generator gen(5);
  SinCUTModel model(o, gen);
  CHECK(model.nce_layers == std::vector<int64_t>{0, 2, 4});
  CHECK(dynamic_cast<models::stylegan::StyleGAN2Generator*>(model.netG.get()));
  CHECK(dynamic_cast<models::stylegan::StyleGAN2Discriminator*>(model.netD.get()));
  CHECK(model.criterionGAN->mode() == GanMode::nonsaturating);
  CHECK(model.optimizer_D->options().beta2 == 0.99);
  std::vector<std::string> nets;
  for (auto& [name, net] : model.named_networks()) nets.push_back(name);
  CHECK(nets == std::vector<std::string>{"G", "F", "D"});
  // One sample a batch keeps it quick; the networks are SinCUT's at full width (64^2).
  model.data_dependent_initialize(hashed_input({1, 3, 64, 64}, 1), hashed_input({1, 3, 64, 64}, 2));
  model.optimize_parameters();
  std::vector<std::string> losses;
  for (auto& [name, value] : model.current_losses()) {
    losses.push_back(name);
    CHECK(std::isfinite(value));
  }
  CHECK(losses == kLossNames);
  const auto l = model.current_losses();
  // loss_G = G_GAN + (NCE + NCE_Y) / 2 + idt.
  CHECK(l[3].second == doctest::Approx(l[0].second + 0.5 * (l[4].second + l[5].second) + l[7].second));
  CHECK(model.fake_B.shape() == Shape{1, 3, 64, 64});
  CHECK(model.idt_B.shape() == Shape{1, 3, 64, 64});

  o.isTrain = false;
  SinCUTModel test(o, gen);
  nets.clear();
  for (auto& [name, net] : test.named_networks()) nets.push_back(name);
  CHECK(nets == std::vector<std::string>{"G"});
}

TEST_CASE("sincut step: a model is reproducible from its Generator alone (weights, noise, patches)") {
  // Two models from equal Generators, with the global generator in different
  // states around each: the same weights, and the same step (G's noise and F's
  // patch positions come from the model's Generator too).
  const SinCUTOptions o = narrow_options();
  const Tensor A = hashed_input({1, 3, 64, 64}, 1), B = hashed_input({1, 3, 64, 64}, 2);
  std::vector<NamedTensors> after;
  std::vector<std::vector<std::pair<std::string, double>>> losses;
  for (uint64_t global_seed : {1, 2}) {
    manual_seed(global_seed);
    Generator gen(7);
    SinCUTModel model(o, gen);
    (void)randn({int64_t(global_seed) + 3}, default_generator());
    model.data_dependent_initialize(A, B);
    model.optimize_parameters();
    losses.push_back(model.current_losses());
    NamedTensors state;
    for (auto& [name, net] : model.named_networks())
      for (auto& [key, t] : net->state_dict()) state.push_back({name + "." + key, t});
    after.push_back(state);
  }
  CHECK(losses[0] == losses[1]);
  check_identical(after[0], after[1], "the two models after a step");
}

TEST_CASE("sincut step: bad options are one error line") {
  SinCUTOptions o = narrow_options();
  o.nce_layers = "0,2,6";
  CHECK(error_of([&] { SinCUTModel m(o); }) ==
        "CUT: nce_layers '0,2,6': layer 6 is out of range: netG stylegan2 has 6 layers (0 to 5)");
  o = narrow_options();
  o.netG = "smallstylegan2";  // 2 blocks: its encoder has 4 layers
  CHECK(error_of([&] { SinCUTModel m(o); }).find("layer 4 is out of range: netG smallstylegan2 has 4 layers") !=
        std::string::npos);
  o = narrow_options();
  o.lambda_R1 = -1;
  CHECK(error_of([&] { SinCUTModel m(o); }) == "SinCUT: lambda_R1 must be >= 0, got -1");
  o = narrow_options();
  o.lambda_identity = -2;
  CHECK(error_of([&] { SinCUTModel m(o); }) == "SinCUT: lambda_identity must be >= 0, got -2");
  o = narrow_options();
  o.nce_idt = false;
  CHECK(error_of([&] { SinCUTModel m(o); }).find("needs G(real_B), which forward makes only with nce_idt") !=
        std::string::npos);
  o = narrow_options();
  o.gan_mode = "hinge";
  CHECK(error_of([&] { SinCUTModel m(o); }).find("gan_mode 'hinge' is not implemented") != std::string::npos);
  o = narrow_options();
  o.netD = "stylegan3";
  CHECK(!error_of([&] { SinCUTModel m(o); }).empty());
  // CycleGAN's GANLoss has no nonsaturating mode.
  CHECK(error_of([] { gan_mode_from_name("nonsaturating"); }).find("expected lsgan, vanilla or wgangp") !=
        std::string::npos);
}

TEST_CASE("sincut step: the nonsaturating GAN loss is softplus(-p) for real, softplus(p) for fake") {
  const Tensor p = t64({-1.0, 0.5, 2.0, 0.0}, {2, 2});
  const GANLoss ns(GanMode::nonsaturating);
  auto sp = [](double x) { return std::log1p(std::exp(x)); };
  CHECK(ns(p, true).item() == doctest::Approx((sp(1.0) + sp(-0.5) + sp(-2.0) + sp(0.0)) / 4));
  CHECK(ns(p, false).item() == doctest::Approx((sp(-1.0) + sp(0.5) + sp(2.0) + sp(0.0)) / 4));
  CHECK(gan_mode_from_name("nonsaturating", true) == GanMode::nonsaturating);
  CHECK(std::string(gan_mode_name(GanMode::nonsaturating)) == "nonsaturating");
}
