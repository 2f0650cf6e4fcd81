// Winograd F(4x4, 3x3): the fast path for 3x3, stride-1 float32 convolutions
// (all of VGG). See winograd.cpp for the algorithm.
//
// conv.cpp calls it from conv2d, and from conv_transpose2d through the
// identity (stride 1, 3x3, padding p)
//   conv_transpose2d(y, W, p) = conv2d(y, W', padding 2 - p),  W'[c, o, i, j] = W[o, c, 2 - i, 2 - j]
// Everything else, and float64, takes the im2col + GEMM reference path.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sg {
class Tensor;
}

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
// `cache_as`, when not null, is the tensor `weight` points into: its transform
// U = G g G^T is then kept across calls (see the cache below). conv.cpp passes
// it for weights that do not require grad (a frozen VGG), whose transform
// would otherwise be recomputed, identical, on every call.
void winograd_conv2d(const float* x, const float* weight, const float* bias, float* out, int64_t N, int64_t C,
                     int64_t H, int64_t W, int64_t O, int64_t pad_h, int64_t pad_w, bool weight_transposed,
                     const Tensor* cache_as = nullptr);

// The weight-transform cache. An entry is keyed by what fixes the weight's
// values: its storage (by id, never reused), offset, shape, strides, dtype,
// and the storage's version, which every in-place write bumps (w.add_, an
// optimizer step, load_state_dict), so a changed weight is transformed
// afresh and its old entry replaced. Entries of freed weights are dropped.
// A new entry that would exceed the byte budget is not kept (winograd.cpp
// says why not LRU); lowering the budget evicts the least recently used.
// Thread-safe. U holds 36 floats per 3x3 kernel, 4x the weight: VGG-19 up to
// relu5_1 takes about 200 MB for its forward and as much again for its input
// gradient (the flipped kernels), more than its activations at 256x256. So the
// cache starts off (budget 0); `stylegrad style`, which runs the same frozen
// network hundreds of times, gives it 512 MB. The environment variable
// STYLEGRAD_WINOGRAD_CACHE_MB sets the starting budget in MB for any program
// (and overrides `stylegrad style`'s).
struct WinogradCacheStats {
  size_t entries = 0, bytes = 0, budget_bytes = 0;
  uint64_t hits = 0, misses = 0;  // since the process started
};
void set_winograd_cache_budget(size_t bytes);  // 0: off (and empties it)
void clear_winograd_cache();
WinogradCacheStats winograd_cache_stats();

// When conv2d / conv_transpose2d use it: `automatic` (the default) where it
// is supported and pays; `always` where supported (tests, to reach it with few
// channels); `off` never -- the reference path, for tests and benchmarks.
// The environment variable STYLEGRAD_NO_WINOGRAD=1 starts in `off`.
enum class WinogradMode { off, automatic, always };
void set_winograd_mode(WinogradMode mode);
WinogradMode winograd_mode();

}  // namespace sg::cpu
