#include "nn/init.h"

#include <cmath>

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

void uniform_(Tensor& t, double lo, double hi, Generator& gen) {
  NoGradGuard ng;
  t.copy_(rand(t.shape(), gen, TensorOptions(t.dtype())) * (hi - lo) + lo);
}

void normal_(Tensor& t, double mean, double std, Generator& gen) {
  NoGradGuard ng;
  t.copy_(randn(t.shape(), gen, TensorOptions(t.dtype())) * std + mean);
}

void constant_(Tensor& t, double value) {
  NoGradGuard ng;
  t.fill_(value);
}

void kaiming_normal_fan_out_(Tensor& w, Generator& gen) { normal_(w, 0.0, std::sqrt(2.0 / double(fan_out(w))), gen); }

void default_weight_(Tensor& w, Generator& gen) {
  const double bound = 1.0 / std::sqrt(double(fan_in(w)));
  uniform_(w, -bound, bound, gen);
}

void default_bias_(Tensor& b, const Tensor& w, Generator& gen) {
  const double bound = 1.0 / std::sqrt(double(fan_in(w)));
  uniform_(b, -bound, bound, gen);
}

void xavier_normal_(Tensor& w, double gain, Generator& gen) {
  normal_(w, 0.0, gain * std::sqrt(2.0 / double(fan_in(w) + fan_out(w))), gen);
}

}  // namespace sg::nn::init
