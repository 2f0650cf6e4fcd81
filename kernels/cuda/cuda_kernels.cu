// The cuda kernel table: kernels/cuda/table.cuh compiled by nvcc (CUDA builds).
// Linking needs no GPU; a launch without one fails with CUDA's error, named.
#include "kernels/cuda/table.cuh"

namespace sg {
const KernelTable* cuda_kernel_table() { return &cuda_kernels::kTable; }
}  // namespace sg
