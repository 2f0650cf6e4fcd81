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

// out [N, O, OH, OW] = conv2d(x [N, C, H, W], weight [O, C, 3, 3]) + bias [O]
// (bias may be null), stride 1, zero padding (pad_h, pad_w), OH = H + 2 pad_h - 2.
// `weight_transposed` reads the weight as conv_transpose2d's: stored as
// [C, O, 3, 3] and flipped, W'[o, c, i, j] = weight[c, o, 2 - i, 2 - j].
// All pointers are contiguous. One OpenMP region; serial GEMMs inside it.
void winograd_conv2d(const float* x, const float* weight, const float* bias, float* out, int64_t N, int64_t C,
                     int64_t H, int64_t W, int64_t O, int64_t pad_h, int64_t pad_w, bool weight_transposed);

// On by default. Tests and benchmarks switch it off to run the reference
// path on the same inputs (also: environment variable STYLEGRAD_NO_WINOGRAD=1).
void set_winograd_enabled(bool on);
bool winograd_enabled();

}  // namespace sg::cpu
