#include "models/antialias.h"

#include <vector>

#include "tensor/error.h"

namespace sg::models {

Tensor binomial_filter(int64_t filt_size) {
  SG_CHECK(filt_size >= 1 && filt_size <= 7, "get_filter: filt_size must be 1 to 7, got ", filt_size);
  std::vector<double> row = {1.0};  // Pascal's triangle: row k-1 is the binomial filter of size k
  for (int64_t i = 1; i < filt_size; ++i) {
    std::vector<double> next(row.size() + 1, 0.0);
    for (size_t j = 0; j < row.size(); ++j) {
      next[j] += row[j];
      next[j + 1] += row[j];
    }
    row = next;
  }
  double sum = 0;
  std::vector<double> filt;
  for (double a : row)
    for (double b : row) {
      filt.push_back(a * b);
      sum += a * b;
    }
  for (double& f : filt) f /= sum;
  return from_vector(filt, {filt_size, filt_size});
}

PadMode pad_mode_from_name(const std::string& pad_type) {
  if (pad_type == "refl" || pad_type == "reflect") return PadMode::reflect;
  if (pad_type == "repl" || pad_type == "replicate") return PadMode::replicate;
  if (pad_type == "zero") return PadMode::zeros;
  throw Error("pad_type: unknown padding '" + pad_type + "' (expected refl, reflect, repl, replicate or zero)");
}

namespace {

// filt[None, None, :, :].repeat((channels, 1, 1, 1)), times `scale`.
Tensor per_channel_filter(int64_t channels, int64_t filt_size, double scale) {
  SG_CHECK(channels > 0, "anti-aliasing filter: channels must be positive, got ", channels);
  const std::vector<double> f = binomial_filter(filt_size).to_vector();
  std::vector<double> all;
  for (int64_t c = 0; c < channels; ++c)
    for (double v : f) all.push_back(v * scale);
  return from_vector(all, {channels, 1, filt_size, filt_size});
}

void check_input(const char* what, int64_t channels, const Tensor& x) {
  SG_CHECK(x.dim() == 4 && x.size(1) == channels, what, "(", channels, "): input ", x.shape().str(),
           ": expected [N, ", channels, ", H, W]");
}

}  // namespace

Downsample::Downsample(int64_t channels, const std::string& pad_type, int64_t filt_size, int64_t stride,
                       int64_t pad_off)
    : channels(channels), filt_size(filt_size), stride(stride), pad_off(pad_off),
      pad_mode(pad_mode_from_name(pad_type)),
      pad_before((filt_size - 1) / 2 + pad_off),     // int((k - 1) / 2)
      pad_after(filt_size / 2 + pad_off) {           // ceil((k - 1) / 2)
  SG_CHECK(stride >= 1 && pad_off >= 0, "Downsample: bad arguments stride=", stride, " pad_off=", pad_off);
  filt = register_buffer("filt", per_channel_filter(channels, filt_size, 1.0));
}

Tensor Downsample::forward(const Tensor& x) {
  check_input("Downsample", channels, x);
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.groups = channels;
  return conv2d(pad2d(x, pad_before, pad_after, pad_before, pad_after, pad_mode), filt, Tensor(), o);
}

Upsample::Upsample(int64_t channels, const std::string& pad_type, int64_t filt_size, int64_t stride)
    : channels(channels), filt_size(filt_size), stride(stride), pad_mode(pad_mode_from_name(pad_type)) {
  SG_CHECK(stride >= 1, "Upsample: bad stride ", stride);
  filt = register_buffer("filt", per_channel_filter(channels, filt_size, double(stride * stride)));
}

Tensor Upsample::forward(const Tensor& x) {
  check_input("Upsample", channels, x);
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.pad_h = o.pad_w = 1 + (filt_size - 1) / 2;
  o.groups = channels;
  Tensor y = conv_transpose2d(pad2d(x, 1, 1, 1, 1, pad_mode), filt, Tensor(), o);
  const int64_t crop_end = filt_size % 2 == 1 ? 0 : 1;  // an even filter leaves one row and column more
  const int64_t h = y.size(2) - 1 - crop_end, w = y.size(3) - 1 - crop_end;
  return y.narrow(2, 1, h).narrow(3, 1, w);
}

}  // namespace sg::models
