#include "models/cyclegan_networks.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <set>
#include <vector>

#include "models/antialias.h"
#include "nn/init.h"
#include "tensor/error.h"
#include "weights/json.h"
#include "weights/load.h"

namespace sg::models::cyclegan {

using nn::Module;
using ModulePtr = std::shared_ptr<Module>;
using Layers = std::vector<ModulePtr>;

// ------------------------------------------------------------ names

NormType norm_type_from_name(const std::string& name) {
  if (name == "batch") return NormType::batch;
  if (name == "instance") return NormType::instance;
  if (name == "none") return NormType::none;
  throw Error("--norm: unknown normalization '" + name + "' (expected batch, instance or none)");
}

const char* norm_type_name(NormType norm) {
  switch (norm) {
    case NormType::batch: return "batch";
    case NormType::instance: return "instance";
    case NormType::none: return "none";
  }
  return "?";
}

PaddingType padding_type_from_name(const std::string& name) {
  if (name == "reflect") return PaddingType::reflect;
  if (name == "replicate") return PaddingType::replicate;
  if (name == "zero") return PaddingType::zero;
  throw Error("padding_type: unknown padding '" + name + "' (expected reflect, replicate or zero)");
}

const char* padding_type_name(PaddingType padding) {
  switch (padding) {
    case PaddingType::reflect: return "reflect";
    case PaddingType::replicate: return "replicate";
    case PaddingType::zero: return "zero";
  }
  return "?";
}

ModulePtr make_norm_layer(NormType norm, int64_t channels) {
  switch (norm) {
    case NormType::batch: return std::make_shared<nn::BatchNorm2d>(channels);
    case NormType::instance: return std::make_shared<nn::InstanceNorm2d>(channels, /*affine=*/false);
    case NormType::none: return std::make_shared<nn::Identity>();
  }
  return nullptr;
}

// ------------------------------------------------------------ layers

namespace {

ModulePtr conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, bool bias) {
  return std::make_shared<nn::Conv2d>(in, out, kernel, stride, padding, bias);
}
ModulePtr up_conv(int64_t in, int64_t out, int64_t kernel, int64_t padding, int64_t output_padding, bool bias) {
  return std::make_shared<nn::ConvTranspose2d>(in, out, kernel, /*stride=*/2, padding, output_padding, bias);
}
ModulePtr reflection_pad(int64_t pad) { return std::make_shared<nn::Pad2d>(pad, PadMode::reflect); }
ModulePtr relu() { return std::make_shared<nn::ReLU>(); }
ModulePtr leaky_relu_02() { return std::make_shared<nn::LeakyReLU>(0.2); }

}  // namespace

ResnetBlock::ResnetBlock(int64_t dim, PaddingType padding_type, NormType norm, bool use_dropout, bool use_bias) {
  Layers layers;
  auto padded_conv = [&] {  // [pad] conv3x3 norm
    int64_t conv_padding = 0;
    if (padding_type == PaddingType::reflect) layers.push_back(reflection_pad(1));
    else if (padding_type == PaddingType::replicate) layers.push_back(std::make_shared<nn::Pad2d>(1, PadMode::replicate));
    else conv_padding = 1;
    layers.push_back(conv(dim, dim, 3, 1, conv_padding, use_bias));
    layers.push_back(make_norm_layer(norm, dim));
  };
  padded_conv();
  layers.push_back(relu());
  if (use_dropout) layers.push_back(std::make_shared<nn::Dropout>(0.5));
  padded_conv();
  conv_block = register_module("conv_block", std::make_shared<nn::Sequential>(layers));
}

Tensor ResnetBlock::forward(const Tensor& x) { return x + conv_block->forward(x); }

ResnetGenerator::ResnetGenerator(int64_t input_nc, int64_t output_nc, int64_t ngf, NormType norm, bool use_dropout,
                                 int64_t n_blocks, PaddingType padding_type, bool no_antialias, bool no_antialias_up)
    : input_nc(input_nc), output_nc(output_nc), ngf(ngf), n_blocks(n_blocks), norm(norm), use_dropout(use_dropout),
      padding_type(padding_type), no_antialias(no_antialias), no_antialias_up(no_antialias_up) {
  SG_CHECK(input_nc > 0 && output_nc > 0 && ngf > 0 && n_blocks >= 0, "ResnetGenerator: bad arguments input_nc=",
           input_nc, " output_nc=", output_nc, " ngf=", ngf, " n_blocks=", n_blocks);
  const bool bias = conv_bias(norm);
  Layers layers = {reflection_pad(3), conv(input_nc, ngf, 7, 1, 0, bias), make_norm_layer(norm, ngf), relu()};
  auto add = [&](std::initializer_list<ModulePtr> ms) { layers.insert(layers.end(), ms); };
  int64_t channels = ngf;
  for (int i = 0; i < 2; ++i, channels *= 2) {  // downsampling
    if (no_antialias)
      add({conv(channels, 2 * channels, 3, 2, 1, bias), make_norm_layer(norm, 2 * channels), relu()});
    else  // CUT: the stride moves into a blur-and-subsample after the ReLU
      add({conv(channels, 2 * channels, 3, 1, 1, bias), make_norm_layer(norm, 2 * channels), relu(),
           std::make_shared<Downsample>(2 * channels)});
  }
  for (int64_t i = 0; i < n_blocks; ++i)
    layers.push_back(std::make_shared<ResnetBlock>(channels, padding_type, norm, use_dropout, bias));
  for (int i = 0; i < 2; ++i, channels /= 2) {  // upsampling
    if (no_antialias_up)  // 3x3, stride 2, padding 1, output_padding 1 doubles the size
      add({up_conv(channels, channels / 2, 3, 1, 1, bias), make_norm_layer(norm, channels / 2), relu()});
    else  // CUT: zero-stuff and blur, then a stride-1 convolution
      add({std::make_shared<Upsample>(channels), conv(channels, channels / 2, 3, 1, 1, bias),
           make_norm_layer(norm, channels / 2), relu()});
  }
  add({reflection_pad(3), conv(ngf, output_nc, 7, 1, 0, /*bias=*/true), std::make_shared<nn::Tanh>()});
  model = register_module("model", std::make_shared<nn::Sequential>(layers));
}

Tensor ResnetGenerator::forward(const Tensor& x) { return model->forward(x); }

nn::FeaturesAndOutput ResnetGenerator::forward_features(const Tensor& x, const std::vector<int64_t>& layers,
                                                        bool encode_only) {
  const int64_t n = int64_t(model->size());
  for (int64_t i : layers)
    SG_CHECK(i >= -1 && i < n, "ResnetGenerator::forward_features: layer ", i, " out of range (", n,
             " layers; -1 means the end)");
  nn::FeaturesAndOutput out;
  if (layers.empty()) {
    out.output = forward(x);
    return out;
  }
  // CUT's early return compares with layers[-1] after appending len(model) for a -1.
  const bool has_end = std::find(layers.begin(), layers.end(), -1) != layers.end();
  const int64_t stop_after = has_end ? n : layers.back();
  std::vector<size_t> aliases;  // the features that are, in torch, the very tensor h
  Tensor h = x;
  for (int64_t i = 0; i < n; ++i) {
    nn::Module& layer = *(*model)[size_t(i)];
    h = layer.forward(h);
    // torch: Identity returns its input and ReLU(True) overwrites it, so the features that were h now hold the result
    if (dynamic_cast<nn::ReLU*>(&layer) || dynamic_cast<nn::Identity*>(&layer))
      for (size_t a : aliases) out.features[a] = h;
    else
      aliases.clear();
    if (std::find(layers.begin(), layers.end(), i) != layers.end()) {
      aliases.push_back(out.features.size());
      out.features.push_back(h);
    }
    if (encode_only && i == stop_after) return out;
  }
  out.output = h;
  return out;
}

UnetSkipConnectionBlock::UnetSkipConnectionBlock(int64_t outer_nc, int64_t inner_nc, int64_t input_nc,
                                                 ModulePtr submodule, bool outermost, bool innermost, NormType norm,
                                                 bool use_dropout)
    : outermost(outermost), innermost(innermost) {
  SG_CHECK(!(outermost && innermost), "UnetSkipConnectionBlock: a block cannot be both outermost and innermost");
  SG_CHECK(innermost == (submodule == nullptr), "UnetSkipConnectionBlock: ",
           innermost ? "the innermost block takes no submodule" : "a block other than the innermost needs a submodule");
  const bool bias = conv_bias(norm);
  if (input_nc < 0) input_nc = outer_nc;
  ModulePtr down = conv(input_nc, inner_nc, 4, 2, 1, bias);
  Layers layers;
  if (outermost) {
    layers = {down, submodule, relu(), up_conv(2 * inner_nc, outer_nc, 4, 1, 0, /*bias=*/true),
              std::make_shared<nn::Tanh>()};
  } else if (innermost) {
    layers = {leaky_relu_02(), down, relu(), up_conv(inner_nc, outer_nc, 4, 1, 0, bias), make_norm_layer(norm, outer_nc)};
  } else {
    layers = {leaky_relu_02(), down, make_norm_layer(norm, inner_nc), submodule, relu(),
              up_conv(2 * inner_nc, outer_nc, 4, 1, 0, bias), make_norm_layer(norm, outer_nc)};
    if (use_dropout) layers.push_back(std::make_shared<nn::Dropout>(0.5));
  }
  model = register_module("model", std::make_shared<nn::Sequential>(layers));
}

Tensor UnetSkipConnectionBlock::forward(const Tensor& x) {
  if (outermost) return model->forward(x);
  return cat({x, model->forward(x)}, 1);  // the skip connection (see the header on networks.py's in-place LeakyReLU)
}

UnetGenerator::UnetGenerator(int64_t input_nc, int64_t output_nc, int64_t num_downs, int64_t ngf, NormType norm,
                             bool use_dropout)
    : input_nc(input_nc), output_nc(output_nc), num_downs(num_downs), ngf(ngf), norm(norm), use_dropout(use_dropout) {
  SG_CHECK(input_nc > 0 && output_nc > 0 && ngf > 0 && num_downs >= 5 && num_downs <= 30,
           "UnetGenerator: bad arguments input_nc=", input_nc, " output_nc=", output_nc, " ngf=", ngf,
           " num_downs=", num_downs, " (at least 5)");
  using Block = UnetSkipConnectionBlock;
  ModulePtr block = std::make_shared<Block>(8 * ngf, 8 * ngf, -1, nullptr, false, /*innermost=*/true, norm);
  for (int64_t i = 0; i < num_downs - 5; ++i)
    block = std::make_shared<Block>(8 * ngf, 8 * ngf, -1, block, false, false, norm, use_dropout);
  for (int64_t outer : {4 * ngf, 2 * ngf, ngf}) block = std::make_shared<Block>(outer, 2 * outer, -1, block, false, false, norm);
  model = register_module("model", std::make_shared<Block>(output_nc, ngf, input_nc, block, /*outermost=*/true, false, norm));
}

Tensor UnetGenerator::forward(const Tensor& x) {
  const int64_t multiple = int64_t(1) << num_downs;
  SG_CHECK(x.dim() == 4 && x.size(2) % multiple == 0 && x.size(3) % multiple == 0, "UnetGenerator (unet with ",
           num_downs, " downsamplings): input ", x.shape().str(), ": expected [N, C, H, W] with H and W multiples of ",
           multiple);
  return model->forward(x);
}

NLayerDiscriminator::NLayerDiscriminator(int64_t input_nc, int64_t ndf, int64_t n_layers, NormType norm,
                                         bool no_antialias)
    : input_nc(input_nc), ndf(ndf), n_layers(n_layers), norm(norm), no_antialias(no_antialias) {
  SG_CHECK(input_nc > 0 && ndf > 0 && n_layers >= 1, "NLayerDiscriminator: bad arguments input_nc=", input_nc,
           " ndf=", ndf, " n_layers=", n_layers);
  const bool bias = conv_bias(norm);
  // A stride-2 convolution, or (CUT) the same at stride 1 with a Downsample after its activation.
  const int64_t down_stride = no_antialias ? 2 : 1;
  Layers layers = {conv(input_nc, ndf, 4, down_stride, 1, /*bias=*/true), leaky_relu_02()};
  if (!no_antialias) layers.push_back(std::make_shared<Downsample>(ndf));
  int64_t mult = 1;
  for (int64_t n = 1; n <= n_layers; ++n) {
    const int64_t prev = mult;
    mult = std::min<int64_t>(int64_t(1) << std::min<int64_t>(n, 4), 8);
    const bool last = n == n_layers;  // the last of these keeps the size
    for (auto& m : {conv(ndf * prev, ndf * mult, 4, last ? 1 : down_stride, 1, bias), make_norm_layer(norm, ndf * mult),
                    leaky_relu_02()})
      layers.push_back(m);
    if (!last && !no_antialias) layers.push_back(std::make_shared<Downsample>(ndf * mult));
  }
  layers.push_back(conv(ndf * mult, 1, 4, 1, 1, /*bias=*/true));
  model = register_module("model", std::make_shared<nn::Sequential>(layers));
}

Tensor NLayerDiscriminator::forward(const Tensor& x) { return model->forward(x); }

PixelDiscriminator::PixelDiscriminator(int64_t input_nc, int64_t ndf, NormType norm)
    : input_nc(input_nc), ndf(ndf), norm(norm) {
  SG_CHECK(input_nc > 0 && ndf > 0, "PixelDiscriminator: bad arguments input_nc=", input_nc, " ndf=", ndf);
  const bool bias = conv_bias(norm);
  net = register_module("net", std::make_shared<nn::Sequential>(Layers{
                                   conv(input_nc, ndf, 1, 1, 0, /*bias=*/true), leaky_relu_02(),
                                   conv(ndf, 2 * ndf, 1, 1, 0, bias), make_norm_layer(norm, 2 * ndf), leaky_relu_02(),
                                   conv(2 * ndf, 1, 1, 1, 0, bias)}));
}

Tensor PixelDiscriminator::forward(const Tensor& x) { return net->forward(x); }

// ------------------------------------------------------------ init, define_G, define_D

void init_weights(Module& net, const std::string& init_type, double init_gain, Generator& gen) {
  SG_CHECK(init_type == "normal" || init_type == "xavier" || init_type == "kaiming" || init_type == "orthogonal",
           "init_weights: unknown init_type '", init_type, "' (expected normal, xavier, kaiming or orthogonal)");
  auto init_conv = [&](Tensor& weight, Tensor& bias) {
    if (init_type == "normal") nn::init::normal_(weight, 0.0, init_gain, gen);
    else if (init_type == "xavier") nn::init::xavier_normal_(weight, init_gain, gen);
    else if (init_type == "kaiming") nn::init::kaiming_normal_(weight, 0.0, "fan_in", "leaky_relu", gen);
    else nn::init::orthogonal_(weight, init_gain, gen);
    if (bias.defined()) nn::init::constant_(bias, 0.0);
  };
  // networks.py picks layers by class name: 'Conv' or 'Linear' in it, or 'BatchNorm2d'.
  net.apply([&](Module& m) {
    if (auto* c = dynamic_cast<nn::Conv2d*>(&m)) init_conv(c->weight, c->bias);
    else if (auto* t = dynamic_cast<nn::ConvTranspose2d*>(&m)) init_conv(t->weight, t->bias);
    else if (auto* l = dynamic_cast<nn::Linear*>(&m)) init_conv(l->weight, l->bias);
    else if (auto* b = dynamic_cast<nn::BatchNorm2d*>(&m)) {
      nn::init::normal_(b->weight, 1.0, init_gain, gen);
      nn::init::constant_(b->bias, 0.0);
    }
  });
}

namespace {

// define_G of both repositories: `cut` adds resnet_4blocks and names CUT's generators stylegrad lacks.
std::shared_ptr<Module> make_G(int64_t input_nc, int64_t output_nc, int64_t ngf, const std::string& netG,
                               const std::string& norm, bool use_dropout, bool no_antialias, bool no_antialias_up,
                               bool cut) {
  const NormType n = norm_type_from_name(norm);
  auto resnet = [&](int64_t blocks) {
    return std::make_shared<ResnetGenerator>(input_nc, output_nc, ngf, n, use_dropout, blocks, PaddingType::reflect,
                                             no_antialias, no_antialias_up);
  };
  if (netG == "resnet_9blocks") return resnet(9);
  if (netG == "resnet_6blocks") return resnet(6);
  if (cut && netG == "resnet_4blocks") return resnet(4);
  if (netG == "unet_128") return std::make_shared<UnetGenerator>(input_nc, output_nc, 7, ngf, n, use_dropout);
  if (netG == "unet_256") return std::make_shared<UnetGenerator>(input_nc, output_nc, 8, ngf, n, use_dropout);
  if (cut && (netG == "stylegan2" || netG == "smallstylegan2" || netG == "resnet_cat"))
    throw Error("--netG: CUT's generator '" + netG + "' is not implemented in stylegrad (expected resnet_9blocks, "
                "resnet_6blocks, resnet_4blocks, unet_128 or unet_256)");
  throw Error("--netG: unknown generator '" + netG + "' (expected resnet_9blocks, resnet_6blocks, " +
              (cut ? "resnet_4blocks, " : "") + "unet_128 or unet_256)");
}

std::shared_ptr<Module> make_D(int64_t input_nc, int64_t ndf, const std::string& netD, int64_t n_layers_D,
                               const std::string& norm, bool no_antialias, bool cut) {
  const NormType n = norm_type_from_name(norm);
  if (netD == "basic") return std::make_shared<NLayerDiscriminator>(input_nc, ndf, 3, n, no_antialias);
  if (netD == "n_layers") return std::make_shared<NLayerDiscriminator>(input_nc, ndf, n_layers_D, n, no_antialias);
  if (netD == "pixel") return std::make_shared<PixelDiscriminator>(input_nc, ndf, n);
  if (cut && (netD == "patch" || netD == "stylegan2" || netD == "tilestylegan2"))
    throw Error("--netD: CUT's discriminator '" + netD +
                "' is not implemented in stylegrad (expected basic, n_layers or pixel)");
  throw Error("--netD: unknown discriminator '" + netD + "' (expected basic, n_layers or pixel)");
}

}  // namespace

std::shared_ptr<Module> define_G(int64_t input_nc, int64_t output_nc, int64_t ngf, const std::string& netG,
                                 const std::string& norm, bool use_dropout, const std::string& init_type,
                                 double init_gain, Generator& gen) {
  auto net = make_G(input_nc, output_nc, ngf, netG, norm, use_dropout, true, true, /*cut=*/false);
  init_weights(*net, init_type, init_gain, gen);
  return net;
}

std::shared_ptr<Module> define_G(int64_t input_nc, int64_t output_nc, int64_t ngf, const std::string& netG,
                                 const std::string& norm, bool use_dropout, const std::string& init_type,
                                 double init_gain, bool no_antialias, bool no_antialias_up, Generator& gen) {
  auto net = make_G(input_nc, output_nc, ngf, netG, norm, use_dropout, no_antialias, no_antialias_up, /*cut=*/true);
  init_weights(*net, init_type, init_gain, gen);  // the Downsample / Upsample filters are buffers: left alone
  return net;
}

std::shared_ptr<Module> define_D(int64_t input_nc, int64_t ndf, const std::string& netD, int64_t n_layers_D,
                                 const std::string& norm, const std::string& init_type, double init_gain,
                                 Generator& gen) {
  auto net = make_D(input_nc, ndf, netD, n_layers_D, norm, true, /*cut=*/false);
  init_weights(*net, init_type, init_gain, gen);
  return net;
}

std::shared_ptr<Module> define_D(int64_t input_nc, int64_t ndf, const std::string& netD, int64_t n_layers_D,
                                 const std::string& norm, const std::string& init_type, double init_gain,
                                 bool no_antialias, Generator& gen) {
  auto net = make_D(input_nc, ndf, netD, n_layers_D, norm, no_antialias, /*cut=*/true);
  init_weights(*net, init_type, init_gain, gen);
  return net;
}

// ------------------------------------------------------------ describing a network

namespace {

std::string resnet_netG(int64_t n_blocks) {
  return n_blocks == 9 ? "resnet_9blocks" : n_blocks == 6 ? "resnet_6blocks" : n_blocks == 4 ? "resnet_4blocks" : "";
}
std::string unet_netG(int64_t num_downs) { return num_downs == 7 ? "unet_128" : num_downs == 8 ? "unet_256" : ""; }

}  // namespace

std::string describe_network(const Module& net) {
  auto norm_part = [](NormType n) { return std::string(", norm ") + norm_type_name(n); };
  auto dropout_part = [](bool d) { return std::string(d ? ", dropout" : ", no dropout"); };
  // nothing for CycleGAN's layout, which most networks have
  auto antialias_part = [](bool no_down, bool no_up) {
    return std::string(no_down && no_up ? "" : !no_down && !no_up ? ", anti-aliased"
                                         : no_up                  ? ", anti-aliased down, --no_antialias_up"
                                                                  : ", --no_antialias, anti-aliased up");
  };
  auto nc = [](int64_t in, int64_t out) {
    return "input_nc " + std::to_string(in) + ", output_nc " + std::to_string(out);
  };
  // "resnet_9blocks (ResnetGenerator, " or, without a --netG name, "ResnetGenerator (n_blocks 4, "
  auto head = [](const std::string& name, const std::string& cls, const std::string& size) {
    return name.empty() ? cls + " (" + size + ", " : name + " (" + cls + ", ";
  };
  if (auto* g = dynamic_cast<const ResnetGenerator*>(&net))
    return head(resnet_netG(g->n_blocks), "ResnetGenerator", "n_blocks " + std::to_string(g->n_blocks)) +
           nc(g->input_nc, g->output_nc) + ", ngf " + std::to_string(g->ngf) + norm_part(g->norm) +
           dropout_part(g->use_dropout) +
           (g->padding_type == PaddingType::reflect ? "" : std::string(", padding ") + padding_type_name(g->padding_type)) +
           antialias_part(g->no_antialias, g->no_antialias_up) + ")";
  if (auto* g = dynamic_cast<const UnetGenerator*>(&net))
    return head(unet_netG(g->num_downs), "UnetGenerator", "num_downs " + std::to_string(g->num_downs)) +
           nc(g->input_nc, g->output_nc) + ", ngf " + std::to_string(g->ngf) + norm_part(g->norm) +
           dropout_part(g->use_dropout) + ")";
  if (auto* d = dynamic_cast<const NLayerDiscriminator*>(&net))
    return std::string(d->n_layers == 3 ? "basic" : "n_layers") + " (NLayerDiscriminator, n_layers " +
           std::to_string(d->n_layers) + ", input_nc " + std::to_string(d->input_nc) + ", ndf " +
           std::to_string(d->ndf) + norm_part(d->norm) + (d->no_antialias ? "" : ", anti-aliased") + ")";
  if (auto* d = dynamic_cast<const PixelDiscriminator*>(&net))
    return "pixel (PixelDiscriminator, input_nc " + std::to_string(d->input_nc) + ", ndf " + std::to_string(d->ndf) +
           norm_part(d->norm) + ")";
  return "the network";
}

// ------------------------------------------------------------ loading official files

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::vector<std::string> split_dots(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1)
    parts.push_back(key.substr(start, dot - start));
  parts.push_back(key.substr(start));
  return parts;
}

// "model.10.conv_block.1.weight" -> {"model.10.conv_block.1", "weight"}
std::pair<std::string, std::string> split_last(const std::string& key) {
  const size_t dot = key.rfind('.');
  if (dot == std::string::npos) return {"", key};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

bool is_index(const std::string& s) {
  return !s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What the keys and shapes of a state_dict say about the network that made it;
// computed alike for the file and for the network, and compared for a hint.
struct Layout {
  std::string kind;                 // ResnetGenerator | UnetGenerator | NLayerDiscriminator | PixelDiscriminator | ""
  int64_t resnet_blocks = 0;        // distinct i of model.<i>.conv_block.*
  std::vector<int64_t> block_convs; // conv_block indices of the first block's convolutions
  int64_t unet_levels = 0;          // the deepest key's number of "model" parts, minus 1
  int64_t convs = 0;                // 4-d weights (convolutions, transposed or not)
  std::string norm;                 // batch (BatchNorm statistics beside a weight) | instance (every conv has a bias) | none
  Shape first_conv, last_conv;      // shapes of the first and last 4-d weight, in state_dict order
  // CUT's anti-aliasing: the first model.<i>.filt (a Downsample / Upsample buffer) before
  // the residual blocks (or anywhere in a discriminator), and the first after them; "" if none
  std::string down_filt, up_filt;
};

Layout layout_of(const NamedTensors& state) {
  Layout l;
  std::set<std::string> keys;
  for (const auto& [k, t] : state) keys.insert(k);
  std::set<int64_t> blocks;
  int64_t first_block = -1;
  bool every_conv_has_bias = true, batch_norm = false;
  std::vector<std::pair<int64_t, std::string>> filts;
  for (const auto& [key, t] : state) {
    const std::vector<std::string> parts = split_dots(key);
    const auto [module, leaf] = split_last(key);
    if (parts.size() >= 3 && parts[0] == "model" && is_index(parts[1]) && parts[2] == "conv_block") {
      const int64_t i = std::stoll(parts[1]);
      blocks.insert(i);
      if (first_block < 0 || i < first_block) {
        first_block = i;
        l.block_convs.clear();
      }
      if (i == first_block && parts.size() == 5 && is_index(parts[3]) && leaf == "weight" && t.dim() == 4)
        l.block_convs.push_back(std::stoll(parts[3]));
    }
    if (starts_with(key, "model.model."))
      l.unet_levels = std::max<int64_t>(l.unet_levels, std::count(parts.begin(), parts.end(), "model") - 1);
    if (leaf == "weight" && t.dim() == 4) {
      ++l.convs;
      if (l.first_conv.empty()) l.first_conv = t.shape();
      l.last_conv = t.shape();
      if (!keys.count(module + ".bias")) every_conv_has_bias = false;
    }
    if (leaf == "running_var" && keys.count(module + ".weight")) batch_norm = true;
    if (leaf == "filt" && parts.size() == 3 && parts[0] == "model" && is_index(parts[1]))
      filts.emplace_back(std::stoll(parts[1]), key);
  }
  for (const auto& [index, key] : filts) {  // blocks.empty(): a discriminator's filters all downsample
    std::string& first = blocks.empty() || index < *blocks.begin() ? l.down_filt : l.up_filt;
    if (first.empty()) first = key;
  }
  l.resnet_blocks = int64_t(blocks.size());
  std::sort(l.block_convs.begin(), l.block_convs.end());
  l.norm = batch_norm ? "batch" : every_conv_has_bias ? "instance" : "none";
  if (!blocks.empty()) l.kind = "ResnetGenerator";
  else if (l.unet_levels > 0) l.kind = "UnetGenerator";
  else if (keys.count("net.0.weight")) l.kind = "PixelDiscriminator";
  else if (keys.count("model.0.weight")) l.kind = "NLayerDiscriminator";
  return l;
}

// "--netG resnet_9blocks expects 9" / "this network has 4"
std::string expects(const std::string& flag, int64_t n) {
  return flag.empty() ? "this network has " + std::to_string(n) : flag + " expects " + std::to_string(n);
}

// A residual block's layout, from its two convolutions' conv_block indices: a
// padding layer before each (reflect, replicate) puts the first at 1, not 0;
// Dropout after the ReLU moves the second one place further.
struct BlockLayout {
  bool padding_layers, dropout;
};
BlockLayout block_layout(const std::vector<int64_t>& convs) {
  const bool padded = convs[0] == 1;
  return {padded, convs[1] - convs[0] == (padded ? 5 : 4)};
}
std::string describe(BlockLayout b) {
  return std::string(b.dropout ? "with Dropout" : "without Dropout") + ", " +
         (b.padding_layers ? "padding layers" : "zero padding in the convolutions");
}

// CUT's Downsample / Upsample filters in the file but not in the network, or
// the reverse (each shifts every later layer's index), with the flag to change;
// "" when both agree.
std::string antialias_hint(const Layout& file, const Layout& mine) {
  const bool generator = mine.kind == "ResnetGenerator";
  if (file.kind != mine.kind || !(generator || mine.kind == "NLayerDiscriminator")) return "";
  const bool file_down = !file.down_filt.empty(), file_up = !file.up_filt.empty();
  const bool down = file_down != !mine.down_filt.empty();  // the file and the network differ there
  const bool up = generator && file_up != !mine.up_filt.empty();
  auto clause = [](bool file_has, const std::string& layers, const std::string& key, const std::string& flags) {
    if (file_has)
      return "the file looks anti-aliased (it has CUT's " + layers + " filters, '" + key +
             "'), this network is not: build it without " + flags;
    return "the file does not look anti-aliased (it has no " + layers + " filters: CycleGAN's layout, or CUT's " +
           flags + "), this network is: build it with " + flags;
  };
  if (down && up && file_down == file_up)
    return clause(file_down, "Downsample and Upsample", file_down ? file.down_filt : "",
                  "--no_antialias and --no_antialias_up");
  std::string out;
  if (down) out = clause(file_down, "Downsample", file.down_filt, "--no_antialias");
  if (up) out += (out.empty() ? "" : "; ") + clause(file_up, "Upsample", file.up_filt, "--no_antialias_up");
  return out;
}

// One sentence naming what differs between the file and the network, or "".
std::string hint(const Layout& file, const Layout& mine, const Module& net) {
  auto a = [](const std::string& kind) { return (kind[0] == 'N' ? "an " : "a ") + kind; };
  if (!file.kind.empty() && !mine.kind.empty() && file.kind != mine.kind)
    return "the file holds " + a(file.kind) + ", not " + a(mine.kind);
  if (const std::string why = antialias_hint(file, mine); !why.empty()) return why;
  if (mine.kind == "ResnetGenerator" && file.kind == mine.kind) {
    const auto* g = dynamic_cast<const ResnetGenerator*>(&net);
    const std::string name = g ? resnet_netG(g->n_blocks) : "";
    if (file.resnet_blocks != mine.resnet_blocks)
      return "the file has " + std::to_string(file.resnet_blocks) + " residual blocks, " +
             expects(name.empty() ? "" : "--netG " + name, mine.resnet_blocks);
    if (file.block_convs.size() == 2 && mine.block_convs.size() == 2 && file.block_convs != mine.block_convs) {
      const BlockLayout f = block_layout(file.block_convs), m = block_layout(mine.block_convs);
      std::string why = "its residual blocks have their convolutions at conv_block." +
                        std::to_string(file.block_convs[0]) + " and ." + std::to_string(file.block_convs[1]) +
                        " (" + describe(f) + "), this network at ." + std::to_string(mine.block_convs[0]) + " and ." +
                        std::to_string(mine.block_convs[1]) + " (" + describe(m) + ")";
      if (f.dropout && !m.dropout) why += ": the file was trained with dropout, this network has --no_dropout";
      if (!f.dropout && m.dropout) why += ": the file was trained with --no_dropout, this network has dropout";
      return why;
    }
  }
  if (mine.kind == "UnetGenerator" && file.kind == mine.kind && file.unet_levels != mine.unet_levels) {
    const std::string file_name = unet_netG(file.unet_levels), name = unet_netG(mine.unet_levels);
    return "the file has " + std::to_string(file.unet_levels) + " U-Net levels" +
           (file_name.empty() ? "" : " (" + file_name + ")") + ", " +
           expects(name.empty() ? "" : "--netG " + name, mine.unet_levels);
  }
  if (mine.kind == "NLayerDiscriminator" && file.kind == mine.kind && file.convs != mine.convs)
    return "the file has n_layers_D " + std::to_string(file.convs - 2) + " (" + std::to_string(file.convs) +
           " convolutions), " + expects(mine.convs == 5 ? "--netD basic" : "", mine.convs - 2);
  if (file.norm != mine.norm) return "the file was saved with --norm " + file.norm + ", this network has --norm " + mine.norm;
  const bool generator = mine.kind == "ResnetGenerator" || mine.kind == "UnetGenerator";
  if (file.first_conv.size() == 4 && mine.first_conv.size() == 4) {
    if (file.first_conv[0] != mine.first_conv[0]) {
      const std::string flag = generator ? "--ngf" : "--ndf";
      return "the file has " + flag + " " + std::to_string(file.first_conv[0]) + " (its first convolution has " +
             std::to_string(file.first_conv[0]) + " filters), this network " + std::to_string(mine.first_conv[0]);
    }
    if (file.first_conv[1] != mine.first_conv[1])
      return "the file takes " + std::to_string(file.first_conv[1]) + " input channels, this network " +
             std::to_string(mine.first_conv[1]) + " (--input_nc)";
  }
  if (generator && file.last_conv.size() == 4 && mine.last_conv.size() == 4) {
    const int out_dim = mine.kind == "UnetGenerator" ? 1 : 0;  // a ConvTranspose2d weight is [in, out, k, k]
    if (file.last_conv[out_dim] != mine.last_conv[out_dim])
      return "the file gives " + std::to_string(file.last_conv[out_dim]) + " output channels, this network " +
             std::to_string(mine.last_conv[out_dim]) + " (--output_nc)";
  }
  return "";
}

// The first thing that keeps `state` from loading strictly into a network with
// state_dict `mine`, or "" if it fits.
std::string first_mismatch(const NamedTensors& state, const NamedTensors& mine) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [k, t] : state) given[k] = &t;
  std::set<std::string> expected;
  for (const auto& [key, t] : mine) {
    expected.insert(key);
    auto it = given.find(key);
    if (it == given.end()) return "'" + key + "' " + t.shape().str() + " is not in the file";
    if (it->second->shape() != t.shape())
      return "'" + key + "' has shape " + it->second->shape().str() + " in the file, expected " + t.shape().str();
  }
  std::vector<std::string> extra;
  for (const auto& [k, t] : state)
    if (!expected.count(k)) extra.push_back(k);
  if (extra.empty()) return "";
  return "the file has " + json::quote(extra[0]) + ", which this network lacks" +  // quoted: the file's bytes
         (extra.size() > 1 ? " (and " + std::to_string(extra.size() - 1) + " more keys)" : "");
}

DType float_dtype_of(const Module& net) {
  for (const auto& [k, t] : net.state_dict())
    if (is_floating(t.dtype())) return t.dtype();
  return DType::f32;
}

}  // namespace

OfficialLoadReport load_official_state_dict(Module& net, NamedTensors state, const std::string& what,
                                            const std::string& source) {
  OfficialLoadReport report;
  // 1. DataParallel's prefix.
  const std::string prefix = "module.";
  if (!state.empty() && std::all_of(state.begin(), state.end(), [&](const auto& kv) { return starts_with(kv.first, prefix); })) {
    for (auto& [k, t] : state) k = k.substr(prefix.size());
    report.stripped_module_prefix = true;
  }
  const Layout file_layout = layout_of(state);  // for a hint: before 2. drops anything
  // 2. and 3. by the module each key belongs to.
  std::map<std::string, Module*> modules;
  for (auto& [name, m] : net.named_modules()) modules[name] = m;
  auto module_at = [&](const std::string& path) -> Module* {
    auto it = modules.find(path);
    return it == modules.end() ? nullptr : it->second;
  };
  NamedTensors patched;
  std::set<std::string> present;
  for (auto& [key, t] : state) {
    const auto [path, leaf] = split_last(key);
    if (dynamic_cast<nn::InstanceNorm2d*>(module_at(path)) &&
        (leaf == "running_mean" || leaf == "running_var" || leaf == "num_batches_tracked")) {
      ++report.dropped_instance_norm_stats;
      continue;
    }
    present.insert(key);
    patched.emplace_back(std::move(key), std::move(t));
  }
  const NamedTensors mine = net.state_dict();
  for (const auto& [key, t] : mine) {
    const auto [path, leaf] = split_last(key);
    // Only for a BatchNorm2d whose other tensors are in the file, so that a wrong file still names its first real mismatch.
    if (leaf == "num_batches_tracked" && !present.count(key) && present.count(path + ".running_mean") &&
        dynamic_cast<nn::BatchNorm2d*>(module_at(path))) {
      patched.emplace_back(key, zeros({}, DType::i64));
      ++report.added_num_batches_tracked;
    }
  }
  // 4. strictly, with one line saying why not.
  const std::string mismatch = first_mismatch(patched, mine);
  if (!mismatch.empty()) {
    const std::string why = hint(file_layout, layout_of(mine), net);
    throw Error(what + ": " + source + " does not fit " + describe_network(net) + ": " + mismatch +
                (why.empty() ? "" : "; " + why));
  }
  net.load_state_dict(patched, /*strict=*/true);
  report.tensors = int64_t(patched.size());
  return report;
}

OfficialLoadReport load_official_network(Module& net, const std::string& path, const std::string& what) {
  NamedTensors state;
  try {
    state = load_weights(path, float_dtype_of(net));
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
  return load_official_state_dict(net, std::move(state), what, "'" + path + "'");
}

}  // namespace sg::models::cyclegan
