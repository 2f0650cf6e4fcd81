#include "models/stylegan_networks.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::models::stylegan {

namespace {

const double kSqrt2 = 1.4142135623730951;

// Python's // (floor division): the padding formulas see negative p for long kernels.
int64_t floordiv2(int64_t p) { return p >= 0 ? p / 2 : -((-p + 1) / 2); }

int64_t length_of(const std::vector<double>& kernel) {
  SG_CHECK(!kernel.empty(), "stylegan2: the blur kernel is empty");
  return int64_t(kernel.size());
}

}  // namespace

// ---------------------------------------------------------------- resampling

Tensor make_kernel(const std::vector<double>& k) {
  const int64_t n = length_of(k);
  std::vector<double> v(size_t(n * n));
  double total = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) total += v[size_t(i * n + j)] = float(k[size_t(i)]) * float(k[size_t(j)]);
  SG_CHECK(total != 0, "stylegan2: the blur kernel sums to 0");
  for (double& x : v) x = float(x) / float(total);  // float32, as torch.tensor(k) and k /= k.sum()
  return from_vector(v, {n, n});
}

Tensor upfirdn2d(const Tensor& x, const Tensor& kernel, int64_t up, int64_t down, int64_t pad0, int64_t pad1) {
  SG_CHECK(x.dim() == 4, "upfirdn2d: input must be [N, C, H, W], got ", x.str());
  SG_CHECK(kernel.dim() == 2, "upfirdn2d: kernel must be [kh, kw], got ", kernel.str());
  SG_CHECK(up >= 1 && down >= 1, "upfirdn2d: up and down must be >= 1, got ", up, " and ", down);
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t kh = kernel.size(0), kw = kernel.size(1);
  const int64_t ph = h * up + pad0 + pad1, pw = w * up + pad0 + pad1;
  SG_CHECK(ph >= kh && pw >= kw, "upfirdn2d: ", x.str(), " padded to ", ph, "x", pw, " is smaller than the ", kh,
           "x", kw, " kernel");
  // Every channel filtered alone: one channel per batch entry.
  Tensor out = x.reshape({n * c, 1, h, w});
  if (up > 1) {  // zero insertion: x[i] lands at i * up, up - 1 zeros after it
    Conv2dOptions o;
    o.stride_h = o.stride_w = up;
    o.output_padding_h = o.output_padding_w = up - 1;
    out = conv_transpose2d(out, ones({1, 1, 1, 1}, x.dtype()), Tensor(), o);
  }
  out = pad2d(out, std::max<int64_t>(pad0, 0), std::max<int64_t>(pad1, 0), std::max<int64_t>(pad0, 0),
              std::max<int64_t>(pad1, 0));
  if (pad0 < 0 || pad1 < 0) {  // negative padding crops
    const int64_t lo = std::max<int64_t>(-pad0, 0), hi = std::max<int64_t>(-pad1, 0);
    out = out.narrow(2, lo, out.size(2) - lo - hi).narrow(3, lo, out.size(3) - lo - hi);
  }
  // F.conv2d(out, flip(kernel)) and then [::down, ::down]: a strided convolution.
  Tensor filt = flip(kernel.to(x.dtype()), {0, 1}).reshape({1, 1, kh, kw});
  Conv2dOptions o;
  o.stride_h = o.stride_w = down;
  out = conv2d(out, filt, Tensor(), o);
  return out.reshape({n, c, out.size(2), out.size(3)});
}

Upsample::Upsample(const std::vector<double>& k, int64_t factor) : factor(factor) {
  kernel = register_buffer("kernel", make_kernel(k) * double(factor * factor));
  const int64_t p = length_of(k) - factor;
  pad0 = floordiv2(p + 1) + factor - 1;
  pad1 = floordiv2(p);
}
Tensor Upsample::forward(const Tensor& x) { return upfirdn2d(x, kernel, factor, 1, pad0, pad1); }

Downsample::Downsample(const std::vector<double>& k, int64_t factor) : factor(factor) {
  kernel = register_buffer("kernel", make_kernel(k));
  const int64_t p = length_of(k) - factor;
  pad0 = floordiv2(p + 1);
  pad1 = floordiv2(p);
}
Tensor Downsample::forward(const Tensor& x) { return upfirdn2d(x, kernel, 1, factor, pad0, pad1); }

Blur::Blur(const std::vector<double>& k, int64_t pad0, int64_t pad1, int64_t upsample_factor)
    : pad0(pad0), pad1(pad1) {
  Tensor kk = make_kernel(k);
  if (upsample_factor > 1) kk = kk * double(upsample_factor * upsample_factor);
  kernel = register_buffer("kernel", kk);
}
Tensor Blur::forward(const Tensor& x) { return upfirdn2d(x, kernel, 1, 1, pad0, pad1); }

// ---------------------------------------------------------------- activations

Tensor fused_leaky_relu(const Tensor& x, const Tensor& bias, double negative_slope, double scale) {
  return leaky_relu(x + bias, negative_slope) * scale;
}

FusedLeakyReLU::FusedLeakyReLU(int64_t channel, double negative_slope, double scale)
    : negative_slope(negative_slope), scale(scale) {
  bias = register_parameter("bias", zeros({1, channel, 1, 1}));
}
Tensor FusedLeakyReLU::forward(const Tensor& x) { return fused_leaky_relu(x, bias, negative_slope, scale); }

Tensor ScaledLeakyReLU::forward(const Tensor& x) { return leaky_relu(x, negative_slope) * kSqrt2; }

// ---------------------------------------------------------------- equalised learning rate

EqualConv2d::EqualConv2d(int64_t in_channel, int64_t out_channel, int64_t kernel_size, int64_t stride,
                         int64_t padding, bool with_bias, Generator& gen)
    : scale(1.0 / std::sqrt(double(in_channel * kernel_size * kernel_size))), stride(stride), padding(padding) {
  SG_CHECK(in_channel > 0 && out_channel > 0 && kernel_size > 0, "EqualConv2d: channels (", in_channel, ", ",
           out_channel, ") and kernel size (", kernel_size, ") must be positive");
  weight = register_parameter("weight", randn({out_channel, in_channel, kernel_size, kernel_size}, gen));
  if (with_bias) bias = register_parameter("bias", zeros({out_channel}));
}

Tensor EqualConv2d::forward(const Tensor& x) {
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.pad_h = o.pad_w = padding;
  return conv2d(x, weight * scale, bias, o);
}

EqualLinear::EqualLinear(int64_t in_dim, int64_t out_dim, bool with_bias, double bias_init, double lr_mul,
                         bool activation, Generator& gen)
    : scale(1.0 / std::sqrt(double(in_dim)) * lr_mul), lr_mul(lr_mul), activation(activation) {
  SG_CHECK(in_dim > 0 && out_dim > 0, "EqualLinear: dimensions (", in_dim, ", ", out_dim, ") must be positive");
  SG_CHECK(lr_mul > 0, "EqualLinear: lr_mul must be positive, got ", lr_mul);
  SG_CHECK(with_bias || !activation, "EqualLinear: the fused_lrelu activation needs a bias");
  Tensor w = randn({out_dim, in_dim}, gen);
  if (lr_mul != 1.0) w = w / lr_mul;
  weight = register_parameter("weight", w);
  if (with_bias) bias = register_parameter("bias", full({out_dim}, bias_init));
}

Tensor EqualLinear::forward(const Tensor& x) {
  if (activation) return fused_leaky_relu(linear(x, weight * scale), bias * lr_mul);
  return linear(x, weight * scale, bias.defined() ? bias * lr_mul : Tensor());
}

// ---------------------------------------------------------------- modulated convolution

ModulatedConv2d::ModulatedConv2d(int64_t in_channel, int64_t out_channel, int64_t kernel_size, int64_t style_dim,
                                 bool demodulate, bool upsample, bool downsample,
                                 const std::vector<double>& blur_kernel, Generator& gen)
    : in_channel(in_channel),
      out_channel(out_channel),
      kernel_size(kernel_size),
      padding(kernel_size / 2),
      scale(1.0 / std::sqrt(double(in_channel * kernel_size * kernel_size))),
      demodulate(demodulate),
      upsample(upsample),
      downsample(downsample) {
  SG_CHECK(in_channel > 0 && out_channel > 0 && kernel_size > 0, "ModulatedConv2d: channels (", in_channel, ", ",
           out_channel, ") and kernel size (", kernel_size, ") must be positive");
  const int64_t factor = 2, len = length_of(blur_kernel);
  if (upsample) {
    const int64_t p = (len - factor) - (kernel_size - 1);
    blur = register_module("blur", std::make_shared<Blur>(blur_kernel, floordiv2(p + 1) + factor - 1, floordiv2(p) + 1, factor));
  }
  if (downsample) {
    const int64_t p = (len - factor) + (kernel_size - 1);
    blur = register_module("blur", std::make_shared<Blur>(blur_kernel, floordiv2(p + 1), floordiv2(p)));
  }
  weight = register_parameter("weight", randn({1, out_channel, in_channel, kernel_size, kernel_size}, gen));
  if (style_dim > 0)
    modulation = register_module("modulation",
                                 std::make_shared<EqualLinear>(style_dim, in_channel, true, 1.0, 1.0, false, gen));
}

Tensor ModulatedConv2d::forward(const Tensor& x, const Tensor& style) {
  SG_CHECK(x.dim() == 4 && x.size(1) == in_channel, "ModulatedConv2d: input must be [N, ", in_channel,
           ", H, W], got ", x.str());
  const int64_t k = kernel_size;
  // Without a style (the decoder's StyledConv) every sample has the same weights:
  // one ordinary convolution of the batch equals the official grouped one.
  const int64_t batch = style.defined() ? x.size(0) : 1;
  // w_{b,o,i} = scale * w_{o,i} * s_{b,i}
  Tensor w = weight * scale;
  if (style.defined()) {
    SG_CHECK(modulation, "ModulatedConv2d: a style was given to a convolution without modulation (style_dim 0)");
    SG_CHECK(style.dim() == 2 && style.size(0) == x.size(0), "ModulatedConv2d: style must be [", x.size(0),
             ", style_dim] for an input of batch ", x.size(0), ", got ", style.str());
    w = w * modulation->forward(style).reshape({batch, 1, in_channel, 1, 1});
  }
  if (demodulate) {  // each output channel's weights to unit norm (per sample)
    Tensor demod = rsqrt(sum(pow(w, 2.0), {2, 3, 4}) + 1e-8);
    w = w * demod.reshape({batch, out_channel, 1, 1, 1});
  }
  // The batch as groups of one convolution: sample b's channels are group b.
  const int64_t n = x.size(0);
  Conv2dOptions o;
  o.groups = batch;
  auto grouped = [&](const Tensor& t) { return t.reshape({n / batch, batch * in_channel, t.size(2), t.size(3)}); };
  auto ungrouped = [&](const Tensor& t) { return t.reshape({n, out_channel, t.size(2), t.size(3)}); };
  if (upsample) {
    Tensor wt = w.transpose(1, 2).reshape({batch * in_channel, out_channel, k, k});
    o.stride_h = o.stride_w = 2;
    return blur->forward(ungrouped(conv_transpose2d(grouped(x), wt, Tensor(), o)));
  }
  const Tensor wg = w.reshape({batch * out_channel, in_channel, k, k});
  if (downsample) {
    o.stride_h = o.stride_w = 2;
    return ungrouped(conv2d(grouped(blur->forward(x)), wg, Tensor(), o));
  }
  o.pad_h = o.pad_w = padding;
  return ungrouped(conv2d(grouped(x), wg, Tensor(), o));
}

NoiseInjection::NoiseInjection(Generator& gen) : gen_(&gen) { weight = register_parameter("weight", zeros({1})); }

Tensor NoiseInjection::forward(const Tensor& image, const Tensor& given) {
  SG_CHECK(image.dim() == 4, "NoiseInjection: image must be [N, C, H, W], got ", image.str());
  Tensor noise = given;
  if (!noise.defined()) {
    TensorOptions like_image(image.dtype());
    like_image.device = image.device();  // drawn on the host, then where the image is
    noise = randn({image.size(0), 1, image.size(2), image.size(3)}, *gen_, like_image);
  }
  return image + weight * noise;
}

StyledConv::StyledConv(int64_t in_channel, int64_t out_channel, int64_t kernel_size, int64_t style_dim,
                       bool upsample, const std::vector<double>& blur_kernel, bool demodulate, bool inject_noise,
                       Generator& gen)
    : inject_noise(inject_noise) {
  conv = register_module("conv", std::make_shared<ModulatedConv2d>(in_channel, out_channel, kernel_size, style_dim,
                                                                   demodulate, upsample, false, blur_kernel, gen));
  noise = register_module("noise", std::make_shared<NoiseInjection>(gen));
  activate = register_module("activate", std::make_shared<FusedLeakyReLU>(out_channel));
}

Tensor StyledConv::forward(const Tensor& x, const Tensor& style, const Tensor& noise_in) {
  Tensor out = conv->forward(x, style);
  if (inject_noise) out = noise->forward(out, noise_in);
  return activate->forward(out);
}

ToRGB::ToRGB(int64_t in_channel, int64_t style_dim, bool with_upsample, const std::vector<double>& blur_kernel,
             Generator& gen) {
  if (with_upsample) upsample = register_module("upsample", std::make_shared<Upsample>(blur_kernel));
  conv = register_module("conv", std::make_shared<ModulatedConv2d>(in_channel, 3, 1, style_dim, false, false, false,
                                                                   blur_kernel, gen));
  bias = register_parameter("bias", zeros({1, 3, 1, 1}));
}

Tensor ToRGB::forward(const Tensor& x, const Tensor& style, const Tensor& skip) {
  Tensor out = conv->forward(x, style) + bias;
  if (skip.defined()) {
    SG_CHECK(upsample, "ToRGB: a skip was given to a ToRGB built without upsample");
    out = out + upsample->forward(skip);
  }
  return out;
}

// ---------------------------------------------------------------- the discriminator's layers

ConvLayer::ConvLayer(int64_t in_channel, int64_t out_channel, int64_t kernel_size, bool downsample,
                     const std::vector<double>& blur_kernel, bool bias, bool activate, Generator& gen) {
  int64_t stride = 1, padding = kernel_size / 2;
  if (downsample) {
    const int64_t p = (length_of(blur_kernel) - 2) + (kernel_size - 1);
    push_back(std::make_shared<Blur>(blur_kernel, floordiv2(p + 1), floordiv2(p)));
    stride = 2;
    padding = 0;
  }
  push_back(std::make_shared<EqualConv2d>(in_channel, out_channel, kernel_size, stride, padding, bias && !activate, gen));
  if (activate) {
    if (bias) push_back(std::make_shared<FusedLeakyReLU>(out_channel));
    else push_back(std::make_shared<ScaledLeakyReLU>(0.2));
  }
}

ResBlock::ResBlock(int64_t in_channel, int64_t out_channel, const std::vector<double>& blur_kernel, bool downsample,
                   double skip_gain, Generator& gen)
    : skip_gain(skip_gain) {
  conv1 = register_module("conv1", std::make_shared<ConvLayer>(in_channel, in_channel, 3, false, blur_kernel, true,
                                                               true, gen));
  conv2 = register_module("conv2", std::make_shared<ConvLayer>(in_channel, out_channel, 3, downsample, blur_kernel,
                                                               true, true, gen));
  if (in_channel != out_channel || downsample)
    skip = register_module("skip", std::make_shared<ConvLayer>(in_channel, out_channel, 1, downsample, blur_kernel,
                                                              false, false, gen));
  else
    skip = register_module("skip", std::make_shared<nn::Identity>());
}

Tensor ResBlock::forward(const Tensor& x) {
  Tensor out = conv2->forward(conv1->forward(x));
  return (out * skip_gain + skip->forward(x)) / std::sqrt(skip_gain * skip_gain + 1.0);
}

// ---------------------------------------------------------------- networks

int64_t stylegan2_size(int64_t load_size, int64_t crop_size) {
  const int64_t m = std::min(load_size, crop_size);
  SG_CHECK(m >= 1, "stylegan2: load_size and crop_size must be positive, got ", load_size, " and ", crop_size);
  return int64_t(1) << int64_t(std::nearbyint(std::log2(double(m))));  // np.rint: half to even
}

namespace {

// The resolutions of the channel tables: 4, 8, ..., 1024.
void check_resolution(const char* who, int64_t r) {
  bool ok = false;
  for (int64_t s = 4; s <= 1024; s *= 2) ok = ok || r == s;
  SG_CHECK(ok, who, ": no channel count for resolution ", r, " (the networks are built for 4 ... 1024)");
}

// c * multiplier at resolution r, c = 16 * 2^(10 - log2 r): 4096 at 4, ..., 16 at 1024.
double base_channels(int64_t r) { return 16.0 * double(1024 / r); }

int64_t discriminator_channels(int64_t ndf, int64_t r) {
  check_resolution("StyleGAN2Discriminator", r);
  const int64_t c = int64_t(base_channels(r) * (double(ndf) / 64.0));  // Python's int(): toward zero
  return r <= 32 ? std::min<int64_t>(384, c) : c;
}

}  // namespace

int64_t stylegan2_generator_channels(int64_t ngf, int64_t r) {
  check_resolution("StyleGAN2Generator", r);
  const int64_t c = int64_t(std::nearbyint(base_channels(r) * (double(ngf) / 32.0)));  // round(): half to even
  return r <= 32 ? std::min<int64_t>(512, c) : c;
}

StyleGAN2Discriminator::StyleGAN2Discriminator(int64_t input_nc, int64_t ndf, int64_t size_, int64_t /*n_layers*/,
                                               bool /*no_antialias*/, Generator& gen)
    : size(size_) {
  SG_CHECK(input_nc == 3, "StyleGAN2Discriminator: its first layer takes 3 channels (ConvLayer(3, ...)), got input_nc ",
           input_nc);
  SG_CHECK(ndf > 0, "StyleGAN2Discriminator: ndf must be positive, got ", ndf);
  const std::vector<double> blur_kernel = {1, 3, 3, 1};
  convs = register_module("convs", std::make_shared<nn::Sequential>());
  int64_t in_channel = discriminator_channels(ndf, size);
  convs->push_back(std::make_shared<ConvLayer>(3, in_channel, 1, false, blur_kernel, true, true, gen));
  for (int64_t r = size; r > 4; r /= 2) {
    const int64_t out_channel = discriminator_channels(ndf, r / 2);
    convs->push_back(std::make_shared<ResBlock>(in_channel, out_channel, blur_kernel, true, 1.0, gen));
    in_channel = out_channel;
  }
  const int64_t c4 = discriminator_channels(ndf, 4);
  final_conv = register_module("final_conv", std::make_shared<ConvLayer>(in_channel, c4, 3, false, blur_kernel, true,
                                                                         true, gen));
  final_linear = register_module("final_linear", std::make_shared<nn::Sequential>());
  final_linear->push_back(std::make_shared<EqualLinear>(c4 * 4 * 4, c4, true, 0.0, 1.0, true, gen));
  final_linear->push_back(std::make_shared<EqualLinear>(c4, 1, true, 0.0, 1.0, false, gen));
}

Tensor StyleGAN2Discriminator::forward(const Tensor& x) {
  SG_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) == size && x.size(3) == size,
           "StyleGAN2Discriminator: input must be [N, 3, ", size, ", ", size, "] (the size it was built for), got ",
           x.str());
  Tensor out = final_conv->forward(convs->forward(x));
  return final_linear->forward(out.reshape({out.size(0), -1}));
}

StyleGAN2Encoder::StyleGAN2Encoder(int64_t /*input_nc*/, int64_t /*output_nc*/, int64_t ngf, int64_t n_blocks,
                                   int64_t size, int64_t num_downsampling, Generator& gen) {
  SG_CHECK(ngf > 0, "StyleGAN2Generator: ngf must be positive, got ", ngf);
  SG_CHECK(n_blocks >= 0 && num_downsampling >= 0, "StyleGAN2Generator: n_blocks (", n_blocks,
           ") and stylegan2_G_num_downsampling (", num_downsampling, ") must be >= 0");
  const std::vector<double> blur_kernel = {1, 3, 3, 1};
  int64_t r = size;
  convs = register_module("convs", std::make_shared<nn::Sequential>());
  convs->push_back(std::make_shared<nn::Identity>());
  convs->push_back(std::make_shared<ConvLayer>(3, stylegan2_generator_channels(ngf, r), 1, false, blur_kernel, true,
                                               true, gen));
  for (int64_t i = 0; i < num_downsampling; ++i, r /= 2)
    convs->push_back(std::make_shared<ResBlock>(stylegan2_generator_channels(ngf, r),
                                                stylegan2_generator_channels(ngf, r / 2), blur_kernel, true, 1.0, gen));
  for (int64_t i = 0; i < n_blocks / 2; ++i) {
    const int64_t c = stylegan2_generator_channels(ngf, r);
    convs->push_back(std::make_shared<ResBlock>(c, c, blur_kernel, false, 1.0, gen));
  }
}

nn::FeaturesAndOutput StyleGAN2Encoder::forward_features(const Tensor& x, std::vector<int64_t> layers) {
  const int64_t n = int64_t(convs->size());
  for (int64_t& l : layers) {
    SG_CHECK(l >= -1 && l < n, "StyleGAN2Encoder: layer index ", l, " is out of range: the encoder has ", n,
             " layers (0 ... ", n - 1, ", or -1 for the last)");
    if (l == -1) l = n - 1;
  }
  nn::FeaturesAndOutput out;
  Tensor h = x;
  for (int64_t i = 0; i < n; ++i) {
    h = (*convs)[size_t(i)]->forward(h);
    if (std::find(layers.begin(), layers.end(), i) != layers.end()) out.features.push_back(h);
  }
  out.output = h;
  return out;
}

StyleGAN2Decoder::StyleGAN2Decoder(int64_t /*input_nc*/, int64_t /*output_nc*/, int64_t ngf, int64_t n_blocks,
                                   int64_t size, int64_t num_downsampling, bool inject_noise, Generator& gen) {
  const std::vector<double> blur_kernel = {1, 3, 3, 1};
  SG_CHECK(num_downsampling >= 0 && (size >> num_downsampling) >= 1, "StyleGAN2Generator: ", num_downsampling,
           " downsamplings do not fit size ", size);
  int64_t r = size >> num_downsampling;
  convs = register_module("convs", std::make_shared<nn::Sequential>());
  for (int64_t i = 0; i < n_blocks / 2; ++i) {
    const int64_t c = stylegan2_generator_channels(ngf, r);
    convs->push_back(std::make_shared<ResBlock>(c, c, blur_kernel, false, 1.0, gen));
  }
  for (int64_t i = 0; i < num_downsampling; ++i, r *= 2)
    convs->push_back(std::make_shared<StyledConv>(stylegan2_generator_channels(ngf, r),
                                                  stylegan2_generator_channels(ngf, r * 2), 3, 0, true, blur_kernel,
                                                  true, inject_noise, gen));
  convs->push_back(std::make_shared<ConvLayer>(stylegan2_generator_channels(ngf, r), 3, 1, false, blur_kernel, true,
                                               true, gen));
}

Tensor StyleGAN2Decoder::forward(const Tensor& x, const std::vector<Tensor>& noises) {
  Tensor h = x;
  size_t next_noise = 0;
  for (const auto& layer : *convs) {
    if (auto* styled = dynamic_cast<StyledConv*>(layer.get())) {
      SG_CHECK(noises.empty() || next_noise < noises.size(), "StyleGAN2Decoder: ", noises.size(),
               " noise tensors given for more StyledConv layers");
      h = styled->forward(h, Tensor(), noises.empty() ? Tensor() : noises[next_noise++]);
    } else {
      h = layer->forward(h);
    }
  }
  SG_CHECK(next_noise == noises.size(), "StyleGAN2Decoder: ", noises.size(), " noise tensors given for ", next_noise,
           " StyledConv layers");
  return h;
}

StyleGAN2Generator::StyleGAN2Generator(int64_t input_nc, int64_t output_nc, int64_t ngf, int64_t size,
                                       int64_t num_downsampling, int64_t n_blocks, bool inject_noise,
                                       Generator& gen) {
  encoder = register_module("encoder", std::make_shared<StyleGAN2Encoder>(input_nc, output_nc, ngf, n_blocks, size,
                                                                          num_downsampling, gen));
  decoder = register_module("decoder", std::make_shared<StyleGAN2Decoder>(input_nc, output_nc, ngf, n_blocks, size,
                                                                          num_downsampling, inject_noise, gen));
}

nn::FeaturesAndOutput StyleGAN2Generator::forward_features(const Tensor& x, const std::vector<int64_t>& layers,
                                                           bool encode_only, const std::vector<Tensor>& noises) {
  nn::FeaturesAndOutput enc = encoder->forward_features(x, layers);
  nn::FeaturesAndOutput out;
  out.features = std::move(enc.features);
  if (!encode_only) out.output = decoder->forward(enc.output, noises);
  return out;
}

std::shared_ptr<StyleGAN2Generator> define_G(const std::string& netG, int64_t input_nc, int64_t output_nc,
                                             int64_t ngf, int64_t load_size, int64_t crop_size,
                                             int64_t num_downsampling, Generator& gen) {
  SG_CHECK(netG == "stylegan2" || netG == "smallstylegan2", "define_G: netG '", netG,
           "' is not a StyleGAN2 generator (stylegan2, smallstylegan2)");
  const int64_t n_blocks = netG == "smallstylegan2" ? 2 : 6;
  const bool inject_noise = netG.find("small") == std::string::npos;
  return std::make_shared<StyleGAN2Generator>(input_nc, output_nc, ngf, stylegan2_size(load_size, crop_size),
                                              num_downsampling, n_blocks, inject_noise, gen);
}

std::shared_ptr<StyleGAN2Discriminator> define_D(const std::string& netD, int64_t input_nc, int64_t ndf,
                                                 int64_t load_size, int64_t crop_size, int64_t n_layers_D,
                                                 Generator& gen) {
  SG_CHECK(netD == "stylegan2" || netD == "tilestylegan2", "define_D: netD '", netD,
           "' is not a StyleGAN2 discriminator (stylegan2, tilestylegan2)");
  return std::make_shared<StyleGAN2Discriminator>(input_nc, ndf, stylegan2_size(load_size, crop_size), n_layers_D,
                                                  false, gen);
}

}  // namespace sg::models::stylegan
