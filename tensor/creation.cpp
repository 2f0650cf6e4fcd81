#include <cmath>

#include "autograd/node.h"
#include "kernels/cpu/copy.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "tensor/storage.h"
#include "tensor/tensor.h"

namespace sg {

Tensor empty(const Shape& shape, TensorOptions opt) {
  for (int64_t d : shape) SG_CHECK(d >= 0, "empty: negative size in shape ", shape.str());
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(size_t(shape.numel()) * dtype_size(opt.dtype), opt.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = opt.dtype;
  Tensor t(std::move(impl));
  if (opt.requires_grad) t.requires_grad_();
  return t;
}

// Fills a CPU tensor and moves it to opt.device.
static Tensor filled_on_device(const Shape& shape, TensorOptions opt, double value) {
  TensorOptions host = opt;
  host.device = Device::cpu();
  host.requires_grad = false;
  Tensor t = empty(shape, host);
  cpu::fill(t, value);
  t = t.to(opt.device);
  if (opt.requires_grad) t.requires_grad_();
  return t;
}

Tensor zeros(const Shape& shape, TensorOptions opt) { return filled_on_device(shape, opt, 0.0); }
Tensor ones(const Shape& shape, TensorOptions opt) { return filled_on_device(shape, opt, 1.0); }
Tensor full(const Shape& shape, double value, TensorOptions opt) { return filled_on_device(shape, opt, value); }

template <class Fn>
static Tensor generate(const Shape& shape, TensorOptions opt, Fn next) {
  std::vector<double> v(size_t(shape.numel()));
  for (double& x : v) x = next();
  return from_vector(v, shape, opt);
}

Tensor arange(double start, double end, double step, TensorOptions opt) {
  SG_CHECK(step != 0, "arange: step must be non-zero");
  const int64_t n = std::max<int64_t>(0, int64_t(std::ceil((end - start) / step)));
  int64_t i = 0;
  return generate({n}, opt, [&] { return start + step * double(i++); });
}

Tensor rand(const Shape& shape, Generator& gen, TensorOptions opt) {
  return generate(shape, opt, [&] { return gen.uniform(); });
}
Tensor randn(const Shape& shape, Generator& gen, TensorOptions opt) {
  return generate(shape, opt, [&] { return gen.normal(); });
}
Tensor rand(const Shape& shape, TensorOptions opt) { return rand(shape, default_generator(), opt); }
Tensor randn(const Shape& shape, TensorOptions opt) { return randn(shape, default_generator(), opt); }

Tensor from_vector(const std::vector<double>& values, const Shape& shape, TensorOptions opt) {
  SG_CHECK(int64_t(values.size()) == shape.numel(), "from_vector: ", values.size(),
           " values for shape ", shape.str());
  TensorOptions host = opt;
  host.device = Device::cpu();
  host.requires_grad = false;
  Tensor src = empty(shape, TensorOptions(DType::f64));
  std::copy(values.begin(), values.end(), src.data<double>());
  Tensor t = empty(shape, host);
  cpu::copy(src, t);
  t = t.to(opt.device);
  if (opt.requires_grad) t.requires_grad_();
  return t;
}

Tensor scalar_tensor(double v, TensorOptions opt) { return full({}, v, opt); }

static TensorOptions options_of(const Tensor& t) {
  TensorOptions o(t.dtype());
  o.device = t.device();
  return o;
}
Tensor empty_like(const Tensor& t) { return empty(t.shape(), options_of(t)); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), options_of(t)); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), options_of(t)); }

Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

}  // namespace sg
