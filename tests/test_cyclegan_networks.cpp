// CycleGAN / pix2pix networks (models/cyclegan_networks.h) against PyTorch:
// state_dict keys and shapes of every released configuration, outputs of
// narrow networks loaded from torch.save files (both formats), the official
// loader's patches for old files, its one-line errors, init_weights, and fp64
// gradient checks. The reference files are written by
// scripts/make_cyclegan_reference.py (see its header for what each holds).
#include <fstream>
#include <map>
#include <sstream>

#include "autograd/grad_mode.h"
#include "models/cyclegan_networks.h"
#include "tests/test_util.h"
#include "weights/json.h"
#include "weights/load.h"

using namespace sg;
using namespace sg::test;
namespace cg = sg::models::cyclegan;

namespace {

const std::string kData = STYLEGRAD_SOURCE_DIR "/tests/data/cyclegan/";
const std::string kReference = STYLEGRAD_SOURCE_DIR "/tests/reference/cyclegan_networks.safetensors";

using Attrs = std::map<std::string, std::string>;

std::string attr(const Attrs& a, const std::string& key) {
  auto it = a.find(key);
  REQUIRE_MESSAGE(it != a.end(), "no attribute '", key, "'");
  return it->second;
}
int64_t int_attr(const Attrs& a, const std::string& key) { return std::stoll(attr(a, key)); }

// The network a key list or a reference case describes, built as a user of
// this API would: define_G / define_D, or the class for what they do not offer.
std::shared_ptr<nn::Module> build(const Attrs& a) {
  const std::string kind = attr(a, "kind");
  const cg::NormType norm = cg::norm_type_from_name(attr(a, "norm"));
  if (kind == "ResnetGenerator") {
    const std::string netG = attr(a, "netG");
    if (netG != "resnet" && attr(a, "padding_type") == "reflect")
      return cg::define_G(int_attr(a, "input_nc"), int_attr(a, "output_nc"), int_attr(a, "ngf"), netG, attr(a, "norm"),
                          attr(a, "use_dropout") == "1");
    return std::make_shared<cg::ResnetGenerator>(int_attr(a, "input_nc"), int_attr(a, "output_nc"), int_attr(a, "ngf"),
                                                 norm, attr(a, "use_dropout") == "1", int_attr(a, "n_blocks"),
                                                 cg::padding_type_from_name(attr(a, "padding_type")));
  }
  if (kind == "UnetGenerator")
    return cg::define_G(int_attr(a, "input_nc"), int_attr(a, "output_nc"), int_attr(a, "ngf"), attr(a, "netG"),
                        attr(a, "norm"), attr(a, "use_dropout") == "1");
  if (kind == "NLayerDiscriminator" || kind == "PixelDiscriminator")
    return cg::define_D(int_attr(a, "input_nc"), int_attr(a, "ndf"), attr(a, "netD"),
                        kind == "NLayerDiscriminator" ? int_attr(a, "n_layers") : 3, attr(a, "norm"));
  FAIL("unknown kind ", kind);
  return nullptr;
}

// out[:, :, ::s, ::s]
Tensor subsample(const Tensor& out, int64_t s) {
  if (s == 1) return out;
  const std::vector<double> v = out.to_vector();
  const int64_t n = out.size(0), c = out.size(1), h = out.size(2), w = out.size(3);
  const int64_t hs = (h + s - 1) / s, ws = (w + s - 1) / s;
  std::vector<double> r;
  for (int64_t i = 0; i < n * c; ++i)
    for (int64_t y = 0; y < h; y += s)
      for (int64_t x = 0; x < w; x += s) r.push_back(v[size_t((i * h + y) * w + x)]);
  return from_vector(r, {n, c, hs, ws});
}

struct ReferenceCase {
  std::string name;
  Attrs attrs;
  Shape input_shape;
  uint32_t input_seed = 0;
  int64_t subsample = 1;
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
      c.subsample = int64_t(v.find("subsample")->number);
      r.cases.push_back(c);
    }
    return r;
  }();
  return ref;
}

// float32 forward against torch: |got - torch| <= 1e-4 |torch| + 1e-5 max|torch|
// (the second term for elements near 0, whose error is that of the larger ones).
void check_matches_torch(const Tensor& got, const Tensor& want) {
  double scale = 0;
  for (double x : want.to_vector()) scale = std::max(scale, std::abs(x));
  check_close(got, want, 1e-4, 1e-5 * scale);
}

Tensor eval_output(nn::Module& net, const ReferenceCase& c) {
  NoGradGuard no_grad;
  net.eval();
  return subsample(net.forward(hashed_input(c.input_shape, c.input_seed)), c.subsample);
}

Tensor train_output(nn::Module& net, const ReferenceCase& c) {
  NoGradGuard no_grad;
  net.train();
  return subsample(net.forward(hashed_input(c.input_shape, c.input_seed)), c.subsample);
}

// Loads the case's file and checks every output the reference has for it.
void check_case(const ReferenceCase& c) {
  INFO("case ", c.name);
  auto net = build(c.attrs);
  cg::OfficialLoadReport report = cg::load_official_network(*net, kData + c.name + ".pth", c.name);
  CHECK(report.tensors == int64_t(net->state_dict().size()));
  CHECK(!report.stripped_module_prefix);
  CHECK(report.dropped_instance_norm_stats == 0);
  CHECK(report.added_num_batches_tracked == 0);
  check_matches_torch(eval_output(*net, c), reference().at(c.name + ".eval"));
  if (attr(c.attrs, "norm") == "batch") {
    check_matches_torch(train_output(*net, c), reference().at(c.name + ".train"));
    if (c.name == "resnet_9blocks_batch") {  // the running statistics after that train-mode forward
      int checked = 0;
      for (const auto& [key, t] : net->state_dict()) {
        if (key.find("running_") == std::string::npos) continue;
        INFO("buffer ", key);
        check_close(t, reference().at(c.name + ".after_train." + key), 1e-4, 1e-6);
        ++checked;
      }
      CHECK(checked == 2 * 23);  // 23 BatchNorm2d layers in resnet_9blocks: 3 down, 2 per block, 2 up
    }
  }
}

void check_cases_starting_with(const std::string& prefix) {
  int n = 0;
  for (const auto& c : reference().cases)
    if (c.name.compare(0, prefix.size(), prefix) == 0) {
      check_case(c);
      ++n;
    }
  CHECK(n > 0);
}

std::shared_ptr<nn::Module> build_case(const std::string& name) { return build(reference().find(name).attrs); }

std::string load_error(nn::Module& net, const std::string& file) {
  return error_of([&] { cg::load_official_network(net, kData + file, "netG_A"); });
}

}  // namespace

// ------------------------------------------------------------ keys

TEST_CASE("cyclegan: state_dict keys and shapes of every released configuration equal torch's") {
  std::ifstream f(STYLEGRAD_SOURCE_DIR "/tests/reference/cyclegan_networks_keys.txt");
  REQUIRE_MESSAGE(f.good(), "missing tests/reference/cyclegan_networks_keys.txt (run scripts/make_cyclegan_reference.py)");
  struct Net {
    std::string name;
    Attrs attrs;
    std::vector<std::pair<std::string, std::string>> keys;  // name, shape as "64x3x7x7"
  };
  std::vector<Net> nets;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream is(line);
    std::string tag, name;
    is >> tag >> name;
    if (tag == "net") {
      nets.push_back({name, {}, {}});
      for (std::string kv; is >> kv;) {
        const size_t eq = kv.find('=');
        nets.back().attrs[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
    } else if (tag == "key") {
      std::string shape;
      is >> shape;
      REQUIRE(!nets.empty());
      nets.back().keys.emplace_back(name, shape);
    }
  }
  REQUIRE(nets.size() == 42);
  for (const Net& want : nets) {
    INFO("network ", want.name);
    manual_seed(1);
    auto net = build(want.attrs);
    const NamedTensors got = net->state_dict();
    REQUIRE(got.size() == want.keys.size());
    for (size_t i = 0; i < got.size(); ++i) {
      std::string shape;
      for (int64_t d : got[i].second.shape()) shape += (shape.empty() ? "" : "x") + std::to_string(d);
      if (shape.empty()) shape = "scalar";
      CHECK(got[i].first == want.keys[i].first);
      CHECK(shape == want.keys[i].second);
    }
    CHECK(net->num_parameters() == int_attr(want.attrs, "params"));
  }
}

TEST_CASE("cyclegan: the keys quoted in networks.py's layout") {
  auto g = cg::define_G(3, 3, 64, "resnet_9blocks", "instance", false);
  const NamedTensors sd = g->state_dict();
  CHECK(sd.front().first == "model.1.weight");
  CHECK(sd[2].first == "model.4.weight");
  CHECK(std::any_of(sd.begin(), sd.end(), [](const auto& kv) { return kv.first == "model.10.conv_block.1.weight"; }));
  CHECK(sd.back().first == "model.26.bias");
  CHECK(cg::describe_network(*g) ==
        "resnet_9blocks (ResnetGenerator, input_nc 3, output_nc 3, ngf 64, norm instance, no dropout)");
  auto u = cg::define_G(3, 3, 8, "unet_256", "batch", true);
  CHECK(u->state_dict().front().first == "model.model.0.weight");
  CHECK(u->state_dict()[1].first == "model.model.1.model.1.weight");
  CHECK(cg::describe_network(*u) == "unet_256 (UnetGenerator, input_nc 3, output_nc 3, ngf 8, norm batch, dropout)");
  CHECK(cg::describe_network(*cg::define_D(3, 64, "basic")) == "basic (NLayerDiscriminator, n_layers 3, input_nc 3, ndf 64, norm batch)");
  CHECK(cg::describe_network(*cg::define_D(3, 64, "pixel", 3, "none")) == "pixel (PixelDiscriminator, input_nc 3, ndf 64, norm none)");
  CHECK(error_of([] { cg::define_G(3, 3, 64, "resnet_12blocks"); }) ==
        "--netG: unknown generator 'resnet_12blocks' (expected resnet_9blocks, resnet_6blocks, unet_128 or unet_256)");
  CHECK(error_of([] { cg::define_D(3, 64, "patch"); }) == "--netD: unknown discriminator 'patch' (expected basic, n_layers or pixel)");
  CHECK(error_of([] { cg::define_D(3, 64, "basic", 3, "group"); }) ==
        "--norm: unknown normalization 'group' (expected batch, instance or none)");
}

// ------------------------------------------------------------ outputs

TEST_CASE("cyclegan: ResnetGenerators loaded from torch.save files match torch") { check_cases_starting_with("resnet_"); }
TEST_CASE("cyclegan: UnetGenerators loaded from torch.save files match torch") { check_cases_starting_with("unet_"); }
TEST_CASE("cyclegan: discriminators loaded from torch.save files match torch") { check_cases_starting_with("D_"); }

TEST_CASE("cyclegan: every netG x norm and netD x norm has a reference case") {
  for (const char* g : {"resnet_9blocks", "resnet_6blocks", "unet_128", "unet_256"})
    for (const char* n : {"instance", "batch", "none"}) CHECK_NOTHROW(reference().find(std::string(g) + "_" + n));
  for (const char* d : {"D_basic", "D_n_layers4", "D_pixel"})
    for (const char* n : {"instance", "batch", "none"}) CHECK_NOTHROW(reference().find(std::string(d) + "_" + n));
  CHECK(reference().cases.size() == 24);
}

TEST_CASE("cyclegan: the U-Net's Dropout moves no key and is off in eval mode") {
  // pix2pix's unet_256 has dropout in its middle blocks, after everything with
  // parameters: unet_256_batch's file loads and gives torch's eval output.
  const ReferenceCase& c = reference().find("unet_256_batch");
  auto net = cg::define_G(3, 3, 2, "unet_256", "batch", /*use_dropout=*/true);
  cg::load_official_network(*net, kData + "unet_256_batch.pth", "netG");
  check_matches_torch(eval_output(*net, c), reference().at("unet_256_batch.eval"));
  // In train mode the dropout is on: the output is no longer torch's deterministic one.
  const Tensor train = train_output(*net, c);
  CHECK(max(abs(train - reference().at("unet_256_batch.train"))).item() > 1e-3);
}

TEST_CASE("cyclegan: both torch.save formats load, to the same tensors") {
  for (const char* name : {"resnet_2blocks_instance_replicate", "D_basic_batch"}) {
    INFO(name);
    CHECK(detect_weight_format(kData + name + ".pth") == WeightFormat::torch_zip);
    CHECK(detect_weight_format(kData + name + "_legacy.pth") == WeightFormat::torch_legacy);
    const ReferenceCase& c = reference().find(name);
    auto net = build(c.attrs);
    cg::load_official_network(*net, kData + name + "_legacy.pth", name);
    check_matches_torch(eval_output(*net, c), reference().at(std::string(name) + ".eval"));
    auto from_zip = build(c.attrs);
    cg::load_official_network(*from_zip, kData + name + ".pth", name);
    const NamedTensors a = net->state_dict(), b = from_zip->state_dict();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].second.to_vector() == b[i].second.to_vector());
  }
}

// ------------------------------------------------------------ the loader's patches

TEST_CASE("cyclegan: a 2018 file (module. prefix, InstanceNorm running statistics) loads as load_networks patches it") {
  const std::string old_file = kData + "resnet_6blocks_instance_old.pth";
  const NamedTensors raw = load_weights(old_file);
  CHECK(raw.front().first.rfind("module.", 0) == 0);
  auto net = build_case("resnet_6blocks_instance");
  // Without the patches it does not load.
  CHECK(error_of([&] { net->load_state_dict(raw); }).find("missing key 'model.1.weight'") != std::string::npos);
  cg::OfficialLoadReport report = cg::load_official_network(*net, old_file, "netG_A");
  CHECK(report.stripped_module_prefix);
  // 17 InstanceNorm2d layers (stem, 2 down, 2 per block x 6, 2 up), 3 tensors each
  CHECK(report.dropped_instance_norm_stats == 17 * 3);
  CHECK(report.tensors == int64_t(raw.size()) - 17 * 3);
  check_matches_torch(eval_output(*net, reference().find("resnet_6blocks_instance")),
                      reference().at("resnet_6blocks_instance.eval"));
}

TEST_CASE("cyclegan: a BatchNorm file without num_batches_tracked (torch < 0.4.1) loads with 0, as torch") {
  auto net = build_case("D_basic_batch");
  cg::OfficialLoadReport report = cg::load_official_network(*net, kData + "D_basic_batch_no_nbt.pth", "netD_A");
  CHECK(report.added_num_batches_tracked == 3);
  check_matches_torch(eval_output(*net, reference().find("D_basic_batch")), reference().at("D_basic_batch.eval"));
  int n = 0;
  for (const auto& [key, t] : net->state_dict())
    if (key.find("num_batches_tracked") != std::string::npos) {
      CHECK(t.item() == 0);
      ++n;
    }
  CHECK(n == 3);
  // The file with them has the count the script's two calibration forwards left.
  cg::load_official_network(*net, kData + "D_basic_batch.pth", "netD_A");
  for (const auto& [key, t] : net->state_dict())
    if (key == "model.3.num_batches_tracked") CHECK(t.item() == 2);
}

// ------------------------------------------------------------ errors

TEST_CASE("cyclegan: a file of another architecture is one line naming the first mismatch and the cause") {
  SUBCASE("resnet_6blocks file, resnet_9blocks network") {
    auto net = cg::define_G(3, 3, 2, "resnet_9blocks", "instance");
    CHECK(load_error(*net, "resnet_6blocks_instance.pth") ==
          "netG_A: '" + kData +
              "resnet_6blocks_instance.pth' does not fit resnet_9blocks (ResnetGenerator, input_nc 3, output_nc 3, ngf "
              "2, norm instance, no dropout): 'model.16.conv_block.1.weight' [8, 8, 3, 3] is not in the file; the file "
              "has 6 residual blocks, --netG resnet_9blocks expects 9");
  }
  SUBCASE("a file trained with dropout, a network without") {
    auto net = cg::define_G(3, 3, 2, "resnet_9blocks", "instance", /*use_dropout=*/false);
    CHECK(load_error(*net, "resnet_9blocks_instance_dropout.pth").find(
              ": 'model.10.conv_block.5.weight' [8, 8, 3, 3] is not in the file; its residual blocks have their "
              "convolutions at conv_block.1 and .6 (with Dropout, padding layers), this network at .1 and .5 (without "
              "Dropout, padding layers): the file was trained with dropout, this network has --no_dropout") !=
          std::string::npos);
  }
  SUBCASE("a file trained with --no_dropout, a network with dropout") {
    auto net = cg::define_G(3, 3, 4, "resnet_9blocks", "instance", /*use_dropout=*/true);
    CHECK(load_error(*net, "resnet_9blocks_instance.pth")
              .find("the file was trained with --no_dropout, this network has dropout") != std::string::npos);
  }
  SUBCASE("zero padding in the file, reflect in the network") {
    auto net = std::make_shared<cg::ResnetGenerator>(3, 3, 4, cg::NormType::instance, false, 2);
    CHECK(load_error(*net, "resnet_2blocks_instance_zero.pth")
              .find("'model.10.conv_block.1.weight' [16, 16, 3, 3] is not in the file; "
                    "its residual blocks have their convolutions at conv_block.0 and .3 (without Dropout, zero padding "
                    "in the convolutions), this network at .1 and .5 (without Dropout, padding layers)") != std::string::npos);
  }
  SUBCASE("unet_128 file, unet_256 network") {
    auto net = cg::define_G(3, 3, 2, "unet_256", "instance");
    const std::string e = load_error(*net, "unet_128_instance.pth");
    CHECK(e.find("does not fit unet_256 (UnetGenerator, ") != std::string::npos);
    CHECK(e.find("is not in the file; the file has 7 U-Net levels (unet_128), --netG unet_256 expects 8") != std::string::npos);
  }
  SUBCASE("--norm batch file, --norm instance network") {
    auto net = cg::define_G(3, 3, 2, "resnet_6blocks", "instance");
    CHECK(load_error(*net, "resnet_6blocks_batch.pth")
              .find("): 'model.1.bias' [2] is not in the file; the file was saved with --norm batch, this network has --norm instance") !=
          std::string::npos);
  }
  SUBCASE("--norm none file, --norm batch network") {
    auto net = cg::define_G(3, 3, 2, "unet_128", "batch");
    CHECK(load_error(*net, "unet_128_none.pth").find("the file was saved with --norm none, this network has --norm batch") !=
          std::string::npos);
  }
  SUBCASE("--ngf 4 file, --ngf 2 network") {
    auto net = cg::define_G(3, 3, 2, "resnet_9blocks", "instance");
    CHECK(load_error(*net, "resnet_9blocks_instance.pth")
              .find(": 'model.1.weight' has shape [4, 3, 7, 7] in the file, expected [2, 3, 7, 7]; the file has --ngf 4 "
                    "(its first convolution has 4 filters), this network 2") != std::string::npos);
  }
  SUBCASE("--input_nc") {
    auto net = cg::define_G(1, 3, 2, "unet_128", "instance");
    CHECK(load_error(*net, "unet_128_instance.pth").find("the file takes 3 input channels, this network 1 (--input_nc)") !=
          std::string::npos);
  }
  SUBCASE("n_layers_D 4 file, --netD basic network") {
    auto net = cg::define_D(3, 2, "basic", 3, "instance");
    CHECK(load_error(*net, "D_n_layers4_instance.pth").find("the file has n_layers_D 4 (6 convolutions), --netD basic expects 3") !=
          std::string::npos);
  }
  SUBCASE("a generator's file for a discriminator, and the other way round") {
    auto d = cg::define_D(3, 4, "basic", 3, "instance");
    CHECK(load_error(*d, "resnet_9blocks_instance.pth").find("; the file holds a ResnetGenerator, not an NLayerDiscriminator") !=
          std::string::npos);
    auto g = cg::define_G(3, 3, 2, "unet_128", "instance");
    CHECK(load_error(*g, "D_pixel_instance.pth").find("; the file holds a PixelDiscriminator, not a UnetGenerator") !=
          std::string::npos);
  }
  SUBCASE("a file the network lacks keys of") {
    auto net = build_case("D_basic_instance");
    NamedTensors sd = load_weights(kData + "D_basic_instance.pth");
    sd.emplace_back("model.11.extra\nline 2", zeros({1}));  // a file's names are quoted: still one line
    sd.emplace_back("model.12.extra", zeros({1}));
    CHECK(error_of([&] { cg::load_official_state_dict(*net, sd, "netD_A"); }) ==
          "netD_A: the state_dict does not fit basic (NLayerDiscriminator, n_layers 3, input_nc 3, ndf 4, norm instance): "
          "the file has \"model.11.extra\\nline 2\", which this network lacks (and 1 more keys)");
  }
  SUBCASE("not a weight file") {
    auto net = cg::define_G(3, 3, 2, "unet_128", "instance");
    CHECK(error_of([&] { cg::load_official_network(*net, STYLEGRAD_SOURCE_DIR "/README.md", "netG_B"); })
              .find("netG_B: cannot read weights '") == 0);
  }
}

TEST_CASE("cyclegan: a failed load leaves the network as it was, and messages are one line") {
  auto net = cg::define_G(3, 3, 2, "resnet_9blocks", "instance");
  const NamedTensors before = net->state_dict();
  std::vector<std::vector<double>> values;
  for (const auto& [k, t] : before) values.push_back(t.to_vector());
  for (const char* file : {"resnet_6blocks_instance.pth", "resnet_9blocks_instance_dropout.pth", "unet_128_batch.pth"}) {
    const std::string e = load_error(*net, file);
    CHECK(!e.empty());
    CHECK(e.find('\n') == std::string::npos);
  }
  const NamedTensors after = net->state_dict();
  for (size_t i = 0; i < after.size(); ++i) CHECK(after[i].second.to_vector() == values[i]);
}

// ------------------------------------------------------------ init_weights

namespace {

struct Stats {
  double mean = 0, std = 0, max_abs = 0;
  int64_t n = 0;
};

Stats stats_of(const std::vector<Tensor>& ts) {
  Stats s;
  std::vector<double> all;
  for (const Tensor& t : ts)
    for (double x : t.to_vector()) all.push_back(x);
  s.n = int64_t(all.size());
  for (double x : all) s.mean += x;
  s.mean /= double(s.n);
  for (double x : all) {
    s.std += (x - s.mean) * (x - s.mean);
    s.max_abs = std::max(s.max_abs, std::abs(x));
  }
  s.std = std::sqrt(s.std / double(s.n - 1));
  return s;
}

// The tensors named `leaf` ("weight", "bias", ...) of the modules of type M.
template <class M>
std::vector<Tensor> tensors_of(nn::Module& net, const std::string& leaf) {
  std::vector<Tensor> out;
  for (auto& [name, m] : net.named_modules())
    if (dynamic_cast<M*>(m))
      for (const auto& [k, t] : m->state_dict())
        if (k == leaf) out.push_back(t);
  return out;
}

}  // namespace

TEST_CASE("cyclegan: init_weights normal: conv weights N(0, 0.02^2), biases 0, BatchNorm weights N(1, 0.02^2)") {
  manual_seed(3);
  auto g = cg::define_G(3, 3, 16, "resnet_9blocks", "batch");  // init_type normal, init_gain 0.02
  std::vector<Tensor> conv_w = tensors_of<nn::Conv2d>(*g, "weight");
  for (const Tensor& t : tensors_of<nn::ConvTranspose2d>(*g, "weight")) conv_w.push_back(t);
  Stats w = stats_of(conv_w);
  INFO("conv weights: mean ", w.mean, " std ", w.std, " n ", w.n);
  CHECK(w.n > 100000);
  CHECK(std::abs(w.std / 0.02 - 1) < 0.01);
  CHECK(std::abs(w.mean) < 5 * 0.02 / std::sqrt(double(w.n)));
  const Stats bias = stats_of(tensors_of<nn::Conv2d>(*g, "bias"));  // only the last conv has one with batch norm
  CHECK(bias.n == 3);
  CHECK(bias.max_abs == 0);
  const Stats bn_w = stats_of(tensors_of<nn::BatchNorm2d>(*g, "weight"));
  INFO("BatchNorm weights: mean ", bn_w.mean, " std ", bn_w.std, " n ", bn_w.n);
  CHECK(std::abs(bn_w.mean - 1) < 5 * 0.02 / std::sqrt(double(bn_w.n)));
  CHECK(std::abs(bn_w.std / 0.02 - 1) < 0.15);  // n = 1072
  CHECK(stats_of(tensors_of<nn::BatchNorm2d>(*g, "bias")).max_abs == 0);
  // running statistics are not parameters: left at 0 and 1
  CHECK(stats_of(tensors_of<nn::BatchNorm2d>(*g, "running_mean")).max_abs == 0);
  const Stats var = stats_of(tensors_of<nn::BatchNorm2d>(*g, "running_var"));
  CHECK(var.mean == 1);
  CHECK(var.std == 0);
  // with InstanceNorm every conv has a bias, and init_weights zeroes them all
  auto d = cg::define_D(3, 64, "n_layers", 4, "instance", "normal", 0.05);
  const Stats dw = stats_of(tensors_of<nn::Conv2d>(*d, "weight"));
  CHECK(std::abs(dw.std / 0.05 - 1) < 0.01);
  const Stats db = stats_of(tensors_of<nn::Conv2d>(*d, "bias"));
  CHECK(db.n == 64 + 128 + 256 + 512 + 512 + 1);
  CHECK(db.max_abs == 0);
}

TEST_CASE("cyclegan: init_weights xavier, kaiming and orthogonal use each layer's fans and the gain") {
  manual_seed(4);
  nn::Conv2d conv(128, 256, 3);  // fan_in 1152, fan_out 2304
  nn::Module& net = conv;
  cg::init_weights(net, "xavier", 0.5);
  CHECK(std::abs(stats_of({conv.weight}).std / (0.5 * std::sqrt(2.0 / (1152 + 2304))) - 1) < 0.01);
  CHECK(stats_of({conv.bias}).max_abs == 0);
  cg::init_weights(net, "kaiming", 0.5);  // gain unused: sqrt(2 / fan_in)
  CHECK(std::abs(stats_of({conv.weight}).std / std::sqrt(2.0 / 1152) - 1) < 0.01);
  cg::init_weights(net, "orthogonal", 0.5);  // 256 x 1152: orthonormal rows, times 0.5
  const Tensor w = conv.weight.detach().reshape({256, 1152});
  const Tensor wwt = matmul(w, w.transpose(0, 1)).to(DType::f64);
  std::vector<double> quarter_identity(256 * 256, 0.0);
  for (size_t i = 0; i < 256; ++i) quarter_identity[i * 257] = 0.25;
  check_close(wwt, t64(quarter_identity, {256, 256}), 0, 1e-5);
  CHECK(error_of([&] { cg::init_weights(net, "uniform"); }) ==
        "init_weights: unknown init_type 'uniform' (expected normal, xavier, kaiming or orthogonal)");
}

// ------------------------------------------------------------ gradients

TEST_CASE("cyclegan: fp64 gradient of a tiny ResnetGenerator w.r.t. the input") {
  manual_seed(5);
  cg::ResnetGenerator resnet(3, 3, 2, cg::NormType::instance, false, 1);
  cg::init_weights(resnet, "normal", 0.5);
  resnet.to(DType::f64);
  Tensor x = randn({1, 3, 8, 8}, default_generator(), TensorOptions(DType::f64)).requires_grad_();
  GradcheckResult r = gradcheck([&](const TensorList& in) { return resnet.forward(in[0]); }, {x});
  INFO("resnet: ", r.worst);
  CHECK(r.passed);
  CHECK(r.checked == 3 * 8 * 8);
}

TEST_CASE("cyclegan: fp64 gradient of a tiny UnetGenerator w.r.t. the input") {
  manual_seed(7);
  // num_downs 6: the innermost block, one middle block (8 ngf), and the 4, 2, 1 ngf and outermost ones
  cg::UnetGenerator unet(1, 2, 6, 1, cg::NormType::batch);  // train mode: batch statistics
  cg::init_weights(unet, "normal", 0.5);
  unet.to(DType::f64);
  const Tensor rest = randn({2, 1, 64, 64}, default_generator(), TensorOptions(DType::f64));
  // 2 x 64 x 64 inputs is many central differences: check the gradient w.r.t. an
  // 8 x 8 corner of each image, the rest held fixed.
  Tensor patch = rest.narrow(2, 0, 8).narrow(3, 0, 8).clone().requires_grad_();
  auto f = [&](const TensorList& in) {
    Tensor top = cat({in[0], rest.narrow(2, 0, 8).narrow(3, 8, 56)}, 3);
    return unet.forward(cat({top, rest.narrow(2, 8, 56)}, 2));
  };
  GradcheckResult ru = gradcheck(f, {patch});
  INFO("unet: ", ru.worst);
  CHECK(ru.passed);
  CHECK(ru.checked == 2 * 8 * 8);
}

TEST_CASE("cyclegan: fp64 first and second order gradients of the discriminators w.r.t. the input") {
  manual_seed(6);
  for (const char* norm : {"instance", "batch", "none"}) {
    INFO("norm ", norm);
    auto d = cg::define_D(3, 2, "n_layers", 2, norm, "normal", 0.5);
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
  auto pixel = cg::define_D(3, 2, "pixel", 3, "instance", "normal", 0.5);
  pixel->to(DType::f64);
  Tensor x = randn({1, 3, 4, 4}, default_generator(), TensorOptions(DType::f64)).requires_grad_();
  auto f = [&](const TensorList& in) { return pixel->forward(in[0]); };
  CHECK(gradcheck(f, {x}).passed);
  CHECK(gradgradcheck(f, {x}).passed);
}
