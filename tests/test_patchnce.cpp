// CUT's PatchNCE loss (translation/patchnce.h) and feature sampler
// (models/patch_sample.h) against PyTorch (tests/data/cut_step/patchnce.safetensors,
// written by scripts/make_cut_step_reference.py), and their fp64 gradient checks.
#include <map>
#include <set>

#include "gradcheck/gradcheck.h"
#include "models/patch_sample.h"
#include "nn/layers.h"
#include "ops/ops.h"
#include "tensor/random.h"
#include "tests/test_util.h"
#include "translation/patchnce.h"
#include "weights/safetensors.h"

using namespace sg;
using namespace sg::test;
using sg::models::cut::define_F;
using sg::models::cut::l2_normalize;
using sg::models::cut::PatchSampleF;
using sg::translation::PatchNCELoss;

namespace {

const std::map<std::string, Tensor>& reference() {
  static const std::map<std::string, Tensor> ref = [] {
    std::map<std::string, Tensor> m;
    for (auto& [name, t] : read_safetensors(STYLEGRAD_SOURCE_DIR "/tests/data/cut_step/patchnce.safetensors", DType::f64))
      m.emplace(name, t);
    return m;
  }();
  return ref;
}

const Tensor& reference_entry(const std::string& name) {
  auto it = reference().find(name);
  REQUIRE_MESSAGE(it != reference().end(), "the reference has no '", name, "'");
  return it->second;
}

const TensorOptions f64(DType::f64);

// The reference's PatchSampleF (use_mlp, nc 5) with torch's MLP weights.
std::shared_ptr<PatchSampleF> reference_sampler(Generator& gen) {
  auto F = std::make_shared<PatchSampleF>(true, "normal", 0.02, 5, gen);
  F->create_mlp({reference_entry("sample.feat0"), reference_entry("sample.feat1")});
  NamedTensors state;
  for (auto& [name, t] : reference())
    if (name.rfind("sample.F.", 0) == 0) state.push_back({name.substr(9), t});
  F->load_state_dict(state);
  return F;
}

}  // namespace

TEST_CASE("patchnce: the loss and its gradient match PyTorch, negatives from the image or the minibatch") {
  for (auto [mode, all_negatives] : {std::pair{"same_image", false}, std::pair{"minibatch", true}}) {
    INFO(mode);
    Tensor q = reference_entry("nce.feat_q").detach().requires_grad_(), k = reference_entry("nce.feat_k").detach().requires_grad_();
    const PatchNCELoss nce(2, 0.07, all_negatives);
    const Tensor loss = nce(q, k);
    check_close(loss, reference_entry(std::string("nce.") + mode + ".loss"), 1e-10, 1e-12);
    sum(loss * reference_entry("nce.weight")).backward();
    check_close(q.grad(), reference_entry(std::string("nce.") + mode + ".grad_q"), 1e-10, 1e-12);
    CHECK(!k.grad().defined());  // the key is detached
  }
  // The two modes differ (the minibatch's other image adds negatives).
  const Tensor a = reference_entry("nce.same_image.loss"), b = reference_entry("nce.minibatch.loss");
  CHECK(max(abs(a - b)).item() > 1e-3);
}

TEST_CASE("patchnce: the loss is the cross-entropy of (q.k+, q.k-...) / T against the positive, by hand") {
  // One image, two patches in 2-D: q0 = (1, 0), q1 = (0, 1); k0 = (0.6, 0.8), k1 = (1, 0).
  const Tensor q = t64({1, 0, 0, 1}, {2, 2}), k = t64({0.6, 0.8, 1, 0}, {2, 2});
  const std::vector<double> loss = PatchNCELoss(1, 0.5)(q, k).to_vector();
  // Row 0: logits (q0.k0, -10 (diagonal), q0.k1) / 0.5 = (1.2, -20, 2).
  const auto ce = [](double pos, double n1, double n2) {
    return -pos + std::log(std::exp(pos) + std::exp(n1) + std::exp(n2));
  };
  CHECK(loss[0] == doctest::Approx(ce(1.2, -20, 2)));
  // Row 1: (q1.k1, q1.k0, -10) / 0.5 = (0, 1.6, -20).
  CHECK(loss[1] == doctest::Approx(ce(0, 1.6, -20)));
}

TEST_CASE("patchnce: fp64 gradcheck with respect to the query, both negative modes") {
  Generator gen(3);
  for (bool all_negatives : {false, true}) {
    INFO("all_negatives ", all_negatives);
    const Tensor q = l2_normalize(randn({6, 4}, gen, f64)).detach().requires_grad_();
    const Tensor k = l2_normalize(randn({6, 4}, gen, f64));
    const PatchNCELoss nce(2, 0.07, all_negatives);
    const GradcheckResult r = gradcheck([&](const TensorList& in) { return nce(in[0], k); }, {q});
    INFO(r.worst);
    CHECK(r.passed);
    CHECK(r.checked == 24);
  }
}

TEST_CASE("patchnce: bad input is one error line") {
  const Tensor q = zeros({6, 4}, f64);
  CHECK(error_of([&] { PatchNCELoss(4)(q, q); }).find("6 patches do not split into 4 images") != std::string::npos);
  CHECK(error_of([&] { PatchNCELoss(1)(q, zeros({6, 3}, f64)); }).find("[num_patches, dim]") != std::string::npos);
  CHECK(error_of([&] { PatchNCELoss(1)(zeros({2, 3, 4}, f64), zeros({2, 3, 4}, f64)); }).find("[num_patches, dim]") !=
        std::string::npos);
  CHECK(error_of([] { PatchNCELoss(0); }).find("batch_size") != std::string::npos);
  CHECK(error_of([] { PatchNCELoss(1, 0.0); }).find("nce_T") != std::string::npos);
}

TEST_CASE("patch sample: with fixed ids, the MLP head, its keys and gradients match PyTorch") {
  Generator gen(1);
  auto F = reference_sampler(gen);
  // The official keys, in torch's order.
  std::vector<std::string> keys, want;
  for (auto& [key, t] : F->state_dict()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"mlp_0.0.weight", "mlp_0.0.bias", "mlp_0.2.weight", "mlp_0.2.bias",
                                         "mlp_1.0.weight", "mlp_1.0.bias", "mlp_1.2.weight", "mlp_1.2.bias"});
  CHECK(F->mlp(0)->named_parameters()[0].second.shape() == Shape{5, 3});
  CHECK(F->mlp(1)->named_parameters()[0].second.shape() == Shape{5, 4});

  std::vector<Tensor> feats = {reference_entry("sample.feat0").detach().requires_grad_(), reference_entry("sample.feat1").detach().requires_grad_()};
  const std::vector<Tensor> ids = {reference_entry("sample.ids0"), reference_entry("sample.ids1")};
  REQUIRE(ids[0].dtype() == DType::i64);
  const auto out = F->forward(feats, 6, ids);
  REQUIRE(out.feats.size() == 2);
  Tensor total;
  for (size_t l = 0; l < 2; ++l) {
    INFO("layer ", l);
    check_identical(out.ids[l], ids[l], "ids");  // the given ids are used as they are
    check_close(out.feats[l], reference_entry("sample.mlp.out" + std::to_string(l)), 1e-10, 1e-12);
    const Tensor term = sum(out.feats[l] * reference_entry("sample.mlp.v" + std::to_string(l)));
    total = total.defined() ? total + term : term;
  }
  CHECK(out.feats[0].shape() == Shape{2 * 6, 5});  // layer 0 has 20 positions: 6 of them
  CHECK(out.feats[1].shape() == Shape{2 * 4, 5});  // layer 1: the 4 given
  total.backward();
  for (size_t l = 0; l < 2; ++l) check_close(feats[l].grad(), reference_entry("sample.mlp.grad" + std::to_string(l)), 1e-9, 1e-12);
  for (auto& [key, p] : F->named_parameters()) {
    INFO(key);
    REQUIRE(p.grad().defined());
    check_close(p.grad(), reference_entry("sample.mlp.Fgrad." + key), 1e-9, 1e-12);
  }
  // Every row has unit length, up to Normalize's 1e-7 (x / (||x|| + 1e-7)).
  for (const Tensor& f : out.feats) check_close(sum(pow(f, 2.0), {1}), ones({f.size(0)}, f64), 0, 1e-5);
}

TEST_CASE("patch sample: no MLP, and num_patches 0 (the official reshape branch) match PyTorch") {
  Generator gen(1);
  PatchSampleF plain(false);
  const std::vector<Tensor> feats = {reference_entry("sample.feat0"), reference_entry("sample.feat1")};
  const auto a = plain.forward(feats, 6, {reference_entry("sample.ids0"), reference_entry("sample.ids1")});
  for (size_t l = 0; l < 2; ++l) check_close(a.feats[l], reference_entry("sample.nomlp.out" + std::to_string(l)), 1e-10, 1e-12);
  CHECK(plain.state_dict().empty());
  CHECK(!plain.mlp_init());

  auto F = reference_sampler(gen);
  const auto all = F->forward(feats, 0);
  for (size_t l = 0; l < 2; ++l) {
    check_close(all.feats[l], reference_entry("sample.all.out" + std::to_string(l)), 1e-10, 1e-12);
    CHECK(!all.ids[l].defined());
  }
  CHECK(all.feats[0].shape() == Shape{2, 5, 5, 4});
}

TEST_CASE("patch sample: random ids are distinct positions, shared by the batch, reproducible from the Generator") {
  Generator g1(11), g2(11);
  PatchSampleF a(true, "xavier", 0.02, 8, g1), b(true, "xavier", 0.02, 8, g2);
  const std::vector<Tensor> feats = {hashed_input({2, 3, 6, 5}, 1, DType::f64), hashed_input({2, 4, 2, 2}, 2, DType::f64)};
  const auto x = a.forward(feats, 7), y = b.forward(feats, 7);
  check_identical(a.state_dict(), b.state_dict(), "MLPs from the same seed");
  for (size_t l = 0; l < 2; ++l) check_identical(x.ids[l], y.ids[l], "ids from the same seed");
  const std::vector<double> ids0 = x.ids[0].to_vector(), ids1 = x.ids[1].to_vector();
  CHECK(ids0.size() == 7);
  CHECK(std::set<double>(ids0.begin(), ids0.end()).size() == 7);
  for (double id : ids0) CHECK((id >= 0 && id < 30));
  // min(num_patches, H*W): all 4 positions of the 2x2 map, in some order.
  CHECK(std::set<double>(ids1.begin(), ids1.end()) == std::set<double>{0, 1, 2, 3});
  // The same positions again give the same rows: the MLP is made once, and a
  // second draw differs (a fresh permutation).
  const auto again = a.forward(feats, 7, x.ids);
  for (size_t l = 0; l < 2; ++l) check_identical(again.feats[l], x.feats[l], "same ids");
  const auto fresh = a.forward(feats, 7);
  CHECK(fresh.ids[0].to_vector() != ids0);
  CHECK(a.num_mlps() == 2);
  // Xavier 0.02 (create_mlp's init_net), biases 0.
  CHECK(max(abs(a.mlp(0)->named_parameters()[1].second)).item() == 0.0);
  CHECK(a.mlp(0)->named_parameters()[0].second.dtype() == DType::f64);  // in the features' dtype
}

TEST_CASE("patch sample: fp64 gradcheck with respect to the features, through the MLP head") {
  Generator gen(5);
  PatchSampleF F(true, "normal", 0.5, 3, gen);
  const TensorList feats = {randn({2, 2, 3, 2}, gen, f64).requires_grad_(), randn({2, 3, 2, 2}, gen, f64).requires_grad_()};
  F.create_mlp(feats);
  // Biases 0 would put ReLU's kink at the MLP's zero: move them away from it.
  for (auto& [key, p] : F.named_parameters())
    if (p.dim() == 1) p.detach().copy_(randn(p.shape(), gen, f64) * 0.3);
  const std::vector<Tensor> ids = {from_vector({4, 0, 5}, {3}, TensorOptions(DType::i64)),
                                   from_vector({2, 1}, {2}, TensorOptions(DType::i64))};
  for (int64_t num_patches : {int64_t(3), int64_t(0)}) {
    INFO("num_patches ", num_patches);
    const GradcheckResult r = gradcheck(
        [&](const TensorList& in) {
          const auto out = F.forward(in, num_patches, num_patches ? ids : std::vector<Tensor>{});
          return cat({reshape(out.feats[0], {-1}), reshape(out.feats[1], {-1})}, 0);
        },
        feats);
    INFO(r.worst);
    CHECK(r.passed);
    CHECK(r.checked == 24 + 24);
  }
}

TEST_CASE("patch sample: bad input is one error line") {
  PatchSampleF F(false);
  const std::vector<Tensor> feats = {zeros({1, 2, 3, 3}, f64)};
  const Tensor far = from_vector({9}, {1}, TensorOptions(DType::i64));
  CHECK(error_of([&] { F.forward(feats, 4, {far}); }).find("patch id 9 of layer 0 is outside its 3x3 positions") !=
        std::string::npos);
  CHECK(error_of([&] { F.forward(feats, 4, {far, far}); }).find("2 sets of patch ids for 1 feature maps") !=
        std::string::npos);
  CHECK(error_of([&] { F.forward({zeros({2, 3}, f64)}, 4); }).find("[B, C, H, W]") != std::string::npos);
  CHECK(error_of([&] { F.forward(feats, -1); }).find("num_patches") != std::string::npos);
  CHECK(error_of([] { define_F("strided_conv"); }).find("'strided_conv' is not implemented") != std::string::npos);
  CHECK(define_F("mlp_sample", "xavier", 0.02, 16)->use_mlp);
  CHECK(!define_F("sample")->use_mlp);
  // An MLP made for 2 channels refuses 3.
  Generator gen(1);
  PatchSampleF with_mlp(true, "normal", 0.02, 4, gen);
  with_mlp.forward(feats, 2);
  CHECK(error_of([&] { with_mlp.forward({zeros({1, 3, 3, 3}, f64)}, 2); }).find("mlp_0 was made for 2") !=
        std::string::npos);
}
