// ONNX files read with the protobuf reader (onnx/protobuf.h): a ModelProto's
// graph (nodes, their attributes, the graph's inputs, outputs and initializers,
// the opset) and TensorProto -> Tensor. Only the fields stylegrad uses are kept;
// the rest are skipped, as protobuf allows.
//
// Field numbers are those of onnx/onnx.proto. Malformed bytes throw sg::Error
// (one line); valid ONNX that needs something stylegrad lacks throws
// onnx::Unsupported, so that a caller can tell the two apart.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tensor/error.h"
#include "tensor/tensor.h"

namespace sg::onnx {

struct Unsupported : Error {
  using Error::Error;
};

// TensorProto.DataType values.
enum class DataType : int32_t {
  undefined = 0, float32 = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7,
  string = 8, boolean = 9, float16 = 10, float64 = 11, uint32 = 12, uint64 = 13,
  complex64 = 14, complex128 = 15, bfloat16 = 16,
};
const char* data_type_name(int32_t t);  // "FLOAT", "INT64", ... ("type 99" when unknown)

// A TensorProto as a stylegrad Tensor: FLOAT -> f32, DOUBLE -> f64, INT64 and
// INT32 -> i64 (widened), BOOL -> b8; other types throw Unsupported.
Tensor parse_tensor(std::string_view bytes);

// AttributeProto: one of a scalar, a string, a tensor or a list, by `type`.
struct Attribute {
  enum Type : int32_t { undefined = 0, float_ = 1, int_ = 2, string = 3, tensor = 4, graph = 5,
                        floats = 6, ints = 7, strings = 8 };  // and more that stylegrad never reads
  std::string name;
  int32_t type = undefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::vector<float> fs;
  std::vector<int64_t> is;
  std::vector<std::string> ss;
};

struct Node {
  std::string op_type, domain, name;
  std::vector<std::string> inputs, outputs;  // "" marks an omitted optional input
  std::vector<Attribute> attributes;

  const Attribute* find(const std::string& attr) const;  // null if absent
  // Attribute values with a default for when the attribute is absent; an attribute
  // of another type throws ("Conv: attribute 'group' is FLOATS, expected INT").
  int64_t get_int(const std::string& attr, int64_t fallback) const;
  float get_float(const std::string& attr, float fallback) const;
  std::string get_string(const std::string& attr, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& attr, const std::vector<int64_t>& fallback) const;
};

// A graph input or output: its name and what kind of value it carries
// ("tensor", "sequence", "map", "optional", "sparse tensor"; "" if not given).
struct Value {
  std::string name, kind;
};

struct Model {
  int64_t opset = 0;  // version of the default operator set ("" or "ai.onnx"); 0 if not imported
  std::vector<Node> nodes;  // in execution order, as ONNX requires
  std::vector<Value> inputs, outputs;  // inputs exclude those given by initializers
  std::vector<std::pair<std::string, Tensor>> initializers;
};

Model parse_model(std::string_view bytes);

}  // namespace sg::onnx
