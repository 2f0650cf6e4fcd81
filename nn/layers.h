// The layers the models need, with torch.nn's names, constructor arguments,
// defaults and parameter names ("weight", "bias", "running_mean", ...).
// Each forward is one call into ops/ops.h. Initial weights are drawn from
// default_generator(): call manual_seed(N) first for a reproducible model.
#pragma once
#include "nn/module.h"
#include "ops/ops.h"

namespace sg::nn {

class Conv2d : public Module {
 public:
  // torch.nn.Conv2d(in, out, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True),
  // initialised as torch does (kaiming_uniform(a=sqrt(5))) from `gen`.
  Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0, bool bias = true,
         int64_t dilation = 1, int64_t groups = 1);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  Conv2dOptions opts;
};

class ConvTranspose2d : public Module {
 public:
  // torch.nn.ConvTranspose2d(in, out, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True)
  ConvTranspose2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0,
                  int64_t output_padding = 0, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  Conv2dOptions opts;
};

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
};

// torch.nn.InstanceNorm2d(C, eps=1e-5, affine=False): no running statistics.
class InstanceNorm2d : public Module {
 public:
  explicit InstanceNorm2d(int64_t channels, bool affine = false, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  double eps;
};

// torch.nn.BatchNorm2d(C, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  double eps, momentum;

 private:
  // num_batches_tracked as this module last wrote it, so that a training
  // forward need not read the buffer back (on a GPU, a wait for every queued
  // kernel). It is read again when the buffer is another storage or has been
  // written since (load_state_dict, to(), fill_).
  struct WrittenCount {
    const void* storage = nullptr;
    uint64_t version = 0;
    int64_t value = 0;
  } written_;
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double slope = 0.01) : slope(slope) {}
  Tensor forward(const Tensor& x) override { return leaky_relu(x, slope); }
  double slope;
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override { return tanh(x); }
};

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5) : p(p) {}
  Tensor forward(const Tensor& x) override;
  double p;
};

class MaxPool2d : public Module {
 public:
  MaxPool2d(int64_t kernel, int64_t stride, int64_t padding = 0, bool ceil_mode = false);
  Tensor forward(const Tensor& x) override { return max_pool2d(x, opts); }
  Pool2dOptions opts;
};

class AvgPool2d : public Module {
 public:
  AvgPool2d(int64_t kernel, int64_t stride, int64_t padding = 0, bool ceil_mode = false);
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, opts); }
  Pool2dOptions opts;
};

// ReflectionPad2d / ReplicationPad2d / ZeroPad2d with one size for all sides.
class Pad2d : public Module {
 public:
  Pad2d(int64_t pad, PadMode mode) : pad(pad), mode(mode) {}
  Tensor forward(const Tensor& x) override { return pad2d(x, pad, pad, pad, pad, mode); }
  int64_t pad;
  PadMode mode;
};

class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
};

}  // namespace sg::nn
