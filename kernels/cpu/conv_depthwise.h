// Depthwise convolution on the CPU: groups == C == O, one kh x kw filter per
// channel. CUT's anti-aliasing (Downsample: [1,2,1]^2 / 16, stride 2;
// Upsample: [1,3,3,1]^2 / 16, transposed, stride 2) and StyleGAN2's blur are
// this, on every channel of the widest layers. im2col + GEMM degenerates
// there: a product with one output row (M = 1) and K = kh * kw, after copying
// each pixel kh * kw times. Here every output row is accumulated directly from
// the input rows its filter taps touch, one (sample, channel) plane per task.
//
// The contracts are conv.h's (contiguous tensors, caller-allocated outputs);
// conv.cpp calls these when p.groups equals both channel counts.
#pragma once
#include <cstdint>

#include "kernels/kernel_args.h"

namespace sg::cpu {

// Sizes of one depthwise convolution, from conv2d's side: image [N, C, H, W],
// columns [N, C, OH, OW], weight [C, 1, kh, kw].
struct DepthwiseSizes {
  int64_t N, C, H, W, OH, OW, kh, kw;
};

// columns = conv2d(image, weight) + bias (bias [C] or null).
template <class T>
void depthwise_conv2d(const T* image, const T* weight, const T* bias, T* columns, const DepthwiseSizes& s,
                      const ConvParams& p);

// image = conv_transpose2d(columns, weight) + bias (bias [C] or null): the adjoint in the image.
template <class T>
void depthwise_conv_transpose2d(const T* columns, const T* weight, const T* bias, T* image, const DepthwiseSizes& s,
                                const ConvParams& p);

// grad_weight [C, 1, kh, kw] = sum over samples and pixels of columns x the image under each tap.
template <class T>
void depthwise_conv2d_weight_grad(const T* image, const T* columns, T* grad_weight, const DepthwiseSizes& s,
                                  const ConvParams& p);

}  // namespace sg::cpu
