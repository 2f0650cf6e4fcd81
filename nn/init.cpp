#include "nn/init.h"

#include <Eigen/QR>  // orthogonal_'s QR decomposition
#include <cctype>
#include <cmath>
#include <vector>

#include "autograd/grad_mode.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::nn::init {

static int64_t receptive_field(const Tensor& w) {
  int64_t r = 1;
  for (int d = 2; d < w.dim(); ++d) r *= w.size(d);
  return r;
}

int64_t fan_in(const Tensor& w) {
  SG_CHECK(w.dim() >= 2, "init: fan_in needs a weight with at least 2 dims, got ", w.shape().str());
  return w.size(1) * receptive_field(w);
}

int64_t fan_out(const Tensor& w) {
  SG_CHECK(w.dim() >= 2, "init: fan_out needs a weight with at least 2 dims, got ", w.shape().str());
  return w.size(0) * receptive_field(w);
}

// torch's _calculate_correct_fan.
static int64_t fan_for_mode(const Tensor& w, const std::string& mode_in, const char* fn) {
  std::string mode = mode_in;
  for (char& c : mode) c = char(std::tolower(static_cast<unsigned char>(c)));
  SG_CHECK(mode == "fan_in" || mode == "fan_out", fn, ": mode '", mode_in, "' not supported (expected fan_in or fan_out)");
  return mode == "fan_in" ? fan_in(w) : fan_out(w);
}

double calculate_gain(const std::string& nonlinearity, std::optional<double> param) {
  for (const char* linear : {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                             "conv_transpose3d", "sigmoid"})
    if (nonlinearity == linear) return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    // rounded on its own, as in torch's Python (no fused multiply-add into the 1 +)
    volatile double slope_squared = slope * slope;
    return std::sqrt(2.0 / (1 + slope_squared));
  }
  if (nonlinearity == "selu") return 3.0 / 4;
  throw Error("calculate_gain: unsupported nonlinearity '" + nonlinearity +
              "' (expected linear, conv1d/2d/3d, conv_transpose1d/2d/3d, sigmoid, tanh, relu, leaky_relu or selu)");
}

void uniform_(Tensor& t, double a, double b, Generator& gen) {
  NoGradGuard ng;
  t.copy_(rand(t.shape(), gen, TensorOptions(t.dtype())) * (b - a) + a);
}

void normal_(Tensor& t, double mean, double std, Generator& gen) {
  NoGradGuard ng;
  t.copy_(randn(t.shape(), gen, TensorOptions(t.dtype())) * std + mean);
}

void constant_(Tensor& t, double value) {
  NoGradGuard ng;
  t.fill_(value);
}

double xavier_normal_std(const Tensor& w, double gain) {
  return gain * std::sqrt(2.0 / double(fan_in(w) + fan_out(w)));
}

double xavier_uniform_bound(const Tensor& w, double gain) { return std::sqrt(3.0) * xavier_normal_std(w, gain); }

void xavier_normal_(Tensor& w, double gain, Generator& gen) { normal_(w, 0.0, xavier_normal_std(w, gain), gen); }

void xavier_uniform_(Tensor& w, double gain, Generator& gen) {
  const double bound = xavier_uniform_bound(w, gain);
  uniform_(w, -bound, bound, gen);
}

static double kaiming_std(const Tensor& w, double a, const std::string& mode, const std::string& nonlinearity,
                          const char* fn) {
  const int64_t fan = fan_for_mode(w, mode, fn);
  return calculate_gain(nonlinearity, a) / std::sqrt(double(fan));
}

double kaiming_normal_std(const Tensor& w, double a, const std::string& mode, const std::string& nonlinearity) {
  return kaiming_std(w, a, mode, nonlinearity, "kaiming_normal_");
}

double kaiming_uniform_bound(const Tensor& w, double a, const std::string& mode, const std::string& nonlinearity) {
  return std::sqrt(3.0) * kaiming_std(w, a, mode, nonlinearity, "kaiming_uniform_");
}

// torch leaves a tensor with no elements as it is (with a warning).
void kaiming_normal_(Tensor& w, double a, const std::string& mode, const std::string& nonlinearity, Generator& gen) {
  if (w.numel() == 0) return;
  normal_(w, 0.0, kaiming_normal_std(w, a, mode, nonlinearity), gen);
}

void kaiming_uniform_(Tensor& w, double a, const std::string& mode, const std::string& nonlinearity, Generator& gen) {
  if (w.numel() == 0) return;
  const double bound = kaiming_uniform_bound(w, a, mode, nonlinearity);
  uniform_(w, -bound, bound, gen);
}

Tensor orthogonal_from_normal(const Tensor& a_in, double gain) {
  SG_CHECK(a_in.dim() == 2 && a_in.numel() > 0, "orthogonal_from_normal: expected a non-empty matrix, got ",
           a_in.shape().str());
  const int64_t rows = a_in.size(0), cols = a_in.size(1);
  const bool wide = rows < cols;
  const int64_t m = wide ? cols : rows, n = wide ? rows : cols;  // A is m x n, m >= n
  const std::vector<double> v = a_in.to_vector();
  Eigen::MatrixXd a(m, n);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) (wide ? a(j, i) : a(i, j)) = v[size_t(i * cols + j)];

  // Reduced QR: Q is m x n, R n x n (torch.linalg.qr's default mode).
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(m, n);
  const Eigen::MatrixXd& r = qr.matrixQR();  // R is its upper triangle
  for (int64_t j = 0; j < n; ++j) {
    const double d = r(j, j);
    q.col(j) *= d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;  // torch's sign(): 0 for 0
  }

  std::vector<double> out(size_t(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[size_t(i * cols + j)] = gain * (wide ? q(j, i) : q(i, j));
  return from_vector(out, {rows, cols}, TensorOptions(DType::f64));
}

void orthogonal_(Tensor& w, double gain, Generator& gen) {
  SG_CHECK(w.dim() >= 2, "orthogonal_: needs a tensor with at least 2 dims, got ", w.shape().str());
  if (w.numel() == 0) return;
  const int64_t rows = w.size(0), cols = w.numel() / rows;
  NoGradGuard ng;
  const Tensor normal = randn({rows, cols}, gen, TensorOptions(w.dtype()));
  w.copy_(orthogonal_from_normal(normal, gain).to(w.dtype()).reshape(w.shape()));
}

void default_weight_(Tensor& w, Generator& gen) {
  const double bound = 1.0 / std::sqrt(double(fan_in(w)));
  uniform_(w, -bound, bound, gen);
}

void default_bias_(Tensor& b, const Tensor& w, Generator& gen) {
  const double bound = 1.0 / std::sqrt(double(fan_in(w)));
  uniform_(b, -bound, bound, gen);
}

}  // namespace sg::nn::init
