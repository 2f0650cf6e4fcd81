// The one dispatch point between ops and kernels (issue 11; in the spirit of
// ggml's backend interface): a table of kernels per device kind -- cpu, cuda,
// cuda-emulated -- looked up from a tensor's device. An op asks
//   kernel_for(t.device(), &KernelTable::fill, "fill_")(t, value);
// and never branches on the device itself. An entry a device lacks is null,
// and asking for it is the error "fill_: no kernel on device cuda:0".
// An entry that exists but does not take a dtype says so in its own error.
//
// The cuda and cuda-emulated tables are built from the same source
// (kernels/cuda/table.cuh): the first by nvcc (CUDA builds only), the second by
// the host compiler against kernels/cuda/emulation.h (every build).
#pragma once
#include <vector>

#include "kernels/cpu/elementwise.h"  // cpu::Binary, the ops' names for binary maps
#include "tensor/device.h"

namespace sg {

class Tensor;

struct KernelTable {
  const char* device;  // as Device::str() spells the kind: "cpu", "cuda", "cuda-emulated"
  // Every element of the view dst := value.
  void (*fill)(const Tensor& dst, double value);
  // dst := src, same shape, any strides (a broadcast src is an expand()ed view).
  void (*copy)(const Tensor& src, const Tensor& dst);
  // out := op(a, b); a, b and out have one shape (broadcast inputs are expand()ed views).
  void (*binary)(cpu::Binary op, const Tensor& a, const Tensor& b, const Tensor& out);
  // out (keepdim shape, contiguous) := scale * sum of x over the dims d with reduce[d].
  void (*sum)(const Tensor& x, const std::vector<bool>& reduce, const Tensor& out, double scale);
  // out [batch..., M, N] (contiguous) := a [batch..., M, K] b [batch..., K, N], as cpu::matmul.
  void (*matmul)(const Tensor& a, const Tensor& b, const Tensor& out);
};

// The table of d's kind. cuda in a build without CUDA is an error that says so.
const KernelTable& kernels_on(Device d);

// The tables by kind, for the lookup above and for tests; null when the build
// has none (cuda without nvcc).
const KernelTable* cpu_kernel_table();
const KernelTable* cuda_kernel_table();
const KernelTable* cuda_emulated_kernel_table();

[[noreturn]] void throw_no_kernel(const char* op, Device d);

// The entry of d's table, or the error "op: no kernel on device D".
template <class F>
F kernel_for(Device d, F KernelTable::*entry, const char* op) {
  const F f = kernels_on(d).*entry;
  if (!f) throw_no_kernel(op, d);
  return f;
}

}  // namespace sg
