// libFuzzer target: arbitrary bytes into the checkpoint loader (zip or legacy
// format, pickle, storages, views), then every element of every tensor read
// back, so that a view the loader wrongly accepted shows up under
// AddressSanitizer. (Huge valid views -- stride 0 over one element -- are
// skipped: reading them would only measure memory.) Any sg::Error is a correct answer. Run with `make fuzz`.
#include <cstddef>
#include <cstdint>

#include "weights/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    for (const auto& [name, tensor] : sg::load_torch_checkpoint_from_memory(data, size, sg::DType::f32, "fuzz"))
      if (tensor.numel() <= (1 << 16)) (void)tensor.to_vector();
  } catch (const sg::Error&) {
  }
  return 0;
}
