// Tensor: a handle (shared_ptr) to a TensorImpl, which is a strided view of a
// Storage plus the autograd fields. Copying a Tensor copies the handle, like
// torch.Tensor in Python. All maths lives in ops/ops.h as free functions; the
// operators and methods here are thin sugar over them.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"

namespace sg {

struct Storage;
struct TensorImpl;
class Node;
class Generator;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // --- metadata ---
  const Shape& shape() const;
  int dim() const;
  int64_t size(int64_t d) const;  // negative d counts from the end
  const Strides& strides() const;
  int64_t stride(int64_t d) const;
  int64_t offset() const;  // in elements
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const;
  std::string str() const;  // "Tensor[2, 3] float32 cpu"

  // --- data access (CPU) ---
  void* raw_data() const;  // pointer to element 0 of this view
  template <class T> T* data() const;  // checks dtype, T in {float,double,int64_t,bool}; CPU tensors only
  // The same pointer on any device, for the kernels of the tensor's device
  // (kernels/cuda/): host code must not read through it.
  template <class T> T* device_data() const;
  double item() const;                 // one-element tensors
  std::vector<double> to_vector() const;  // row-major copy, any dtype, CPU

  // --- autograd ---
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);  // leaves only
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  const std::shared_ptr<Node>& grad_fn() const;
  int output_nr() const;
  bool is_leaf() const;
  // Accumulates d(this)/d(leaf) into every leaf's .grad. `grad` defaults to 1 for scalars.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false, bool create_graph = false) const;
  Tensor detach() const;  // same data, no history

  // --- conversions ---
  Tensor to(DType t) const;    // copy unless already that dtype
  Tensor to(Device d) const;   // copy unless already there
  Tensor contiguous() const;   // copy unless already contiguous (differentiable)
  Tensor clone() const;        // always copies (differentiable)

  // --- views (differentiable; see ops/view.cpp) ---
  Tensor reshape(const Shape& s) const;
  Tensor view(const Shape& s) const { return reshape(s); }
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor permute(const Shape& order) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;  // narrow + squeeze
  Tensor expand(const Shape& s) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;

  // --- in-place updates: only outside autograd (optimizers, running stats) ---
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(double v);
  Tensor& zero_() { return fill_(0.0); }
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  Tensor& mul_(double s);

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// The fields behind a Tensor. Kept in this header because kernels read them
// directly; user code goes through Tensor's accessors.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;
  DType dtype = DType::f32;

  // autograd
  bool requires_grad = false;
  Tensor grad;                          // accumulated by backward()
  std::shared_ptr<Node> grad_fn;        // null for leaves
  int output_nr = 0;                    // which output of grad_fn this is
  std::weak_ptr<Node> grad_accumulator;  // leaves: cached AccumulateGrad node
};

// Tensors by name, in order: a state_dict, or the contents of a weight file.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// --- creation (tensor/creation.cpp) ---
struct TensorOptions {
  DType dtype = DType::f32;
  Device device;
  bool requires_grad = false;
  TensorOptions() = default;
  TensorOptions(DType t) : dtype(t) {}  // NOLINT: allows zeros({2,3}, DType::f64)
};

Tensor empty(const Shape& shape, TensorOptions opt = {});
Tensor zeros(const Shape& shape, TensorOptions opt = {});
Tensor ones(const Shape& shape, TensorOptions opt = {});
Tensor full(const Shape& shape, double value, TensorOptions opt = {});
Tensor arange(double start, double end, double step = 1.0, TensorOptions opt = {});
Tensor rand(const Shape& shape, Generator& gen, TensorOptions opt = {});   // U[0,1)
Tensor randn(const Shape& shape, Generator& gen, TensorOptions opt = {});  // N(0,1)
Tensor rand(const Shape& shape, TensorOptions opt = {});   // from default_generator()
Tensor randn(const Shape& shape, TensorOptions opt = {});
Tensor from_vector(const std::vector<double>& values, const Shape& shape, TensorOptions opt = {});
Tensor scalar_tensor(double v, TensorOptions opt = {});
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
// A new tensor that aliases `base`'s storage with a different view.
Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset);

// --- operators (ops/elementwise.cpp) ---
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(const Tensor& a, double s);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(const Tensor& a, double s);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(const Tensor& a, double s);
Tensor operator/(double s, const Tensor& a);

}  // namespace sg
