// The anti-aliased resampling layers of CUT (taesungp/contrastive-unpaired-translation,
// models/networks.py: get_filter, get_pad_layer, Downsample, Upsample), after
// Zhang, "Making Convolutional Networks Shift-Invariant Again" (ICML 2019):
// blur with a normalised binomial filter, then subsample (Downsample), or
// zero-stuff and blur (Upsample). CUT's ResnetGenerator and NLayerDiscriminator
// (models/cyclegan_networks.h, no_antialias / no_antialias_up) use them in place
// of strided and transposed convolutions.
//
// The filter is a buffer named "filt", [channels, 1, k, k], as networks.py
// registers it, so released CUT checkpoints (which hold it) load strictly.
#pragma once
#include <cstdint>
#include <string>

#include "nn/module.h"
#include "ops/ops.h"  // PadMode

namespace sg::models {

// get_filter(filt_size): the outer product a aᵀ of the binomial row
// a = [1], [1 1], [1 2 1], [1 3 3 1], ... (filt_size 1 to 7), divided by its
// sum (a power of two, so every entry is exact in float32); [k, k], float32.
Tensor binomial_filter(int64_t filt_size);

// get_pad_layer(pad_type): 'refl' | 'reflect' -> ReflectionPad2d, 'repl' |
// 'replicate' -> ReplicationPad2d, 'zero' -> ZeroPad2d; else one error line.
PadMode pad_mode_from_name(const std::string& pad_type);

// Downsample(channels, pad_type='reflect', filt_size=3, stride=2, pad_off=0):
//   conv2d(pad(x, (k-1)/2 left and top, ⌈(k-1)/2⌉ right and bottom, each + pad_off),
//          filt, stride, groups = channels)
// with filt = binomial_filter(k) for every channel: each channel is blurred
// and subsampled on its own. (networks.py slices x[:, :, ::stride, ::stride]
// for filt_size 1; that filter is [[1]], so the convolution is the same.)
// Output side floor((H + pads - k) / stride) + 1: H -> ceil(H / 2) for k 3, stride 2.
class Downsample : public nn::Module {
 public:
  explicit Downsample(int64_t channels, const std::string& pad_type = "reflect", int64_t filt_size = 3,
                      int64_t stride = 2, int64_t pad_off = 0);
  Tensor forward(const Tensor& x) override;
  Tensor filt;  // [channels, 1, filt_size, filt_size]
  const int64_t channels, filt_size, stride, pad_off;
  const PadMode pad_mode;
  const int64_t pad_before, pad_after;  // per side: left = top = pad_before, right = bottom = pad_after
};

// Upsample(channels, pad_type='repl', filt_size=4, stride=2), as networks.py
// writes it with a transposed convolution:
//   y = conv_transpose2d(pad(x, 1 on every side), filt, stride, padding = 1 + (k-1)/2, groups = channels)
//   y = y[:, :, 1:, 1:], and for an even filt_size also y[:, :, :-1, :-1]
// with filt = binomial_filter(k) * stride² (the stride² restores the mean the
// zero-stuffing divides by). The default doubles H and W.
class Upsample : public nn::Module {
 public:
  explicit Upsample(int64_t channels, const std::string& pad_type = "repl", int64_t filt_size = 4, int64_t stride = 2);
  Tensor forward(const Tensor& x) override;
  Tensor filt;  // [channels, 1, filt_size, filt_size]
  const int64_t channels, filt_size, stride;
  const PadMode pad_mode;
};

}  // namespace sg::models
