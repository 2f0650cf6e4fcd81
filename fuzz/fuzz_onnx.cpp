// libFuzzer target: the ONNX readers (weights/onnx.cpp over weights/protobuf.cpp)
// on arbitrary bytes, read both as a ModelProto and as a TensorProto. Each must
// return or throw sg::Error; a crash, a sanitizer report, a leak or a timeout
// is a bug.
//
// Build and run (from the repository root; seeds: the ONNX node tests):
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fopenmp -Wno-pass-failed \
//     -I. -I/usr/include/eigen3 fuzz/fuzz_onnx.cpp weights/protobuf.cpp weights/onnx.cpp \
//     tensor/*.cpp autograd/*.cpp kernels/cpu/*.cpp ops/*.cpp -o build/fuzz_onnx
//   mkdir -p build/fuzz_onnx_corpus
//   find /usr/share/libonnx-testdata/data/node -name '*.onnx' -o -name '*.pb' | head -400 |
//     xargs -I{} cp --backup=numbered {} build/fuzz_onnx_corpus/
//   build/fuzz_onnx -max_total_time=60 -max_len=65536 -rss_limit_mb=1024 build/fuzz_onnx_corpus
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "weights/onnx.h"

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
