// Weight initialisations, each named after the torch function it mirrors, so a
// model can be built "torchvision-style" or "CycleGAN-style" from a seed.
#pragma once
#include "tensor/tensor.h"

namespace sg {
class Generator;
}

namespace sg::nn::init {

// fan_in / fan_out of a weight [out, in, kh, kw] or [out, in] (torch's rule).
int64_t fan_in(const Tensor& w);
int64_t fan_out(const Tensor& w);

void uniform_(Tensor& t, double lo, double hi, Generator& gen);
void normal_(Tensor& t, double mean, double std, Generator& gen);
void constant_(Tensor& t, double value);
// torch.nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu'): N(0, 2/fan_out)
void kaiming_normal_fan_out_(Tensor& w, Generator& gen);
// torch's default for Conv2d/Linear: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
void default_weight_(Tensor& w, Generator& gen);
// torch's default for a Conv2d/Linear bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) of its weight
void default_bias_(Tensor& b, const Tensor& w, Generator& gen);
// xavier_normal_(w, gain): N(0, gain^2 * 2 / (fan_in + fan_out))
void xavier_normal_(Tensor& w, double gain, Generator& gen);

}  // namespace sg::nn::init
