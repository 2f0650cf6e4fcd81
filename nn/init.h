// Weight initialisations with torch.nn.init's names, arguments and formulas,
// so a model can be built "torchvision-style" or "CycleGAN-style" from a seed.
// Each fills its tensor in place (outside autograd) from `gen`, by default
// default_generator() (seed it with manual_seed). `mode` is "fan_in" or
// "fan_out" (any case, as torch); `nonlinearity` is one of calculate_gain's.
#pragma once
#include <optional>
#include <string>

#include "tensor/tensor.h"

namespace sg {
class Generator;
Generator& default_generator();
}  // namespace sg

namespace sg::nn::init {

// fan_in / fan_out of a weight [out, in, k...] or [out, in]: dim 1 (resp. 0)
// times the product of the dims after the first two (torch's rule).
int64_t fan_in(const Tensor& w);
int64_t fan_out(const Tensor& w);

// torch.nn.init.calculate_gain: 1 for linear, conv*, conv_transpose* and
// sigmoid; 5/3 tanh; sqrt(2) relu; sqrt(2 / (1 + slope^2)) leaky_relu (param is
// the slope, 0.01 if not given); 3/4 selu.
double calculate_gain(const std::string& nonlinearity, std::optional<double> param = std::nullopt);

void uniform_(Tensor& t, double a = 0.0, double b = 1.0, Generator& gen = default_generator());
void normal_(Tensor& t, double mean = 0.0, double std = 1.0, Generator& gen = default_generator());
void constant_(Tensor& t, double value);

// xavier_normal_: N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out));
// xavier_uniform_: U(-bound, bound), bound = sqrt(3) std.
void xavier_normal_(Tensor& w, double gain = 1.0, Generator& gen = default_generator());
void xavier_uniform_(Tensor& w, double gain = 1.0, Generator& gen = default_generator());
double xavier_normal_std(const Tensor& w, double gain = 1.0);
double xavier_uniform_bound(const Tensor& w, double gain = 1.0);

// kaiming_normal_: N(0, std^2), std = calculate_gain(nonlinearity, a) / sqrt(fan),
// fan = fan_in or fan_out by `mode`; kaiming_uniform_: U(-bound, bound), bound = sqrt(3) std.
// (torchvision's VGG: kaiming_normal_(w, 0, "fan_out", "relu"); CycleGAN's 'kaiming': (w, 0, "fan_in").)
void kaiming_normal_(Tensor& w, double a = 0.0, const std::string& mode = "fan_in",
                     const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
void kaiming_uniform_(Tensor& w, double a = 0.0, const std::string& mode = "fan_in",
                      const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
double kaiming_normal_std(const Tensor& w, double a = 0.0, const std::string& mode = "fan_in",
                          const std::string& nonlinearity = "leaky_relu");
double kaiming_uniform_bound(const Tensor& w, double a = 0.0, const std::string& mode = "fan_in",
                             const std::string& nonlinearity = "leaky_relu");

// orthogonal_: w seen as a rows x cols matrix (rows = w.size(0)) filled with a
// (semi-)orthogonal one times gain: orthonormal rows if rows <= cols, columns
// otherwise. torch's algorithm: draw a rows x cols N(0, 1) matrix and pass it
// to orthogonal_from_normal.
void orthogonal_(Tensor& w, double gain = 1.0, Generator& gen = default_generator());
// For a rows x cols matrix A (transposed first when rows < cols): the Q of
// A = QR, each column multiplied by the sign of R's diagonal entry (so that R's
// diagonal is positive and Q unique), transposed back, times gain. Float64.
Tensor orthogonal_from_normal(const Tensor& a, double gain = 1.0);

// torch's default for Conv2d/Linear: kaiming_uniform_(a=sqrt(5)), i.e.
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (torch's rounding of sqrt(3) gain / sqrt(fan_in)
// can differ from 1/sqrt(fan_in) in the last bit)
void default_weight_(Tensor& w, Generator& gen);
// torch's default for a Conv2d/Linear bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) of its weight
void default_bias_(Tensor& b, const Tensor& w, Generator& gen);

}  // namespace sg::nn::init
