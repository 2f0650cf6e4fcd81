// Small helpers shared by the op files (not part of the public API).
#pragma once
#include "autograd/node.h"
#include "autograd/profiler.h"
#include "ops/ops.h"
#include "tensor/error.h"

namespace sg {

inline void require_defined(const char* op, const Tensor& t, const char* what) {
  SG_CHECK(t.defined(), op, ": ", what, " is an undefined tensor");
}

// Same dtype and device, or an error naming the op and both tensors.
inline void require_same(const char* op, const Tensor& a, const Tensor& b) {
  SG_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch, ", dtype_name(a.dtype()), " ", a.shape().str(),
           " vs ", dtype_name(b.dtype()), " ", b.shape().str());
  SG_CHECK(a.device() == b.device(), op, ": device mismatch, ", a.device().str(), " vs ", b.device().str());
}

// An operand that is not a value (a condition, an index) on the device of the
// values: a kernel on one device must not be handed another's pointer.
inline void require_same_device(const char* op, const Tensor& t, const char* what, const Tensor& like) {
  SG_CHECK(t.device() == like.device(), op, ": ", what, " is on ", t.device().str(), ", the input on ",
           like.device().str());
}

inline void require_float(const char* op, const Tensor& t) {
  SG_CHECK(is_floating(t.dtype()), op, ": expected a float tensor, got ", dtype_name(t.dtype()), " ",
           t.shape().str());
}

inline void require_dim(const char* op, const Tensor& t, int ndim, const char* layout) {
  SG_CHECK(t.dim() == ndim, op, ": expected a ", ndim, "-d input ", layout, ", got shape ", t.shape().str());
}

// What a backward keeps alive is memory held until it runs: a tensor needed
// only for one input's gradient is saved only if that gradient is wanted
// (`needed`: that input requires grad), else an undefined one takes its place.
inline Tensor keep_if(bool needed, const Tensor& t) { return needed ? t : Tensor(); }

inline TensorOptions options_like(const Tensor& t) {
  TensorOptions o(t.dtype());
  o.device = t.device();
  return o;
}

}  // namespace sg
