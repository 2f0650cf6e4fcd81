// libFuzzer target: arbitrary bytes into the checkpoint loader (zip or legacy
// format, pickle, storages, views), then every element of every tensor read
// back, so that a view the loader wrongly accepted shows up under
// AddressSanitizer, and the same file listed as weights-info lists it
// (stored dtypes, views checked, nothing converted). Any sg::Error is a
// correct answer. Run with `make fuzz`.
#include <cstddef>
#include <cstdint>

#include "weights/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    for (const auto& [name, tensor] : sg::load_torch_checkpoint_from_memory(data, size, sg::DType::f32, "fuzz"))
      if (tensor.numel() <= (1 << 16)) (void)tensor.to_vector();
  } catch (const sg::Error&) {
  }
  try {
    const sg::TorchCheckpoint checkpoint = sg::TorchCheckpoint::from_memory(data, size, "fuzz");
    (void)checkpoint.stored_tensors(sg::find_state_dict(checkpoint.root()));
  } catch (const sg::Error&) {
  }
  return 0;
}
