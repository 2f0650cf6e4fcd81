// CUT's networks (models/antialias.h; the no_antialias / no_antialias_up
// variants in models/cyclegan_networks.h) against PyTorch: the state_dict keys
// and shapes of every flag combination, Downsample / Upsample for every filter
// size, pad and stride, the narrow networks' outputs and CUT's nce_layers
// features from torch.save files (both formats), fp64 first and second order
// gradients, and the one-line hint when a CUT file meets a CycleGAN network or
// the reverse. The reference files are written by
// scripts/make_cut_networks_reference.py (see its header for what each holds).
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "autograd/grad_mode.h"
#include "models/antialias.h"
#include "models/cyclegan_networks.h"
#include "tests/test_util.h"
#include "weights/json.h"
#include "weights/load.h"

using namespace sg;
using namespace sg::test;
namespace cg = sg::models::cyclegan;
using sg::models::Downsample;
using sg::models::Upsample;

namespace {

const std::string kData = STYLEGRAD_SOURCE_DIR "/tests/data/cut/";
const std::string kCycleGanData = STYLEGRAD_SOURCE_DIR "/tests/data/cyclegan/";
const std::string kReference = STYLEGRAD_SOURCE_DIR "/tests/reference/cut_networks.safetensors";

using Attrs = std::map<std::string, std::string>;

std::string attr(const Attrs& a, const std::string& key) {
  auto it = a.find(key);
  REQUIRE_MESSAGE(it != a.end(), "no attribute '", key, "'");
  return it->second;
}
int64_t int_attr(const Attrs& a, const std::string& key) { return std::stoll(attr(a, key)); }
bool flag(const Attrs& a, const std::string& key) { return attr(a, key) == "1"; }

// CUT's define_G / define_D with the case's arguments.
std::shared_ptr<nn::Module> build(const Attrs& a) {
  if (attr(a, "kind") == "ResnetGenerator")
    return cg::define_G(int_attr(a, "input_nc"), int_attr(a, "output_nc"), int_attr(a, "ngf"), attr(a, "netG"),
                        attr(a, "norm"), false, "xavier", 0.02, flag(a, "no_antialias"), flag(a, "no_antialias_up"));
  REQUIRE(attr(a, "kind") == "NLayerDiscriminator");
  return cg::define_D(int_attr(a, "input_nc"), int_attr(a, "ndf"), attr(a, "netD"), int_attr(a, "n_layers"),
                      attr(a, "norm"), "xavier", 0.02, flag(a, "no_antialias"));
}

struct ReferenceCase {
  std::string name;
  Attrs attrs;
  Shape input_shape;
  uint32_t input_seed = 0;
  std::vector<int64_t> layers;  // the generators' tapped layers
  Tensor input() const { return hashed_input(input_shape, input_seed); }
};

struct Reference {
  std::vector<ReferenceCase> cases;
  std::map<std::string, Tensor> tensors;
  const Tensor& at(const std::string& name) const {
    auto it = tensors.find(name);
    REQUIRE_MESSAGE(it != tensors.end(), "the reference has no tensor '", name, "'");
    return it->second;
  }
  const ReferenceCase& find(const std::string& name) const {
    for (const auto& c : cases)
      if (c.name == name) return c;
    FAIL("the reference has no case '", name, "'");
    return cases.front();
  }
  std::vector<const ReferenceCase*> starting_with(const std::string& prefix) const {
    std::vector<const ReferenceCase*> out;
    for (const auto& c : cases)
      if (c.name.compare(0, prefix.size(), prefix) == 0) out.push_back(&c);
    return out;
  }
};

const Reference& reference() {
  static const Reference ref = [] {
    Reference r;
    for (auto& [name, t] : read_safetensors(kReference)) r.tensors[name] = t;
    for (const auto& [name, text] : read_safetensors_metadata(kReference)) {
      const json::Value v = json::parse(text);
      ReferenceCase c;
      c.name = name;
      for (const auto& [key, value] : v.object) {
        if (value.is_string()) c.attrs[key] = value.string;
        else if (value.is_bool()) c.attrs[key] = value.boolean ? "1" : "0";
        else if (value.is_number()) c.attrs[key] = value.number_text;
      }
      for (const auto& d : v.find("input_shape")->array) c.input_shape.push_back(int64_t(d.number));
      c.input_seed = uint32_t(v.find("input_seed")->number);
      if (const json::Value* layers = v.find("layers"))
        for (const auto& l : layers->array) c.layers.push_back(int64_t(l.number));
      r.cases.push_back(c);
    }
    return r;
  }();
  return ref;
}

// float32 against torch: |got - torch| <= 1e-4 |torch| + 1e-5 max|torch|.
void check_matches_torch(const Tensor& got, const Tensor& want) {
  double scale = 0;
  for (double x : want.to_vector()) scale = std::max(scale, std::abs(x));
  check_close(got, want, 1e-4, 1e-5 * scale);
}

std::string shape_text(const Tensor& t) {
  std::string s;
  for (int64_t d : t.shape()) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s.empty() ? "scalar" : s;
}

std::shared_ptr<nn::Module> resampling_layer(const ReferenceCase& c) {
  const Attrs& a = c.attrs;
  if (attr(a, "kind") == "Downsample")
    return std::make_shared<Downsample>(int_attr(a, "channels"), attr(a, "pad_type"), int_attr(a, "filt_size"),
                                        int_attr(a, "stride"), a.count("pad_off") ? int_attr(a, "pad_off") : 0);
  return std::make_shared<Upsample>(int_attr(a, "channels"), attr(a, "pad_type"), int_attr(a, "filt_size"),
                                    int_attr(a, "stride"));
}

std::string load_error(nn::Module& net, const std::string& path, const std::string& what = "netG") {
  return error_of([&] { cg::load_official_network(net, path, what); });
}

}  // namespace

// ------------------------------------------------------------ keys

TEST_CASE("cut: state_dict keys and shapes equal torch's for every no_antialias x no_antialias_up") {
  std::ifstream f(STYLEGRAD_SOURCE_DIR "/tests/reference/cut_networks_keys.txt");
  REQUIRE_MESSAGE(f.good(), "missing tests/reference/cut_networks_keys.txt (run scripts/make_cut_networks_reference.py)");
  struct Net {
    std::string name;
    Attrs attrs;
    std::vector<std::pair<std::string, std::string>> keys;
  };
  std::vector<Net> nets;
  for (std::string line; std::getline(f, line);) {
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
  REQUIRE(nets.size() == 13);
  std::set<std::string> g_flags, d_flags;  // the combinations covered
  for (const Net& want : nets) {
    INFO("network ", want.name);
    manual_seed(1);
    auto net = build(want.attrs);
    const NamedTensors got = net->state_dict();
    REQUIRE(got.size() == want.keys.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].first == want.keys[i].first);
      CHECK(shape_text(got[i].second) == want.keys[i].second);
    }
    CHECK(net->num_parameters() == int_attr(want.attrs, "params"));
    if (attr(want.attrs, "kind") == "ResnetGenerator")
      g_flags.insert(attr(want.attrs, "no_antialias") + attr(want.attrs, "no_antialias_up"));
    else
      d_flags.insert(attr(want.attrs, "no_antialias"));
  }
  CHECK(g_flags == std::set<std::string>{"00", "01", "10", "11"});
  CHECK(d_flags == std::set<std::string>{"0", "1"});
}

TEST_CASE("cut: the released layouts, their descriptions, and CycleGAN's define_G / define_D unchanged") {
  auto g = cg::define_G(3, 3, 64, "resnet_9blocks", "instance", false, "xavier", 0.02, false, false);
  const NamedTensors sd = g->state_dict();
  auto has = [&](const std::string& key) {
    return std::any_of(sd.begin(), sd.end(), [&](const auto& kv) { return kv.first == key; });
  };
  CHECK(has("model.7.filt"));
  CHECK(has("model.11.filt"));
  CHECK(has("model.12.conv_block.1.weight"));
  CHECK(has("model.21.filt"));
  CHECK(has("model.25.filt"));
  CHECK(sd.back().first == "model.30.bias");
  CHECK(cg::describe_network(*g) ==
        "resnet_9blocks (ResnetGenerator, input_nc 3, output_nc 3, ngf 64, norm instance, no dropout, anti-aliased)");
  CHECK(cg::describe_network(*cg::define_G(3, 3, 8, "resnet_4blocks", "batch", false, "normal", 0.02, false, true)) ==
        "resnet_4blocks (ResnetGenerator, input_nc 3, output_nc 3, ngf 8, norm batch, no dropout, anti-aliased down, "
        "--no_antialias_up)");
  CHECK(cg::describe_network(*cg::define_G(3, 3, 8, "resnet_6blocks", "batch", false, "normal", 0.02, true, false)) ==
        "resnet_6blocks (ResnetGenerator, input_nc 3, output_nc 3, ngf 8, norm batch, no dropout, --no_antialias, "
        "anti-aliased up)");
  CHECK(cg::describe_network(*cg::define_G(3, 3, 8, "resnet_6blocks", "batch", false, "normal", 0.02, true, true)) ==
        "resnet_6blocks (ResnetGenerator, input_nc 3, output_nc 3, ngf 8, norm batch, no dropout)");
  auto d = cg::define_D(3, 64, "basic", 3, "instance", "xavier", 0.02, false);
  CHECK(cg::describe_network(*d) == "basic (NLayerDiscriminator, n_layers 3, input_nc 3, ndf 64, norm instance, anti-aliased)");
  const NamedTensors dsd = d->state_dict();
  CHECK(dsd[2].first == "model.2.filt");
  CHECK(dsd.back().first == "model.14.bias");
  // The U-Nets and the PixelGAN ignore the flags, as networks.py does.
  CHECK(cg::define_G(3, 3, 4, "unet_128", "batch", false, "normal", 0.02, false, false)->state_dict().size() ==
        cg::define_G(3, 3, 4, "unet_128", "batch")->state_dict().size());
  CHECK(cg::describe_network(*cg::define_D(3, 4, "pixel", 3, "batch", "normal", 0.02, false)) ==
        "pixel (PixelDiscriminator, input_nc 3, ndf 4, norm batch)");
  // Without the flags: CycleGAN's define_G, its layout and its names.
  CHECK(cg::define_G(3, 3, 4, "resnet_9blocks", "instance")->state_dict().back().first == "model.26.bias");
  CHECK(cg::define_D(3, 4, "basic")->state_dict().back().first == "model.11.bias");
  CHECK(error_of([] { cg::define_G(3, 3, 4, "resnet_4blocks"); }) ==
        "--netG: unknown generator 'resnet_4blocks' (expected resnet_9blocks, resnet_6blocks, unet_128 or unet_256)");
  CHECK(error_of([] { cg::define_G(3, 3, 4, "stylegan2", "instance", false, "xavier", 0.02, false, false); }) ==
        "--netG: CUT's generator 'stylegan2' is not implemented in stylegrad (expected resnet_9blocks, resnet_6blocks, "
        "resnet_4blocks, unet_128 or unet_256)");
  CHECK(error_of([] { cg::define_G(3, 3, 4, "resnet_3blocks", "instance", false, "xavier", 0.02, false, false); }) ==
        "--netG: unknown generator 'resnet_3blocks' (expected resnet_9blocks, resnet_6blocks, resnet_4blocks, unet_128 "
        "or unet_256)");
  CHECK(error_of([] { cg::define_D(3, 4, "stylegan2", 3, "instance", "xavier", 0.02, false); }) ==
        "--netD: CUT's discriminator 'stylegan2' is not implemented in stylegrad (expected basic, n_layers or pixel)");
}

TEST_CASE("cut: init_weights (CUT's xavier, gain 0.02) draws the convolutions and leaves the filters alone") {
  manual_seed(2);
  auto g = cg::define_G(3, 3, 16, "resnet_9blocks", "instance", false, "xavier", 0.02, false, false);
  int filters = 0;
  for (auto& [name, m] : g->named_modules()) {
    if (auto* down = dynamic_cast<Downsample*>(m)) {
      ++filters;
      const std::vector<double> f = down->filt.to_vector();
      CHECK(f[0] == 1.0 / 16);
      CHECK(f[4] == 4.0 / 16);
    } else if (auto* up = dynamic_cast<Upsample*>(m)) {
      ++filters;
      const std::vector<double> f = up->filt.to_vector();
      CHECK(f[0] == 4.0 / 64);  // [1 3 3 1] [1 3 3 1]^T / 64, times stride^2 = 4
      CHECK(f[5] == 36.0 / 64);
    } else if (auto* conv = dynamic_cast<nn::Conv2d*>(m); conv && name == "model.12.conv_block.1") {
      // xavier_normal_: std = gain sqrt(2 / (fan_in + fan_out)), fans 64 * 9
      std::vector<double> w = conv->weight.to_vector();
      double ss = 0;
      for (double x : w) ss += x * x;
      CHECK(std::abs(std::sqrt(ss / double(w.size())) / (0.02 * std::sqrt(2.0 / (2 * 64 * 9))) - 1) < 0.03);
    }
  }
  CHECK(filters == 4);
}

// ------------------------------------------------------------ Downsample, Upsample

TEST_CASE("cut: Downsample and Upsample match torch for every filter size, pad and stride") {
  const auto down = reference().starting_with("down_"), up = reference().starting_with("up_");
  CHECK(down.size() == 13);
  CHECK(up.size() == 11);
  for (const auto* cases : {&down, &up})
    for (const ReferenceCase* c : *cases) {
      INFO("case ", c->name);
      auto layer = resampling_layer(*c);
      const NamedTensors sd = layer->state_dict();
      REQUIRE(sd.size() == 1);
      CHECK(sd[0].first == "filt");
      CHECK(layer->named_parameters().empty());  // a buffer: nothing to train
      CHECK(sd[0].second.to_vector() == reference().at(c->name + ".filt").to_vector());
      CHECK(sd[0].second.shape() == reference().at(c->name + ".filt").shape());
      check_matches_torch(layer->forward(c->input()), reference().at(c->name + ".out"));
    }
}

TEST_CASE("cut: the filters and bad arguments") {
  CHECK(models::binomial_filter(1).to_vector() == std::vector<double>{1.0});
  const std::vector<double> f5 = models::binomial_filter(5).to_vector();
  CHECK(f5[12] == 36.0 / 256);
  CHECK(f5[0] == 1.0 / 256);
  CHECK(error_of([] { Downsample(4, "reflect", 8); }) == "get_filter: filt_size must be 1 to 7, got 8");
  CHECK(error_of([] { Upsample(4, "circular"); }) ==
        "pad_type: unknown padding 'circular' (expected refl, reflect, repl, replicate or zero)");
  Downsample d(4);
  CHECK(error_of([&] { d.forward(zeros({1, 3, 8, 8})); }) == "Downsample(4): input [1, 3, 8, 8]: expected [N, 4, H, W]");
  Upsample u(2);
  CHECK(error_of([&] { u.forward(zeros({2, 8, 8})); }) == "Upsample(2): input [2, 8, 8]: expected [N, 2, H, W]");
}

// ------------------------------------------------------------ networks from torch.save files

TEST_CASE("cut: generators and discriminators loaded from torch.save files match torch, with CUT's features") {
  const auto gs = reference().starting_with("G_"), ds = reference().starting_with("D_");
  CHECK(gs.size() == 5);
  CHECK(ds.size() == 3);
  for (const auto* cases : {&gs, &ds})
    for (const ReferenceCase* c : *cases) {
      INFO("case ", c->name);
      auto net = build(c->attrs);
      const cg::OfficialLoadReport report = cg::load_official_network(*net, kData + c->name + ".pth", c->name);
      CHECK(report.tensors == int64_t(net->state_dict().size()));
      NoGradGuard no_grad;
      net->eval();
      const Tensor x = c->input();
      check_matches_torch(net->forward(x), reference().at(c->name + ".eval"));
      if (auto* g = dynamic_cast<cg::ResnetGenerator*>(net.get())) {
        REQUIRE(c->layers == std::vector<int64_t>{0, 4, 8, 12, 16});
        // netG(x, nce_layers, encode_only=True): the features alone, stopping after layer 16.
        // G_resnet_4blocks_none's layer 4 (a conv, then Identity and an in-place ReLU in torch)
        // and G_resnet_4blocks_instance_noaa's layer 8 (a norm, then ReLU) are relu'd in torch.
        const nn::FeaturesAndOutput encoded = g->forward_features(x, c->layers, /*encode_only=*/true);
        REQUIRE(encoded.features.size() == 5);
        CHECK(!encoded.output.defined());
        for (size_t i = 0; i < 5; ++i) {
          INFO("feature ", i, " (layer ", c->layers[i], ")");
          check_matches_torch(encoded.features[i], reference().at(c->name + ".feat." + std::to_string(i)));
        }
        // netG(x, nce_layers): the output too. (Its features are those above but where a
        // later in-place ReLU, which encode_only does not reach, overwrites one in torch:
        // with --no_antialias, layer 16 is a norm layer, and here relu(norm).)
        const nn::FeaturesAndOutput both = g->forward_features(x, c->layers, false);
        check_matches_torch(both.output, reference().at(c->name + ".eval"));
        REQUIRE(both.features.size() == 5);
        check_matches_torch(both.features[3], reference().at(c->name + ".feat.3"));
        if (c->name == "G_resnet_4blocks_instance_noaa")
          check_matches_torch(both.features[4], relu(reference().at(c->name + ".feat.4")));
        else
          check_matches_torch(both.features[4], reference().at(c->name + ".feat.4"));
      }
      if (attr(c->attrs, "norm") == "batch") {
        net->train();
        check_matches_torch(net->forward(x), reference().at(c->name + ".train"));
      }
    }
}

TEST_CASE("cut: both torch.save formats load, to the same tensors") {
  for (const char* name : {"G_resnet_4blocks_batch", "D_n_layers4_batch"}) {
    INFO(name);
    CHECK(detect_weight_format(kData + name + ".pth") == WeightFormat::torch_zip);
    CHECK(detect_weight_format(kData + name + "_legacy.pth") == WeightFormat::torch_legacy);
    const ReferenceCase& c = reference().find(name);
    auto legacy = build(c.attrs), zip = build(c.attrs);
    cg::load_official_network(*legacy, kData + name + "_legacy.pth", name);
    cg::load_official_network(*zip, kData + name + ".pth", name);
    const NamedTensors a = legacy->state_dict(), b = zip->state_dict();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].second.to_vector() == b[i].second.to_vector());
    NoGradGuard no_grad;
    legacy->eval();
    check_matches_torch(legacy->forward(c.input()), reference().at(std::string(name) + ".eval"));
  }
}

// ------------------------------------------------------------ a file of the other layout

TEST_CASE("cut: an anti-aliased file in a CycleGAN-layout network, or the reverse, is one line saying so") {
  SUBCASE("CUT's generator file, CycleGAN's layout") {
    auto net = cg::define_G(3, 3, 4, "resnet_9blocks", "instance");
    CHECK(load_error(*net, kData + "G_resnet_9blocks_instance.pth") ==
          "netG: '" + kData +
              "G_resnet_9blocks_instance.pth' does not fit resnet_9blocks (ResnetGenerator, input_nc 3, output_nc 3, "
              "ngf 4, norm instance, no dropout): 'model.7.weight' [16, 8, 3, 3] is not in the file; the file looks "
              "anti-aliased (it has CUT's Downsample and Upsample filters, 'model.7.filt'), this network is not: build "
              "it without --no_antialias and --no_antialias_up");
  }
  SUBCASE("CycleGAN's generator file, CUT's layout") {
    auto net = cg::define_G(3, 3, 4, "resnet_9blocks", "instance", false, "xavier", 0.02, false, false);
    CHECK(load_error(*net, kCycleGanData + "resnet_9blocks_instance.pth") ==
          "netG: '" + kCycleGanData +
              "resnet_9blocks_instance.pth' does not fit resnet_9blocks (ResnetGenerator, input_nc 3, output_nc 3, "
              "ngf 4, norm instance, no dropout, anti-aliased): 'model.7.filt' [8, 1, 3, 3] is not in the file; the "
              "file does not look anti-aliased (it has no Downsample and Upsample filters: CycleGAN's layout, or "
              "CUT's --no_antialias and --no_antialias_up), this network is: build it with --no_antialias and "
              "--no_antialias_up");
  }
  SUBCASE("the upsampling alone differs") {
    auto net = cg::define_G(3, 3, 4, "resnet_9blocks", "instance", false, "xavier", 0.02, false, /*no_antialias_up=*/true);
    CHECK(load_error(*net, kData + "G_resnet_9blocks_instance.pth")
              .find("): 'model.21.weight' [16, 8, 3, 3] is not in the file; the file looks anti-aliased (it has CUT's "
                    "Upsample filters, 'model.21.filt'), this network is not: build it without --no_antialias_up") !=
          std::string::npos);
    auto aa_up = cg::define_G(3, 3, 4, "resnet_4blocks", "instance", false, "xavier", 0.02, false, false);
    CHECK(load_error(*aa_up, kData + "G_resnet_4blocks_instance_noaaup.pth")
              .find("; the file does not look anti-aliased (it has no Upsample filters: CycleGAN's layout, or CUT's "
                    "--no_antialias_up), this network is: build it with --no_antialias_up") != std::string::npos);
  }
  SUBCASE("the downsampling alone differs") {
    auto net = cg::define_G(3, 3, 4, "resnet_4blocks", "instance", false, "xavier", 0.02, false, false);
    CHECK(load_error(*net, kData + "G_resnet_4blocks_instance_noaa.pth")
              .find("; the file does not look anti-aliased (it has no Downsample filters: CycleGAN's layout, or CUT's "
                    "--no_antialias), this network is: build it with --no_antialias") != std::string::npos);
  }
  SUBCASE("CUT's discriminator file, CycleGAN's layout") {
    auto net = cg::define_D(3, 4, "basic", 3, "instance");
    CHECK(load_error(*net, kData + "D_basic_instance.pth", "netD") ==
          "netD: '" + kData +
              "D_basic_instance.pth' does not fit basic (NLayerDiscriminator, n_layers 3, input_nc 3, ndf 4, norm "
              "instance): 'model.2.weight' [8, 4, 4, 4] is not in the file; the file looks anti-aliased (it has CUT's "
              "Downsample filters, 'model.2.filt'), this network is not: build it without --no_antialias");
  }
  SUBCASE("CycleGAN's discriminator file, CUT's layout") {
    auto net = cg::define_D(3, 4, "basic", 3, "instance", "xavier", 0.02, false);
    CHECK(load_error(*net, kCycleGanData + "D_basic_instance.pth", "netD")
              .find("anti-aliased): 'model.2.filt' [4, 1, 3, 3] is not in the file; the file does not look anti-aliased "
                    "(it has no Downsample filters: CycleGAN's layout, or CUT's --no_antialias), this network is: build "
                    "it with --no_antialias") != std::string::npos);
  }
  SUBCASE("other hints still come through for anti-aliased networks") {
    auto net = cg::define_G(3, 3, 4, "resnet_6blocks", "instance", false, "xavier", 0.02, false, false);
    CHECK(load_error(*net, kData + "G_resnet_9blocks_instance.pth")
              .find("the file has 9 residual blocks, --netG resnet_6blocks expects 6") != std::string::npos);
  }
}

// ------------------------------------------------------------ gradients

TEST_CASE("cut: fp64 first and second order gradients of Downsample and Upsample") {
  manual_seed(11);
  struct Layer {
    std::string what;
    std::shared_ptr<nn::Module> m;
    Shape input;
  };
  const std::vector<Layer> layers = {
      {"Downsample(3) reflect k3 s2", std::make_shared<Downsample>(3), {2, 3, 7, 6}},
      {"Downsample(2) zero k4 s1", std::make_shared<Downsample>(2, "zero", 4, 1), {1, 2, 5, 5}},
      {"Downsample(2) replicate k5 s3 pad_off 1", std::make_shared<Downsample>(2, "repl", 5, 3, 1), {1, 2, 7, 8}},
      {"Upsample(3) repl k4 s2", std::make_shared<Upsample>(3), {2, 3, 4, 3}},
      {"Upsample(2) reflect k3 s3", std::make_shared<Upsample>(2, "reflect", 3, 3), {1, 2, 3, 4}},
  };
  for (const Layer& l : layers) {
    INFO(l.what);
    l.m->to(DType::f64);
    Tensor x = randn(l.input, default_generator(), TensorOptions(DType::f64)).requires_grad_();
    // squared, so that the second derivative is not 0 (the layers are linear)
    auto f = [&](const TensorList& in) {
      const Tensor y = l.m->forward(in[0]);
      return y * y;
    };
    GradcheckResult r1 = gradcheck(f, {x});
    INFO("first order: ", r1.worst);
    CHECK(r1.passed);
    CHECK(r1.checked == l.input.numel());
    GradcheckResult r2 = gradgradcheck(f, {x});
    INFO("second order: ", r2.worst);
    CHECK(r2.passed);
    CHECK(r2.checked > 0);
  }
}

TEST_CASE("cut: fp64 first and second order gradients of anti-aliased discriminators, first order of a generator") {
  manual_seed(12);
  for (const char* norm : {"instance", "batch", "none"}) {
    INFO("norm ", norm);
    auto d = cg::define_D(3, 2, "n_layers", 2, norm, "normal", 0.5, /*no_antialias=*/false);
    d->to(DType::f64);  // train mode: BatchNorm uses the batch's statistics
    Tensor x = randn({2, 3, 16, 16}, default_generator(), TensorOptions(DType::f64)).requires_grad_();
    auto f = [&](const TensorList& in) { return d->forward(in[0]); };
    GradcheckResult r1 = gradcheck(f, {x});
    INFO("first order: ", r1.worst);
    CHECK(r1.passed);
    GradcheckResult r2 = gradgradcheck(f, {x});
    INFO("second order: ", r2.worst);
    CHECK(r2.passed);
    CHECK(r2.checked > 0);
  }
  cg::ResnetGenerator g(3, 3, 2, cg::NormType::instance, false, 1, cg::PaddingType::reflect, false, false);
  cg::init_weights(g, "normal", 0.5);
  g.to(DType::f64);
  Tensor x = randn({1, 3, 8, 8}, default_generator(), TensorOptions(DType::f64)).requires_grad_();
  GradcheckResult r = gradcheck([&](const TensorList& in) { return g.forward(in[0]); }, {x});
  INFO("generator: ", r.worst);
  CHECK(r.passed);
  CHECK(r.checked == 3 * 8 * 8);
}
