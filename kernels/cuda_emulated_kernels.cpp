// The cuda-emulated kernel table: kernels/cuda/table.cuh -- the CUDA kernel
// sources and their launches -- compiled by the host compiler against the
// emulation of the launch model (kernels/cuda/emulation.h). In every build.
#include "kernels/cuda/table.cuh"

namespace sg {
const KernelTable* cuda_emulated_kernel_table() { return &cuda_emulated_kernels::kTable; }
}  // namespace sg
