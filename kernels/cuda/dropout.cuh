// Dropout's mask on the GPU, with the CPU kernel's contract and numbers
// (kernels/cpu/dropout.h): the same Philox4x32-10 words (kernels/philox.h),
// so one seed gives one mask on every device. A thread per group of four
// elements (one Philox call), in a grid-stride loop; the numbers are computed
// where they are used, so nothing but the mask touches memory.
#pragma once
#include "kernels/cuda/fill_copy.cuh"
#include "kernels/cuda/host_util.cuh"
#include "kernels/philox.h"

namespace sg::SG_KERNELS {

__global__ void dropout_mask_kernel(float* mask, int64_t n, uint64_t seed, double keep, float scale) {
  const int64_t groups = (n + 3) / 4;
  for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += int64_t(blockDim.x) * gridDim.x) {
    const Philox4x32 words = philox_group(seed, uint64_t(g));
    for (int64_t j = 0; j < 4 && 4 * g + j < n; ++j)
      mask[4 * g + j] = philox_uniform(words.v[j]) < keep ? scale : 0.0f;
  }
}

inline void dropout_mask_entry(const Tensor& mask, const DropoutMask& d) {
  require_f32("dropout_mask", mask);
  SG_CHECK(mask.is_contiguous(), "dropout_mask: the mask must be contiguous");
  const int64_t n = mask.numel();
  if (n == 0) return;
  SG_LAUNCH(dropout_mask_kernel, blocks_for((n + 3) / 4, kElementwiseThreads), kElementwiseThreads, 0, kStream)(
      mask.device_data<float>(), n, d.seed, d.keep, float(d.scale));
  SG_CHECK_LAUNCH("dropout_mask");
}

}  // namespace sg::SG_KERNELS
