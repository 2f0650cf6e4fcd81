// SinCUT's StyleGAN2-style networks (models/stylegan_networks.h) and R1 penalty
// (translation/r1_penalty.h) against PyTorch: state_dict keys of the SinCUT
// configuration, outputs and tapped features of narrow networks loaded from
// torch.save files (both formats), R1's value and gradients, single styled
// blocks; and fp64 gradient checks of every block, second order for everything
// the discriminator is made of. The reference files are written by
// scripts/make_stylegan_reference.py (see its header for what each holds).
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "models/stylegan_networks.h"
#include "tensor/random.h"
#include "tests/test_util.h"
#include "translation/r1_penalty.h"
#include "weights/json.h"
#include "weights/load.h"

using namespace sg;
using namespace sg::test;
namespace sgan = sg::models::stylegan;

namespace {

const std::string kData = STYLEGRAD_SOURCE_DIR "/tests/data/stylegan/";
const std::string kReference = STYLEGRAD_SOURCE_DIR "/tests/reference/stylegan.safetensors";

struct Reference {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, json::Value> metadata;
  const Tensor& at(const std::string& name) const {
    auto it = tensors.find(name);
    REQUIRE_MESSAGE(it != tensors.end(), "the reference has no tensor '", name, "'");
    return it->second;
  }
  Shape shape(const std::string& c, const std::string& key) const {
    Shape s;
    for (const auto& d : meta(c, key).array) s.push_back(int64_t(d.number));
    return s;
  }
  uint32_t seed(const std::string& c, const std::string& key) const { return uint32_t(meta(c, key).number); }
  const json::Value& meta(const std::string& c, const std::string& key) const {
    auto it = metadata.find(c);
    REQUIRE_MESSAGE(it != metadata.end(), "the reference has no case '", c, "'");
    const json::Value* v = it->second.find(key);
    REQUIRE_MESSAGE(v != nullptr, "case '", c, "' has no '", key, "'");
    return *v;
  }
};

const Reference& reference() {
  static const Reference ref = [] {
    Reference r;
    for (auto& [name, t] : read_safetensors(kReference)) r.tensors[name] = t;
    for (const auto& [name, text] : read_safetensors_metadata(kReference)) r.metadata[name] = json::parse(text);
    return r;
  }();
  return ref;
}

// float32 against torch (float64): |got - torch| <= 1e-4 |torch| + 1e-5 max|torch|
// (the second term for elements near 0, whose error is that of the larger ones).
void check_matches_torch(const Tensor& got, const Tensor& want, const std::string& what) {
  INFO(what);
  double scale = 0;
  for (double x : want.to_vector()) scale = std::max(scale, std::abs(x));
  check_close(got, want, 1e-4, 1e-5 * scale);
}

// The tensors under "<prefix>" in the reference, with the prefix taken off.
NamedTensors reference_state(const std::string& prefix, const nn::Module& like) {
  NamedTensors out;
  for (const auto& [key, t] : like.state_dict()) out.emplace_back(key, reference().at(prefix + key));
  return out;
}

// ---- fp64 finite differences of a scalar with respect to leaves (inputs or a
// module's own parameters, perturbed in place), at up to `max_elems` elements
// of each, spread over the tensor.
void check_numeric(const std::function<Tensor()>& scalar, const NamedTensors& wrt, int64_t max_elems,
                   const std::string& what) {
  TensorList leaves;
  for (const auto& [name, t] : wrt) {
    REQUIRE(t.dtype() == DType::f64);
    REQUIRE(t.is_contiguous());
    leaves.push_back(t);
  }
  // A scalar that depends on none of them (the second derivative of a piecewise
  // linear block with respect to its input) has zero gradient everywhere.
  const Tensor s = scalar();
  const TensorList analytic =
      s.requires_grad() ? grad({s}, leaves, {}, false, false, /*allow_unused=*/true) : TensorList(leaves.size());
  const double eps = 1e-6, atol = 1e-5, rtol = 1e-3;
  int64_t checked = 0;
  for (size_t k = 0; k < leaves.size(); ++k) {
    double* p = leaves[k].data<double>();
    const int64_t n = leaves[k].numel();
    const std::vector<double> a =
        analytic[k].defined() ? analytic[k].to_vector() : std::vector<double>(size_t(n), 0.0);
    const int64_t count = std::min(n, max_elems);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t j = count == n ? i : (i * n) / count + (i * 7919) % std::max<int64_t>(1, n / count);
      const double orig = p[j];
      p[j] = orig + eps;
      const double lp = scalar().item();
      p[j] = orig - eps;
      const double lm = scalar().item();
      p[j] = orig;
      const double numeric = (lp - lm) / (2 * eps);
      INFO(what, ": ", wrt[k].first, " element ", j, ": analytic ", a[size_t(j)], ", numeric ", numeric);
      CHECK(std::abs(a[size_t(j)] - numeric) <= atol + rtol * std::abs(numeric));
      ++checked;
    }
  }
  CHECK(checked > 0);
}

// First order: L = <f(inputs), v>; second order (R1's path): S = <dL/d inputs[0]
// (create_graph), u>, differentiated with respect to the inputs and parameters.
void check_block(const std::function<Tensor(const TensorList&)>& f, const TensorList& inputs, nn::Module* module,
                 bool second_order, const std::string& what, int64_t max_elems = 40) {
  NamedTensors wrt;
  for (size_t i = 0; i < inputs.size(); ++i) wrt.emplace_back("input " + std::to_string(i), inputs[i]);
  if (module)
    for (const auto& [name, p] : module->named_parameters()) wrt.emplace_back(name, p);
  Generator gen(7);
  const Tensor y = f(inputs);
  const Tensor v = randn(y.shape(), gen, DType::f64);
  check_numeric([&] { return sum(f(inputs) * v); }, wrt, max_elems, what + " (first order)");
  if (!second_order) return;
  const Tensor u = randn(inputs[0].shape(), gen, DType::f64);
  check_numeric(
      [&] {
        const Tensor g = grad({sum(f(inputs) * v)}, {inputs[0]}, {}, false, /*create_graph=*/true)[0];
        return sum(g * u);
      },
      wrt, max_elems, what + " (second order)");
}

Tensor leaf64(const Shape& s, uint64_t seed) {
  Generator g(seed);
  Tensor t = randn(s, g, DType::f64);
  t.requires_grad_();
  return t;
}

// A module in float64 with its biases and noise weights (zero at init) random, so
// that their gradients are not checked at a trivial point.
template <class M>
std::shared_ptr<M> in_f64(std::shared_ptr<M> m, uint64_t seed = 3) {
  m->to(DType::f64);
  Generator g(seed);
  NoGradGuard no_grad;
  for (auto& [name, p] : m->named_parameters())
    if (name.size() >= 4 && (name.compare(name.size() - 4, 4, "bias") == 0 || name.find("noise") != std::string::npos))
      p.copy_(randn(p.shape(), g, DType::f64) * 0.3);
  return m;
}

}  // namespace

// ------------------------------------------------------------ keys

TEST_CASE("stylegan: state_dict keys and shapes of SinCUT's networks equal torch's") {
  std::ifstream f(STYLEGRAD_SOURCE_DIR "/tests/reference/stylegan_networks_keys.txt");
  REQUIRE_MESSAGE(f.good(), "missing tests/reference/stylegan_networks_keys.txt (run scripts/make_stylegan_reference.py)");
  struct Net {
    std::string name;
    std::map<std::string, std::string> attrs;
    std::vector<std::pair<std::string, std::string>> keys;
  };
  std::vector<Net> nets;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream is(line);
    std::string tag, name;
    is >> tag >> name;
    if (tag == "net") {
      nets.push_back({name, {}, {}});
      for (std::string kv; is >> kv;) nets.back().attrs[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
    } else if (tag == "key") {
      std::string shape;
      is >> shape;
      REQUIRE(!nets.empty());
      nets.back().keys.emplace_back(name, shape);
    }
  }
  REQUIRE(nets.size() == 3);
  for (const Net& want : nets) {
    INFO("network ", want.name);
    auto a = [&](const char* k) { return std::stoll(want.attrs.at(k)); };
    std::shared_ptr<nn::Module> net;
    if (want.attrs.at("kind") == "StyleGAN2Generator")
      net = sgan::define_G(want.attrs.at("netG"), 3, 3, a("ngf"), a("load_size"), a("crop_size"), a("num_downsampling"));
    else
      net = sgan::define_D(want.attrs.at("netD"), 3, a("ndf"), a("load_size"), a("crop_size"));
    const NamedTensors got = net->state_dict();
    REQUIRE(got.size() == want.keys.size());
    for (size_t i = 0; i < got.size(); ++i) {
      std::string shape;
      for (int64_t d : got[i].second.shape()) shape += (shape.empty() ? "" : "x") + std::to_string(d);
      CHECK(got[i].first == want.keys[i].first);
      CHECK(shape == want.keys[i].second);
    }
    CHECK(net->num_parameters() == a("params"));
  }
}

TEST_CASE("stylegan: the constructors' own initialisation") {
  manual_seed(5);
  auto D = sgan::define_D("stylegan2", 3, 8, 1024, 64);
  auto G = sgan::define_G("stylegan2", 3, 3, 10, 1024, 64, 1);
  for (auto* net : std::vector<nn::Module*>{D.get(), G.get()})
    for (const auto& [name, t] : net->named_parameters()) {
      INFO(name);
      const std::vector<double> v = t.to_vector();
      double m = 0, s = 0;
      for (double x : v) m += x;
      m /= double(v.size());
      for (double x : v) s += (x - m) * (x - m);
      s = std::sqrt(s / double(v.size()));
      if (name.find("bias") != std::string::npos || name.find("noise.weight") != std::string::npos) {
        CHECK(m == 0);  // biases (bias_init 0) and noise weights start at zero
        CHECK(s == 0);
      } else if (v.size() > 1000) {  // torch.randn: N(0, 1), unscaled (the scale is applied in forward)
        CHECK(std::abs(m) < 0.05);
        CHECK(std::abs(s - 1) < 0.05);
      }
    }
  // EqualLinear(style_dim, in, bias_init=1): the modulation starts at s = 1.
  sgan::ModulatedConv2d mc(4, 5, 3, 6);
  CHECK(mc.modulation->bias.to_vector() == std::vector<double>(4, 1.0));
  CHECK(sgan::stylegan2_size(1024, 64) == 64);
  CHECK(sgan::stylegan2_size(286, 256) == 256);
  CHECK(sgan::stylegan2_generator_channels(10, 64) == 80);
  CHECK(sgan::stylegan2_generator_channels(10, 32) == 160);
}

// ------------------------------------------------------------ against torch

TEST_CASE("stylegan: the generator loaded from torch.save files (zip and legacy) matches torch, features too") {
  const auto& ref = reference();
  const std::vector<int64_t> layers = {0, 2, 4};
  for (const char* file : {"G.pth", "G_legacy.pth"}) {
    INFO(file);
    auto G = sgan::define_G("stylegan2", 3, 3, 1, 64, 64, 1);
    G->load_state_dict(load_weights(kData + file));
    NoGradGuard no_grad;
    const Tensor x = hashed_input(ref.shape("G", "input_shape"), ref.seed("G", "input_seed"));
    const Tensor noise = hashed_input(ref.shape("G", "noise_shape"), ref.seed("G", "noise_seed"));
    nn::FeaturesAndOutput r = G->forward_features(x, layers, false, {noise});
    check_matches_torch(r.output, ref.at("G.out"), "G.out");
    REQUIRE(r.features.size() == 3);
    for (size_t i = 0; i < 3; ++i)
      check_matches_torch(r.features[i], ref.at("G.feat." + std::to_string(layers[i])), "feature");
    // encode_only: the same features, no output
    nn::FeaturesAndOutput e = G->forward_features(x, layers, true);
    CHECK(!e.output.defined());
    REQUIRE(e.features.size() == 3);
    check_matches_torch(e.features[2], ref.at("G.feat.4"), "encode_only feature");
    // features come in layer order, as the official loop appends them; layer 0 is the Identity
    nn::FeaturesAndOutput swapped = G->forward_features(x, {4, 0}, true);
    REQUIRE(swapped.features.size() == 2);
    check_identical(swapped.features[0], x, "layer 0 is the input");
    check_matches_torch(swapped.features[1], ref.at("G.feat.4"), "layer 4 second");
    // -1 taps the encoder's last layer (the official appends len(convs) - 1)
    nn::FeaturesAndOutput last = G->forward_features(x, {-1}, true);
    REQUIRE(last.features.size() == 1);
    CHECK(last.features[0].shape() == Shape{2, 16, 8, 8});
  }
}

TEST_CASE("stylegan: the discriminator and the R1 penalty's value and gradients match torch") {
  const auto& ref = reference();
  auto D = sgan::define_D("stylegan2", 3, 1, 8, 8);
  D->load_state_dict(load_weights(kData + "D.pth"));
  Tensor real = hashed_input(ref.shape("D", "input_shape"), ref.seed("D", "input_seed"));
  real.requires_grad_();
  const Tensor pred = D->forward(real);
  check_matches_torch(pred, ref.at("D.out"), "D.out");
  const Tensor r1 = translation::r1_penalty(pred, real, ref.meta("D", "lambda_R1").number);
  check_matches_torch(r1.reshape({1}), ref.at("R1.value"), "R1 value");
  r1.backward();
  // D is piecewise linear in its input, so dR1/dx is 0 (torch: zeros; here: no gradient at all)
  check_matches_torch(real.grad().defined() ? real.grad() : zeros_like(real), ref.at("R1.grad.input"), "dR1/dx");
  int checked = 0;
  for (const auto& [name, p] : D->named_parameters()) {
    const Tensor g = p.grad().defined() ? p.grad() : zeros_like(p);
    check_matches_torch(g, ref.at("R1.grad." + name), "dR1/d" + name);
    ++checked;
  }
  CHECK(checked == 13);  // 2 in convs.0, 5 in the ResBlock, 2 in final_conv, 4 in final_linear

  // SinCUT's loss_D = GAN loss + R1 on the same pred_real: R1 keeps D's graph for the backward of both
  D->zero_grad();
  Tensor real2 = hashed_input({2, 3, 8, 8}, 9);
  real2.requires_grad_();
  const Tensor pred2 = D->forward(real2);
  const Tensor loss_D = mean(softplus(-pred2)) + translation::r1_penalty(pred2, real2);
  CHECK_NOTHROW(loss_D.backward());
  CHECK(D->final_linear->named_parameters().back().second.grad().defined());  // reached through the GAN term
}

TEST_CASE("stylegan: styled ModulatedConv2d (plain, up, down, no demodulation) and ToRGB match torch") {
  const auto& ref = reference();
  struct Case {
    std::string name;
    std::shared_ptr<nn::Module> block;
  };
  auto plain = std::make_shared<sgan::ModulatedConv2d>(4, 5, 3, 6);
  auto up = std::make_shared<sgan::ModulatedConv2d>(4, 5, 3, 6, true, true);
  auto down = std::make_shared<sgan::ModulatedConv2d>(4, 5, 3, 6, true, false, true);
  auto nodemod = std::make_shared<sgan::ModulatedConv2d>(4, 5, 1, 6, false);
  auto torgb = std::make_shared<sgan::ToRGB>(4, 6);
  const std::vector<std::pair<std::string, sgan::ModulatedConv2d*>> convs = {
      {"modconv_plain", plain.get()}, {"modconv_up", up.get()}, {"modconv_down", down.get()}, {"modconv_nodemod", nodemod.get()}};
  NoGradGuard no_grad;
  for (const auto& [name, conv] : convs) {
    INFO(name);
    conv->load_state_dict(reference_state("blocks." + name + ".state.", *conv));
    const std::string c = "blocks." + name;
    const Tensor x = hashed_input(ref.shape(c, "input_shape"), ref.seed(c, "input_seed"));
    const Tensor style = hashed_input({2, 6}, ref.seed(c, "style_seed"));
    check_matches_torch(conv->forward(x, style), ref.at(c + ".out"), name);
  }
  torgb->load_state_dict(reference_state("blocks.torgb.state.", *torgb));
  const Tensor x = hashed_input(ref.shape("blocks.torgb", "input_shape"), ref.seed("blocks.torgb", "input_seed"));
  const Tensor style = hashed_input({2, 6}, ref.seed("blocks.torgb", "style_seed"));
  check_matches_torch(torgb->forward(x, style, hashed_input({2, 3, 3, 3}, 60)), ref.at("blocks.torgb.out"), "torgb");
}

// ------------------------------------------------------------ resampling

TEST_CASE("stylegan: make_kernel and upfirdn2d on known values") {
  const Tensor k = sgan::make_kernel({1, 3, 3, 1});
  CHECK(k.shape() == Shape{4, 4});
  CHECK(k.to_vector()[0] == doctest::Approx(1.0 / 64));
  CHECK(k.to_vector()[5] == doctest::Approx(9.0 / 64));
  // up 2 with a 1-tap kernel: zero insertion, x[i] at 2i
  const Tensor x = t64({1, 2, 3, 4}, {1, 1, 2, 2});
  const Tensor one = t64({1}, {1, 1});
  CHECK(sgan::upfirdn2d(x, one, 2).to_vector() ==
        std::vector<double>{1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0});
  // down 2 keeps every other sample; negative padding crops
  const Tensor y = t64({0, 1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 3, 3});
  CHECK(sgan::upfirdn2d(y, one, 1, 2).to_vector() == std::vector<double>{0, 2, 6, 8});
  CHECK(sgan::upfirdn2d(y, one, 1, 1, -1, 0).to_vector() == std::vector<double>{4, 5, 7, 8});
  CHECK(sgan::upfirdn2d(y, one, 1, 1, 1, -1).to_vector() == std::vector<double>{0, 0, 0, 0, 0, 1, 0, 3, 4});
  // a [1, 2] kernel is flipped: out[i] = x[i] * 2 + x[i + 1] * 1 (correlation with [2, 1])
  const Tensor row = t64({1, 2, 3}, {1, 1, 1, 3});
  CHECK(sgan::upfirdn2d(row, t64({1, 2}, {1, 2}), 1, 1, 0, 0).to_vector() == std::vector<double>{4, 7});
  // the blur keeps a constant image constant inside (the kernel sums to 1; Upsample's to 4 over 4 phases)
  const Tensor c = full({1, 1, 6, 6}, 2.0, DType::f64);
  const Tensor b = sgan::Blur({1, 3, 3, 1}, 1, 2).forward(c);
  CHECK(b.shape() == Shape{1, 1, 6, 6});
  CHECK(b.to_vector()[2 * 6 + 2] == doctest::Approx(2.0));
  const Tensor u = sgan::Upsample({1, 3, 3, 1}).forward(c.to(DType::f32));
  CHECK(u.shape() == Shape{1, 1, 12, 12});
  CHECK(u.to_vector()[5 * 12 + 5] == doctest::Approx(2.0));
  CHECK(sgan::Downsample({1, 3, 3, 1}).forward(c.to(DType::f32)).shape() == Shape{1, 1, 3, 3});
  CHECK(error_of([&] { sgan::upfirdn2d(y, sgan::make_kernel({1, 3, 3, 1}), 1, 1, -1, -1); }) ==
        "upfirdn2d: Tensor[1, 1, 3, 3] float64 cpu padded to 1x1 is smaller than the 4x4 kernel");
}

// ------------------------------------------------------------ gradient checks (fp64)

TEST_CASE("stylegan: gradcheck upfirdn2d and fused_leaky_relu, first and second order") {
  const Tensor k = sgan::make_kernel({1, 3, 3, 1}).to(DType::f64);
  struct Case {
    int64_t up, down, pad0, pad1;
  };
  for (const Case c : {Case{2, 1, 2, 1}, Case{1, 2, 1, 1}, Case{1, 1, 2, 2}, Case{2, 2, 1, -1}}) {
    INFO("up ", c.up, " down ", c.down, " pad ", c.pad0, " ", c.pad1);
    TensorFn f = [&](const TensorList& t) { return sgan::upfirdn2d(t[0], k, c.up, c.down, c.pad0, c.pad1); };
    const TensorList in = {leaf64({2, 2, 5, 4}, 1)};
    CHECK(gradcheck(f, in).passed);
    CHECK(gradgradcheck(f, in).passed);
  }
  TensorFn f = [](const TensorList& t) { return sgan::fused_leaky_relu(t[0], t[1]); };
  const TensorList in = {leaf64({2, 3, 4, 4}, 2), leaf64({1, 3, 1, 1}, 3)};
  CHECK(gradcheck(f, in).passed);
  CHECK(gradgradcheck(f, in).passed);
}

TEST_CASE("stylegan: gradcheck the discriminator's blocks, first and second order (R1)") {
  auto x = [](const Shape& s) { return TensorList{leaf64(s, 11)}; };
  auto one = [](nn::Module& m) { return [&m](const TensorList& t) { return m.forward(t[0]); }; };
  {
    auto m = in_f64(std::make_shared<sgan::FusedLeakyReLU>(3));
    check_block(one(*m), x({2, 3, 3, 3}), m.get(), true, "FusedLeakyReLU");
  }
  {
    auto m = in_f64(std::make_shared<sgan::ScaledLeakyReLU>());
    check_block(one(*m), x({2, 3, 3, 3}), m.get(), true, "ScaledLeakyReLU");
  }
  for (auto m : std::vector<std::shared_ptr<nn::Module>>{std::make_shared<sgan::Blur>(std::vector<double>{1, 3, 3, 1}, 2, 2),
                                                         std::make_shared<sgan::Downsample>(std::vector<double>{1, 3, 3, 1})}) {
    m->to(DType::f64);
    check_block(one(*m), x({1, 2, 6, 6}), m.get(), true, "Blur / Downsample");
  }
  {
    auto m = in_f64(std::make_shared<sgan::EqualConv2d>(3, 4, 3, 2, 1));
    check_block(one(*m), x({2, 3, 5, 5}), m.get(), true, "EqualConv2d");
  }
  for (bool act : {false, true}) {
    auto m = in_f64(std::make_shared<sgan::EqualLinear>(6, 4, true, 0.0, act ? 1.0 : 0.01, act));
    check_block(one(*m), x({3, 6}), m.get(), true, act ? "EqualLinear fused_lrelu" : "EqualLinear lr_mul 0.01");
  }
  {
    auto m = in_f64(std::make_shared<sgan::ConvLayer>(3, 4, 3, true));
    check_block(one(*m), x({2, 3, 6, 6}), m.get(), true, "ConvLayer downsample");
  }
  {
    auto m = in_f64(std::make_shared<sgan::ConvLayer>(3, 4, 1, true, std::vector<double>{1, 3, 3, 1}, false, false));
    check_block(one(*m), x({2, 3, 6, 6}), m.get(), true, "ConvLayer skip (no bias, no activation)");
  }
  {
    auto m = in_f64(std::make_shared<sgan::ConvLayer>(3, 4, 3, false, std::vector<double>{1, 3, 3, 1}, false, true));
    check_block(one(*m), x({2, 3, 4, 4}), m.get(), true, "ConvLayer ScaledLeakyReLU");
  }
  {
    auto m = in_f64(std::make_shared<sgan::ResBlock>(2, 3));
    check_block(one(*m), x({2, 2, 6, 6}), m.get(), true, "ResBlock downsample");
  }
  {
    auto m = in_f64(std::make_shared<sgan::ResBlock>(3, 3, std::vector<double>{1, 3, 3, 1}, false));
    check_block(one(*m), x({1, 3, 4, 4}), m.get(), true, "ResBlock identity skip");
  }
  {  // the whole (smallest) discriminator: 132k parameters, checked at 4 elements of each
    auto D = in_f64(sgan::define_D("stylegan2", 3, 1, 8, 8));
    check_block(one(*D), x({1, 3, 8, 8}), D.get(), true, "StyleGAN2Discriminator", 4);
  }
}

TEST_CASE("stylegan: gradcheck the generator's blocks (first order) and the styled ones") {
  auto leaf = [](const Shape& s, uint64_t seed = 12) { return leaf64(s, seed); };
  {
    auto m = in_f64(std::make_shared<sgan::Upsample>(std::vector<double>{1, 3, 3, 1}));
    check_block([&](const TensorList& t) { return m->forward(t[0]); }, {leaf({1, 2, 3, 3})}, m.get(), true, "Upsample");
  }
  {
    auto m = in_f64(std::make_shared<sgan::NoiseInjection>());
    check_block([&](const TensorList& t) { return m->forward(t[0], t[1]); }, {leaf({2, 3, 3, 3}), leaf({2, 1, 3, 3}, 13)},
                m.get(), true, "NoiseInjection");
  }
  for (int variant = 0; variant < 4; ++variant) {  // plain, up, down, no demodulation (1x1)
    auto m = in_f64(std::make_shared<sgan::ModulatedConv2d>(3, 2, variant == 3 ? 1 : 3, 4, variant != 3, variant == 1,
                                                            variant == 2));
    check_block([&](const TensorList& t) { return m->forward(t[0], t[1]); }, {leaf({2, 3, 5, 5}), leaf({2, 4}, 14)},
                m.get(), true, "ModulatedConv2d variant " + std::to_string(variant));
  }
  {  // the decoder's: no style, upsampling, with noise
    auto m = in_f64(std::make_shared<sgan::StyledConv>(3, 2, 3, 0, true));
    check_block([&](const TensorList& t) { return m->forward(t[0], Tensor(), t[1]); },
                {leaf({2, 3, 3, 3}), leaf({2, 1, 6, 6}, 15)}, m.get(), true, "StyledConv upsample");
  }
  {
    auto m = in_f64(std::make_shared<sgan::ToRGB>(3, 4));
    check_block([&](const TensorList& t) { return m->forward(t[0], t[1], t[2]); },
                {leaf({2, 3, 4, 4}), leaf({2, 4}, 16), leaf({2, 3, 2, 2}, 17)}, m.get(), false, "ToRGB");
  }
  {  // the whole generator, narrow
    auto G = in_f64(sgan::define_G("stylegan2", 3, 3, 1, 64, 64, 1));
    const Tensor noise = randn({1, 1, 8, 8}, default_generator(), DType::f64);
    check_block([&](const TensorList& t) { return G->forward_features(t[0], {}, false, {noise}).output; },
                {leaf({1, 3, 8, 8})}, G.get(), false, "StyleGAN2Generator", 6);
  }
}

TEST_CASE("stylegan: r1_penalty's gradient with respect to D's parameters (fp64 finite differences)") {
  auto D = in_f64(sgan::define_D("stylegan2", 3, 1, 8, 8));
  Tensor real = leaf64({2, 3, 8, 8}, 21);
  NamedTensors wrt = D->named_parameters();
  wrt.emplace_back("real", real);
  check_numeric([&] { return translation::r1_penalty(D->forward(real), real, 1.0); }, wrt, 4, "R1");
  // lambda scales it
  const double a = translation::r1_penalty(D->forward(real), real, 1.0).item();
  const double b = translation::r1_penalty(D->forward(real), real, 10.0).item();
  CHECK(b == doctest::Approx(10 * a).epsilon(1e-12));
}

// ------------------------------------------------------------ bad input

TEST_CASE("stylegan: bad input gives one line") {
  CHECK(error_of([] { sgan::define_D("stylegan2", 3, 8, 1024, 64)->forward(zeros({1, 3, 32, 32})); }) ==
        "StyleGAN2Discriminator: input must be [N, 3, 64, 64] (the size it was built for), got Tensor[1, 3, 32, 32] "
        "float32 cpu");
  CHECK(error_of([] { sgan::define_D("stylegan2", 1, 8, 1024, 64); }) ==
        "StyleGAN2Discriminator: its first layer takes 3 channels (ConvLayer(3, ...)), got input_nc 1");
  CHECK(error_of([] { sgan::define_D("basic", 3, 8, 1024, 64); }) ==
        "define_D: netD 'basic' is not a StyleGAN2 discriminator (stylegan2, tilestylegan2)");
  CHECK(error_of([] { sgan::define_G("resnet_9blocks", 3, 3, 10, 1024, 64, 1); }) ==
        "define_G: netG 'resnet_9blocks' is not a StyleGAN2 generator (stylegan2, smallstylegan2)");
  CHECK(error_of([] { sgan::define_G("stylegan2", 3, 3, 10, 1024, 2, 1); }) ==
        "StyleGAN2Generator: no channel count for resolution 2 (the networks are built for 4 ... 1024)");
  auto G = sgan::define_G("stylegan2", 3, 3, 1, 64, 64, 1);
  CHECK(error_of([&] { G->forward_features(zeros({1, 3, 8, 8}), {0, 8}); }) ==
        "StyleGAN2Encoder: layer index 8 is out of range: the encoder has 6 layers (0 ... 5, or -1 for the last)");
  CHECK(error_of([&] { G->forward_features(zeros({1, 3, 8, 8}), {}, false, {zeros({1, 1, 8, 8}), zeros({1, 1, 8, 8})}); }) ==
        "StyleGAN2Decoder: 2 noise tensors given for 1 StyledConv layers");
  Tensor x = zeros({1, 3, 8, 8});
  CHECK(error_of([&] { translation::r1_penalty(zeros({1, 1}), x); }) ==
        "r1_penalty: the real images must require grad (real_B.requires_grad_() before D's forward)");
}

TEST_CASE("stylegan: without a style the plain convolution equals the grouped one of unit styles") {
  manual_seed(9);
  for (int variant = 0; variant < 3; ++variant) {  // plain, up, down
    INFO("variant ", variant);
    sgan::ModulatedConv2d styled(3, 4, 3, 5, true, variant == 1, variant == 2);
    {
      NoGradGuard no_grad;
      styled.modulation->weight.zero_();  // modulation(style) = bias = 1 for every style
    }
    const Tensor x = randn({3, 3, 6, 6});
    const Tensor grouped = styled.forward(x, randn({3, 5}));
    const Tensor plain = styled.forward(x);
    check_close(plain, grouped, 1e-5, 1e-6);
  }
}

TEST_CASE("stylegan: the decoder draws its noise from its Generator (by default default_generator()) if not given") {
  manual_seed(4);
  auto G = sgan::define_G("stylegan2", 3, 3, 1, 64, 64, 1);
  {
    NoGradGuard no_grad;
    for (auto& [name, p] : G->named_parameters())
      if (name.find("noise.weight") != std::string::npos) p.fill_(0.5);
  }
  const Tensor x = hashed_input({1, 3, 8, 8}, 5);
  NoGradGuard no_grad;
  manual_seed(10);
  const Tensor a = G->forward(x);
  const Tensor b = G->forward(x);
  manual_seed(10);
  const Tensor c = G->forward(x);
  check_identical(a, c, "same seed, same noise");
  CHECK(a.to_vector() != b.to_vector());
  // the noise enters as image + weight * noise: given explicitly, it is reproduced
  manual_seed(10);
  const Tensor noise = randn({1, 1, 8, 8}, default_generator());
  check_close(G->forward_features(x, {}, false, {noise}).output, a, 1e-6, 1e-7);

  // Built with its own Generator, G draws its noise from that one: the global seed does not matter.
  Generator own(7);
  auto H = sgan::define_G("stylegan2", 3, 3, 1, 64, 64, 1, own);
  for (auto& [name, p] : H->named_parameters())
    if (name.find("noise.weight") != std::string::npos) p.fill_(0.5);
  const GeneratorState before = own.state();
  manual_seed(10);
  const Tensor d = H->forward(x);
  CHECK(own.state() != before);
  own.set_state(before);
  manual_seed(11);
  check_identical(H->forward(x), d, "same Generator state, another global seed");
  own.set_state(before);
  const Tensor own_noise = randn({1, 1, 8, 8}, own);
  check_close(H->forward_features(x, {}, false, {own_noise}).output, d, 1e-6, 1e-7);
}

TEST_CASE("stylegan: the networks draw their weights from the Generator they are given, not the global one") {
  auto same_state = [](nn::Module& a, nn::Module& b) {
    const NamedTensors sa = a.state_dict(), sb = b.state_dict();
    REQUIRE(sa.size() == sb.size());
    bool same = true;
    for (size_t i = 0; i < sa.size(); ++i) same = same && sa[i].second.to_vector() == sb[i].second.to_vector();
    return same;
  };
  Generator g1(3), g2(3), other(4);
  manual_seed(1);
  auto G1 = sgan::define_G("stylegan2", 3, 3, 1, 64, 64, 1, g1);
  auto D1 = sgan::define_D("stylegan2", 3, 1, 64, 64, 3, g1);
  manual_seed(2);
  (void)randn({5}, default_generator());
  auto G2 = sgan::define_G("stylegan2", 3, 3, 1, 64, 64, 1, g2);
  auto D2 = sgan::define_D("stylegan2", 3, 1, 64, 64, 3, g2);
  CHECK(same_state(*G1, *G2));
  CHECK(same_state(*D1, *D2));
  CHECK(g1.state() == g2.state());
  auto G3 = sgan::define_G("stylegan2", 3, 3, 1, 64, 64, 1, other);
  CHECK_FALSE(same_state(*G1, *G3));
  // The default is default_generator(): manual_seed(3) then gives Generator(3)'s weights.
  manual_seed(3);
  auto G4 = sgan::define_G("stylegan2", 3, 3, 1, 64, 64, 1);
  CHECK(same_state(*G1, *G4));
  // Every drawing layer takes it: a styled convolution's weight and modulation too.
  Generator m1(8), m2(8);
  sgan::ModulatedConv2d c1(4, 5, 3, 6, true, false, false, {1, 3, 3, 1}, m1);
  manual_seed(9);
  sgan::ModulatedConv2d c2(4, 5, 3, 6, true, false, false, {1, 3, 3, 1}, m2);
  CHECK(same_state(c1, c2));
}
