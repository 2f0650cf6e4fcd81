// libFuzzer target: the ONNX readers (onnx/model.cpp over onnx/protobuf.cpp)
// on arbitrary bytes, read both as a ModelProto and as a TensorProto. Each must
// return or throw sg::Error; a crash, a sanitizer report, a leak or a timeout
// is a bug. Run with `make fuzz` (seeds: tests/data/checkpoints and the ONNX node tests).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "onnx/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    sg::onnx::parse_model(bytes);
  } catch (const sg::Error&) {
  }
  try {
    sg::onnx::parse_tensor(bytes);
  } catch (const sg::Error&) {
  }
  return 0;
}
