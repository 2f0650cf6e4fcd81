// libFuzzer target: arbitrary bytes into the pickle VM (with the torch
// checkpoint allow-list), then into find_state_dict's walk of the result.
// Any sg::Error is a correct answer; a crash, sanitizer report, hang or other
// exception is a bug. Run with `make fuzz`.
#include <cstddef>
#include <cstdint>

#include "weights/pickle.h"
#include "weights/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const sg::pickle::Unpickled result =
        sg::pickle::unpickle(sg::ByteSpan{data, size}, 0, sg::torch_checkpoint_allowed_globals());
    sg::find_state_dict(*result.root);
  } catch (const sg::Error&) {
  }
  return 0;
}
