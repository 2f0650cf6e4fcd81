// The StyleGAN2-style networks SinCUT uses (--netG stylegan2, --netD stylegan2),
// as taesungp/contrastive-unpaired-translation defines them in
// models/stylegan_networks.py: same classes, same parameter names, same module
// nesting, so that state_dict keys are the official ones
// ("encoder.convs.2.conv2.0.kernel", "decoder.convs.3.conv.weight",
// "final_linear.0.weight", ...).
//
// What the pieces are (rosinality's StyleGAN2 port, which that file follows):
//   equalised learning rate   weights are stored N(0, 1) and scaled by 1/sqrt(fan_in)
//                             in every forward (EqualConv2d, EqualLinear, ModulatedConv2d)
//   fused leaky ReLU          leaky_relu(x + bias, 0.2) * sqrt(2)
//   upfirdn2d                 upsample by zero insertion, pad, FIR filter, downsample
//   [1,3,3,1] kernels         make_kernel: the outer product k kᵀ / sum: a binomial blur
//   modulated convolution     w'_{b,o,i} = scale * w_{o,i} * s_{b,i}, demodulated
//                             w'' = w' / sqrt(sum_{i,kh,kw} w'^2 + 1e-8), a convolution per sample
//   residual blocks           (conv2(conv1(x)) * gain + skip(x)) / sqrt(gain^2 + 1)
//
// Initialisation is the constructors' own (define_G / define_D skip init_net for
// stylegan2): every weight torch.randn, biases zero (EqualLinear: bias_init),
// noise weights zero, drawn from the Generator each constructor is given (by
// default default_generator(); CUTModel passes its own), so that a model built
// from a seeded Generator does not depend on the global one.
//
// Only what define_G / define_D can build is here: netD 'stylegan2' and
// 'tilestylegan2' both make a plain StyleGAN2Discriminator (the "patch" and
// "tile" branches of the class are unreachable from the options), netG
// 'stylegan2' (6 blocks, noise) and 'smallstylegan2' (2 blocks, no noise).
// The unconditional StyleGAN2 Generator of the file (mapping network, constant
// input) is not used by CUT and is not here.
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

namespace sg::models::stylegan {

// make_kernel(k): outer(k, k) / sum (float32, [len, len]).
Tensor make_kernel(const std::vector<double>& k);

// upfirdn2d(input, kernel, up, down, pad=(pad0, pad1)) on [N,C,H,W], the same in
// x and y: zero insertion (x[i] at i*up), padding by pad0 before and pad1 after
// (negative: cropping), correlation with the flipped kernel [kh,kw], then every
// down-th sample. Built from conv_transpose2d (a 1x1 kernel of ones, stride up),
// pad2d/narrow and a strided conv2d, so it is differentiable to any order.
Tensor upfirdn2d(const Tensor& x, const Tensor& kernel, int64_t up = 1, int64_t down = 1, int64_t pad0 = 0,
                 int64_t pad1 = 0);

// fused_leaky_relu(input, bias): leaky_relu(input + bias, 0.2) * sqrt(2).
Tensor fused_leaky_relu(const Tensor& x, const Tensor& bias, double negative_slope = 0.2,
                        double scale = 1.4142135623730951);

// FusedLeakyReLU(channel): bias [1, channel, 1, 1] (zeros).
class FusedLeakyReLU : public nn::Module {
 public:
  explicit FusedLeakyReLU(int64_t channel, double negative_slope = 0.2, double scale = 1.4142135623730951);
  Tensor forward(const Tensor& x) override;
  Tensor bias;
  double negative_slope, scale;
};

// ScaledLeakyReLU: leaky_relu(x, 0.2) * sqrt(2) (ConvLayer with activate and no bias).
class ScaledLeakyReLU : public nn::Module {
 public:
  explicit ScaledLeakyReLU(double negative_slope = 0.2) : negative_slope(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  double negative_slope;
};

// Upsample(kernel, factor=2): upfirdn2d(up=factor) with make_kernel(kernel) * factor^2
// (buffer "kernel"), pad ((p + 1) / 2 + factor - 1, p / 2), p = len - factor.
class Upsample : public nn::Module {
 public:
  explicit Upsample(const std::vector<double>& kernel, int64_t factor = 2);
  Tensor forward(const Tensor& x) override;
  Tensor kernel;
  int64_t factor, pad0, pad1;
};

// Downsample(kernel, factor=2): upfirdn2d(down=factor), pad ((p + 1) / 2, p / 2).
class Downsample : public nn::Module {
 public:
  explicit Downsample(const std::vector<double>& kernel, int64_t factor = 2);
  Tensor forward(const Tensor& x) override;
  Tensor kernel;
  int64_t factor, pad0, pad1;
};

// Blur(kernel, pad, upsample_factor=1): upfirdn2d(pad=pad) with make_kernel(kernel)
// (times upsample_factor^2 when > 1).
class Blur : public nn::Module {
 public:
  Blur(const std::vector<double>& kernel, int64_t pad0, int64_t pad1, int64_t upsample_factor = 1);
  Tensor forward(const Tensor& x) override;
  Tensor kernel;
  int64_t pad0, pad1;
};

// EqualConv2d(in, out, kernel_size, stride=1, padding=0, bias=True):
// conv2d(x, weight * scale, bias), weight [out, in, k, k] ~ N(0, 1), scale = 1/sqrt(in k^2).
class EqualConv2d : public nn::Module {
 public:
  EqualConv2d(int64_t in_channel, int64_t out_channel, int64_t kernel_size, int64_t stride = 1, int64_t padding = 0,
              bool bias = true, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  double scale;
  int64_t stride, padding;
};

// EqualLinear(in_dim, out_dim, bias=True, bias_init=0, lr_mul=1, activation=None):
// weight [out, in] ~ N(0, 1) / lr_mul, scale = lr_mul / sqrt(in);
// linear(x, weight * scale, bias * lr_mul), or with activation ('fused_lrelu')
// fused_leaky_relu(linear(x, weight * scale), bias * lr_mul).
class EqualLinear : public nn::Module {
 public:
  EqualLinear(int64_t in_dim, int64_t out_dim, bool bias = true, double bias_init = 0.0, double lr_mul = 1.0,
              bool activation = false, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  double scale, lr_mul;
  bool activation;
};

// ModulatedConv2d(in, out, kernel_size, style_dim, demodulate=True, upsample=False,
// downsample=False, blur_kernel=[1,3,3,1]): weight [1, out, in, k, k] ~ N(0, 1);
// modulation = EqualLinear(style_dim, in, bias_init=1) when style_dim > 0.
// forward(x, style): style [N, style_dim], or undefined for none (all ones: the
// decoder's StyledConv has no style). One grouped convolution over the batch
// (without a style, where all samples share the weights, a plain one):
// upsample: a stride-2 transposed convolution, then Blur((p+1)/2 + 1, p/2 + 1);
// downsample: Blur, then a stride-2 convolution; else padding k / 2.
class ModulatedConv2d : public nn::Module {
 public:
  ModulatedConv2d(int64_t in_channel, int64_t out_channel, int64_t kernel_size, int64_t style_dim,
                  bool demodulate = true, bool upsample = false, bool downsample = false,
                  const std::vector<double>& blur_kernel = {1, 3, 3, 1}, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override { return forward(x, Tensor()); }
  Tensor forward(const Tensor& x, const Tensor& style);
  Tensor weight;
  std::shared_ptr<Blur> blur;               // null unless upsample or downsample
  std::shared_ptr<EqualLinear> modulation;  // null when style_dim <= 0
  int64_t in_channel, out_channel, kernel_size, padding;
  double scale;
  bool demodulate, upsample, downsample;
};

// NoiseInjection: image + weight * noise, weight [1] (zero). forward(image) draws
// noise [N, 1, H, W] ~ N(0, 1) from `gen` (as torch's normal_(); it must outlive
// the module); forward(image, noise) takes it given (tests, reproducible runs).
class NoiseInjection : public nn::Module {
 public:
  explicit NoiseInjection(Generator& gen = default_generator());
  Tensor forward(const Tensor& image) override { return forward(image, Tensor()); }
  Tensor forward(const Tensor& image, const Tensor& noise);
  Tensor weight;

 private:
  Generator* gen_;
};

// StyledConv(in, out, kernel_size, style_dim=None, upsample=False, blur_kernel,
// demodulate=True, inject_noise=True): conv (ModulatedConv2d), noise
// (NoiseInjection, registered even when not injected), activate (FusedLeakyReLU).
class StyledConv : public nn::Module {
 public:
  StyledConv(int64_t in_channel, int64_t out_channel, int64_t kernel_size, int64_t style_dim = 0,
             bool upsample = false, const std::vector<double>& blur_kernel = {1, 3, 3, 1}, bool demodulate = true,
             bool inject_noise = true, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override { return forward(x, Tensor(), Tensor()); }
  // style undefined: none; noise undefined: drawn (when inject_noise).
  Tensor forward(const Tensor& x, const Tensor& style, const Tensor& noise);
  std::shared_ptr<ModulatedConv2d> conv;
  std::shared_ptr<NoiseInjection> noise;
  std::shared_ptr<FusedLeakyReLU> activate;
  bool inject_noise;
};

// ToRGB(in, style_dim, upsample=True): conv = ModulatedConv2d(in, 3, 1, style_dim,
// demodulate=False), bias [1, 3, 1, 1]; forward(x, style, skip): conv + bias
// (+ Upsample(skip) when skip is given).
class ToRGB : public nn::Module {
 public:
  ToRGB(int64_t in_channel, int64_t style_dim, bool upsample = true,
        const std::vector<double>& blur_kernel = {1, 3, 3, 1}, Generator& gen = default_generator());
  Tensor forward(const Tensor& x, const Tensor& style, const Tensor& skip = Tensor());
  std::shared_ptr<Upsample> upsample;  // null unless upsample
  std::shared_ptr<ModulatedConv2d> conv;
  Tensor bias;
};

// ConvLayer(in, out, kernel_size, downsample=False, blur_kernel, bias=True,
// activate=True), a Sequential: [Blur] EqualConv2d(bias = bias && !activate)
// [FusedLeakyReLU(out) if bias | ScaledLeakyReLU if not] (when activate).
// downsample: Blur((p+1)/2, p/2), p = len - 2 + k - 1, then stride 2, no padding;
// else padding k / 2.
class ConvLayer : public nn::Sequential {
 public:
  ConvLayer(int64_t in_channel, int64_t out_channel, int64_t kernel_size, bool downsample = false,
            const std::vector<double>& blur_kernel = {1, 3, 3, 1}, bool bias = true, bool activate = true,
            Generator& gen = default_generator());
};

// ResBlock(in, out, blur_kernel, downsample=True, skip_gain=1.0): conv1 =
// ConvLayer(in, in, 3), conv2 = ConvLayer(in, out, 3, downsample), skip =
// ConvLayer(in, out, 1, downsample, activate=False, bias=False) when the shape
// changes, else Identity; (conv2(conv1(x)) * gain + skip(x)) / sqrt(gain^2 + 1).
class ResBlock : public nn::Module {
 public:
  ResBlock(int64_t in_channel, int64_t out_channel, const std::vector<double>& blur_kernel = {1, 3, 3, 1},
           bool downsample = true, double skip_gain = 1.0, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<ConvLayer> conv1, conv2;
  std::shared_ptr<nn::Module> skip;
  double skip_gain;
};

// The size the networks are built for: 2^round(log2(min(load_size, crop_size)))
// (SinCUT: load_size 1024, crop_size 64 -> 64).
int64_t stylegan2_size(int64_t load_size, int64_t crop_size);

// StyleGAN2Discriminator(input_nc, ndf=64, n_layers=3, no_antialias=False, size):
// channels[r] = min(384, int(c * ndf / 64)) for c = 4096, 2048, 1024, 512 at
// r = 4, 8, 16, 32, and int(c * ndf / 64) for c = 256 ... 16 at r = 64 ... 1024;
//   convs = ConvLayer(3, channels[size], 1), then ResBlock(channels[r], channels[r/2])
//           for r = size ... 8 (each halves the resolution)
//   final_conv = ConvLayer(channels[4], channels[4], 3)
//   final_linear = EqualLinear(channels[4] * 16, channels[4], fused_lrelu), EqualLinear(channels[4], 1)
// forward: [N, 3, size, size] -> [N, 1]. n_layers and no_antialias are unused (as
// in the official class); the first layer takes 3 channels whatever input_nc is,
// so input_nc must be 3.
class StyleGAN2Discriminator : public nn::Module {
 public:
  StyleGAN2Discriminator(int64_t input_nc, int64_t ndf, int64_t size, int64_t n_layers = 3,
                         bool no_antialias = false, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Sequential> convs;
  std::shared_ptr<ConvLayer> final_conv;
  std::shared_ptr<nn::Sequential> final_linear;
  const int64_t size;
};

// The generator's channels: channels[r] = min(512, round(c * ngf / 32)) for r <= 32,
// round(c * ngf / 32) above (Python's round: half to even).
int64_t stylegan2_generator_channels(int64_t ngf, int64_t resolution);

// StyleGAN2Encoder(input_nc, output_nc, ngf, n_blocks=6, opt): convs =
//   0 Identity, 1 ConvLayer(3, channels[size], 1),
//   num_downsampling x ResBlock(channels[r], channels[r/2], downsample) (r = size, size/2, ...),
//   n_blocks / 2 x ResBlock(channels[r], channels[r], downsample=False).
// size = stylegan2_size(load_size, crop_size); the input may be of any size
// divisible by 2^num_downsampling.
class StyleGAN2Encoder : public nn::Module {
 public:
  StyleGAN2Encoder(int64_t input_nc, int64_t output_nc, int64_t ngf, int64_t n_blocks, int64_t size,
                   int64_t num_downsampling, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override { return convs->forward(x); }
  // forward(input, layers, get_features=True): the output and the outputs of the
  // layers listed, in layer order; -1 taps the last layer (the official appends
  // len(convs) - 1). An index outside [-1, len(convs)) is an error.
  nn::FeaturesAndOutput forward_features(const Tensor& x, std::vector<int64_t> layers);
  std::shared_ptr<nn::Sequential> convs;
};

// StyleGAN2Decoder: convs =
//   n_blocks / 2 x ResBlock(channels[r], channels[r], downsample=False), r = size / 2^num_downsampling,
//   num_downsampling x StyledConv(channels[r], channels[2r], 3, upsample, inject_noise),
//   ConvLayer(channels[size], 3, 1)  (fused leaky ReLU: the output is not bounded).
class StyleGAN2Decoder : public nn::Module {
 public:
  StyleGAN2Decoder(int64_t input_nc, int64_t output_nc, int64_t ngf, int64_t n_blocks, int64_t size,
                   int64_t num_downsampling, bool inject_noise = true, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override { return forward(x, {}); }
  // noises: empty (drawn), or one [N, 1, H, W] per StyledConv, in order (H, W its output's).
  Tensor forward(const Tensor& x, const std::vector<Tensor>& noises);
  std::shared_ptr<nn::Sequential> convs;
};

// StyleGAN2Generator(input_nc, output_nc, ngf, n_blocks=6, opt): encoder, decoder.
class StyleGAN2Generator : public nn::Module {
 public:
  StyleGAN2Generator(int64_t input_nc, int64_t output_nc, int64_t ngf, int64_t size, int64_t num_downsampling = 1,
                     int64_t n_blocks = 6, bool inject_noise = true, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override { return decoder->forward(encoder->forward(x)); }
  // forward(input, layers, encode_only): features are the encoder's layers (CUT's
  // nce_layers; SinCUT 0,2,4); output is the fake, undefined with encode_only.
  // noises as StyleGAN2Decoder::forward.
  nn::FeaturesAndOutput forward_features(const Tensor& x, const std::vector<int64_t>& layers,
                                         bool encode_only = false, const std::vector<Tensor>& noises = {});
  std::shared_ptr<StyleGAN2Encoder> encoder;
  std::shared_ptr<StyleGAN2Decoder> decoder;
};

// define_G for netG 'stylegan2' (n_blocks 6, noise) | 'smallstylegan2' (n_blocks 2;
// "small" in the name: no noise injection), with --load_size, --crop_size and
// --stylegan2_G_num_downsampling; define_D for netD 'stylegan2' | 'tilestylegan2'.
// `gen` draws the weights (and, for G, the noise of its forwards).
std::shared_ptr<StyleGAN2Generator> define_G(const std::string& netG, int64_t input_nc, int64_t output_nc,
                                             int64_t ngf, int64_t load_size, int64_t crop_size,
                                             int64_t num_downsampling, Generator& gen = default_generator());
std::shared_ptr<StyleGAN2Discriminator> define_D(const std::string& netD, int64_t input_nc, int64_t ndf,
                                                 int64_t load_size, int64_t crop_size, int64_t n_layers_D = 3,
                                                 Generator& gen = default_generator());

}  // namespace sg::models::stylegan
