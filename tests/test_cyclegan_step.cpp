// CycleGAN's and pix2pix's training (translation/) against PyTorch: the losses
// and every updated weight of one and two optimize_parameters (lsgan; one of
// vanilla and of wgangp), GANLoss, the
// WGAN-GP gradient penalty and its gradients into D, ImagePool's semantics, and
// an fp64 gradient check of the penalty w.r.t. D's parameters, get_scheduler's
// policies, and a checkpoint of a CycleGAN run that resumes it exactly. The reference
// files are written by scripts/make_cyclegan_step_reference.py (see its header).
#include <map>
#include <set>

#include "gradcheck/gradcheck.h"
#include "models/cyclegan_networks.h"
#include "nn/checkpoint.h"
#include "nn/lr_scheduler.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tensor/random.h"
#include "tests/test_util.h"
#include "translation/cycle_gan.h"
#include "translation/gan_loss.h"
#include "translation/image_pool.h"
#include "translation/pix2pix.h"
#include "translation/scheduler.h"
#include "weights/safetensors.h"

using namespace sg;
using namespace sg::test;
using namespace sg::translation;
namespace cg = sg::models::cyclegan;

namespace {

const std::string kReference = STYLEGRAD_SOURCE_DIR "/tests/data/cyclegan_step/reference.safetensors";
const std::string kWgangpReference = STYLEGRAD_SOURCE_DIR "/tests/data/cyclegan_step/wgangp_iteration.safetensors";

// Everything the two reference files hold, in float64 (they store float32 values).
const std::map<std::string, Tensor>& reference() {
  static const std::map<std::string, Tensor> ref = [] {
    std::map<std::string, Tensor> m;
    for (const std::string& file : {kReference, kWgangpReference})
      for (auto& [name, t] : read_safetensors(file, DType::f64)) m.emplace(name, t);
    return m;
  }();
  return ref;
}

const Tensor& reference_tensor(const std::string& name) {
  auto it = reference().find(name);
  REQUIRE_MESSAGE(it != reference().end(), "the reference has no '", name, "'");
  return it->second;
}

// The entries "<prefix><key>", with the prefix taken off.
NamedTensors with_prefix(const std::string& prefix) {
  NamedTensors out;
  for (auto& [name, t] : reference())
    if (name.rfind(prefix, 0) == 0) out.push_back({name.substr(prefix.size()), t});
  return out;
}

void load_init(const std::vector<std::pair<std::string, nn::Module*>>& nets, const std::string& prefix) {
  for (auto& [name, net] : nets) net->load_state_dict(with_prefix(prefix + name + "."));
}

// Every state_dict entry of every network equals the reference's within 1e-4
// relative (float32's rounding of the stored values is ~6e-8), and some weight
// moved from its initial value by more than the tolerance, so the comparison
// is not one of unchanged weights.
void check_networks(const std::vector<std::pair<std::string, nn::Module*>>& nets, const std::string& prefix,
                    const std::string& init_prefix) {
  for (auto& [name, net] : nets) {
    double moved = 0;
    for (auto& [key, t] : net->state_dict()) {
      INFO(prefix, name, ".", key);
      const Tensor& want = reference_tensor(prefix + name + "." + key);
      check_close(t, want, 1e-4, 1e-8);
      if (is_floating(t.dtype())) {
        const std::vector<double> a = want.to_vector(), b = reference_tensor(init_prefix + name + "." + key).to_vector();
        for (size_t i = 0; i < a.size(); ++i) moved = std::max(moved, std::abs(a[i] - b[i]));
      }
    }
    INFO(name, " moved by ", moved);
    CHECK(moved > 1e-5);
  }
}

void check_losses(const std::vector<std::pair<std::string, double>>& losses, const std::string& prefix,
                  size_t expected_count) {
  CHECK(losses.size() == expected_count);
  for (auto& [name, value] : losses) {
    const double want = reference_tensor(prefix + name).item();
    INFO(prefix, name, ": got ", value, ", torch ", want);
    CHECK(std::abs(value - want) <= 1e-4 * std::abs(want) + 1e-7);
  }
}

// dtype float32: the losses only. Adam's first steps are about lr * sign(g), and
// the gradient elements near 0 (|g| ~ 1e-9, e.g. all of a bias under
// InstanceNorm, exactly 0 in theory) are float32 rounding noise near Adam's eps,
// so single weights move by up to +-lr depending on the rounding, in any
// implementation; the float64 runs compare every weight.
void run_cyclegan(const std::string& mode, int iterations, DType dtype = DType::f64) {
  CycleGANOptions o;
  o.netG = "resnet_6blocks";
  o.ngf = 4;
  o.ndf = 4;
  o.pool_size = 0;
  o.gan_mode = mode;
  Generator gen(0);
  CycleGANModel model(o, gen);
  model.to(DType::f64);
  load_init(model.named_networks(), "cyclegan.init.");
  if (dtype != DType::f64) model.to(dtype);
  for (int k = 1; k <= iterations; ++k) {
    model.set_input(hashed_input({1, 3, 32, 32}, 2 * k + 1, dtype), hashed_input({1, 3, 32, 32}, 2 * k + 2, dtype));
    model.optimize_parameters();
    const std::string at = "cyclegan." + mode + ".iter" + std::to_string(k) + ".";
    check_losses(model.current_losses(), at + "loss.", 8);
    if (dtype == DType::f64) check_networks(model.named_networks(), at, "cyclegan.init.");
    CHECK(model.optimizer_G->steps(0) == k);
    CHECK(model.optimizer_D->steps(0) == k);
  }
}

}  // namespace

TEST_CASE("cyclegan step: the reference file is there") {
  CHECK(reference().size() > 100);
}

TEST_CASE("cyclegan step: two lsgan iterations match PyTorch (losses, every weight)") { run_cyclegan("lsgan", 2); }

TEST_CASE("cyclegan step: one vanilla iteration matches PyTorch") { run_cyclegan("vanilla", 1); }

// As the official cycle_gan_model.py: D's loss is 0.5 (-E D(real) + E D(fake))
// and no gradient penalty is added (the official models never call
// cal_gradient_penalty); G's GAN terms are -E D(G(x)).
TEST_CASE("cyclegan step: one wgangp iteration matches PyTorch (losses, every weight)") { run_cyclegan("wgangp", 1); }

TEST_CASE("cyclegan step: two lsgan iterations in float32 give PyTorch's losses") {
  run_cyclegan("lsgan", 2, DType::f32);
}

TEST_CASE("cyclegan step: names, visuals, optimizers' parameter order") {
  CycleGANOptions o;
  o.netG = "resnet_6blocks";
  o.ngf = 2;
  o.ndf = 2;
  CycleGANModel model(o);
  std::vector<std::string> nets, optimizers;
  for (auto& [name, net] : model.named_networks()) nets.push_back(name);
  for (auto& [name, optimizer] : model.named_optimizers()) optimizers.push_back(name);
  CHECK(nets == std::vector<std::string>{"G_A", "G_B", "D_A", "D_B"});
  CHECK(optimizers == std::vector<std::string>{"optimizer_G", "optimizer_D"});
  // itertools.chain(G_A.parameters(), G_B.parameters()): G_A's first, in order.
  const std::vector<Tensor> params = model.optimizer_G->params();
  const std::vector<Tensor> a = model.netG_A->parameters(), b = model.netG_B->parameters();
  REQUIRE(params.size() == a.size() + b.size());
  CHECK(params.front().impl_ptr() == a.front().impl_ptr());
  CHECK(params[a.size()].impl_ptr() == b.front().impl_ptr());
  CHECK(model.optimizer_D->params().size() == model.netD_A->parameters().size() + model.netD_B->parameters().size());
  CHECK(model.optimizer_G->options().lr == 0.0002);
  CHECK(model.optimizer_G->options().beta1 == 0.5);

  model.set_input(hashed_input({1, 3, 32, 32}, 1), hashed_input({1, 3, 32, 32}, 2));
  model.optimize_parameters();
  std::vector<std::string> visuals;
  for (auto& [name, t] : model.current_visuals()) {
    visuals.push_back(name);
    CHECK(t.shape() == Shape{1, 3, 32, 32});
  }
  CHECK(visuals == std::vector<std::string>{"real_A", "fake_B", "rec_A", "idt_B", "real_B", "fake_A", "rec_B", "idt_A"});
  std::vector<std::string> losses;
  for (auto& [name, value] : model.current_losses()) losses.push_back(name);
  CHECK(losses == std::vector<std::string>{"D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B"});
  // The pools (size 50) kept the fakes D was trained on.
  CHECK(model.fake_A_pool.num_imgs() == 1);
  CHECK(model.fake_B_pool.num_imgs() == 1);

  // BtoA swaps the inputs; lambda_identity needs as many channels in A as in B.
  o.direction = "BtoA";
  CycleGANModel swapped(o);
  const Tensor A = hashed_input({1, 3, 16, 16}, 1, DType::f64), B = hashed_input({1, 3, 16, 16}, 2, DType::f64);
  swapped.set_input(A, B);
  CHECK(swapped.real_A.impl_ptr() == B.impl_ptr());
  o.direction = "AtoB";
  o.output_nc = 1;
  CHECK(error_of([&] { CycleGANModel bad(o); }).find("input_nc == output_nc") != std::string::npos);
  o.lambda_identity = 0;
  CycleGANModel no_identity(o);
  no_identity.set_input(hashed_input({1, 3, 32, 32}, 1), hashed_input({1, 1, 32, 32}, 2));
  no_identity.optimize_parameters();
  CHECK(no_identity.current_visuals().size() == 6);
  CHECK(no_identity.current_losses()[3].second == 0.0);  // idt_A
}

TEST_CASE("pix2pix step: two iterations match PyTorch (losses, weights, BatchNorm statistics)") {
  Pix2PixOptions o;
  o.netG = "unet_128";
  o.ngf = 2;
  o.ndf = 4;
  o.no_dropout = true;
  Generator gen(0);
  Pix2PixModel model(o, gen);
  CHECK(model.opt.gan_mode == "vanilla");
  CHECK(model.opt.norm == "batch");
  CHECK(model.opt.lambda_L1 == 100.0);
  auto d = std::dynamic_pointer_cast<cg::NLayerDiscriminator>(model.netD);
  REQUIRE(d);
  CHECK(d->input_nc == 6);
  model.to(DType::f64);
  load_init(model.named_networks(), "pix2pix.init.");
  for (int k = 1; k <= 2; ++k) {
    model.set_input(hashed_input({1, 3, 128, 128}, 20 + 2 * k, DType::f64), hashed_input({1, 3, 128, 128}, 21 + 2 * k, DType::f64));
    model.optimize_parameters();
    const std::string at = "pix2pix.iter" + std::to_string(k) + ".";
    check_losses(model.current_losses(), at + "loss.", 4);
    check_networks(model.named_networks(), at, "pix2pix.init.");
  }
  std::vector<std::string> visuals;
  for (auto& [name, t] : model.current_visuals()) visuals.push_back(name);
  CHECK(visuals == std::vector<std::string>{"real_A", "fake_B", "real_B"});
}

TEST_CASE("gan loss: lsgan, vanilla and wgangp on a prediction") {
  const Tensor p = from_vector({-1.5, 0.25, 2.0}, {3}, TensorOptions(DType::f64));
  // lsgan: mean (p - t)^2
  CHECK(GANLoss(GanMode::lsgan)(p, true).item() == doctest::Approx((6.25 + 0.5625 + 1.0) / 3));
  CHECK(GANLoss(GanMode::lsgan)(p, false).item() == doctest::Approx((2.25 + 0.0625 + 4.0) / 3));
  // vanilla: mean softplus(-p) (real), mean softplus(p) (fake)
  auto softplus_d = [](double x) { return std::log1p(std::exp(x)); };
  CHECK(GANLoss(GanMode::vanilla)(p, true).item() ==
        doctest::Approx((softplus_d(1.5) + softplus_d(-0.25) + softplus_d(-2.0)) / 3));
  CHECK(GANLoss(GanMode::vanilla)(p, false).item() ==
        doctest::Approx((softplus_d(-1.5) + softplus_d(0.25) + softplus_d(2.0)) / 3));
  CHECK(GANLoss(GanMode::wgangp)(p, true).item() == doctest::Approx(-0.25));
  CHECK(GANLoss(GanMode::wgangp)(p, false).item() == doctest::Approx(0.25));
  CHECK(gan_mode_from_name("wgangp") == GanMode::wgangp);
  CHECK(error_of([] { gan_mode_from_name("hinge"); }).find("'hinge'") != std::string::npos);
}

TEST_CASE("gan loss: the WGAN-GP penalty and its gradients into D match PyTorch") {
  auto D = cg::define_D(3, 4, "basic", 3, "instance");
  D->to(DType::f64);
  D->load_state_dict(with_prefix("cyclegan.init.D_A."));
  const Tensor real = hashed_input({2, 3, 32, 32}, 11, DType::f64), fake = hashed_input({2, 3, 32, 32}, 12, DType::f64);
  const GANLoss wgan(GanMode::wgangp);
  CHECK(wgan((*D)(real), true).item() == doctest::Approx(reference_tensor("wgangp.loss_real").item()).epsilon(1e-4));
  CHECK(wgan((*D)(fake), false).item() == doctest::Approx(reference_tensor("wgangp.loss_fake").item()).epsilon(1e-4));
  Generator gen(3);
  for (auto [type, name] : {std::pair{PenaltyType::real, "real"}, std::pair{PenaltyType::fake, "fake"}}) {
    const double got = cal_gradient_penalty(*D, real, fake, type, 1.0, 10.0, gen).penalty.item();
    INFO(name);
    CHECK(got == doctest::Approx(reference_tensor(std::string("wgangp.penalty.") + name).item()).epsilon(1e-4));
  }
  D->zero_grad();
  GradientPenalty gp = cal_gradient_penalty(*D, real, fake, PenaltyType::mixed, 1.0, 10.0, gen, reference_tensor("wgangp.alpha"));
  CHECK(gp.gradients.shape() == Shape{2, 3 * 32 * 32});
  CHECK(gp.penalty.item() == doctest::Approx(reference_tensor("wgangp.penalty.mixed").item()).epsilon(1e-4));
  gp.penalty.backward();
  // Biases followed by InstanceNorm have a zero gradient, computed as rounding
  // noise (~1e-14) on both sides: elements are compared against the largest gradient.
  double scale = 0;
  for (auto& [name, t] : with_prefix("wgangp.grad.")) scale = std::max(scale, max(abs(t)).item());
  REQUIRE(scale > 0);
  int64_t compared = 0;
  for (auto& [key, p] : D->named_parameters()) {
    INFO(key);
    auto it = reference().find("wgangp.grad." + key);
    if (it == reference().end()) {  // torch: no dependence, grad None; here undefined or zero
      if (p.grad().defined()) CHECK(max(abs(p.grad())).item() < 1e-10 * scale);
      continue;
    }
    REQUIRE(p.grad().defined());
    check_close(p.grad(), it->second, 1e-4, 1e-7 * scale);
    ++compared;
  }
  CHECK(compared >= 4);
  // lambda_gp 0: no penalty, nothing drawn.
  CHECK(cal_gradient_penalty(*D, real, fake, PenaltyType::mixed, 1.0, 0.0, gen).penalty.item() == 0.0);
  // alpha from the Generator: the same seed, the same penalty.
  Generator g1(9), g2(9);
  CHECK(cal_gradient_penalty(*D, real, fake, PenaltyType::mixed, 1.0, 10.0, g1).penalty.item() ==
        cal_gradient_penalty(*D, real, fake, PenaltyType::mixed, 1.0, 10.0, g2).penalty.item());
}

namespace {
// A small discriminator whose weights are a gradcheck's inputs:
// conv(stride 2) LeakyReLU conv InstanceNorm LeakyReLU conv.
struct FunctionalD : nn::Module {
  const TensorList* w = nullptr;
  Tensor forward(const Tensor& x) override {
    Conv2dOptions down;
    down.stride_h = down.stride_w = 2;
    down.pad_h = down.pad_w = 1;
    Conv2dOptions same;
    same.pad_h = same.pad_w = 1;
    Tensor h = leaky_relu(conv2d(x, (*w)[0], (*w)[1], down), 0.2);
    h = leaky_relu(instance_norm(conv2d(h, (*w)[2], Tensor(), same), Tensor(), Tensor()), 0.2);
    return conv2d(h, (*w)[3], (*w)[4], same);
  }
};
}  // namespace

TEST_CASE("gan loss: fp64 gradcheck of the gradient penalty w.r.t. D's parameters") {
  Generator gen(21);
  const TensorOptions f64(DType::f64);
  TensorList weights = {randn({3, 2, 3, 3}, gen, f64) * 0.5, randn({3}, gen, f64) * 0.1,
                        randn({4, 3, 3, 3}, gen, f64) * 0.5, randn({1, 4, 3, 3}, gen, f64) * 0.5,
                        randn({1}, gen, f64) * 0.1};
  for (Tensor& w : weights) w.requires_grad_();
  const Tensor real = randn({2, 2, 6, 6}, gen, f64), fake = randn({2, 2, 6, 6}, gen, f64);
  const Tensor alpha = from_vector({0.3, 0.8}, {2}, f64);
  FunctionalD D;
  const TensorFn penalty = [&](const TensorList& in) {
    D.w = &in;
    return cal_gradient_penalty(D, real, fake, PenaltyType::mixed, 1.0, 10.0, gen, alpha).penalty;
  };
  const GradcheckResult r = gradcheck(penalty, weights);
  INFO(r.worst);
  CHECK(r.passed);
  CHECK(r.checked == 54 + 3 + 108 + 36 + 1);  // the last bias too: its gradient is 0 (no dependence)
}

TEST_CASE("image pool: fills first, then returns a stored image half the time and keeps the new one") {
  const TensorOptions f64(DType::f64);
  auto image = [&](double v) { return full({1, 1, 2, 2}, v, f64); };
  auto value = [](const Tensor& t) { return t.to_vector()[0]; };
  Generator gen(5);
  ImagePool pool(3, gen);
  std::multiset<double> stored;
  for (int i = 0; i < 3; ++i) {  // filling: each image comes back as it is
    const Tensor out = pool.query(image(i));
    CHECK(value(out) == i);
    stored.insert(i);
  }
  CHECK(pool.num_imgs() == 3);
  int swapped = 0;
  std::set<double> returned_old;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    const double v = 100 + i;
    const double got = value(pool.query(image(v)));
    std::multiset<double> now;
    for (const Tensor& t : pool.images()) now.insert(value(t));
    if (got == v) {
      CHECK(now == stored);  // the pool unchanged
    } else {
      REQUIRE(stored.count(got) == 1);  // an image from the pool, replaced by the new one
      stored.erase(stored.find(got));
      stored.insert(v);
      CHECK(now == stored);
      ++swapped;
      if (got < 3) returned_old.insert(got);
    }
  }
  CHECK(pool.num_imgs() == 3);
  CHECK(swapped > n * 0.45);
  CHECK(swapped < n * 0.55);
  CHECK(returned_old.size() == 3);  // every slot is picked

  // Reproducible from the Generator; a batch is queried image by image; the result is detached.
  Generator g1(8), g2(8);
  ImagePool p1(2, g1), p2(2, g2);
  for (int i = 0; i < 20; ++i) {
    Tensor batch = cat({image(3 * i), image(3 * i + 1), image(3 * i + 2)}, 0).requires_grad_();
    const Tensor a = p1.query(batch), b = p2.query(batch.detach());
    CHECK(a.shape() == Shape{3, 1, 2, 2});
    CHECK(!a.requires_grad());
    check_identical(a, b, "pool");
    if (i == 0) CHECK(a.to_vector()[0] == 0.0);  // the first two fill the pool
  }
  // pool_size 0: the input itself.
  Generator g0(1);
  ImagePool none(0, g0);
  const Tensor x = image(7);
  CHECK(none.query(x).impl_ptr() == x.impl_ptr());
  CHECK(error_of([&] { ImagePool bad(-1, g0); }).find("pool_size") != std::string::npos);
}

TEST_CASE("image pool: state and load_state restore its images; bad states are one line") {
  const TensorOptions f64(DType::f64);
  auto image = [&](double v) { return full({1, 1, 2, 2}, v, f64); };
  Generator g1(4), g2(4);
  ImagePool pool(12, g1), copy(12, g2);
  for (int i = 0; i < 30; ++i) pool.query(image(i));
  const NamedTensors state = pool.state();
  copy.load_state(NamedTensors(state.rbegin(), state.rend()));  // any order of keys
  REQUIRE(copy.num_imgs() == 12);
  for (int i = 0; i < 12; ++i) check_identical(copy.images()[size_t(i)], pool.images()[size_t(i)], "image");
  g2.set_state(g1.state());
  for (int i = 0; i < 20; ++i) check_identical(copy.query(image(100 + i)), pool.query(image(100 + i)), "query");

  ImagePool small(2, g2);
  CHECK(error_of([&] { small.load_state(pool.state()); }) ==
        "ImagePool: the checkpoint holds 12 images, more than --pool_size 2 (resume with the run's pool size)");
  CHECK(error_of([&] { small.load_state({{"0", image(1)}, {"0", image(2)}}); }) ==
        "ImagePool: image key '0' is not one of 0 .. 1 (each once)");
  CHECK(error_of([&] { small.load_state({{"0", image(1)}, {"1", full({1, 1, 3, 3}, 0.0, f64)}}); }) ==
        "ImagePool: image 1 has shape [1, 1, 3, 3], image 0 [1, 1, 2, 2]: one shape for all");
  small.load_state({{"0", image(1)}});
  CHECK(error_of([&] { small.query(full({1, 1, 3, 3}, 0.0, f64)); }).find("ImagePool.query: the pool holds images of shape [1, 1, 2, 2]") == 0);
}

TEST_CASE("scheduler: get_scheduler's policies and update_learning_rate match PyTorch") {
  struct Case {
    const char* name;
    SchedulerOptions options;
  };
  std::vector<Case> cases(5);
  cases[0] = {"linear", {}};
  cases[0].options.n_epochs = 3;
  cases[0].options.n_epochs_decay = 4;
  cases[1] = {"linear_continued", cases[0].options};
  cases[1].options.epoch_count = 3;
  cases[2] = {"step", {}};
  cases[2].options.lr_policy = "step";
  cases[2].options.lr_decay_iters = 2;
  cases[3] = {"plateau", {}};
  cases[3].options.lr_policy = "plateau";
  cases[4] = {"cosine", {}};
  cases[4].options.lr_policy = "cosine";
  cases[4].options.n_epochs = 5;
  for (const Case& c : cases) {
    INFO(c.name);
    Tensor w = zeros({1}).requires_grad_();
    nn::Adam::Options adam;
    adam.lr = 2e-4;
    adam.beta1 = 0.5;
    nn::Adam optimizer({w}, adam);
    std::unique_ptr<nn::Scheduler> scheduler = get_scheduler(optimizer, c.options);
    const std::vector<double> want = reference_tensor(std::string("scheduler.") + c.name).to_vector();
    REQUIRE(want.size() == 13);
    CHECK(optimizer.lr(0) == want[0]);
    for (size_t k = 1; k < want.size(); ++k) {
      const auto [before, after] = update_learning_rate({scheduler.get()}, optimizer);
      CHECK(before == want[k - 1]);
      CHECK(after == doctest::Approx(want[k]).epsilon(1e-12).scale(1e-12));
    }
  }
  Tensor w = zeros({1}).requires_grad_();
  nn::Adam optimizer({w});
  SchedulerOptions bad;
  bad.lr_policy = "exponential";
  CHECK(error_of([&] { get_scheduler(optimizer, bad); }).find("'exponential'") != std::string::npos);
}

TEST_CASE("cyclegan step: a checkpoint of the model resumes the same run") {
  CycleGANOptions o;
  o.netG = "resnet_6blocks";
  o.ngf = 2;
  o.ndf = 2;
  o.pool_size = 2;  // full when the checkpoint is taken: the resumed run draws from the saved images
  SchedulerOptions s;
  s.n_epochs = 1;
  s.n_epochs_decay = 3;
  auto batch = [](int k) {
    return std::pair{hashed_input({1, 3, 32, 32}, 40 + k), hashed_input({1, 3, 32, 32}, 60 + k)};
  };
  Generator g1(1);
  CycleGANModel straight(o, g1);
  straight.setup_schedulers(s);
  Generator g2(2);
  CycleGANModel resumed(o, g2);
  resumed.setup_schedulers(s);
  TempDir dir;
  const std::string path = dir.file("cyclegan.safetensors");
  for (int k = 0; k < 4; ++k) {
    straight.set_input(batch(k).first, batch(k).second);
    straight.optimize_parameters();
    if (k == 1) {
      straight.update_learning_rate();
      nn::Checkpoint saved = straight.checkpoint();
      saved.generator = &g1;  // the pools' draws
      save_checkpoint(path, saved);
      nn::Checkpoint into = resumed.checkpoint();
      into.generator = &g2;
      load_checkpoint(path, into);
      CHECK(resumed.fake_A_pool.num_imgs() == 2);
    }
    if (k >= 2) {
      resumed.set_input(batch(k).first, batch(k).second);
      resumed.optimize_parameters();
    }
  }
  CHECK(resumed.optimizer_G->lr(0) == straight.optimizer_G->lr(0));
  CHECK(resumed.optimizer_G->lr(0) < 2e-4);
  for (size_t i = 0; i < straight.named_networks().size(); ++i)
    check_identical(resumed.named_networks()[i].second->state_dict(), straight.named_networks()[i].second->state_dict(),
                    straight.named_networks()[i].first);
}
