// The generators and discriminators of CycleGAN and pix2pix, as
// junyanz/pytorch-CycleGAN-and-pix2pix defines them in models/networks.py, and
// CUT's anti-aliased variants of the ResnetGenerator and NLayerDiscriminator
// (taesungp/contrastive-unpaired-translation, models/networks.py: the same
// classes with no_antialias / no_antialias_up, and define_G / define_D with them):
// same layers, same order, same module nesting, so that state_dict keys are
// the official ones ("model.1.weight", "model.10.conv_block.1.weight",
// "model.model.1.model.3.model.1.weight", ...) and the released .pth files
// load as they are (load_official_network).
//
// Where each piece is in networks.py:
//   NormType, make_norm_layer, conv_bias      get_norm_layer, and the use_bias
//                                             line every class starts with
//   init_weights                              init_weights (the part of init_net that is not device placement)
//   define_G, define_D                        define_G, define_D
//   ResnetGenerator, ResnetBlock              ResnetGenerator, ResnetBlock (build_conv_block)
//   UnetGenerator, UnetSkipConnectionBlock    UnetGenerator, UnetSkipConnectionBlock
//   NLayerDiscriminator                       NLayerDiscriminator (netD basic | n_layers)
//   PixelDiscriminator                        PixelDiscriminator (netD pixel)
//   Downsample, Upsample (CUT)                models/antialias.h
//   load_official_network                     models/base_model.py: BaseModel.load_networks
//                                             and __patch_instance_norm_state_dict
// (GANLoss, get_scheduler and cal_gradient_penalty belong to the trainer.)
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/layers.h"

namespace sg {
class Generator;
Generator& default_generator();
}  // namespace sg

namespace sg::models::cyclegan {

// get_norm_layer(norm_type): --norm batch | instance | none.
enum class NormType { batch, instance, none };
NormType norm_type_from_name(const std::string& name);  // "batch", "instance", "none"; else one error line
const char* norm_type_name(NormType norm);

// get_norm_layer(norm)(channels): BatchNorm2d(channels) (affine, running
// statistics) | InstanceNorm2d(channels) (affine=False, track_running_stats=False:
// no parameters, no buffers) | Identity (no parameters, but it keeps its index
// in a Sequential, so keys do not move).
std::shared_ptr<nn::Module> make_norm_layer(NormType norm, int64_t channels);

// networks.py's use_bias: convolutions followed by a norm have a bias only with
// InstanceNorm. 'batch' is a functools.partial of BatchNorm2d and 'none' a plain
// function, so both give False (no bias, also with no norm at all).
inline bool conv_bias(NormType norm) { return norm == NormType::instance; }

// ResnetBlock's padding_type: ReflectionPad2d(1) | ReplicationPad2d(1) | the
// convolution's own zero padding (no padding layer: the indices shift).
enum class PaddingType { reflect, replicate, zero };
PaddingType padding_type_from_name(const std::string& name);
const char* padding_type_name(PaddingType padding);

// ResnetBlock: x + conv_block(x), conv_block =
//   [pad] conv3x3(dim, dim, bias) norm ReLU [Dropout(0.5)] [pad] conv3x3 norm
// ([pad]: absent for zero padding). Keys: conv_block.1.weight, conv_block.5.weight
// (reflect, no dropout); conv_block.6 with dropout; conv_block.0 / .3 for zero padding.
class ResnetBlock : public nn::Module {
 public:
  ResnetBlock(int64_t dim, PaddingType padding_type, NormType norm, bool use_dropout, bool use_bias);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Sequential> conv_block;
};

// ResnetGenerator(input_nc, output_nc, ngf=64, norm_layer=BatchNorm2d,
// use_dropout=False, n_blocks=6, padding_type='reflect'): model =
//   0 ReflectionPad2d(3)  1 conv7x7(input_nc, ngf)  2 norm  3 ReLU
//   4-6, 7-9   conv3x3 stride 2 (ngf -> 2 ngf -> 4 ngf), norm, ReLU
//   10 ... 10+n_blocks-1   ResnetBlock(4 ngf)
//   then twice ConvTranspose2d(3, stride 2, padding 1, output_padding 1), norm, ReLU (4 ngf -> 2 ngf -> ngf)
//   ReflectionPad2d(3), conv7x7(ngf, output_nc) with a bias, Tanh
// resnet_9blocks: model.10 ... model.18 are the blocks, model.26 the last conv.
//
// CUT's ResnetGenerator(..., padding_type, no_antialias=False, no_antialias_up=False)
// adds two flags; both true is the layout above (CycleGAN's), and so are the
// defaults here, for CycleGAN's callers (CUT's define_G below takes them explicitly).
//   no_antialias false: each downsampling is conv3x3 stride 1, norm, ReLU, Downsample(channels)
//     (4 layers, not 3: the blocks start at model.12)
//   no_antialias_up false: each upsampling is Upsample(channels), conv3x3 stride 1 padding 1
//     (channels -> channels / 2), norm, ReLU (4 layers, not 3)
// CUT's resnet_9blocks (both false): model.7 and model.11 are Downsamples, model.12 ... model.20
// the blocks, model.21 and model.25 Upsamples, model.30 the last conv. CUT's nce_layers
// 0,4,8,12,16 tap the padded input, the two downsampling convolutions, blocks 1 and 5.
class ResnetGenerator : public nn::Module {
 public:
  ResnetGenerator(int64_t input_nc, int64_t output_nc, int64_t ngf = 64, NormType norm = NormType::batch,
                  bool use_dropout = false, int64_t n_blocks = 6, PaddingType padding_type = PaddingType::reflect,
                  bool no_antialias = true, bool no_antialias_up = true);
  Tensor forward(const Tensor& x) override;  // model(x)
  // CUT's forward(input, layers, encode_only): the outputs of model's children
  // `layers` (nce_layers) as Sequential::forward_features gives them, with one
  // difference that is torch's: networks.py's ReLUs are in place (nn.ReLU(True))
  // and its 'none' norm layer returns its input, so a tapped output that the next
  // children run through [Identity,] ReLU is overwritten by that ReLU before CUT
  // reads it: that feature is relu(h) (with --normG none, layer 4 is relu(conv);
  // with --no_antialias, layer 8 is relu(norm)). CUT's defaults tap none such.
  nn::FeaturesAndOutput forward_features(const Tensor& x, const std::vector<int64_t>& layers, bool encode_only = false);
  std::shared_ptr<nn::Sequential> model;
  const int64_t input_nc, output_nc, ngf, n_blocks;
  const NormType norm;
  const bool use_dropout;
  const PaddingType padding_type;
  const bool no_antialias, no_antialias_up;
};

// UnetSkipConnectionBlock(outer_nc, inner_nc, input_nc=None, submodule=None,
// outermost=False, innermost=False, norm_layer=BatchNorm2d, use_dropout=False).
// down = conv4x4 stride 2 (input_nc -> inner_nc), up = ConvTranspose2d 4x4 stride 2 (-> outer_nc); model =
//   outermost:  down, submodule, ReLU, up(2 inner_nc, with a bias), Tanh
//   innermost:  LeakyReLU(0.2), down, ReLU, up(inner_nc), norm(outer_nc)
//   otherwise:  LeakyReLU(0.2), down, norm(inner_nc), submodule, ReLU, up(2 inner_nc), norm(outer_nc) [, Dropout(0.5)]
// forward: model(x) for the outermost block, else cat([x, model(x)], 1).
// (networks.py's LeakyReLU is in place, so torch actually concatenates
// leaky_relu(x, 0.2): model[0] has overwritten x by the time torch.cat reads it.
// Every parent block applies ReLU to the result next, and relu(leaky_relu(x)) =
// relu(x), so the output and its gradients are the same as with x; the tests
// compare with torch running the in-place layers.)
// input_nc < 0 means None (= outer_nc).
class UnetSkipConnectionBlock : public nn::Module {
 public:
  UnetSkipConnectionBlock(int64_t outer_nc, int64_t inner_nc, int64_t input_nc = -1,
                          std::shared_ptr<nn::Module> submodule = nullptr, bool outermost = false,
                          bool innermost = false, NormType norm = NormType::batch, bool use_dropout = false);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Sequential> model;
  const bool outermost, innermost;
};

// UnetGenerator(input_nc, output_nc, num_downs, ngf=64, norm_layer=BatchNorm2d,
// use_dropout=False): from the inside out, an innermost block (8 ngf), num_downs - 5
// blocks (8 ngf, with dropout), blocks 4 ngf, 2 ngf, ngf, and the outermost
// (input_nc -> ngf -> output_nc). model is the outermost block; keys nest as
// model.model.1.model.3.model.3... unet_128: num_downs 7, unet_256: 8; the
// input's height and width must be multiples of 2^num_downs.
class UnetGenerator : public nn::Module {
 public:
  UnetGenerator(int64_t input_nc, int64_t output_nc, int64_t num_downs, int64_t ngf = 64,
                NormType norm = NormType::batch, bool use_dropout = false);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<UnetSkipConnectionBlock> model;
  const int64_t input_nc, output_nc, num_downs, ngf;
  const NormType norm;
  const bool use_dropout;
};

// NLayerDiscriminator(input_nc, ndf=64, n_layers=3, norm_layer=BatchNorm2d), the
// PatchGAN: kernel 4, padding 1, LeakyReLU(0.2); model =
//   conv(input_nc, ndf, stride 2, with a bias), LeakyReLU,
//   for n = 1 .. n_layers-1: conv(ndf min(2^(n-1), 8) -> ndf min(2^n, 8), stride 2), norm, LeakyReLU,
//   conv(-> ndf min(2^n_layers, 8), stride 1), norm, LeakyReLU,
//   conv(-> 1, stride 1, with a bias)
// --netD basic is n_layers 3 (70x70 patches); --netD n_layers takes --n_layers_D.
//
// CUT's no_antialias=False (here: false; the default true is CycleGAN's layout
// above): every stride-2 convolution runs at stride 1 and is followed, after
// its LeakyReLU, by a Downsample(channels). CUT's basic D: model.0 conv, model.2,
// .6, .10 Downsamples, model.3, .7, .11 conv + norm at .4, .8, .12, model.14 the last conv.
class NLayerDiscriminator : public nn::Module {
 public:
  NLayerDiscriminator(int64_t input_nc, int64_t ndf = 64, int64_t n_layers = 3, NormType norm = NormType::batch,
                      bool no_antialias = true);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Sequential> model;
  const int64_t input_nc, ndf, n_layers;
  const NormType norm;
  const bool no_antialias;
};

// PixelDiscriminator(input_nc, ndf=64, norm_layer=BatchNorm2d), the 1x1 PixelGAN:
// net = conv1x1(input_nc, ndf, with a bias), LeakyReLU(0.2), conv1x1(ndf, 2 ndf),
// norm, LeakyReLU(0.2), conv1x1(2 ndf, 1) (no bias unless InstanceNorm: use_bias).
class PixelDiscriminator : public nn::Module {
 public:
  PixelDiscriminator(int64_t input_nc, int64_t ndf = 64, NormType norm = NormType::batch);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Sequential> net;
  const int64_t input_nc, ndf;
  const NormType norm;
};

// init_weights(net, init_type='normal', init_gain=0.02), through Module::apply
// (children first, as torch): every Conv2d, ConvTranspose2d and Linear weight
//   normal:     N(0, init_gain^2)
//   xavier:     xavier_normal_(gain = init_gain)
//   kaiming:    kaiming_normal_(a = 0, mode fan_in)   (init_gain unused, as in networks.py)
//   orthogonal: orthogonal_(gain = init_gain)
// and their biases 0; every BatchNorm2d weight N(1, init_gain^2), bias 0.
// Running statistics and InstanceNorm/Identity are left alone. An unknown
// init_type is an error before anything is drawn.
void init_weights(nn::Module& net, const std::string& init_type = "normal", double init_gain = 0.02,
                  Generator& gen = default_generator());

// define_G(input_nc, output_nc, ngf, netG, norm='batch', use_dropout=False,
// init_type='normal', init_gain=0.02): netG resnet_9blocks | resnet_6blocks |
// unet_128 | unet_256, built and initialised (init_weights). The result is a
// ResnetGenerator or UnetGenerator (std::dynamic_pointer_cast for its fields).
// CycleGAN's command line defaults are --ngf 64 --netG resnet_9blocks --norm
// instance and --no_dropout; pix2pix's --netG unet_256 --norm batch, with dropout.
std::shared_ptr<nn::Module> define_G(int64_t input_nc, int64_t output_nc, int64_t ngf, const std::string& netG,
                                     const std::string& norm = "batch", bool use_dropout = false,
                                     const std::string& init_type = "normal", double init_gain = 0.02,
                                     Generator& gen = default_generator());

// define_D(input_nc, ndf, netD, n_layers_D=3, norm='batch', init_type='normal',
// init_gain=0.02): netD basic (NLayerDiscriminator, 3 layers) | n_layers
// (NLayerDiscriminator, n_layers_D) | pixel (PixelDiscriminator).
std::shared_ptr<nn::Module> define_D(int64_t input_nc, int64_t ndf, const std::string& netD, int64_t n_layers_D = 3,
                                     const std::string& norm = "batch", const std::string& init_type = "normal",
                                     double init_gain = 0.02, Generator& gen = default_generator());

// CUT's define_G(input_nc, output_nc, ngf, netG, norm, use_dropout, init_type,
// init_gain, no_antialias, no_antialias_up): the same, with the ResnetGenerator's
// two flags (the U-Nets ignore them, as networks.py does) and netG resnet_4blocks
// too. The flags have no defaults here, so that a call without them is CycleGAN's
// define_G above; CUT's are false (anti-aliased), its options' --no_antialias
// and --no_antialias_up. (CUT's stylegan2, smallstylegan2 and resnet_cat are not
// implemented: one error line.) CUT's defaults: --netG resnet_9blocks --ngf 64
// --normG instance --no_dropout --init_type xavier --init_gain 0.02.
std::shared_ptr<nn::Module> define_G(int64_t input_nc, int64_t output_nc, int64_t ngf, const std::string& netG,
                                     const std::string& norm, bool use_dropout, const std::string& init_type,
                                     double init_gain, bool no_antialias, bool no_antialias_up,
                                     Generator& gen = default_generator());

// CUT's define_D(input_nc, ndf, netD, n_layers_D, norm, init_type, init_gain,
// no_antialias): the NLayerDiscriminator gets no_antialias (pixel ignores it).
// CUT's defaults: --netD basic --ndf 64 --n_layers_D 3 --normD instance, anti-aliased.
std::shared_ptr<nn::Module> define_D(int64_t input_nc, int64_t ndf, const std::string& netD, int64_t n_layers_D,
                                     const std::string& norm, const std::string& init_type, double init_gain,
                                     bool no_antialias, Generator& gen = default_generator());

// What load_official_network did to the file's state_dict before loading it.
struct OfficialLoadReport {
  int64_t tensors = 0;                      // tensors copied into the network
  bool stripped_module_prefix = false;      // every key began with DataParallel's "module."
  int64_t dropped_instance_norm_stats = 0;  // InstanceNorm running_mean/var/num_batches_tracked (files before torch 0.4 / 2018 code)
  int64_t added_num_batches_tracked = 0;    // BatchNorm2d without num_batches_tracked (torch < 0.4.1): set to 0, as torch does
};

// Loads an official CycleGAN/pix2pix network file (torch.save's zip or legacy
// format, or safetensors) into `net`, as BaseModel.load_networks does:
//  1. strips a "module." prefix from the keys when every key has it (a
//     state_dict saved from DataParallel; the official save_networks saves
//     net.module, but other scripts do not);
//  2. drops running_mean / running_var / num_batches_tracked of every
//     InstanceNorm2d (__patch_instance_norm_state_dict: old files tracked them,
//     today's InstanceNorm2d(track_running_stats=False) has none);
//  3. adds a missing num_batches_tracked (= 0) of a BatchNorm2d, as torch's
//     load_state_dict does for a file without version metadata
//     (load_networks deletes it);
//  4. loads strictly: every key of the network present with its shape, no other.
// A file that does not fit is ONE sg::Error line: `what`, the file, the
// network, the first parameter that does not match (in the network's order;
// else the first key the network lacks) and what was expected, and a hint when
// the cause is recognisable, e.g.
//   G_A: 'latest_net_G_A.pth' does not fit resnet_9blocks (ResnetGenerator, ...):
//   'model.16.conv_block.1.weight' [256, 256, 3, 3] is not in the file; the file
//   has 6 residual blocks, --netG resnet_9blocks expects 9
// Hints: generator or discriminator kind, anti-aliasing (CUT's Downsample /
// Upsample filters in the file but not in the network, or the reverse:
// --no_antialias, --no_antialias_up), residual blocks, U-Net levels,
// n_layers_D, Dropout or padding in the residual blocks (they shift
// conv_block indices), --norm, --ngf / --ndf, --input_nc. On an error the
// network is unchanged. `what` names the network in messages ("netG_A").
OfficialLoadReport load_official_network(nn::Module& net, const std::string& path, const std::string& what);

// The same on a state_dict already read; `source` names it in messages.
OfficialLoadReport load_official_state_dict(nn::Module& net, NamedTensors state, const std::string& what,
                                            const std::string& source = "the state_dict");

// "resnet_9blocks (ResnetGenerator, input_nc 3, output_nc 3, ngf 64, norm instance, no dropout)",
// "basic (NLayerDiscriminator, ...)", ...; "the network" for other modules.
std::string describe_network(const nn::Module& net);

}  // namespace sg::models::cyclegan
