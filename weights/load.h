// One entry point for weight files in any format stylegrad reads, chosen by
// the file's first bytes, not its name:
//   safetensors                 (8-byte header length, then '{')
//   torch.save zip format       ("PK\x03\x04", torch >= 1.6)
//   torch.save legacy format    (a pickle starting "\x80\x02")
#pragma once
#include <string>

#include "weights/safetensors.h"

namespace sg {

enum class WeightFormat { safetensors, torch_zip, torch_legacy };
WeightFormat detect_weight_format(const std::string& path);
const char* weight_format_name(WeightFormat f);

// The tensors (a state_dict) in file order; floats become `float_dtype`.
NamedTensors load_weights(const std::string& path, DType float_dtype = DType::f32);

// Each tensor's name, dtype as stored in the file (float16, bfloat16, int32,
// ...: not the converted one) and shape, from headers only.
StoredTensors list_weights(const std::string& path);

// Where `weights/fetch.sh NAME` puts a model's official file, if it is there
// ($STYLEGRAD_WEIGHTS_DIR, else weights/downloads/ under the current directory);
// "" if not found. NAME: vgg19, vgg16.
std::string find_pretrained_weights(const std::string& name);

}  // namespace sg
