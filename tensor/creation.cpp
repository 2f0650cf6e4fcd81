#include <algorithm>
#include <cmath>
#include <type_traits>

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

// A new contiguous tensor on opt.device whose element i is value(i). The values
// are written on the CPU, in the tensor's dtype, then copied to the device.
// (Fresh tensors only: strided writes into existing tensors are kernels' work.)
template <class ValueAt>
static Tensor generate(const Shape& shape, TensorOptions opt, ValueAt value) {
  TensorOptions host(opt.dtype);
  Tensor t = empty(shape, host);
  const int64_t n = t.numel();
  auto write = [&](auto* p) {
    using T = std::remove_pointer_t<decltype(p)>;
    for (int64_t i = 0; i < n; ++i) p[i] = T(value(i));
  };
  switch (opt.dtype) {
    case DType::f32: write(t.data<float>()); break;
    case DType::f64: write(t.data<double>()); break;
    case DType::i64: write(t.data<int64_t>()); break;
    case DType::b8: write(t.data<bool>()); break;
  }
  if (!opt.device.is_cpu()) {
    TensorOptions on_device(opt.dtype);
    on_device.device = opt.device;
    Tensor d = empty(shape, on_device);
    device_copy(d.raw_data(), opt.device, t.raw_data(), Device::cpu(), size_t(n) * dtype_size(opt.dtype));
    t = d;
  }
  if (opt.requires_grad) t.requires_grad_();
  return t;
}

static Tensor filled(const Shape& shape, TensorOptions opt, double value) {
  return generate(shape, opt, [value](int64_t) { return value; });
}

// Zero is all-zero bytes in every dtype: set on the device, nothing copied.
Tensor zeros(const Shape& shape, TensorOptions opt) {
  if (opt.device.is_cpu()) return filled(shape, opt, 0.0);
  Tensor t = empty(shape, opt);
  device_zero(t.raw_data(), opt.device, size_t(t.numel()) * dtype_size(opt.dtype));
  return t;
}
Tensor ones(const Shape& shape, TensorOptions opt) { return filled(shape, opt, 1.0); }
Tensor full(const Shape& shape, double value, TensorOptions opt) { return filled(shape, opt, value); }

Tensor arange(double start, double end, double step, TensorOptions opt) {
  SG_CHECK(step != 0, "arange: step must be non-zero");
  const int64_t n = std::max<int64_t>(0, int64_t(std::ceil((end - start) / step)));
  return generate({n}, opt, [&](int64_t i) { return start + step * double(i); });
}

Tensor rand(const Shape& shape, Generator& gen, TensorOptions opt) {
  return generate(shape, opt, [&](int64_t) { return gen.uniform(); });
}
Tensor randn(const Shape& shape, Generator& gen, TensorOptions opt) {
  return generate(shape, opt, [&](int64_t) { return gen.normal(); });
}
Tensor rand(const Shape& shape, TensorOptions opt) { return rand(shape, default_generator(), opt); }
Tensor randn(const Shape& shape, TensorOptions opt) { return randn(shape, default_generator(), opt); }

Tensor from_vector(const std::vector<double>& values, const Shape& shape, TensorOptions opt) {
  SG_CHECK(int64_t(values.size()) == shape.numel(), "from_vector: ", values.size(),
           " values for shape ", shape.str());
  return generate(shape, opt, [&](int64_t i) { return values[size_t(i)]; });
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
