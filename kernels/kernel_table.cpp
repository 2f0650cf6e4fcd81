#include "kernels/kernel_table.h"

#include "kernels/cpu/conv.h"
#include "kernels/cpu/copy.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/index.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/optim.h"
#include "kernels/cpu/pad.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/softmax.h"
#include "kernels/cpu/upsample.h"
#include "tensor/cuda_memory.h"
#include "tensor/error.h"

namespace sg {

// SG_KERNEL_TABLE_ENTRIES lists every entry: the struct is its device name
// and one function pointer per entry, nothing else.
#define SG_COUNT_ENTRY(name) +1
static_assert(sizeof(KernelTable) == sizeof(const char*) + (0 SG_KERNEL_TABLE_ENTRIES(SG_COUNT_ENTRY)) * sizeof(void (*)()),
              "SG_KERNEL_TABLE_ENTRIES does not name every entry of KernelTable");
#undef SG_COUNT_ENTRY

// The CPU has every kernel.
static KernelTable make_cpu_table() {
  KernelTable t;
  t.device = "cpu";
  t.fill = cpu::fill;
  t.copy = cpu::copy;
  t.unary = cpu::unary;
  t.binary = cpu::binary;
  t.compare = cpu::compare;
  t.where = cpu::where;
  t.sum = cpu::sum;
  t.max_along = cpu::max_along;
  t.matmul = cpu::matmul;
  t.gram = cpu::gram;
  t.softmax = cpu::softmax;
  t.gather = cpu::gather;
  t.scatter_add = cpu::scatter_add;
  t.flip = cpu::flip;
  t.conv2d = cpu::conv2d;
  t.conv_transpose2d = cpu::conv_transpose2d;
  t.conv2d_weight_grad = cpu::conv2d_weight_grad;
  t.normalize = cpu::normalize;
  t.normalize_backward = cpu::normalize_backward;
  t.dropout_mask = cpu::dropout_mask;
  t.pad2d = cpu::pad2d;
  t.pad2d_backward = cpu::pad2d_backward;
  t.max_pool2d = cpu::max_pool2d;
  t.avg_pool2d = cpu::avg_pool2d;
  t.avg_pool2d_backward = cpu::avg_pool2d_backward;
  t.upsample_nearest2d = cpu::upsample_nearest2d;
  t.upsample_nearest2d_backward = cpu::upsample_nearest2d_backward;
  t.upsample_bilinear2d = cpu::upsample_bilinear2d;
  t.upsample_bilinear2d_backward = cpu::upsample_bilinear2d_backward;
  t.adam_update = cpu::adam_update;
  return t;
}

const KernelTable* cpu_kernel_table() {
  static const KernelTable table = make_cpu_table();
  return &table;
}

#ifndef STYLEGRAD_WITH_CUDA
const KernelTable* cuda_kernel_table() { return nullptr; }
#endif

const KernelTable& kernels_on(Device d) {
  switch (d.type) {
    case DeviceType::cpu: return *cpu_kernel_table();
    case DeviceType::cuda_emulated: return *cuda_emulated_kernel_table();
    case DeviceType::cuda: break;
  }
  const KernelTable* cuda = cuda_kernel_table();
  SG_CHECK(cuda, device_unavailable_reason(d));  // a build without CUDA
  // The entry about to run launches on the current device's stream: make it
  // d, whatever device the last allocation or copy left current.
  cuda_set_device(d.index);
  return *cuda;
}

void throw_no_kernel(const char* op, Device d) { throw Error(std::string(op) + ": no kernel on device " + d.str()); }

}  // namespace sg
