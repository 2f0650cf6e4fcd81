// The methods of Tensor (tensor/tensor.h) that are ops: conversions, views and
// in-place updates. They are declared with the Tensor class, for torch-like
// code (x.reshape(...).transpose(0, 1)), and defined here, above the tensor
// layer, because each one is a call into ops/ops.h or a kernel.
#include "autograd/grad_mode.h"
#include "kernels/kernel_table.h"
#include "ops/op_util.h"
#include "tensor/storage.h"

namespace sg {

std::vector<double> Tensor::to_vector() const {
  Tensor c = detach().to(Device::cpu()).to(DType::f64).contiguous();
  const double* p = c.data<double>();
  return std::vector<double>(p, p + c.numel());
}

double Tensor::item() const {
  SG_CHECK(numel() == 1, "item: tensor of shape ", shape().str(), " has ", numel(), " elements, not 1");
  return to_vector()[0];
}

// ---- conversions ----
Tensor Tensor::to(DType t) const { return dtype() == t ? *this : to_dtype(*this, t); }

Tensor Tensor::to(Device d) const {
  if (device() == d) return *this;
  SG_CHECK(!requires_grad() || !grad_mode_enabled(),
           "to(device): moving a tensor that requires grad between devices is not differentiable; detach() it first");
  Tensor src = contiguous();
  TensorOptions o(dtype());
  o.device = d;
  Tensor dst = empty(shape(), o);
  device_copy(dst.raw_data(), d, src.raw_data(), src.device(), size_t(numel()) * dtype_size(dtype()));
  return dst;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : sg::contiguous(*this); }
Tensor Tensor::clone() const { return sg::clone(*this); }

// ---- views ----
Tensor Tensor::reshape(const Shape& s) const { return sg::reshape(*this, s); }
Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  const int a = wrap_dim(start_dim, dim(), "flatten"), b = wrap_dim(end_dim, dim(), "flatten");
  SG_CHECK(a <= b, "flatten: start_dim ", start_dim, " is after end_dim ", end_dim);
  Shape s;
  for (int i = 0; i < a; ++i) s.push_back(size(i));
  int64_t m = 1;
  for (int i = a; i <= b; ++i) m *= size(i);
  s.push_back(m);
  for (int i = b + 1; i < dim(); ++i) s.push_back(size(i));
  return reshape(s);
}
Tensor Tensor::permute(const Shape& order) const { return sg::permute(*this, order); }
Tensor Tensor::transpose(int64_t d0, int64_t d1) const { return sg::transpose(*this, d0, d1); }
Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const { return sg::narrow(*this, d, start, length); }
Tensor Tensor::select(int64_t d, int64_t index) const { return narrow(d, index, 1).squeeze(d); }
Tensor Tensor::expand(const Shape& s) const { return sg::expand(*this, s); }
Tensor Tensor::unsqueeze(int64_t d) const { return sg::unsqueeze(*this, d); }
Tensor Tensor::squeeze(int64_t d) const { return sg::squeeze(*this, d); }

// ---- in-place ----
static void check_inplace(const Tensor& t, const char* op) {
  SG_CHECK(!(grad_mode_enabled() && t.requires_grad()), op,
           ": in-place update of a tensor that requires grad; wrap it in NoGradGuard (as optimizers do)");
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace(*this, "copy_");
  Tensor s = src.device() == device() ? src : src.to(device());
  kernel_for(device(), &KernelTable::copy, "copy_")(s.shape() == shape() ? s : sg::expand(s.detach(), shape()), *this);
  storage()->bump_version();  // add_ and mul_ write through here too
  return *this;
}

Tensor& Tensor::fill_(double v) {
  check_inplace(*this, "fill_");
  kernel_for(device(), &KernelTable::fill, "fill_")(*this, v);
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  check_inplace(*this, "add_");
  NoGradGuard ng;
  Tensor o = alpha == 1.0 ? other : mul_scalar(other, alpha);
  return copy_(add(*this, o));
}

Tensor& Tensor::mul_(double s) {
  check_inplace(*this, "mul_");
  NoGradGuard ng;
  return copy_(mul_scalar(*this, s));
}

}  // namespace sg
