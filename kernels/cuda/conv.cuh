// The three convolution kernels (kernels/cpu/conv.h's contracts: image
// [N, C, H, W], columns [N, O, OH, OW], weight [O, C/groups, kh, kw], all
// contiguous float32) as implicit GEMMs: the tiled GEMM of gemm.cuh with A and
// B read straight from the image, columns and weight -- each tile of the
// im2col matrix is built in shared memory as it is needed, never in global
// memory. One group per grid z slice; per group g (C_g = C/groups, O_g = O/groups):
//
//   conv2d              columns[n, o, oh, ow] = bias[o] + sum over (c, i, j) of
//                       weight[o, c, i, j] image[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]
//                       M = O_g, N = N*OH*OW, K = C_g*kh*kw.
//   conv_transpose2d    the adjoint in the image, as a gather: each image pixel
//                       (n, c, h, w) sums weight[o, c, i, j] columns[n, o, oh, ow]
//                       over the (o, i, j) whose window touches it, that is
//                       h = oh*sh - ph + i*dh with 0 <= oh < OH (and w alike).
//                       One GEMM per phase (h mod sh, w mod sw), whose pixels
//                       all take the same taps: M = C_g, N = N*H*W/(sh*sw),
//                       K = O_g*kh*kw/(sh*sw), about. Each pixel is written
//                       once, by one thread: no atomics, deterministic.
//   conv2d_weight_grad  weight[o, c, i, j] = sum over (n, oh, ow) of
//                       columns[n, o, oh, ow] image[n, c, oh*sh - ph + i*dh, ...]
//                       M = O_g, N = C_g*kh*kw, K = N*OH*OW. K is long and the
//                       output small, so K is split over blocks: each writes its
//                       partial product to a workspace [splits, O, C_g*kh*kw],
//                       and a second kernel adds the parts in split order
//                       (deterministic, no atomics).
#pragma once
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/host_util.cuh"
#include "kernels/kernel_args.h"
#include "tensor/error.h"
#include "tensor/tensor.h"

namespace sg::SG_KERNELS {

// The geometry of one convolution, as the kernels see it.
struct ConvGeometry {
  int64_t N, C, H, W;  // image
  int64_t O, OH, OW;   // columns
  int64_t kh, kw;
  int64_t sh, sw, ph, pw, dh, dw;
  int64_t C_g, O_g;
};

// ---- conv2d: A = weight [O_g, C_g*kh*kw], B = the im2col matrix of the image ----
struct Conv2dGemm {
  ConvGeometry s;
  const float* image;   // at channel g*C_g of image 0
  const float* weight;  // at output channel g*O_g
  const float* bias;    // at g*O_g, or null
  float* columns;       // at channel g*O_g of image 0

  // Output pixel (n, oh, ow): where its window starts, and its offsets.
  struct Col {
    int64_t image_offset;   // image channel 0 of sample n
    int64_t out_offset;     // columns at (n, 0, oh, ow)
    int64_t h0, w0;         // oh*sh - ph, ow*sw - pw
  };
  __device__ Conv2dGemm for_batch(int64_t g) const {
    Conv2dGemm p = *this;
    p.image += g * s.C_g * s.H * s.W;
    p.weight += g * s.O_g * s.C_g * s.kh * s.kw;
    if (p.bias) p.bias += g * s.O_g;
    p.columns += g * s.O_g * s.OH * s.OW;
    return p;
  }
  // k = (channel, i, j)
  struct K {
    int64_t k;
    int64_t channel_offset;  // channel * H * W
    int64_t dh, dw;          // i*dh, j*dw
  };
  __device__ K k_info(int64_t k) const {
    const int64_t area = s.kh * s.kw, channel = k / area, tap = k % area;
    return K{k, channel * s.H * s.W, tap / s.kw * s.dh, tap % s.kw * s.dw};
  }
  __device__ float a(int64_t o, const K& k) const { return weight[o * s.C_g * s.kh * s.kw + k.k]; }
  __device__ Col col(int64_t j) const {
    const int64_t plane = s.OH * s.OW, n = j / plane, pixel = j % plane, oh = pixel / s.OW, ow = pixel % s.OW;
    return Col{n * s.C * s.H * s.W, n * s.O * plane + pixel, oh * s.sh - s.ph, ow * s.sw - s.pw};
  }
  __device__ float b(const Col& c, const K& k) const {
    const int64_t h = c.h0 + k.dh, w = c.w0 + k.dw;
    if (h < 0 || h >= s.H || w < 0 || w >= s.W) return 0.f;  // padding
    return image[c.image_offset + k.channel_offset + h * s.W + w];
  }
  __device__ void store(const Col& c, int64_t, int64_t o, float v) const {
    columns[c.out_offset + o * s.OH * s.OW] = bias ? v + bias[o] : v;
  }
};

// ---- conv_transpose2d: A = weight^T per tap [C_g, O_g*taps], B = the gathered columns ----
// One GEMM per phase: the image pixels (h, w) with h = h_first + m*sh and
// w = w_first + m'*sw. Within a phase the taps i that reach a pixel are the
// same for every pixel (those with h + ph - i*dh a multiple of sh): an
// arithmetic progression i = i_first + t * i_step, t < taps_h. So K is only
// the taps that touch, not all kh*kw of them with (sh*sw - 1)/(sh*sw) zeros.
struct TransposePhase {
  int64_t h_first, w_first;  // the phase's first image row and column (< sh, < sw)
  int64_t PH, PW;            // its rows and columns
  int64_t i_first, i_step, taps_h;
  int64_t j_first, j_step, taps_w;
};

struct ConvTranspose2dGemm {
  ConvGeometry s;
  TransposePhase f;
  const float* columns;  // at channel g*O_g of image 0
  const float* weight;   // at input channel g*O_g
  const float* bias;     // at g*C_g, or null
  float* image;          // at channel g*C_g of image 0

  // Image pixel (n, h, w) of the phase: its offsets, and h + ph, w + pw (where oh*sh + i*dh lands).
  struct Col {
    int64_t in_offset;   // columns channel 0 of sample n
    int64_t out_offset;  // image at (n, 0, h, w)
    int64_t hp, wp;
  };
  __device__ ConvTranspose2dGemm for_batch(int64_t g) const {
    ConvTranspose2dGemm p = *this;
    p.columns += g * s.O_g * s.OH * s.OW;
    p.weight += g * s.O_g * s.C_g * s.kh * s.kw;
    if (p.bias) p.bias += g * s.C_g;
    p.image += g * s.C_g * s.H * s.W;
    return p;
  }
  // k = (o, t), t the phase's tap (i, j) = (i_first + i_step * (t / taps_w), j_first + j_step * (t % taps_w))
  struct K {
    int64_t weight_offset;   // weight[o, 0, i, j]
    int64_t columns_offset;  // columns channel o
    int64_t dh, dw;          // i*dh, j*dw
  };
  __device__ K k_info(int64_t k) const {
    const int64_t taps = f.taps_h * f.taps_w, o = k / taps, t = k % taps;
    const int64_t i = f.i_first + t / f.taps_w * f.i_step, j = f.j_first + t % f.taps_w * f.j_step;
    return K{(o * s.C_g * s.kh + i) * s.kw + j, o * s.OH * s.OW, i * s.dh, j * s.dw};
  }
  __device__ float a(int64_t c, const K& k) const { return weight[k.weight_offset + c * s.kh * s.kw]; }
  __device__ Col col(int64_t j) const {
    const int64_t plane = f.PH * f.PW, n = j / plane, pixel = j % plane;
    const int64_t h = f.h_first + pixel / f.PW * s.sh, w = f.w_first + pixel % f.PW * s.sw;
    return Col{n * s.O * s.OH * s.OW, (n * s.C * s.H + h) * s.W + w, h + s.ph, w + s.pw};
  }
  __device__ float b(const Col& c, const K& k) const {
    const int64_t th = c.hp - k.dh, tw = c.wp - k.dw;  // oh*sh, ow*sw: multiples, by the phase
    if (th < 0 || tw < 0) return 0.f;
    const int64_t oh = th / s.sh, ow = tw / s.sw;
    if (oh >= s.OH || ow >= s.OW) return 0.f;
    return columns[c.in_offset + k.columns_offset + oh * s.OW + ow];
  }
  __device__ void store(const Col& c, int64_t, int64_t ch, float v) const {
    image[c.out_offset + ch * s.H * s.W] = bias ? v + bias[ch] : v;
  }
};

// ---- conv2d_weight_grad: A = columns [O_g, N*OH*OW], B = the im2col matrix transposed ----
struct Conv2dWeightGradGemm {
  ConvGeometry s;
  const float* image;    // at channel g*C_g of image 0
  const float* columns;  // at channel g*O_g of image 0
  float* out;            // grad_weight (or the workspace's part 0) at output channel g*O_g
  int64_t split_stride;  // elements between two parts of the workspace

  // Weight entry (c, i, j): its channel's offset, the tap's offsets, and where it is written.
  struct Col {
    int64_t channel_offset;  // image channel c of sample 0
    int64_t dh_ph, dw_pw;    // i*dh - ph, j*dw - pw
    int64_t index;           // (c, i, j) in a weight row
  };
  __device__ Conv2dWeightGradGemm for_batch(int64_t g) const {
    Conv2dWeightGradGemm p = *this;
    p.image += g * s.C_g * s.H * s.W;
    p.columns += g * s.O_g * s.OH * s.OW;
    p.out += g * s.O_g * s.C_g * s.kh * s.kw;
    return p;
  }
  // k = (n, oh, ow)
  struct K {
    int64_t columns_offset;  // columns[n, 0, oh, ow]
    int64_t image_offset;    // image sample n
    int64_t h, w;            // oh*sh, ow*sw
  };
  __device__ K k_info(int64_t k) const {
    const int64_t plane = s.OH * s.OW, n = k / plane, pixel = k % plane;
    return K{n * s.O * plane + pixel, n * s.C * s.H * s.W, pixel / s.OW * s.sh, pixel % s.OW * s.sw};
  }
  __device__ float a(int64_t o, const K& k) const { return columns[k.columns_offset + o * s.OH * s.OW]; }
  __device__ Col col(int64_t j) const {
    const int64_t area = s.kh * s.kw, c = j / area, tap = j % area;
    return Col{c * s.H * s.W, tap / s.kw * s.dh - s.ph, tap % s.kw * s.dw - s.pw, j};
  }
  __device__ float b(const Col& c, const K& k) const {
    const int64_t h = k.h + c.dh_ph, w = k.w + c.dw_pw;
    if (h < 0 || h >= s.H || w < 0 || w >= s.W) return 0.f;
    return image[k.image_offset + c.channel_offset + h * s.W + w];
  }
  __device__ void store(const Col& c, int64_t split, int64_t o, float v) const {
    out[split * split_stride + o * s.C_g * s.kh * s.kw + c.index] = v;
  }
};

// out[e] = the sum of parts[p * n + e] over p = 0..parts-1, in that order.
__global__ void sum_parts_kernel(const float* parts, int64_t n_parts, int64_t n, float* out) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    float total = 0.f;
    for (int64_t p = 0; p < n_parts; ++p) total += parts[p * n + e];
    out[e] = total;
  }
}

// ---- host side: the table entries ----

inline ConvGeometry geometry_of(const char* op, const Tensor& image, const Tensor& columns, const Tensor& weight,
                                const ConvParams& p) {
  for (const Tensor* t : {&image, &columns, &weight}) {
    require_f32(op, *t);
    SG_CHECK(t->is_contiguous(), op, ": the ", kDeviceName, " kernel takes contiguous tensors, got strides of ",
             t->shape().str());
  }
  SG_CHECK(image.dim() == 4 && columns.dim() == 4 && weight.dim() == 4, op, ": image ", image.shape().str(),
           ", columns ", columns.shape().str(), " and weight ", weight.shape().str(), " must be 4-d");
  ConvGeometry s;
  s.N = image.size(0), s.C = image.size(1), s.H = image.size(2), s.W = image.size(3);
  s.O = columns.size(1), s.OH = columns.size(2), s.OW = columns.size(3);
  s.kh = weight.size(2), s.kw = weight.size(3);
  s.sh = p.stride_h, s.sw = p.stride_w, s.ph = p.pad_h, s.pw = p.pad_w, s.dh = p.dilation_h, s.dw = p.dilation_w;
  SG_CHECK(p.groups >= 1 && s.C % p.groups == 0 && s.O % p.groups == 0 && columns.size(0) == s.N &&
               weight.size(0) == s.O && weight.size(1) * p.groups == s.C,
           op, ": image ", image.shape().str(), ", columns ", columns.shape().str(), " and weight ",
           weight.shape().str(), " do not fit with groups ", p.groups);
  s.C_g = s.C / p.groups, s.O_g = s.O / p.groups;
  // columns are conv2d's output size for the image (a transpose's output_padding
  // rows are in the image: floor division drops them again).
  const int64_t span_h = s.dh * (s.kh - 1) + 1, span_w = s.dw * (s.kw - 1) + 1;
  SG_CHECK(s.sh >= 1 && s.sw >= 1 && s.dh >= 1 && s.dw >= 1 && s.ph >= 0 && s.pw >= 0 && s.kh >= 1 && s.kw >= 1 &&
               s.H + 2 * s.ph >= span_h && s.W + 2 * s.pw >= span_w &&
               s.OH == (s.H + 2 * s.ph - span_h) / s.sh + 1 && s.OW == (s.W + 2 * s.pw - span_w) / s.sw + 1,
           op, ": columns ", columns.shape().str(), " are not the conv2d output of image ", image.shape().str(),
           " and weight ", weight.shape().str(), " with stride (", s.sh, ", ", s.sw, "), padding (", s.ph, ", ", s.pw,
           "), dilation (", s.dh, ", ", s.dw, ")");
  return s;
}

inline const float* bias_data(const char* op, const Tensor& bias, int64_t channels) {
  if (!bias.defined()) return nullptr;
  require_f32(op, bias);
  SG_CHECK(bias.dim() == 1 && bias.size(0) == channels && bias.is_contiguous(), op, ": bias ", bias.shape().str(),
           " is not a contiguous [", channels, "]");
  return static_cast<const float*>(bias.raw_data());
}

inline void conv2d_entry(const Tensor& image, const Tensor& weight, const Tensor& bias, const Tensor& columns,
                         const ConvParams& p) {
  const char* op = "conv2d";
  const ConvGeometry s = geometry_of(op, image, columns, weight, p);
  const float* b = bias_data(op, bias, s.O);
  if (columns.numel() == 0) return;
  const Conv2dGemm problem{s, static_cast<const float*>(image.raw_data()), static_cast<const float*>(weight.raw_data()),
                           b, static_cast<float*>(columns.raw_data())};
  launch_tiled_gemm(problem, whole_k(s.O_g, s.N * s.OH * s.OW, s.C_g * s.kh * s.kw), p.groups, kStream, op);
}

// The taps i in [0, kernel) with first + pad - i*dilation a multiple of stride:
// i = first_tap + t * step for t < count (count 0: none reach this phase).
inline void phase_taps(int64_t first, int64_t pad, int64_t kernel, int64_t stride, int64_t dilation, int64_t& first_tap,
                       int64_t& step, int64_t& count) {
  step = 1;
  while (step * dilation % stride != 0) ++step;  // stride / gcd(stride, dilation)
  count = 0, first_tap = 0;
  for (int64_t i = 0; i < step && i < kernel; ++i)
    if ((first + pad - i * dilation) % stride == 0) {
      first_tap = i;
      count = (kernel - 1 - i) / step + 1;
      return;
    }
}

inline void conv_transpose2d_entry(const Tensor& columns, const Tensor& weight, const Tensor& bias,
                                   const Tensor& image, const ConvParams& p) {
  const char* op = "conv_transpose2d";
  const ConvGeometry s = geometry_of(op, image, columns, weight, p);
  const float* b = bias_data(op, bias, s.C);
  if (image.numel() == 0) return;
  for (int64_t h_first = 0; h_first < s.sh && h_first < s.H; ++h_first)
    for (int64_t w_first = 0; w_first < s.sw && w_first < s.W; ++w_first) {
      TransposePhase f;
      f.h_first = h_first, f.w_first = w_first;
      f.PH = (s.H - h_first + s.sh - 1) / s.sh, f.PW = (s.W - w_first + s.sw - 1) / s.sw;
      phase_taps(h_first, s.ph, s.kh, s.sh, s.dh, f.i_first, f.i_step, f.taps_h);
      phase_taps(w_first, s.pw, s.kw, s.sw, s.dw, f.j_first, f.j_step, f.taps_w);
      // No tap reaches the phase (a stride larger than the kernel): its pixels
      // are the bias alone, a GEMM with K = 0.
      const ConvTranspose2dGemm problem{s, f, static_cast<const float*>(columns.raw_data()),
                                        static_cast<const float*>(weight.raw_data()), b,
                                        static_cast<float*>(image.raw_data())};
      launch_tiled_gemm(problem, whole_k(s.C_g, s.N * f.PH * f.PW, s.O_g * f.taps_h * f.taps_w), p.groups, kStream, op);
    }
}

// Parts of K for the weight gradient: enough blocks to fill a GPU (about
// kWeightGradBlocks), each part at least kWeightGradMinK long so that a
// block's work outweighs writing its partial tile.
constexpr int64_t kWeightGradBlocks = 512, kWeightGradMinK = 256, kWeightGradMaxSplits = 256;

inline void conv2d_weight_grad_entry(const Tensor& image, const Tensor& columns, const Tensor& grad_weight,
                                     const ConvParams& p) {
  const char* op = "conv2d_weight_grad";
  const ConvGeometry s = geometry_of(op, image, columns, grad_weight, p);
  if (grad_weight.numel() == 0) return;
  GemmSizes sizes = whole_k(s.O_g, s.C_g * s.kh * s.kw, s.N * s.OH * s.OW);
  const int64_t tiles = (sizes.M + kGemmTileM - 1) / kGemmTileM * ((sizes.N + kGemmTileN - 1) / kGemmTileN) * p.groups;
  int64_t splits = kWeightGradBlocks / tiles;
  const int64_t by_length = sizes.K / kWeightGradMinK, by_grid = 65535 / p.groups;
  splits = splits < by_length ? splits : by_length;
  splits = splits < kWeightGradMaxSplits ? splits : kWeightGradMaxSplits;
  splits = splits < by_grid ? splits : by_grid;
  if (splits < 1) splits = 1;
  // Parts a whole number of K tiles long; the last may be shorter.
  const int64_t per_split = (sizes.K + splits - 1) / splits;
  sizes.k_per_split = (per_split + kGemmTileK - 1) / kGemmTileK * kGemmTileK;
  sizes.splits = (sizes.K + sizes.k_per_split - 1) / sizes.k_per_split;
  if (sizes.splits < 1) sizes.splits = 1;  // K = 0: one part, of zeros

  float* gw = static_cast<float*>(grad_weight.raw_data());
  Tensor workspace;
  Conv2dWeightGradGemm problem{s, static_cast<const float*>(image.raw_data()),
                               static_cast<const float*>(columns.raw_data()), gw, 0};
  if (sizes.splits > 1) {
    TensorOptions on_device(DType::f32);
    on_device.device = grad_weight.device();
    workspace = empty({sizes.splits, grad_weight.numel()}, on_device);
    problem.out = static_cast<float*>(workspace.raw_data());
    problem.split_stride = grad_weight.numel();
  }
  launch_tiled_gemm(problem, sizes, p.groups, kStream, op);
  if (sizes.splits > 1) {
    const int threads = 256;
    SG_LAUNCH(sum_parts_kernel, blocks_for(grad_weight.numel(), threads), threads, 0, kStream)(
        problem.out, sizes.splits, grad_weight.numel(), gw);
    SG_CHECK_LAUNCH(op);
  }
}

// out [batch..., C, C] = v v^T for a contiguous v [batch..., C, K]: the tiled
// GEMM with B = v read transposed.
inline void gram_entry(const Tensor& v, const Tensor& out) {
  const char* op = "gram";
  require_f32(op, v);
  require_f32(op, out);
  SG_CHECK(v.dim() >= 2 && out.dim() == v.dim() && v.is_contiguous() && out.is_contiguous(), op, ": v ",
           v.shape().str(), " and out ", out.shape().str(), " must be contiguous, of one rank >= 2");
  const int64_t C = v.size(-2), K = v.size(-1);
  SG_CHECK(out.size(-2) == C && out.size(-1) == C, op, ": out ", out.shape().str(), " is not v v^T for v ",
           v.shape().str());
  if (out.numel() == 0) return;
  const int64_t n_batch = out.numel() / (C * C);
  GemmBatch batch;
  batch.batch.ndim = batch.a_batch.ndim = batch.b_batch.ndim = 1;
  batch.batch.size[0] = batch.a_batch.size[0] = batch.b_batch.size[0] = n_batch;
  batch.a_batch.stride[0] = batch.b_batch.stride[0] = C * K;
  const float* data = static_cast<const float*>(v.raw_data());
  sgemm(C, C, K, data, K, 1, data, 1, K, static_cast<float*>(out.raw_data()), batch, n_batch, kStream, op);
}

}  // namespace sg::SG_KERNELS
