// Colour tools from the same lecture as style transfer: two classic
// baselines that move a style image's colours onto a content image, and
// neural-style's --original_colors (luminance-only transfer).
// Images are float [3,H,W] RGB in [0,1].
#pragma once
#include "tensor/tensor.h"

namespace sg::style {

// Per-channel histogram matching: each content value is replaced by the style
// value at the same quantile (cumulative distribution), as skimage's match_histograms.
Tensor match_histograms(const Tensor& content, const Tensor& style);

// Reinhard, Ashikhmin, Gooch, Shirley, "Color Transfer between Images" (2001):
// convert both to the decorrelated lαβ space (log LMS cone responses), shift and
// scale each channel of the content to the style's mean and standard deviation,
// and convert back.
Tensor reinhard_transfer(const Tensor& content, const Tensor& style);

// Luminance of `stylized`, chrominance (YUV's U and V) of `content`: the
// stylised image in the content's original colours. Same size required.
Tensor keep_original_colors(const Tensor& content, const Tensor& stylized);

}  // namespace sg::style
