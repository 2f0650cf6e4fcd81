// What a weight file says about one tensor, read from its header or pickle
// only (no tensor data is read or converted): `stylegrad weights-info`.
#pragma once
#include <string>
#include <vector>

#include "tensor/shape.h"

namespace sg {

struct StoredTensor {
  std::string name;
  std::string dtype;  // as stored, in torch's names: "float16", "bfloat16", "float64", "int32", "bool", ...
  Shape shape;
};
using StoredTensors = std::vector<StoredTensor>;

}  // namespace sg
