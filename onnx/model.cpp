#include "onnx/model.h"

#include <cstring>
#include <limits>
#include <set>

#include "onnx/protobuf.h"

namespace sg::onnx {

using protobuf::Field;
using protobuf::Reader;
using protobuf::WireType;

const char* data_type_name(int32_t t) {
  static const char* const names[] = {"UNDEFINED", "FLOAT", "UINT8",  "INT8",   "UINT16",    "INT16",
                                      "INT32",     "INT64", "STRING", "BOOL",   "FLOAT16",   "DOUBLE",
                                      "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  if (t >= 0 && t < int32_t(sizeof names / sizeof names[0])) return names[t];
  return "an unknown type";
}

// ---------------- TensorProto ----------------

namespace {

// The shape given by `dims`, checked: non-negative, at most kMaxDims, and an
// element count that fits in int64.
Shape checked_shape(const std::vector<int64_t>& dims, const std::string& what) {
  if (dims.size() > size_t(kMaxDims))
    throw Unsupported(what + ": " + std::to_string(dims.size()) + " dims, stylegrad tensors have at most " +
                      std::to_string(kMaxDims));
  // The product of the non-zero dims must fit too: contiguous strides multiply
  // them even when another dim is 0 (fuzz_onnx found [0, 2^61, 7] overflowing).
  int64_t nonzero_product = 1;
  for (int64_t d : dims) {
    SG_CHECK(d >= 0, what, ": negative dim ", d);
    SG_CHECK(d == 0 || nonzero_product <= std::numeric_limits<int64_t>::max() / d, what, ": too many elements");
    if (d != 0) nonzero_product *= d;
  }
  return Shape(dims);
}

template <class To, class From>
To bit_cast(From from) {
  static_assert(sizeof(To) == sizeof(From));
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}

// How one ONNX data type is held: the stylegrad dtype, and its size in raw_data.
struct Layout {
  DType dtype;
  size_t raw_size;
};

Layout layout_of(int32_t type, const std::string& what) {
  switch (DataType(type)) {
    case DataType::float32: return {DType::f32, 4};
    case DataType::float64: return {DType::f64, 8};
    case DataType::int64: return {DType::i64, 8};
    case DataType::int32: return {DType::i64, 4};
    case DataType::boolean: return {DType::b8, 1};
    default:
      throw Unsupported(what + ": data type " + data_type_name(type) +
                        " (stylegrad reads FLOAT, DOUBLE, INT64, INT32 and BOOL)");
  }
}

// Writes value i of a raw_data buffer (little-endian, `type`'s width) into t.
void store_raw(const Tensor& t, int32_t type, int64_t i, uint64_t bits) {
  switch (DataType(type)) {
    case DataType::float32: t.data<float>()[i] = bit_cast<float>(uint32_t(bits)); break;
    case DataType::float64: t.data<double>()[i] = bit_cast<double>(bits); break;
    case DataType::int64: t.data<int64_t>()[i] = int64_t(bits); break;
    case DataType::int32: t.data<int64_t>()[i] = int32_t(uint32_t(bits)); break;
    case DataType::boolean: t.data<bool>()[i] = bits != 0; break;
    default: break;  // layout_of has rejected the rest
  }
}

template <class T, class V>
void store_typed(const Tensor& t, const std::vector<V>& values) {
  T* out = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = T(values[i]);
}

// A TensorProto; its name goes to *name when asked for (initializers need it).
Tensor read_tensor(Reader r, std::string* name_out = nullptr) {
  std::vector<int64_t> dims;
  int32_t type = 0;
  std::string name;
  bool has_raw = false, external = false;
  std::string_view raw;
  std::vector<float> float_data;      // FLOAT
  std::vector<int64_t> int32_data;    // INT32, BOOL (and the small int types)
  std::vector<int64_t> int64_data;    // INT64
  std::vector<double> double_data;    // DOUBLE
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: protobuf::append_varints(f, dims); break;
      case 2: type = int32_t(f.as_int64()); break;
      case 3: throw Unsupported("TensorProto: segmented tensors");
      case 4: protobuf::append_floats(f, float_data); break;
      case 5: protobuf::append_varints(f, int32_data); break;
      case 7: protobuf::append_varints(f, int64_data); break;
      case 8: name = f.as_string(); break;
      case 9:
        f.expect(WireType::bytes);
        raw = f.bytes;
        has_raw = true;
        break;
      case 10: protobuf::append_doubles(f, double_data); break;
      case 14: external = f.as_int64() == 1; break;  // data_location EXTERNAL
      default: break;
    }
  }
  if (name_out) *name_out = name;
  const std::string what = name.empty() ? std::string("TensorProto") : "TensorProto '" + name + "'";
  if (external) throw Unsupported(what + ": data in an external file");
  const Layout layout = layout_of(type, what);
  const Shape shape = checked_shape(dims, what);
  const int64_t numel = shape.numel();

  if (has_raw) {
    SG_CHECK(raw.size() % layout.raw_size == 0 && int64_t(raw.size() / layout.raw_size) == numel, what,
             ": raw_data has ", raw.size(), " bytes, but ", data_type_name(type), " ", shape.str(), " needs ",
             numel, " values of ", layout.raw_size, " bytes");
    Tensor t = empty(shape, layout.dtype);
    for (int64_t i = 0; i < numel; ++i)
      store_raw(t, type, i, protobuf::little_endian(raw.substr(size_t(i) * layout.raw_size, layout.raw_size)));
    return t;
  }
  // Without raw_data the values are in the repeated field of the type's family.
  size_t count = 0;
  switch (DataType(type)) {
    case DataType::float32: count = float_data.size(); break;
    case DataType::float64: count = double_data.size(); break;
    case DataType::int64: count = int64_data.size(); break;
    default: count = int32_data.size(); break;  // INT32, BOOL
  }
  SG_CHECK(int64_t(count) == numel, what, ": ", count, " values for ", data_type_name(type), " ", shape.str(),
           " (", numel, " elements)");
  Tensor t = empty(shape, layout.dtype);
  switch (DataType(type)) {
    case DataType::float32: store_typed<float>(t, float_data); break;
    case DataType::float64: store_typed<double>(t, double_data); break;
    case DataType::int64: store_typed<int64_t>(t, int64_data); break;
    case DataType::int32: store_typed<int64_t>(t, int32_data); break;
    default: store_typed<bool>(t, int32_data); break;
  }
  return t;
}

}  // namespace

Tensor parse_tensor(std::string_view bytes) { return read_tensor(Reader(bytes, "TensorProto")); }

// ---------------- NodeProto ----------------

namespace {

const char* attribute_type_name(int32_t t) {
  static const char* const names[] = {"UNDEFINED", "FLOAT", "INT",    "STRING", "TENSOR",
                                      "GRAPH",     "FLOATS", "INTS", "STRINGS"};
  if (t >= 0 && t < int32_t(sizeof names / sizeof names[0])) return names[t];
  return "another type";
}

Attribute read_attribute(Reader r) {
  Attribute a;
  int32_t seen = Attribute::undefined;  // the type implied by the fields present
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: a.name = f.as_string(); break;
      case 2: a.f = f.as_float(); seen = Attribute::float_; break;
      case 3: a.i = f.as_int64(); seen = Attribute::int_; break;
      case 4: a.s = f.as_string(); seen = Attribute::string; break;
      case 5: a.t = read_tensor(r.embedded(f, "TensorProto")); seen = Attribute::tensor; break;
      case 6: seen = Attribute::graph; break;  // subgraphs (If, Loop) are not read
      case 7: protobuf::append_floats(f, a.fs); seen = Attribute::floats; break;
      case 8: protobuf::append_varints(f, a.is); seen = Attribute::ints; break;
      case 9: a.ss.push_back(f.as_string()); seen = Attribute::strings; break;
      case 20: a.type = int32_t(f.as_int64()); break;
      default: break;
    }
  }
  if (a.type == Attribute::undefined) a.type = seen;  // files before IR version 2 leave it out
  return a;
}

Node read_node(Reader r) {
  Node n;
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: n.inputs.push_back(f.as_string()); break;
      case 2: n.outputs.push_back(f.as_string()); break;
      case 3: n.name = f.as_string(); break;
      case 4: n.op_type = f.as_string(); break;
      case 5: n.attributes.push_back(read_attribute(r.embedded(f, "AttributeProto"))); break;
      case 7: n.domain = f.as_string(); break;
      default: break;
    }
  }
  SG_CHECK(!n.op_type.empty(), "NodeProto '", n.name, "' has no op_type");
  return n;
}

// ValueInfoProto: the name, and the kind of value from TypeProto's `value` oneof.
Value read_value(Reader r) {
  Value v;
  Field f;
  while (r.next(f)) {
    if (f.number == 1) v.name = f.as_string();
    if (f.number != 2) continue;
    Reader type = r.embedded(f, "TypeProto");
    Field t;
    while (type.next(t)) {
      switch (t.number) {
        case 1: v.kind = "tensor"; break;
        case 4: v.kind = "sequence"; break;
        case 5: v.kind = "map"; break;
        case 8: v.kind = "sparse tensor"; break;
        case 9: v.kind = "optional"; break;
        default: break;
      }
    }
  }
  return v;
}

void read_graph(Reader r, Model& m) {
  std::vector<Value> declared_inputs;
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: m.nodes.push_back(read_node(r.embedded(f, "NodeProto"))); break;
      case 5: {
        std::string name;
        Tensor value = read_tensor(r.embedded(f, "TensorProto"), &name);
        m.initializers.emplace_back(name, value);
        break;
      }
      case 11: declared_inputs.push_back(read_value(r.embedded(f, "ValueInfoProto"))); break;
      case 12: m.outputs.push_back(read_value(r.embedded(f, "ValueInfoProto"))); break;
      default: break;
    }
  }
  // Before IR version 4 every initializer was also listed as a graph input.
  std::set<std::string> given;
  for (const auto& init : m.initializers) given.insert(init.first);
  for (Value& v : declared_inputs)
    if (!given.count(v.name)) m.inputs.push_back(std::move(v));
}

}  // namespace

Model parse_model(std::string_view bytes) {
  Reader r(bytes, "ModelProto");
  Model m;
  bool has_graph = false;
  Field f;
  while (r.next(f)) {
    if (f.number == 7) {
      SG_CHECK(!has_graph, "ModelProto has two graphs");
      read_graph(r.embedded(f, "GraphProto"), m);
      has_graph = true;
    } else if (f.number == 8) {  // OperatorSetIdProto
      Reader op = r.embedded(f, "OperatorSetIdProto");
      std::string domain;
      int64_t version = 0;
      Field g;
      while (op.next(g)) {
        if (g.number == 1) domain = g.as_string();
        if (g.number == 2) version = g.as_int64();
      }
      if (domain.empty() || domain == "ai.onnx") m.opset = version;
    }
  }
  SG_CHECK(has_graph, "ModelProto has no graph");
  return m;
}

// ---------------- attribute access ----------------

const Attribute* Node::find(const std::string& attr) const {
  for (const Attribute& a : attributes)
    if (a.name == attr) return &a;
  return nullptr;
}

// The attribute `attr` if present, after checking it has type `want`.
static const Attribute* typed(const Node& n, const std::string& attr, int32_t want) {
  const Attribute* a = n.find(attr);
  SG_CHECK(!a || a->type == want, n.op_type, ": attribute '", attr, "' is ", attribute_type_name(a->type),
           ", expected ", attribute_type_name(want));
  return a;
}

int64_t Node::get_int(const std::string& attr, int64_t fallback) const {
  const Attribute* a = typed(*this, attr, Attribute::int_);
  return a ? a->i : fallback;
}

float Node::get_float(const std::string& attr, float fallback) const {
  const Attribute* a = typed(*this, attr, Attribute::float_);
  return a ? a->f : fallback;
}

std::string Node::get_string(const std::string& attr, const std::string& fallback) const {
  const Attribute* a = typed(*this, attr, Attribute::string);
  return a ? a->s : fallback;
}

std::vector<int64_t> Node::get_ints(const std::string& attr, const std::vector<int64_t>& fallback) const {
  const Attribute* a = typed(*this, attr, Attribute::ints);
  return a ? a->is : fallback;
}

}  // namespace sg::onnx
