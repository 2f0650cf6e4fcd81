// safetensors: Hugging Face's weight format, and stylegrad's own.
//
//   [8 bytes]  N, the header length, unsigned 64-bit little-endian
//   [N bytes]  a JSON object, UTF-8:
//                {"conv1.weight": {"dtype": "F32", "shape": [64, 3, 3, 3], "data_offsets": [0, 6912]},
//                 ...,
//                 "__metadata__": {"any key": "any string value"}}     (optional)
//   [the rest] the tensors' bytes, row-major, little-endian; data_offsets are
//              [begin, end) byte offsets relative to the start of this section
//
// Files are untrusted input: the reader checks the header length against the
// file size, every offset against the data size, that each tensor's byte count
// matches its shape and dtype (with no overflow), that the tensors' byte ranges
// cover the data section exactly (no overlap, no hole, no trailing bytes, as the
// format requires), and that no name appears twice, and throws an sg::Error of one
// line "safetensors: <path>: <what>" for anything else.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"
#include "weights/stored_tensor.h"

namespace sg {

// The free-form "__metadata__" string map.
using SafetensorsMetadata = std::map<std::string, std::string>;

// A header larger than this is refused before it is read (the format's
// reference implementation uses the same 100 MB cap).
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// Reads every tensor. Float tensors (F64, F32, F16, BF16) are converted to
// `float_dtype` (f32 or f64); I64 stays int64 and BOOL becomes bool.
NamedTensors read_safetensors(const std::string& path, DType float_dtype = DType::f32);

// Each tensor's name, stored dtype and shape, from the header alone (checked as
// read_safetensors checks it; no tensor data is read).
StoredTensors list_safetensors(const std::string& path);

// Reads only the header's "__metadata__" (empty if the file has none).
SafetensorsMetadata read_safetensors_metadata(const std::string& path);

// Writes f32 (F32), f64 (F64), i64 (I64) and bool (BOOL) tensors, in the given
// order, from any device and any layout. The file is written under a temporary
// name in the same directory and renamed into place only once complete, so a
// failure never leaves a half-written file nor clobbers an existing one.
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const SafetensorsMetadata& metadata = {});

}  // namespace sg
