// Direct float32 convolution for few output channels (CycleGAN's last layer:
// a 7x7 conv of 64 channels to 3). im2col copies every input pixel kh * kw
// times and then does only 2 * O flops per copied value, and its GEMM pads M
// = O up to a whole register tile: at O = 3 that path ran at under 10% of the
// FMA peak. Here each output row is built in registers: for a strip of
// columns, the O x strip accumulators stay in vector registers while every
// (channel, kernel row, kernel column) adds a shifted row of the input.
//
// The weight gradient is direct too: for one (channel, kernel row), the O x kw
// sums of products of an output-gradient row with the shifted input rows stay
// in registers over the whole image.
//
// Supported: float32, one group, stride 1, any kernel size (the weight
// gradient: kernel width up to kDirectMaxKernelWidth), padding and dilation
// (the input is zero-padded into a buffer first), at most kDirectMaxOutputs
// output channels. conv.cpp decides when to call them.
#pragma once
#include <cstdint>

namespace sg::cpu {

constexpr int64_t kDirectMaxOutputs = 4;
constexpr int64_t kDirectMaxKernelWidth = 7;

// y [N, O, OH, OW] = conv2d(x [N, C, H, W], w [O, C, kh, kw]) + bias (bias [O] or null),
// stride 1; OH = H + 2 pad_h - dil_h (kh - 1), likewise OW.
void direct_conv2d_few_outputs(const float* x, const float* w, const float* bias, float* y, int64_t N, int64_t C,
                               int64_t H, int64_t W, int64_t O, int64_t kh, int64_t kw, int64_t pad_h, int64_t pad_w,
                               int64_t dil_h, int64_t dil_w);

// gw [O, C, kh, kw] = d/dw of sum(conv2d(x, w) * g), g [N, O, OH, OW]; the same sizes as above.
void direct_conv2d_weight_grad_few_outputs(const float* x, const float* g, float* gw, int64_t N, int64_t C,
                                           int64_t H, int64_t W, int64_t O, int64_t kh, int64_t kw, int64_t pad_h,
                                           int64_t pad_w, int64_t dil_h, int64_t dil_w);

}  // namespace sg::cpu
