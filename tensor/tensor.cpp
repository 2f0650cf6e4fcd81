#include "tensor/tensor.h"

#include <cstring>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "kernels/cpu/copy.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/storage.h"

namespace sg {

namespace {
const TensorImpl& checked(const std::shared_ptr<TensorImpl>& p) {
  if (!p) throw Error("operation on an undefined tensor");
  return *p;
}
}  // namespace

const Shape& Tensor::shape() const { return checked(impl_).shape; }
int Tensor::dim() const { return checked(impl_).shape.size(); }
int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }
const Strides& Tensor::strides() const { return checked(impl_).strides; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }
int64_t Tensor::offset() const { return checked(impl_).offset; }
int64_t Tensor::numel() const { return shape().numel(); }
DType Tensor::dtype() const { return checked(impl_).dtype; }
Device Tensor::device() const { return checked(impl_).storage->device; }
const std::shared_ptr<Storage>& Tensor::storage() const { return checked(impl_).storage; }

bool Tensor::is_contiguous() const {
  const Shape& s = shape();
  const Strides& st = strides();
  int64_t expected = 1;
  for (int i = s.size() - 1; i >= 0; --i) {
    if (s[i] == 1) continue;
    if (st[i] != expected) return false;
    expected *= s[i];
  }
  return true;
}

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  return "Tensor" + shape().str() + " " + dtype_name(dtype()) + " " + device().str();
}

void* Tensor::raw_data() const {
  const TensorImpl& t = checked(impl_);
  return static_cast<char*>(t.storage->data) + t.offset * dtype_size(t.dtype);
}

template <class T>
T* Tensor::data() const {
  SG_CHECK(dtype() == dtype_of<T>::value, "data<", dtype_name(dtype_of<T>::value), ">() called on a ",
           dtype_name(dtype()), " tensor");
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int64_t* Tensor::data<int64_t>() const;
template bool* Tensor::data<bool>() const;

std::vector<double> Tensor::to_vector() const {
  Tensor c = to(Device::cpu()).detach().to(DType::f64).contiguous();
  const double* p = c.data<double>();
  return std::vector<double>(p, p + c.numel());
}

double Tensor::item() const {
  SG_CHECK(numel() == 1, "item: tensor of shape ", shape().str(), " has ", numel(), " elements, not 1");
  return to_vector()[0];
}

// ---- autograd ----
bool Tensor::requires_grad() const { return checked(impl_).requires_grad; }

Tensor& Tensor::requires_grad_(bool on) {
  SG_CHECK(is_leaf(), "requires_grad_: only leaf tensors can change requires_grad (use detach())");
  SG_CHECK(!on || is_floating(dtype()), "requires_grad_: only float tensors can require grad, got ",
           dtype_name(dtype()));
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return checked(impl_).grad; }
void Tensor::set_grad(const Tensor& g) const {
  checked(impl_);
  impl_->grad = g;
}
const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked(impl_).grad_fn; }
int Tensor::output_nr() const { return checked(impl_).output_nr; }
bool Tensor::is_leaf() const { return checked(impl_).grad_fn == nullptr; }

void Tensor::backward(const Tensor& g, bool retain_graph, bool create_graph) const {
  sg::backward({*this}, {g}, retain_graph, create_graph);
}

Tensor Tensor::detach() const {
  const TensorImpl& t = checked(impl_);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage;
  impl->shape = t.shape;
  impl->strides = t.strides;
  impl->offset = t.offset;
  impl->dtype = t.dtype;
  return Tensor(std::move(impl));
}

// ---- conversions ----
Tensor Tensor::to(DType t) const { return dtype() == t ? *this : to_dtype(*this, t); }

Tensor Tensor::to(Device d) const {
  if (device() == d) return *this;
  SG_CHECK(!requires_grad() || !grad_mode_enabled(),
           "to(device): moving a tensor that requires grad between devices is not differentiable; detach() it first");
  Tensor src = contiguous();
  Tensor dst = empty(shape(), TensorOptions(dtype()));
  if (!d.is_cpu()) {
    TensorOptions o(dtype());
    o.device = d;
    dst = empty(shape(), o);
  }
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
  SG_CHECK(device().is_cpu(), "copy_: no CUDA kernel yet");
  cpu::copy(s.shape() == shape() ? s : sg::expand(s.detach(), shape()), *this);
  storage()->bump_version();  // add_ and mul_ write through here too
  return *this;
}

Tensor& Tensor::fill_(double v) {
  check_inplace(*this, "fill_");
  SG_CHECK(device().is_cpu(), "fill_: no CUDA kernel yet");
  cpu::fill(*this, v);
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
