// Winograd F(4x4, 3x3): the fast path for 3x3, stride-1 float32 convolutions
// (all of VGG). See winograd.cpp for the algorithm.
//
// conv.cpp calls it from conv2d, and from conv_transpose2d through the
// identity (stride 1, 3x3, padding p)
//   conv_transpose2d(y, W, p) = conv2d(y, W', padding 2 - p),  W'[c, o, i, j] = W[o, c, 2 - i, 2 - j]
// Everything else, and float64, takes the im2col + GEMM reference path.
#pragma once
#include <cstdint>

namespace sg::cpu {

// Whether winograd_conv2d handles this convolution: a 3x3 kernel (stride 1,
// dilation 1, one group; the caller checks those) and padding at most 2 on
// each side, which covers conv2d's VGG padding 1 and the transposes of
// padding 0 and 1.
inline bool winograd_supports(int64_t kh, int64_t kw, int64_t pad_h, int64_t pad_w) {
  return kh == 3 && kw == 3 && pad_h >= 0 && pad_h <= 2 && pad_w >= 0 && pad_w <= 2;
}

// Whether it is also faster. With few input channels the 36 GEMMs have a
// tiny inner dimension (3 for an RGB image) and the transforms dominate, and
// with few output channels the input transform does: VGG's conv1_1 (3 -> 64)
// takes 10.8 ms with Winograd, 5.7 ms with im2col, and its input gradient
// (64 -> 3) 9.9 ms against 4.0 ms (256 x 256, one thread).
inline bool winograd_pays(int64_t in_channels, int64_t out_channels) {
  return in_channels >= 16 && out_channels >= 16;
}

// out [N, O, OH, OW] = conv2d(x [N, C, H, W], weight [O, C, 3, 3]) + bias [O]
// (bias may be null), stride 1, zero padding (pad_h, pad_w), OH = H + 2 pad_h - 2.
// `weight_transposed` reads the weight as conv_transpose2d's: stored as
// [C, O, 3, 3] and flipped, W'[o, c, i, j] = weight[c, o, 2 - i, 2 - j].
// All pointers are contiguous. One OpenMP region; serial GEMMs inside it.
void winograd_conv2d(const float* x, const float* weight, const float* bias, float* out, int64_t N, int64_t C,
                     int64_t H, int64_t W, int64_t O, int64_t pad_h, int64_t pad_w, bool weight_transposed);

// When conv2d / conv_transpose2d use it: `automatic` (the default) where it
// is supported and pays; `always` where supported (tests, to reach it with few
// channels); `off` never -- the reference path, for tests and benchmarks.
// The environment variable STYLEGRAD_NO_WINOGRAD=1 starts in `off`.
enum class WinogradMode { off, automatic, always };
void set_winograd_mode(WinogradMode mode);
WinogradMode winograd_mode();

}  // namespace sg::cpu
