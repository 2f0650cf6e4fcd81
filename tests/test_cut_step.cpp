// CUT's training (translation/cut_model.h) against PyTorch: the losses of
// data_dependent_initialize and of one optimize_parameters, and every weight
// of G, D and F after it (Adam), for --CUT_mode CUT and FastCUT (flip
// equivariance, a batch of 2) in CycleGAN's layout, and for CUT in its default
// anti-aliased layout, with the patch ids and flips of the torch run.
// The reference files are written by scripts/make_cut_step_reference.py (see
// its header). Also: options and names, the NCE features' in-place ReLU, bad
// options, and a checkpoint that resumes a run exactly.
#include <map>

#include "models/cyclegan_networks.h"
#include "models/patch_sample.h"
#include "nn/checkpoint.h"
#include "nn/lr_scheduler.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tensor/random.h"
#include "tests/test_util.h"
#include "translation/cut_model.h"
#include "weights/safetensors.h"

using namespace sg;
using namespace sg::test;
using namespace sg::translation;
namespace cg = sg::models::cyclegan;

namespace {

using Reference = std::map<std::string, Tensor>;

// A reference file, in float64 (it stores float32 values; ids stay int64).
const Reference& reference(const std::string& mode) {
  static std::map<std::string, Reference> files;
  auto it = files.find(mode);
  if (it == files.end()) {
    Reference m;
    for (auto& [name, t] : read_safetensors(STYLEGRAD_SOURCE_DIR "/tests/data/cut_step/" + mode + ".safetensors", DType::f64))
      m.emplace(name, t);
    it = files.emplace(mode, std::move(m)).first;
  }
  return it->second;
}

const Tensor& reference_entry(const Reference& r, const std::string& name) {
  auto it = r.find(name);
  REQUIRE_MESSAGE(it != r.end(), "the reference has no '", name, "'");
  return it->second;
}

NamedTensors with_prefix(const Reference& r, const std::string& prefix) {
  NamedTensors out;
  for (auto& [name, t] : r)
    if (name.rfind(prefix, 0) == 0) out.push_back({name.substr(prefix.size()), t});
  return out;
}

// The reference's narrow CUT: resnet_6blocks ngf 4, basic D ndf 4, netF_nc 16,
// 8 patches, CycleGAN's layout (--no_antialias --no_antialias_up) unless
// antialias (CUT's default layout: the cut_antialias reference).
CUTOptions narrow_options(const std::string& CUT_mode, bool antialias = false) {
  CUTOptions o = cut_options(CUT_mode);
  o.netG = "resnet_6blocks";
  o.ngf = 4;
  o.ndf = 4;
  o.netF_nc = 16;
  o.num_patches = 8;
  o.no_antialias = o.no_antialias_up = !antialias;
  return o;
}

void check_losses(const std::vector<std::pair<std::string, double>>& losses, const Reference& r,
                  const std::string& prefix, const std::vector<std::string>& names, double atol) {
  std::vector<std::string> got;
  for (auto& [name, value] : losses) {
    got.push_back(name);
    const double want = reference_entry(r, prefix + name).item();
    INFO(prefix, name, ": got ", value, ", torch ", want);
    CHECK(std::abs(value - want) <= 1e-4 * std::abs(want) + atol);
  }
  CHECK(got == names);
}

// Every state_dict entry of G, D and F equals torch's within 1e-4 relative, and
// each network moved from its initial weights by more than that. Biases get an
// absolute 1e-6 (lr / 200) on top: those of convolutions followed by
// InstanceNorm have a zero gradient in theory, computed as rounding noise
// (~1e-12 against gradients of ~100) on both sides, which Adam's first step
// turns into moves of lr |g| / (|g| + eps), up to ~4e-7 here; a wrong sign of a
// real gradient moves a bias by 2 lr = 4e-4.
void check_networks(CUTModel& model, const Reference& r) {
  for (auto& [name, net] : model.named_networks()) {
    double moved = 0;
    const NamedTensors state = net->state_dict();
    CHECK(state.size() == with_prefix(r, "after." + name + ".").size());
    for (auto& [key, t] : state) {
      INFO(name, ".", key);
      const Tensor& want = reference_entry(r, "after." + name + "." + key);
      const bool bias = key.size() >= 4 && key.compare(key.size() - 4, 4, "bias") == 0;
      check_close(t, want, 1e-4, bias ? 1e-6 : 1e-9);
      const std::vector<double> a = want.to_vector(), b = reference_entry(r, "init." + name + "." + key).to_vector();
      for (size_t i = 0; i < a.size(); ++i) moved = std::max(moved, std::abs(a[i] - b[i]));
    }
    INFO(name, " moved by ", moved);
    CHECK(moved > 1e-5);
  }
}

// One data_dependent_initialize and one optimize_parameters on the reference's
// weights, batch, patch ids and flips. float32: the losses only (see
// test_cyclegan_step.cpp: Adam's first step on float32 rounding noise).
void run_reference(const std::string& file, const std::string& CUT_mode, DType dtype, bool antialias = false) {
  const Reference& r = reference(file);
  Generator gen(0);
  CUTModel model(narrow_options(CUT_mode, antialias), gen);
  model.to(DType::f64);
  model.netG->load_state_dict(with_prefix(r, "init.G."));
  model.netD->load_state_dict(with_prefix(r, "init.D."));
  // torch made F's MLPs inside data_dependent_initialize, from its own random
  // numbers: make them first here, from the same features, and load torch's.
  model.netF->create_mlp(model.nce_features(reference_entry(r, "input.A")));
  model.netF->load_state_dict(with_prefix(r, "init.F."));
  if (dtype != DType::f64) model.to(dtype);
  const Tensor A = to_dtype(reference_entry(r, "input.A"), dtype), B = to_dtype(reference_entry(r, "input.B"), dtype);

  int calls = 0, flips = 0;
  model.patch_ids_choice = [&] {
    std::vector<Tensor> ids;
    for (int l = 0; l < 5; ++l) ids.push_back(reference_entry(r, "ids.call" + std::to_string(calls) + ".layer" + std::to_string(l)));
    ++calls;
    return ids;
  };
  const std::vector<double> flip = r.count("flip") ? reference_entry(r, "flip").to_vector() : std::vector<double>{};
  model.flip_choice = [&] { return flip.at(size_t(flips++)) != 0.0; };

  const bool cut = CUT_mode == "CUT";
  const std::vector<std::string> names = cut ? std::vector<std::string>{"G_GAN", "D_real", "D_fake", "G", "NCE", "NCE_Y"}
                                             : std::vector<std::string>{"G_GAN", "D_real", "D_fake", "G", "NCE"};
  const double atol = dtype == DType::f64 ? 1e-12 : 1e-7;
  model.data_dependent_initialize(A, B);
  REQUIRE(model.optimizer_F);
  check_losses(model.current_losses(), r, "ddi.loss.", names, atol);
  model.optimize_parameters();
  check_losses(model.current_losses(), r, "loss.", names, atol);
  if (dtype == DType::f64) check_networks(model, r);
  CHECK(calls == (cut ? 4 : 2));          // NCE and NCE_Y in each of the two G losses
  CHECK(flips == (cut ? 0 : 2));          // FastCUT: one flip decision per forward
  CHECK(model.flipped_for_equivariance == !cut);  // the reference flips in the iteration
  CHECK(model.optimizer_G->steps(0) == 1);
  CHECK(model.optimizer_D->steps(0) == 1);
  CHECK(model.optimizer_F->steps(0) == 1);
}

}  // namespace

TEST_CASE("cut step: one CUT iteration matches PyTorch (losses, every weight of G, D, F)") {
  run_reference("cut", "CUT", DType::f64);
}

TEST_CASE("cut step: one FastCUT iteration (flip equivariance, batch 2) matches PyTorch") {
  run_reference("fastcut", "FastCUT", DType::f64);
}

TEST_CASE("cut step: one CUT iteration in CUT's default, anti-aliased layout matches PyTorch") {
  run_reference("cut_antialias", "CUT", DType::f64, /*antialias=*/true);
}

TEST_CASE("cut step: in float32, PyTorch's losses") {
  run_reference("cut", "CUT", DType::f32);
  run_reference("fastcut", "FastCUT", DType::f32);
}

TEST_CASE("cut step: the options of CUT and FastCUT are the official defaults") {
  const CUTOptions c = cut_options("CUT"), f = cut_options("fastcut");
  CHECK(c.lambda_NCE == 1.0);
  CHECK(c.nce_idt);
  CHECK(!c.flip_equivariance);
  CHECK(c.n_epochs == 200);
  CHECK(c.n_epochs_decay == 200);
  CHECK(f.lambda_NCE == 10.0);
  CHECK(!f.nce_idt);
  CHECK(f.flip_equivariance);
  CHECK(f.n_epochs == 150);
  CHECK(f.n_epochs_decay == 50);
  for (const CUTOptions& o : {c, f}) {
    CHECK(o.lambda_GAN == 1.0);
    CHECK(o.nce_layers == "0,4,8,12,16");
    CHECK(o.nce_T == 0.07);
    CHECK(o.num_patches == 256);
    CHECK(o.netF == "mlp_sample");
    CHECK(o.netF_nc == 256);
    CHECK(o.gan_mode == "lsgan");
    CHECK(o.lr == 0.0002);
    CHECK(o.beta1 == 0.5);
    CHECK(o.beta2 == 0.999);
    CHECK(o.init_type == "xavier");
    CHECK(o.init_gain == 0.02);
    CHECK(o.normG == "instance");
    CHECK(o.normD == "instance");
    CHECK(o.ngf == 64);
    CHECK(o.ndf == 64);
    CHECK(o.netG == "resnet_9blocks");
    CHECK(o.netD == "basic");
    CHECK(o.no_dropout);
    CHECK(o.pool_size == 0);
    CHECK(!o.nce_includes_all_negatives_from_minibatch);
    CHECK(!o.no_antialias);  // the official default: anti-aliased
  }
  CHECK(error_of([] { cut_options("SinCUT"); }).find("CUT_mode 'SinCUT' is not CUT or FastCUT") != std::string::npos);
}

TEST_CASE("cut step: names, visuals, optimizers, and the official order of a step") {
  CUTOptions o = narrow_options("CUT");
  Generator gen(4);
  CUTModel model(o, gen);
  std::vector<std::string> nets, optimizers;
  for (auto& [name, net] : model.named_networks()) nets.push_back(name);
  CHECK(nets == std::vector<std::string>{"G", "F", "D"});
  for (auto& [name, opt] : model.named_optimizers()) optimizers.push_back(name);
  CHECK(optimizers == std::vector<std::string>{"optimizer_G", "optimizer_D"});  // F's comes with its MLPs
  CHECK(model.nce_layers == std::vector<int64_t>{0, 4, 8, 12, 16});
  CHECK(model.netF->parameters().empty());
  CHECK(error_of([&] { model.set_input(hashed_input({1, 3, 32, 32}, 1), hashed_input({1, 3, 32, 32}, 2)); model.optimize_parameters(); })
            .find("call data_dependent_initialize first") != std::string::npos);

  model.data_dependent_initialize(hashed_input({1, 3, 32, 32}, 1), hashed_input({1, 3, 32, 32}, 2));
  optimizers.clear();
  for (auto& [name, opt] : model.named_optimizers()) optimizers.push_back(name);
  CHECK(optimizers == std::vector<std::string>{"optimizer_G", "optimizer_D", "optimizer_F"});
  CHECK(model.netF->num_mlps() == 5);
  CHECK(model.optimizer_F->params().size() == model.netF->parameters().size());
  CHECK(model.optimizer_F->params().size() == 20);
  CHECK(model.optimizer_G->params().size() == model.netG->parameters().size());
  CHECK(model.optimizer_D->options().beta2 == 0.999);
  // F's MLP inputs: the taps' channels (layer 0 is the padded image; 8 is 4 ngf).
  CHECK(model.netF->mlp(0)->named_parameters()[0].second.shape() == Shape{16, 3});
  CHECK(model.netF->mlp(2)->named_parameters()[0].second.shape() == Shape{16, 16});
  CHECK(error_of([&] { model.data_dependent_initialize(model.real_A, model.real_B); }).find("called twice") !=
        std::string::npos);

  model.optimize_parameters();
  std::vector<std::string> visuals, losses;
  for (auto& [name, t] : model.current_visuals()) {
    visuals.push_back(name);
    CHECK(t.shape() == Shape{1, 3, 32, 32});
  }
  CHECK(visuals == std::vector<std::string>{"real_A", "fake_B", "real_B", "idt_B"});
  for (auto& [name, value] : model.current_losses()) {
    losses.push_back(name);
    CHECK(std::isfinite(value));
  }
  CHECK(losses == std::vector<std::string>{"G_GAN", "D_real", "D_fake", "G", "NCE", "NCE_Y"});
  // loss_G = G_GAN + (NCE + NCE_Y) / 2.
  const auto l = model.current_losses();
  CHECK(l[3].second == doctest::Approx(l[0].second + 0.5 * (l[4].second + l[5].second)));
  // D is frozen after the D step (set_requires_grad(netD, False) before G's).
  CHECK(!model.netD->parameters()[0].requires_grad());

  // Test mode: G only, no identity half.
  o.isTrain = false;
  CUTModel test(o, gen);
  nets.clear();
  for (auto& [name, net] : test.named_networks()) nets.push_back(name);
  CHECK(nets == std::vector<std::string>{"G"});
  CHECK(test.named_optimizers().empty());
  test.set_input(hashed_input({1, 3, 32, 32}, 1), hashed_input({1, 3, 32, 32}, 2));
  test.forward();
  CHECK(test.fake_B.shape() == Shape{1, 3, 32, 32});
  CHECK(test.current_visuals().size() == 3);

  // FastCUT: no identity half, and the flip comes from the Generator when not injected.
  CUTOptions fo = narrow_options("FastCUT");
  Generator g1(9), g2(9);
  CUTModel fa(fo, g1), fb(fo, g2);
  for (CUTModel* m : {&fa, &fb}) {
    m->data_dependent_initialize(hashed_input({1, 3, 32, 32}, 3), hashed_input({1, 3, 32, 32}, 4));
    m->optimize_parameters();
  }
  CHECK(fa.current_visuals().size() == 3);
  CHECK(fa.current_losses().size() == 5);
  CHECK(fa.current_losses()[4].second == fb.current_losses()[4].second);  // reproducible from the seed
  // BtoA swaps the inputs.
  fo.direction = "BtoA";
  CUTModel swapped(fo, gen);
  const Tensor A = hashed_input({1, 3, 16, 16}, 1), B = hashed_input({1, 3, 16, 16}, 2);
  swapped.set_input(A, B);
  CHECK(swapped.real_A.impl_ptr() == B.impl_ptr());
}

TEST_CASE("cut step: data_dependent_initialize makes F's MLPs per NCE layer and optimizer_F, once, without a step") {
  CUTOptions o = narrow_options("CUT");
  o.netF_nc = 12;  // not a channel count of G, so that a swapped dimension shows
  o.lr = 1e-3;     // optimizer_F's settings come from the options, as G's and D's
  o.beta1 = 0.25;
  o.beta2 = 0.75;
  Generator gen(11);
  CUTModel model(o, gen);
  REQUIRE(model.netF->use_mlp);
  CHECK_FALSE(model.netF->mlp_init());
  CHECK(model.netF->num_mlps() == 0);
  CHECK(model.netF->state_dict().empty());
  CHECK_FALSE(model.optimizer_F);
  NamedTensors g_before, d_before;
  for (auto& [key, t] : model.netG->state_dict()) g_before.push_back({key, t.clone()});
  for (auto& [key, t] : model.netD->state_dict()) d_before.push_back({key, t.clone()});

  const Tensor A = hashed_input({1, 3, 32, 32}, 21), B = hashed_input({1, 3, 32, 32}, 22);
  model.data_dependent_initialize(A, B);

  // One MLP per NCE layer (0, 4, 8, 12, 16 of resnet_6blocks at ngf 4): Linear(C_l, nc),
  // ReLU, Linear(nc, nc), C_l the tap's channels: the padded image (3), the first
  // downsampling (2 ngf), the second's norm (4 ngf), a residual block (4 ngf), the
  // first transposed convolution (2 ngf); the official keys mlp_<l>.0 and mlp_<l>.2.
  const std::vector<int64_t> in_channels = {3, 8, 16, 16, 8};
  REQUIRE(model.netF->mlp_init());
  REQUIRE(model.netF->num_mlps() == in_channels.size());
  const std::vector<Tensor> feats = model.nce_features(A);
  std::vector<std::pair<std::string, Shape>> want_keys;
  for (size_t l = 0; l < in_channels.size(); ++l) {
    INFO("layer ", model.nce_layers[l]);
    CHECK(feats[l].size(1) == in_channels[l]);
    const std::string m = "mlp_" + std::to_string(l);
    want_keys.insert(want_keys.end(), {{m + ".0.weight", Shape{12, in_channels[l]}},
                                       {m + ".0.bias", Shape{12}},
                                       {m + ".2.weight", Shape{12, 12}},
                                       {m + ".2.bias", Shape{12}}});
    CHECK(dynamic_cast<const nn::ReLU*>((*model.netF->mlp(l))[1].get()));
  }
  std::vector<std::pair<std::string, Shape>> got_keys;
  for (auto& [key, t] : model.netF->state_dict()) got_keys.push_back({key, t.shape()});
  CHECK(got_keys == want_keys);

  // optimizer_F: Adam over exactly F's parameters, in order, with the options' settings, not stepped.
  REQUIRE(model.optimizer_F);
  const std::vector<Tensor> f_params = model.netF->parameters(), opt_params = model.optimizer_F->params();
  REQUIRE(opt_params.size() == f_params.size());
  for (size_t i = 0; i < f_params.size(); ++i) CHECK(opt_params[i].impl_ptr() == f_params[i].impl_ptr());
  CHECK(model.optimizer_F->options().lr == 1e-3);
  CHECK(model.optimizer_F->options().beta1 == 0.25);
  CHECK(model.optimizer_F->options().beta2 == 0.75);
  CHECK(model.optimizer_F->steps(0) == 0);
  CHECK(model.optimizer_G->steps(0) == 0);

  // It ran the losses' backward (F's and G's parameters have gradients) but
  // stepped nothing: G and D are as they were built.
  CHECK(std::isfinite(model.loss_D.item()));
  CHECK(std::isfinite(model.loss_G.item()));
  CHECK(f_params[0].grad().defined());
  CHECK(model.netG->parameters()[0].grad().defined());
  check_identical(model.netG->state_dict(), g_before, "G after data_dependent_initialize");
  check_identical(model.netD->state_dict(), d_before, "D after data_dependent_initialize");

  // Twice is an error that changes nothing: the same MLPs, the same optimizer_F.
  const nn::Adam* optimizer_F = model.optimizer_F.get();
  CHECK(error_of([&] { model.data_dependent_initialize(A, B); }) ==
        "CUT.data_dependent_initialize: called twice (once, on the first batch, makes netF's MLPs and optimizer_F)");
  CHECK(model.optimizer_F.get() == optimizer_F);
  CHECK(model.netF->parameters()[0].impl_ptr() == f_params[0].impl_ptr());
  CHECK(model.netF->num_mlps() == in_channels.size());

  // Also where there is no optimizer_F to tell (netF sample, or a test model).
  CUTOptions so = narrow_options("FastCUT");
  so.netF = "sample";
  CUTModel sample(so, gen);
  sample.data_dependent_initialize(A, B);
  CHECK_FALSE(sample.optimizer_F);
  CHECK(error_of([&] { sample.data_dependent_initialize(A, B); }).find("called twice") != std::string::npos);
  CUTOptions to = narrow_options("CUT");
  to.isTrain = false;
  CUTModel test(to, gen);
  test.data_dependent_initialize(A, B);  // set_input and forward only
  CHECK(test.fake_B.shape() == Shape{1, 3, 32, 32});
  CHECK(test.netF->num_mlps() == 0);
  CHECK(error_of([&] { test.data_dependent_initialize(A, B); }).find("called twice") != std::string::npos);

  // After setup_schedulers, optimizer_F would have no scheduler: an error, before anything is made.
  CUTModel late(narrow_options("CUT"), gen);
  late.setup_schedulers({});
  CHECK(error_of([&] { late.data_dependent_initialize(A, B); }) ==
        "CUT.data_dependent_initialize: call it before setup_schedulers (optimizer_F needs its scheduler)");
  CHECK(late.netF->num_mlps() == 0);
  CHECK_FALSE(late.optimizer_F);
}

TEST_CASE("cut step: NCE features are the official encoder's: a tap followed by an in-place ReLU is rectified") {
  Generator gen(2);
  CUTModel model(narrow_options("CUT"), gen);
  auto& seq = *std::dynamic_pointer_cast<cg::ResnetGenerator>(model.netG)->model;
  const Tensor x = hashed_input({1, 3, 32, 32}, 5);
  const std::vector<Tensor> plain = seq.forward_features(x, model.nce_layers, true).features;
  const std::vector<Tensor> feats = model.nce_features(x);
  REQUIRE(feats.size() == 5);
  // Layer 8 is InstanceNorm, layer 9 ReLU(inplace=True): torch's tap is relu(norm).
  CHECK(dynamic_cast<const nn::ReLU*>(seq[9].get()));
  CHECK(max(neg(plain[2])).item() > 0);  // InstanceNorm's output has negative entries
  check_identical(feats[2], relu(plain[2]), "layer 8");
  // Layers 0, 4 (ReflectionPad, Conv) and 12 (a block) are followed by no ReLU, 16 is the last tap.
  for (size_t l : {size_t(0), size_t(1), size_t(3), size_t(4)}) check_identical(feats[l], plain[l], "other taps");
}

TEST_CASE("cut step: bad options are one error line") {
  CUTOptions o = narrow_options("CUT");
  o.nce_layers = "0,4,8,12,40";
  CHECK(error_of([&] { CUTModel m(o); }) ==
        "CUT: nce_layers '0,4,8,12,40': layer 40 is out of range: netG resnet_6blocks has 25 layers (0 to 24)");
  o.nce_layers = "0,4,x";
  CHECK(error_of([&] { CUTModel m(o); }).find("'x' is not a layer index") != std::string::npos);
  o.nce_layers = "0,-1";
  CHECK(error_of([&] { CUTModel m(o); }).find("'-1' is not a layer index") != std::string::npos);
  o.nce_layers = "8,4";
  CHECK(error_of([&] { CUTModel m(o); }).find("must be increasing") != std::string::npos);
  o.nce_layers = "";
  CHECK(error_of([&] { CUTModel m(o); }).find("'' is not a layer index") != std::string::npos);
  o = narrow_options("CUT");
  o.netG = "unet_128";
  CHECK(error_of([&] { CUTModel m(o); }).find("netG 'unet_128' has no layer list") != std::string::npos);
  o = narrow_options("CUT");
  o.no_antialias = o.no_antialias_up = false;  // CUT's default: the anti-aliased layout, with its blur filters
  {
    CUTModel m(o);
    bool has_filter = false;
    for (const auto& [key, t] : m.netG->state_dict()) has_filter |= key.find(".filt") != std::string::npos;
    CHECK(has_filter);
  }
  o = narrow_options("CUT");
  o.output_nc = 1;
  CHECK(error_of([&] { CUTModel m(o); }).find("nce_idt needs input_nc == output_nc") != std::string::npos);
  o = narrow_options("CUT");
  o.netF = "reshape";
  CHECK(error_of([&] { CUTModel m(o); }).find("netF 'reshape' is not implemented") != std::string::npos);
  o = narrow_options("CUT");
  o.gan_mode = "hinge";
  CHECK(error_of([&] { CUTModel m(o); }).find("'hinge'") != std::string::npos);
  o = narrow_options("CUT");
  o.direction = "AtoC";
  CHECK(error_of([&] { CUTModel m(o); }).find("direction 'AtoC'") != std::string::npos);
  // data_dependent_initialize after setup_schedulers would leave optimizer_F without one.
  CUTModel m(narrow_options("CUT"));
  m.setup_schedulers({});
  CHECK(error_of([&] { m.data_dependent_initialize(hashed_input({1, 3, 32, 32}, 1), hashed_input({1, 3, 32, 32}, 2)); })
            .find("before setup_schedulers") != std::string::npos);
}

TEST_CASE("cut step: netF sample (no MLP): nothing for optimizer_F, G and D still train") {
  CUTOptions o = narrow_options("FastCUT");
  o.netF = "sample";
  Generator gen(6);
  CUTModel model(o, gen);
  model.data_dependent_initialize(hashed_input({1, 3, 32, 32}, 1), hashed_input({1, 3, 32, 32}, 2));
  CHECK(!model.optimizer_F);
  model.optimize_parameters();
  CHECK(model.optimizer_G->steps(0) == 1);
  CHECK(std::isfinite(model.current_losses()[4].second));
}

TEST_CASE("cut step: a checkpoint (G, F, D, the three optimizers and schedulers, the Generator) resumes the run") {
  CUTOptions o = narrow_options("CUT");
  o.flip_equivariance = true;  // the Generator's flips and patch ids both
  SchedulerOptions s;
  s.n_epochs = 1;
  s.n_epochs_decay = 3;
  auto batch = [](int k) { return std::pair{hashed_input({1, 3, 32, 32}, 40 + k), hashed_input({1, 3, 32, 32}, 60 + k)}; };
  Generator g1(1);
  CUTModel straight(o, g1);
  straight.data_dependent_initialize(batch(0).first, batch(0).second);
  straight.setup_schedulers(s);
  Generator g2(2);
  CUTModel resumed(o, g2);
  resumed.data_dependent_initialize(batch(9).first, batch(9).second);  // makes F's MLPs and optimizer_F
  resumed.setup_schedulers(s);
  TempDir dir;
  const std::string path = dir.file("cut.safetensors");
  for (int k = 0; k < 4; ++k) {
    straight.set_input(batch(k).first, batch(k).second);
    straight.optimize_parameters();
    if (k == 1) {
      straight.update_learning_rate();
      nn::Checkpoint saved = straight.checkpoint();
      saved.generator = &g1;
      std::vector<std::string> names;
      for (auto& [name, sched] : saved.schedulers) names.push_back(name);
      CHECK(names == std::vector<std::string>{"scheduler_G", "scheduler_D", "scheduler_F"});
      save_checkpoint(path, saved);
      nn::Checkpoint into = resumed.checkpoint();
      into.generator = &g2;
      load_checkpoint(path, into);
    }
    if (k >= 2) {
      resumed.set_input(batch(k).first, batch(k).second);
      resumed.optimize_parameters();
    }
  }
  CHECK(resumed.optimizer_F->lr(0) == straight.optimizer_F->lr(0));
  CHECK(resumed.optimizer_F->lr(0) < 2e-4);
  CHECK(resumed.optimizer_F->steps(0) == 4);
  for (size_t i = 0; i < straight.named_networks().size(); ++i)
    check_identical(resumed.named_networks()[i].second->state_dict(), straight.named_networks()[i].second->state_dict(),
                    straight.named_networks()[i].first);
  // A model before data_dependent_initialize (no MLPs in F, no optimizer_F)
  // cannot take the checkpoint: one line saying what is missing.
  Generator g3(3);
  CUTModel fresh(o, g3);
  nn::Checkpoint into = fresh.checkpoint();
  into.generator = &g3;
  CHECK(error_of([&] { load_checkpoint(path, into); }).find("the file has optimizer 'optimizer_F', which was not given") !=
        std::string::npos);
}

