#include "kernels/cpu/dropout.h"

#include "kernels/cpu/loops.h"
#include "kernels/philox.h"
#include "tensor/error.h"

namespace sg::cpu {

namespace {

template <class T>
void dropout_mask_typed(T* mask, int64_t n, const DropoutMask& d) {
  const T scale = T(d.scale);
  const int64_t groups = (n + 3) / 4;  // one Philox call gives four elements' numbers
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (int64_t g = 0; g < groups; ++g) {
    const Philox4x32 words = philox_group(d.seed, uint64_t(g));
    for (int64_t j = 0; j < 4 && 4 * g + j < n; ++j)
      mask[4 * g + j] = philox_uniform(words.v[j]) < d.keep ? scale : T(0);
  }
}

}  // namespace

void dropout_mask(const Tensor& mask, const DropoutMask& d) {
  SG_CHECK(mask.is_contiguous(), "dropout_mask: the mask must be contiguous");
  dispatch_float(mask.dtype(), "dropout_mask",
                 [&](auto z) { dropout_mask_typed(mask.data<decltype(z)>(), mask.numel(), d); });
}

}  // namespace sg::cpu
