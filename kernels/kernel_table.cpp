#include "kernels/kernel_table.h"

#include "kernels/cpu/copy.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/reduce.h"
#include "tensor/error.h"

namespace sg {

const KernelTable* cpu_kernel_table() {
  static const KernelTable table{"cpu", cpu::fill, cpu::copy, cpu::binary, cpu::sum, cpu::matmul};
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
  SG_CHECK(cuda, "device ", d.str(),
           ": this build of stylegrad has no CUDA support (nvcc was not found, or -DSTYLEGRAD_CUDA=OFF); "
           "cuda-emulated runs the CUDA kernels on the CPU");
  return *cuda;
}

void throw_no_kernel(const char* op, Device d) { throw Error(std::string(op) + ": no kernel on device " + d.str()); }

}  // namespace sg
