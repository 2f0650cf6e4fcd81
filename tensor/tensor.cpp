#include "tensor/tensor.h"

#include <cstring>

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
T* Tensor::device_data() const {
  SG_CHECK(dtype() == dtype_of<T>::value, "data<", dtype_name(dtype_of<T>::value), ">() called on a ",
           dtype_name(dtype()), " tensor");
  return static_cast<T*>(raw_data());
}

template <class T>
T* Tensor::data() const {
  // Host code reading GPU memory would crash: one line instead. cuda-emulated
  // memory is host memory, but it is refused too, so that the emulation
  // catches the host reads a real GPU would not survive.
  SG_CHECK(device().is_cpu(), "data<", dtype_name(dtype_of<T>::value), ">(): the tensor is on ", device().str(),
           "; host code reads CPU tensors (.to(Device::cpu()) first)");
  return device_data<T>();
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int64_t* Tensor::data<int64_t>() const;
template bool* Tensor::data<bool>() const;
template float* Tensor::device_data<float>() const;
template double* Tensor::device_data<double>() const;
template int64_t* Tensor::device_data<int64_t>() const;
template bool* Tensor::device_data<bool>() const;

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

}  // namespace sg
