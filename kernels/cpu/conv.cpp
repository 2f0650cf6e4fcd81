#include "kernels/cpu/conv.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/conv_depthwise.h"
#include "kernels/cpu/winograd.h"

namespace sg::cpu {

namespace {

// The sizes of one convolution (see conv.h), read off its tensors.
struct ConvSizes {
  int64_t N, C, H, W;  // image
  int64_t O, OH, OW;   // columns
  int64_t kh, kw;      // kernel
  int64_t groups;
  int64_t C_g, O_g;    // channels per group
  int64_t rows;        // rows of one group's im2col matrix: C_g * kh * kw
  int64_t cols;        // its columns, one per output pixel: OH * OW
};

ConvSizes sizes_of(const Tensor& image, const Tensor& columns, const Tensor& weight, int64_t groups) {
  ConvSizes s;
  s.N = image.size(0), s.C = image.size(1), s.H = image.size(2), s.W = image.size(3);
  s.O = columns.size(1), s.OH = columns.size(2), s.OW = columns.size(3);
  s.kh = weight.size(2), s.kw = weight.size(3);
  s.groups = groups;
  s.C_g = s.C / groups, s.O_g = s.O / groups;
  s.rows = s.C_g * s.kh * s.kw;
  s.cols = s.OH * s.OW;
  return s;
}

// A 1x1 kernel with stride 1 and no padding reads each pixel exactly once, in
// order: the image of one group already is its own im2col matrix.
bool is_pointwise(const ConvSizes& s, const ConvParams& p) {
  return s.kh == 1 && s.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0;
}

// The output positions o in [0, out_size) whose input position
// o * stride + offset lies inside [0, size), as the range [lo, hi).
// Working out the range once keeps the bounds test out of the inner loops.
void inside_range(int64_t offset, int64_t stride, int64_t size, int64_t out_size, int64_t& lo, int64_t& hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;        // ceil(-offset / stride)
  hi = offset > size - 1 ? 0 : (size - 1 - offset) / stride + 1;  // floor((size - 1 - offset) / stride) + 1
  hi = std::min(hi, out_size);
  lo = std::min(lo, hi);
}

// col[(c, i, j), (oh, ow)] = image[c, oh * sh - ph + i * dh, ow * sw - pw + j * dw],
// and 0 where that falls in the padding, for the output rows oh in [oh_begin, oh_end).
// `image` points at the C_g channels of one group of one sample; `col` is
// [rows, (oh_end - oh_begin) * OW].
template <class T>
void im2col(const T* image, const ConvSizes& s, const ConvParams& p, int64_t oh_begin, int64_t oh_end, T* col) {
  const int64_t band_cols = (oh_end - oh_begin) * s.OW;
  for (int64_t r = 0; r < s.rows; ++r) {
    const int64_t c = r / (s.kh * s.kw), i = r / s.kw % s.kh, j = r % s.kw;
    const int64_t off_h = i * p.dilation_h - p.pad_h, off_w = j * p.dilation_w - p.pad_w;
    int64_t oh_lo, oh_hi, ow_lo, ow_hi;
    inside_range(off_h, p.stride_h, s.H, s.OH, oh_lo, oh_hi);
    inside_range(off_w, p.stride_w, s.W, s.OW, ow_lo, ow_hi);
    const T* plane = image + c * s.H * s.W;
    for (int64_t oh = oh_begin; oh < oh_end; ++oh) {
      T* out = col + r * band_cols + (oh - oh_begin) * s.OW;
      if (oh < oh_lo || oh >= oh_hi) {
        std::fill(out, out + s.OW, T(0));
        continue;
      }
      const T* in = plane + (oh * p.stride_h + off_h) * s.W;
      std::fill(out, out + ow_lo, T(0));
      if (p.stride_w == 1)  // the common case: one contiguous run
        std::copy(in + ow_lo + off_w, in + ow_hi + off_w, out + ow_lo);
      else
        for (int64_t ow = ow_lo; ow < ow_hi; ++ow) out[ow] = in[ow * p.stride_w + off_w];
      std::fill(out + ow_hi, out + s.OW, T(0));
    }
  }
}

// The adjoint of im2col for the channels [c_begin, c_end) and output rows
// [oh_begin, oh_end): adds every entry of `col` back onto the pixel of `image`
// it was copied from (padding entries are dropped). The kernel offsets (i, j)
// overlap, so one thread must own all of a channel's rows of `col`.
template <class T>
void col2im(const T* col, const ConvSizes& s, const ConvParams& p, int64_t c_begin, int64_t c_end, int64_t oh_begin,
            int64_t oh_end, T* image) {
  const int64_t band_cols = (oh_end - oh_begin) * s.OW;
  for (int64_t c = c_begin; c < c_end; ++c) {
    T* plane = image + c * s.H * s.W;
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        const T* row = col + (((c - c_begin) * s.kh + i) * s.kw + j) * band_cols;
        const int64_t off_h = i * p.dilation_h - p.pad_h, off_w = j * p.dilation_w - p.pad_w;
        int64_t oh_lo, oh_hi, ow_lo, ow_hi;
        inside_range(off_h, p.stride_h, s.H, s.OH, oh_lo, oh_hi);
        inside_range(off_w, p.stride_w, s.W, s.OW, ow_lo, ow_hi);
        for (int64_t oh = std::max(oh_lo, oh_begin); oh < std::min(oh_hi, oh_end); ++oh) {
          T* out = plane + (oh * p.stride_h + off_h) * s.W;
          const T* in = row + (oh - oh_begin) * s.OW;
          for (int64_t ow = ow_lo; ow < ow_hi; ++ow) out[ow * p.stride_w + off_w] += in[ow];
        }
      }
  }
}

// The column matrix is kh * kw times larger than the image (600 MB for a 3x3
// conv of 64 channels at 512x512), so it is built one band of output rows at
// a time, of about kBandElements entries: small enough to stay in cache
// between im2col and the GEMM that reads it (measured: 3 to 5x faster than
// the whole matrix at once).
constexpr int64_t kBandElements = int64_t(1) << 18;

// Output rows per band, for a column matrix of `col_rows` rows.
int64_t band_rows(const ConvSizes& s, int64_t col_rows) {
  return std::clamp<int64_t>(kBandElements / std::max<int64_t>(col_rows * s.OW, 1), 1, std::max<int64_t>(s.OH, 1));
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// conv2d_weight_grad's band columns are its GEMM's inner dimension: with at
// least this many per call (not 64, one row of a 64-wide image of 256
// channels), each call does enough products per entry of the weight gradient
// it reads and writes (measured: 96 -> 75 ms for resnet_9blocks' 3x3 layers).
constexpr int64_t kWeightGradMinCols = 512;

// out[n, k, :] = bias[k], or 0 without a bias; conv_transpose2d then accumulates onto it.
template <class T>
void start_from_bias(T* out, const Tensor& bias, int64_t N, int64_t K, int64_t plane) {
  const T* b = bias.defined() ? bias.data<T>() : nullptr;
#pragma omp parallel for if (N * K * plane >= kParallelGrain)
  for (int64_t nk = 0; nk < N * K; ++nk) std::fill(out + nk * plane, out + (nk + 1) * plane, b ? b[nk % K] : T(0));
}

// Threads. Each kernel splits its work into independent tasks, spread over the
// threads in one parallel region:
//   conv2d              a task per (sample, group, band): each writes its own rows of y
//   conv_transpose2d    a task per (sample, group, block of channels): col2im
//                       of different channels writes different image planes
//   conv2d_weight_grad  a task per (sample, group, band), each thread summing
//                       into its own copy of the weight gradient
// Within a task the GEMMs run serially: the GEMM (kernels/cpu/gemm.h) starts
// no threads inside a parallel region. With a single task (one sample and
// group, and a small image or a single channel), there is no region and the
// GEMM threads itself.
// Few large regions, rather than one per GEMM, also keep the threads from
// waiting on each other when the machine is busy.
bool worth_threads(int64_t tasks, int64_t flops) { return tasks > 1 && flops >= kParallelGrain; }

template <class T>
void conv2d_impl(const Tensor& image, const Tensor& weight, const Tensor& bias, const Tensor& columns,
                 const ConvParams& p) {
  const ConvSizes s = sizes_of(image, columns, weight, p.groups);
  const T* x = image.data<T>();
  const T* w = weight.data<T>();
  const T* b = bias.defined() ? bias.data<T>() : nullptr;
  T* y = columns.data<T>();
  const bool pointwise = is_pointwise(s, p);
  const int64_t band = band_rows(s, s.rows), bands = ceil_div(s.OH, band);
  const int64_t tasks = s.N * s.groups * bands;
#pragma omp parallel if (worth_threads(tasks, s.N * s.O * s.cols * s.rows))
  {
    std::vector<T> col(pointwise ? 0 : size_t(s.rows * band * s.OW));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t n = t / (s.groups * bands), g = t / bands % s.groups;
      const int64_t oh_begin = t % bands * band, oh_end = std::min(oh_begin + band, s.OH);
      const int64_t band_cols = (oh_end - oh_begin) * s.OW;
      const T* x_ng = x + (n * s.C + g * s.C_g) * s.H * s.W;
      // The band of the im2col matrix, [rows, band_cols] with row stride ld.
      // Pointwise, that is the image itself, whose rows are H*W long.
      const T* cols = x_ng + oh_begin * s.OW;
      int64_t ld = s.cols;
      if (!pointwise) {
        im2col(x_ng, s, p, oh_begin, oh_end, col.data());
        cols = col.data(), ld = band_cols;
      }
      // y[n, group g, band] [O_g, band_cols] = w[group g] [O_g, rows] x cols [rows, band_cols]
      // (each element of y is written by exactly one task)
      T* y_band = y + (n * s.O + g * s.O_g) * s.cols + oh_begin * s.OW;
      gemm<T>(s.O_g, band_cols, s.rows, T(1), w + g * s.O_g * s.rows, s.rows, 1, cols, ld, 1, T(0), y_band, s.cols);
      if (b)  // while the band is still in cache
        for (int64_t o = 0; o < s.O_g; ++o)
          for (int64_t k = 0; k < band_cols; ++k) y_band[o * s.cols + k] += b[g * s.O_g + o];
    }
  }
}

template <class T>
void conv_transpose2d_impl(const Tensor& columns, const Tensor& weight, const Tensor& bias, const Tensor& image,
                           const ConvParams& p) {
  const ConvSizes s = sizes_of(image, columns, weight, p.groups);
  const T* y = columns.data<T>();
  const T* w = weight.data<T>();
  T* x = image.data<T>();
  start_from_bias(x, bias, s.N, s.C, s.H * s.W);
  const bool pointwise = is_pointwise(s, p);
  const int64_t kernel_area = s.kh * s.kw;
  // One block of channels per thread and (sample, group).
  const int64_t block = ceil_div(s.C_g, omp_get_max_threads()), blocks = ceil_div(s.C_g, block);
  const int64_t band = band_rows(s, block * kernel_area);
  const int64_t tasks = s.N * s.groups * blocks;
#pragma omp parallel if (worth_threads(tasks, s.N * s.O * s.cols * s.rows))
  {
    std::vector<T> col(pointwise ? 0 : size_t(block * kernel_area * band * s.OW));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t n = t / (s.groups * blocks), g = t / blocks % s.groups;
      const int64_t c_begin = t % blocks * block, c_end = std::min(c_begin + block, s.C_g);
      const int64_t block_rows = (c_end - c_begin) * kernel_area;
      const T* y_ng = y + (n * s.O + g * s.O_g) * s.cols;
      T* x_ng = x + (n * s.C + g * s.C_g) * s.H * s.W;
      // The block's rows of w[group g]^T, [block_rows, O_g]: the transpose is
      // free, read w with row stride 1 and column stride rows.
      const T* w_block = w + g * s.O_g * s.rows + c_begin * kernel_area;
      for (int64_t oh_begin = 0; oh_begin < s.OH; oh_begin += band) {
        const int64_t oh_end = std::min(oh_begin + band, s.OH), band_cols = (oh_end - oh_begin) * s.OW;
        const T* y_band = y_ng + oh_begin * s.OW;
        if (pointwise) {  // the image is its own column matrix: accumulate straight into it
          gemm<T>(block_rows, band_cols, s.O_g, T(1), w_block, 1, s.rows, y_band, s.cols, 1, T(1),
                  x_ng + c_begin * s.cols + oh_begin * s.OW, s.cols);
        } else {  // col [block_rows, band_cols] = w_block x y[n, group g, band] [O_g, band_cols]
          gemm<T>(block_rows, band_cols, s.O_g, T(1), w_block, 1, s.rows, y_band, s.cols, 1, T(0), col.data(),
                  band_cols);
          col2im(col.data(), s, p, c_begin, c_end, oh_begin, oh_end, x_ng);
        }
      }
    }
  }
}

template <class T>
void conv2d_weight_grad_impl(const Tensor& image, const Tensor& columns, const Tensor& grad_weight,
                             const ConvParams& p) {
  const ConvSizes s = sizes_of(image, columns, grad_weight, p.groups);
  const T* x = image.data<T>();
  const T* gy = columns.data<T>();
  const bool pointwise = is_pointwise(s, p);
  const int64_t band =
      std::min(std::max(band_rows(s, s.rows), ceil_div(kWeightGradMinCols, s.OW)), std::max<int64_t>(s.OH, 1));
  const int64_t bands = ceil_div(s.OH, band);
  const int64_t tasks = s.N * s.groups * bands;
  const int threads = worth_threads(tasks, s.N * s.O * s.cols * s.rows) ? omp_get_max_threads() : 1;
  // One weight gradient per thread, added up in thread order afterwards (so
  // that a run is reproducible).
  std::vector<std::vector<T>> partial(static_cast<size_t>(threads));
#pragma omp parallel num_threads(threads)
  {
    std::vector<T>& gw = partial[size_t(omp_get_thread_num())];
    gw.assign(size_t(grad_weight.numel()), T(0));
    std::vector<T> col(pointwise ? 0 : size_t(s.rows * band * s.OW));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t n = t / (s.groups * bands), g = t / bands % s.groups;
      const int64_t oh_begin = t % bands * band, oh_end = std::min(oh_begin + band, s.OH);
      const int64_t band_cols = (oh_end - oh_begin) * s.OW;
      const T* x_ng = x + (n * s.C + g * s.C_g) * s.H * s.W;
      const T* cols = x_ng + oh_begin * s.OW;  // as in conv2d
      int64_t ld = s.cols;
      if (!pointwise) {
        im2col(x_ng, s, p, oh_begin, oh_end, col.data());
        cols = col.data(), ld = band_cols;
      }
      // gw[group g] [O_g, rows] += gy[n, group g, band] [O_g, band_cols] x cols^T [band_cols, rows]
      // (cols^T is read with row stride 1 and column stride ld)
      gemm<T>(s.O_g, s.rows, band_cols, T(1), gy + (n * s.O + g * s.O_g) * s.cols + oh_begin * s.OW, s.cols, 1,
              cols, 1, ld, T(1), gw.data() + g * s.O_g * s.rows, s.rows);
    }
  }
  T* out = grad_weight.data<T>();
  std::copy(partial[0].begin(), partial[0].end(), out);
  for (size_t i = 1; i < partial.size(); ++i)
    for (size_t k = 0; k < partial[i].size(); ++k) out[k] += partial[i][k];
}

// The Winograd fast path (winograd.h) takes float32 3x3 convolutions with
// stride 1, no dilation and one group; everything else, and every float64
// convolution, takes the im2col + GEMM path above, which stays the reference.
bool use_winograd(const Tensor& image, const Tensor& weight, int64_t out_channels, const ConvParams& p) {
  const WinogradMode mode = winograd_mode();
  return mode != WinogradMode::off && image.dtype() == DType::f32 && p.stride_h == 1 && p.stride_w == 1 &&
         p.dilation_h == 1 && p.dilation_w == 1 && p.groups == 1 &&
         winograd_supports(weight.size(2), weight.size(3), p.pad_h, p.pad_w) &&
         (mode == WinogradMode::always || winograd_pays(image.size(1), out_channels));
}

// The direct kernel (conv_direct.h) takes float32 convolutions with stride 1,
// one group and at most kDirectMaxOutputs output channels, where im2col's copy
// outweighs its few flops.
bool use_direct(const Tensor& image, int64_t out_channels, const ConvParams& p) {
  return image.dtype() == DType::f32 && p.stride_h == 1 && p.stride_w == 1 && p.groups == 1 &&
         out_channels <= kDirectMaxOutputs;
}

// With stride 1 and one group, the transpose of a convolution with few output
// channels is the convolution of `columns` (few channels) with the kernel
// flipped and transposed, padding dilation * (k - 1) - pad: each image pixel
// gathers the outputs its kernel window touched. That convolution has few
// input channels and many outputs, which im2col + GEMM does well, while the
// GEMM + col2im form multiplies with an inner dimension of only O.
bool transpose_as_conv2d(const Tensor& columns, const Tensor& weight, const ConvParams& p) {
  return p.stride_h == 1 && p.stride_w == 1 && p.groups == 1 && columns.size(1) <= kDirectMaxOutputs &&
         p.pad_h <= p.dilation_h * (weight.size(2) - 1) && p.pad_w <= p.dilation_w * (weight.size(3) - 1);
}

// One filter per channel (groups == C == O): conv_depthwise.h's direct loops.
bool is_depthwise(const Tensor& image, const Tensor& columns, const ConvParams& p) {
  return p.groups > 1 && image.size(1) == p.groups && columns.size(1) == p.groups;
}

DepthwiseSizes depthwise_sizes(const Tensor& image, const Tensor& columns, const Tensor& weight) {
  return {image.size(0), image.size(1), image.size(2),  image.size(3),
          columns.size(2), columns.size(3), weight.size(2), weight.size(3)};
}

template <class T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// w [O, C, kh, kw] -> [C, O, kh, kw], each kernel rotated by 180 degrees.
template <class T>
void flip_transpose(const T* w, T* out, int64_t O, int64_t C, int64_t kh, int64_t kw) {
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j)
          out[((c * O + o) * kh + kh - 1 - i) * kw + kw - 1 - j] = w[((o * C + c) * kh + i) * kw + j];
}

}  // namespace

void conv2d(const Tensor& image, const Tensor& weight, const Tensor& bias, const Tensor& columns,
            const ConvParams& p) {
  if (is_depthwise(image, columns, p))
    return dispatch_float(image.dtype(), "conv2d", [&](auto z) {
      using T = decltype(z);
      depthwise_conv2d<T>(image.data<T>(), weight.data<T>(), data_or_null<T>(bias), columns.data<T>(),
                          depthwise_sizes(image, columns, weight), p);
    });
  if (use_winograd(image, weight, columns.size(1), p))
    return winograd_conv2d(image.data<float>(), weight.data<float>(), bias.defined() ? bias.data<float>() : nullptr,
                           columns.data<float>(), image.size(0), image.size(1), image.size(2), image.size(3),
                           columns.size(1), p.pad_h, p.pad_w, /*weight_transposed=*/false,
                           p.cache_weight_transform ? &weight : nullptr);
  if (use_direct(image, columns.size(1), p))
    return direct_conv2d_few_outputs(image.data<float>(), weight.data<float>(),
                                     bias.defined() ? bias.data<float>() : nullptr, columns.data<float>(),
                                     image.size(0), image.size(1), image.size(2), image.size(3), columns.size(1),
                                     weight.size(2), weight.size(3), p.pad_h, p.pad_w, p.dilation_h, p.dilation_w);
  dispatch_float(image.dtype(), "conv2d", [&](auto z) { conv2d_impl<decltype(z)>(image, weight, bias, columns, p); });
}

void conv_transpose2d(const Tensor& columns, const Tensor& weight, const Tensor& bias, const Tensor& image,
                      const ConvParams& p) {
  if (is_depthwise(image, columns, p))
    return dispatch_float(image.dtype(), "conv_transpose2d", [&](auto z) {
      using T = decltype(z);
      depthwise_conv_transpose2d<T>(columns.data<T>(), weight.data<T>(), data_or_null<T>(bias), image.data<T>(),
                                    depthwise_sizes(image, columns, weight), p);
    });
  // With stride 1 the transpose of a 3x3 convolution with padding p is a
  // convolution of `columns` with the flipped, transposed kernel and padding
  // 2 - p (each image pixel gathers the outputs its kernel window touched).
  ConvParams flipped = p;
  flipped.pad_h = weight.size(2) - 1 - p.pad_h, flipped.pad_w = weight.size(3) - 1 - p.pad_w;
  if (use_winograd(columns, weight, image.size(1), flipped))
    return winograd_conv2d(columns.data<float>(), weight.data<float>(), bias.defined() ? bias.data<float>() : nullptr,
                           image.data<float>(), columns.size(0), columns.size(1), columns.size(2), columns.size(3),
                           image.size(1), flipped.pad_h, flipped.pad_w, /*weight_transposed=*/true,
                           p.cache_weight_transform ? &weight : nullptr);
  if (transpose_as_conv2d(columns, weight, p)) {
    Tensor w_flipped = empty({weight.size(1), weight.size(0), weight.size(2), weight.size(3)}, weight.dtype());
    dispatch_float(weight.dtype(), "conv_transpose2d", [&](auto z) {
      using T = decltype(z);
      flip_transpose(weight.data<T>(), w_flipped.data<T>(), weight.size(0), weight.size(1), weight.size(2),
                     weight.size(3));
    });
    ConvParams as_conv = p;
    as_conv.pad_h = p.dilation_h * (weight.size(2) - 1) - p.pad_h;
    as_conv.pad_w = p.dilation_w * (weight.size(3) - 1) - p.pad_w;
    as_conv.cache_weight_transform = false;  // w_flipped is a new tensor on every call
    return conv2d(columns, w_flipped, bias, image, as_conv);
  }
  dispatch_float(columns.dtype(), "conv_transpose2d",
                 [&](auto z) { conv_transpose2d_impl<decltype(z)>(columns, weight, bias, image, p); });
}

void conv2d_weight_grad(const Tensor& image, const Tensor& columns, const Tensor& grad_weight,
                        const ConvParams& p) {
  if (is_depthwise(image, columns, p))
    return dispatch_float(image.dtype(), "conv2d_weight_grad", [&](auto z) {
      using T = decltype(z);
      depthwise_conv2d_weight_grad<T>(image.data<T>(), columns.data<T>(), grad_weight.data<T>(),
                                      depthwise_sizes(image, columns, grad_weight), p);
    });
  if (use_direct(image, columns.size(1), p) && grad_weight.size(3) <= kDirectMaxKernelWidth)
    return direct_conv2d_weight_grad_few_outputs(image.data<float>(), columns.data<float>(),
                                                 grad_weight.data<float>(), image.size(0), image.size(1),
                                                 image.size(2), image.size(3), columns.size(1), grad_weight.size(2),
                                                 grad_weight.size(3), p.pad_h, p.pad_w, p.dilation_h, p.dilation_w);
  dispatch_float(image.dtype(), "conv2d_weight_grad",
                 [&](auto z) { conv2d_weight_grad_impl<decltype(z)>(image, columns, grad_weight, p); });
}

}  // namespace sg::cpu
