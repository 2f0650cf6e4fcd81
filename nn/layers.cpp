#include "nn/layers.h"

#include "autograd/grad_mode.h"
#include "nn/init.h"
#include "tensor/error.h"
#include "tensor/storage.h"
#include "tensor/random.h"

namespace sg::nn {

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding, bool has_bias,
               int64_t dilation, int64_t groups) {
  SG_CHECK(in > 0 && out > 0 && k > 0 && groups > 0 && in % groups == 0 && out % groups == 0,
           "Conv2d: bad arguments in=", in, " out=", out, " kernel=", k, " groups=", groups);
  opts.stride_h = opts.stride_w = stride;
  opts.pad_h = opts.pad_w = padding;
  opts.dilation_h = opts.dilation_w = dilation;
  opts.groups = groups;
  weight = register_parameter("weight", empty({out, in / groups, k, k}));
  init::default_weight_(weight, default_generator());
  if (has_bias) {
    bias = register_parameter("bias", empty({out}));
    init::default_bias_(bias, weight, default_generator());
  }
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, opts); }

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding,
                                 int64_t output_padding, bool has_bias) {
  SG_CHECK(in > 0 && out > 0 && k > 0, "ConvTranspose2d: bad arguments in=", in, " out=", out, " kernel=", k);
  opts.stride_h = opts.stride_w = stride;
  opts.pad_h = opts.pad_w = padding;
  opts.output_padding_h = opts.output_padding_w = output_padding;
  weight = register_parameter("weight", empty({in, out, k, k}));
  // torch computes fan_in from dim 1 of the weight, which is `out` here.
  init::default_weight_(weight, default_generator());
  if (has_bias) {
    bias = register_parameter("bias", empty({out}));
    init::default_bias_(bias, weight, default_generator());
  }
}

Tensor ConvTranspose2d::forward(const Tensor& x) { return conv_transpose2d(x, weight, bias, opts); }

Linear::Linear(int64_t in, int64_t out, bool has_bias) {
  weight = register_parameter("weight", empty({out, in}));
  init::default_weight_(weight, default_generator());
  if (has_bias) {
    bias = register_parameter("bias", empty({out}));
    init::default_bias_(bias, weight, default_generator());
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

InstanceNorm2d::InstanceNorm2d(int64_t channels, bool affine, double eps) : eps(eps) {
  if (affine) {
    weight = register_parameter("weight", ones({channels}));
    bias = register_parameter("bias", zeros({channels}));
  }
}

Tensor InstanceNorm2d::forward(const Tensor& x) { return instance_norm(x, weight, bias, eps); }

BatchNorm2d::BatchNorm2d(int64_t channels, double eps, double momentum) : eps(eps), momentum(momentum) {
  weight = register_parameter("weight", ones({channels}));
  bias = register_parameter("bias", zeros({channels}));
  running_mean = register_buffer("running_mean", zeros({channels}));
  running_var = register_buffer("running_var", ones({channels}));
  num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::i64));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  if (training_) {
    NoGradGuard ng;
    const Storage* storage = num_batches_tracked.storage().get();
    if (written_.storage != storage || written_.version != storage->version())
      written_.value = int64_t(num_batches_tracked.item());
    num_batches_tracked.fill_(double(++written_.value));
    written_ = {storage, storage->version(), written_.value};
  }
  return batch_norm(x, weight, bias, running_mean, running_var, training_, momentum, eps);
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, training_, default_generator()); }

MaxPool2d::MaxPool2d(int64_t kernel, int64_t stride, int64_t padding, bool ceil_mode) {
  opts.kernel_h = opts.kernel_w = kernel;
  opts.stride_h = opts.stride_w = stride;
  opts.pad_h = opts.pad_w = padding;
  opts.ceil_mode = ceil_mode;
}

AvgPool2d::AvgPool2d(int64_t kernel, int64_t stride, int64_t padding, bool ceil_mode) {
  opts.kernel_h = opts.kernel_w = kernel;
  opts.stride_h = opts.stride_w = stride;
  opts.pad_h = opts.pad_w = padding;
  opts.ceil_mode = ceil_mode;
}

}  // namespace sg::nn
