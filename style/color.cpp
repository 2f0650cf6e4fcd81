#include "style/color.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "ops/ops.h"
#include "tensor/error.h"

namespace sg::style {

namespace {

void check_rgb(const Tensor& t, const char* op, const char* what) {
  SG_CHECK(t.dim() == 3 && t.size(0) == 3, op, ": ", what, " must be an RGB image [3,H,W], got ", t.shape().str());
}

// out = M x, per pixel, for a 3x3 matrix M (row-major) on [3, H*W] data.
Tensor mix_channels(const Tensor& chw, const std::vector<double>& m3x3) {
  Tensor m = from_vector(m3x3, {3, 3}, TensorOptions(chw.dtype()));
  return matmul(m, chw.reshape({3, -1})).reshape(chw.shape());
}

// The inverse of a 3x3 matrix (row-major), by cofactors.
std::vector<double> inverse3x3(const std::vector<double>& m) {
  const double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
                     m[2] * (m[3] * m[7] - m[4] * m[6]);
  return {(m[4] * m[8] - m[5] * m[7]) / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
          (m[5] * m[6] - m[3] * m[8]) / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
          (m[3] * m[7] - m[4] * m[6]) / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det};
}

// The sorted distinct values of v and their cumulative fraction of elements.
void quantiles(std::vector<double> v, std::vector<double>& values, std::vector<double>& cdf) {
  std::sort(v.begin(), v.end());
  values.clear();
  cdf.clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (values.empty() || v[i] != values.back()) {
      values.push_back(v[i]);
      cdf.push_back(0);
    }
    cdf.back() = double(i + 1) / double(v.size());
  }
}

// Linear interpolation of y(x) at x0, xs increasing.
double interp(double x0, const std::vector<double>& xs, const std::vector<double>& ys) {
  if (x0 <= xs.front()) return ys.front();
  if (x0 >= xs.back()) return ys.back();
  const size_t j = size_t(std::upper_bound(xs.begin(), xs.end(), x0) - xs.begin());
  const double t = (x0 - xs[j - 1]) / (xs[j] - xs[j - 1]);
  return ys[j - 1] + t * (ys[j] - ys[j - 1]);
}

}  // namespace

Tensor match_histograms(const Tensor& content, const Tensor& style) {
  check_rgb(content, "histogram matching", "content");
  check_rgb(style, "histogram matching", "style");
  const int64_t n = content.size(1) * content.size(2), m = style.size(1) * style.size(2);
  const std::vector<double> c = content.to_vector(), s = style.to_vector();
  std::vector<double> out(c.size());
  for (int64_t ch = 0; ch < 3; ++ch) {
    std::vector<double> cv(c.begin() + ch * n, c.begin() + (ch + 1) * n);
    std::vector<double> sv(s.begin() + ch * m, s.begin() + (ch + 1) * m);
    std::vector<double> c_values, c_cdf, s_values, s_cdf;
    quantiles(cv, c_values, c_cdf);
    quantiles(sv, s_values, s_cdf);
    for (int64_t i = 0; i < n; ++i) {
      // quantile of this content value, then the style value at that quantile
      const size_t k = size_t(std::lower_bound(c_values.begin(), c_values.end(), cv[i]) - c_values.begin());
      out[ch * n + i] = interp(c_cdf[k], s_cdf, s_values);
    }
  }
  return from_vector(out, content.shape(), TensorOptions(content.dtype()));
}

Tensor reinhard_transfer(const Tensor& content, const Tensor& style) {
  check_rgb(content, "reinhard", "content");
  check_rgb(style, "reinhard", "style");
  // RGB -> LMS (Reinhard et al., eq. 4), then log10, then lαβ (eq. 6).
  const std::vector<double> rgb2lms = {0.3811, 0.5783, 0.0402, 0.1967, 0.7244, 0.0782, 0.0241, 0.1288, 0.8444};
  // The paper prints the inverse rounded to 4 digits; the exact inverse makes
  // a transfer of an image onto itself the identity.
  const std::vector<double> lms2rgb = inverse3x3(rgb2lms);
  const double a = 1 / std::sqrt(3.0), b = 1 / std::sqrt(6.0), c = 1 / std::sqrt(2.0);
  const std::vector<double> lms2lab = {a, a, a, b, b, -2 * b, c, -c, 0};
  const std::vector<double> lab2lms = {a, b, c, a, b, -c, a, -2 * b, 0};
  auto to_lab = [&](const Tensor& rgb) {
    // clamp away from 0 before the log: black pixels have LMS 0
    return mix_channels(log(clamp(mix_channels(rgb, rgb2lms), 1e-6, 1e9)) * (1.0 / std::log(10.0)), lms2lab);
  };
  Tensor lc = to_lab(content), ls = to_lab(style);
  Tensor mc = mean(lc, {1, 2}, true), ms = mean(ls, {1, 2}, true);
  Tensor sc = sqrt(var(lc, {1, 2}, 0, true) + 1e-12), ss = sqrt(var(ls, {1, 2}, 0, true) + 1e-12);
  Tensor lab = (lc - mc) * (ss / sc) + ms;
  Tensor lms = exp(mix_channels(lab, lab2lms) * std::log(10.0));
  return clamp(mix_channels(lms, lms2rgb), 0.0, 1.0);
}

Tensor keep_original_colors(const Tensor& content, const Tensor& stylized) {
  check_rgb(content, "original colors", "content");
  check_rgb(stylized, "original colors", "stylized image");
  SG_CHECK(content.shape() == stylized.shape(), "original colors: content ", content.shape().str(),
           " and stylized image ", stylized.shape().str(), " differ in size");
  // YUV (BT.601), as neural-style's -original_colors
  const std::vector<double> rgb2yuv = {0.299, 0.587, 0.114, -0.14713, -0.28886, 0.436, 0.615, -0.51499, -0.10001};
  const std::vector<double> yuv2rgb = inverse3x3(rgb2yuv);
  Tensor c = mix_channels(content, rgb2yuv), s = mix_channels(stylized, rgb2yuv);
  Tensor yuv = cat({s.narrow(0, 0, 1), c.narrow(0, 1, 2)}, 0);
  return clamp(mix_channels(yuv, yuv2rgb), 0.0, 1.0);
}

}  // namespace sg::style
