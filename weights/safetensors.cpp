// Reading: parse and validate the whole header first (so a bad file fails
// before any tensor is allocated), then read each tensor's bytes with one
// seek + read and convert them to the engine's dtype.
// Writing: build the header, pad it, write header + data through an
// AtomicFile (a temporary file renamed over the target once complete).
#include "weights/safetensors.h"

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "io/atomic_file.h"
#include "tensor/error.h"
#include "weights/float16.h"
#include "weights/json.h"

// Tensor bytes are copied as they are between the file (little-endian) and memory.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors: a little-endian host is assumed");
static_assert(sizeof(bool) == 1, "safetensors: BOOL tensors are stored as one byte per element");

namespace sg {

namespace {

// The dtypes this reader understands: their name in the header and size in bytes.
enum class FileDType { F64, F32, F16, BF16, I64, BOOL };
struct FileDTypeInfo {
  FileDType type;
  const char* name;
  size_t itemsize;
  const char* torch_name;  // as weights-info shows it
};
constexpr FileDTypeInfo kFileDTypes[] = {
    {FileDType::F64, "F64", 8, "float64"},   {FileDType::F32, "F32", 4, "float32"},
    {FileDType::F16, "F16", 2, "float16"},   {FileDType::BF16, "BF16", 2, "bfloat16"},
    {FileDType::I64, "I64", 8, "int64"},     {FileDType::BOOL, "BOOL", 1, "bool"},
};
constexpr const char* kSupportedNames = "F64, F32, F16, BF16, I64, BOOL";

// One tensor's entry in the header, validated.
struct Entry {
  std::string name;
  FileDTypeInfo dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;  // relative to the start of the data section
};

struct Header {
  std::vector<Entry> entries;  // in file order
  SafetensorsMetadata metadata;
  uint64_t data_start = 0;  // 8 + header length
};

// Errors all start with "safetensors: <path>: ".
struct Context {
  std::string path;
  template <class... Args>
  [[noreturn]] void fail(const Args&... args) const {
    throw Error(detail::concat("safetensors: ", path, ": ", args...));
  }
};

uint64_t parse_u64(const Context& ctx, const std::string& tensor, const json::Value& v, const char* what) {
  const std::optional<uint64_t> u = json::to_uint64(v);
  if (!u) ctx.fail("tensor ", json::quote(tensor), ": ", what, " must be a non-negative integer");
  return *u;
}

Entry parse_entry(const Context& ctx, const std::string& name, const json::Value& v, uint64_t data_size) {
  const std::string tensor = json::quote(name);
  if (!v.is_object()) ctx.fail("tensor ", tensor, ": expected an object with dtype, shape, data_offsets");
  for (const auto& member : v.object)
    if (member.first != "dtype" && member.first != "shape" && member.first != "data_offsets")
      ctx.fail("tensor ", tensor, ": unexpected key ", json::quote(member.first));
  const json::Value* dtype = v.find("dtype");
  const json::Value* shape = v.find("shape");
  const json::Value* offsets = v.find("data_offsets");
  if (!dtype || !shape || !offsets) ctx.fail("tensor ", tensor, ": needs dtype, shape and data_offsets");

  Entry e;
  e.name = name;
  if (!dtype->is_string()) ctx.fail("tensor ", tensor, ": dtype must be a string");
  const FileDTypeInfo* info = nullptr;
  for (const FileDTypeInfo& d : kFileDTypes)
    if (dtype->string == d.name) info = &d;
  if (!info)
    ctx.fail("tensor ", tensor, ": unsupported dtype ", json::quote(dtype->string), " (supported: ",
             kSupportedNames, ")");
  e.dtype = *info;

  if (!shape->is_array()) ctx.fail("tensor ", tensor, ": shape must be an array");
  if (shape->array.size() > size_t(kMaxDims))
    ctx.fail("tensor ", tensor, ": shape has ", shape->array.size(), " dims, at most ", kMaxDims, " are supported");
  // Every product of sizes (strides included) must fit in int64, and so must
  // the byte count: bound the product of the non-zero sizes.
  const uint64_t max_elements = uint64_t(std::numeric_limits<int64_t>::max()) / e.dtype.itemsize;
  uint64_t numel = 1, nonzero_product = 1;
  for (const json::Value& d : shape->array) {
    const uint64_t size = parse_u64(ctx, name, d, "every shape entry");
    if (size != 0 && nonzero_product > max_elements / size)
      ctx.fail("tensor ", tensor, ": shape is too large (element count overflows)");
    if (size != 0) nonzero_product *= size;
    numel *= size;
    e.shape.push_back(int64_t(size));
  }

  if (!offsets->is_array() || offsets->array.size() != 2)
    ctx.fail("tensor ", tensor, ": data_offsets must be an array [begin, end]");
  e.begin = parse_u64(ctx, name, offsets->array[0], "data_offsets");
  e.end = parse_u64(ctx, name, offsets->array[1], "data_offsets");
  if (e.begin > e.end) ctx.fail("tensor ", tensor, ": data_offsets [", e.begin, ", ", e.end, "] end before they begin");
  if (e.end > data_size)
    ctx.fail("tensor ", tensor, ": data_offsets [", e.begin, ", ", e.end, "] run past the end of the data (",
             data_size, " bytes)");
  const uint64_t nbytes = numel * e.dtype.itemsize;  // cannot overflow: numel <= max_elements
  if (e.end - e.begin != nbytes)
    ctx.fail("tensor ", tensor, ": data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin,
             " bytes, but shape ", e.shape.str(), " of ", e.dtype.name, " needs ", nbytes);
  return e;
}

SafetensorsMetadata parse_metadata(const Context& ctx, const json::Value& v) {
  if (!v.is_object()) ctx.fail("__metadata__ must be an object of strings");
  SafetensorsMetadata m;
  for (const auto& member : v.object) {
    if (!member.second.is_string()) ctx.fail("__metadata__ value of ", json::quote(member.first), " is not a string");
    m[member.first] = member.second.string;
  }
  return m;
}

// The format's own rule: the tensors' byte ranges, sorted, tile the data
// section exactly, from 0 to the end of the file: no overlap (two tensors
// sharing bytes), no hole, no trailing bytes. (Empty tensors take no bytes.)
void check_layout(const Context& ctx, const std::vector<Entry>& entries, uint64_t data_size) {
  std::vector<const Entry*> sorted;
  for (const Entry& e : entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t expected = 0;
  const Entry* previous = nullptr;
  for (const Entry* e : sorted) {
    if (e->begin < expected)
      ctx.fail("tensor ", json::quote(e->name), ": data_offsets [", e->begin, ", ", e->end, "] overlap those of ",
               json::quote(previous->name), " [", previous->begin, ", ", previous->end, "]");
    if (e->begin > expected)
      ctx.fail("tensor ", json::quote(e->name), ": data_offsets [", e->begin, ", ", e->end, "] leave a hole: bytes [",
               expected, ", ", e->begin, ") of the data belong to no tensor");
    expected = e->end;
    previous = e;
  }
  if (expected != data_size)
    ctx.fail("the data section has ", data_size, " bytes but its tensors end at byte ", expected, ": ",
             data_size - expected, " trailing bytes");
}

// Opens `path` and validates its header. `file_size` is set to the file's size.
Header read_header(const Context& ctx, std::ifstream& in, uint64_t& file_size) {
  in.open(ctx.path, std::ios::binary);
  if (!in) ctx.fail("cannot open: ", std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) ctx.fail("cannot determine the file size");
  file_size = uint64_t(size);
  if (file_size < 8) ctx.fail("file is ", file_size, " bytes, too short for the 8-byte header length");

  uint64_t header_len = 0;
  in.seekg(0);
  in.read(reinterpret_cast<char*>(&header_len), 8);
  if (!in) ctx.fail("cannot read the header length");
  if (header_len > kMaxSafetensorsHeaderBytes)
    ctx.fail("header length ", header_len, " exceeds the limit of ", kMaxSafetensorsHeaderBytes, " bytes");
  if (header_len > file_size - 8)
    ctx.fail("header length ", header_len, " is larger than the rest of the file (", file_size - 8, " bytes)");

  std::string text(size_t(header_len), '\0');
  in.read(text.data(), std::streamsize(header_len));
  if (!in) ctx.fail("cannot read the ", header_len, "-byte header");
  json::Value root;
  try {
    root = json::parse(text);
  } catch (const Error& e) {
    ctx.fail("header is not valid JSON: ", e.what());
  }
  if (!root.is_object()) ctx.fail("header must be a JSON object");

  Header h;
  h.data_start = 8 + header_len;
  const uint64_t data_size = file_size - h.data_start;
  for (const auto& member : root.object) {  // the JSON parser has rejected duplicate names
    if (member.first == "__metadata__")
      h.metadata = parse_metadata(ctx, member.second);
    else
      h.entries.push_back(parse_entry(ctx, member.first, member.second, data_size));
  }
  check_layout(ctx, h.entries, data_size);
  return h;
}

template <class T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Converts `n` elements of a float file dtype at `src` into `dst`.
template <class Out>
void convert_floats(FileDType from, const unsigned char* src, int64_t n, Out* dst) {
  switch (from) {
    case FileDType::F64:
      for (int64_t i = 0; i < n; ++i) dst[i] = Out(load<double>(src + 8 * i));
      break;
    case FileDType::F32:
      for (int64_t i = 0; i < n; ++i) dst[i] = Out(load<float>(src + 4 * i));
      break;
    case FileDType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = Out(half_to_float(load<uint16_t>(src + 2 * i)));
      break;
    case FileDType::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = Out(bfloat16_to_float(load<uint16_t>(src + 2 * i)));
      break;
    default:
      break;
  }
}

Tensor read_tensor(const Context& ctx, std::ifstream& in, const Header& h, const Entry& e, DType float_dtype) {
  const bool is_float = e.dtype.type != FileDType::I64 && e.dtype.type != FileDType::BOOL;
  const DType out_dtype = is_float ? float_dtype : e.dtype.type == FileDType::I64 ? DType::i64 : DType::b8;
  Tensor out = empty(e.shape, TensorOptions(out_dtype));
  const uint64_t nbytes = e.end - e.begin;
  if (nbytes == 0) return out;

  // The bytes go straight into the tensor when they already have its layout,
  // else through a buffer and a conversion.
  const bool same_layout = (e.dtype.type == FileDType::F32 && out_dtype == DType::f32) ||
                           (e.dtype.type == FileDType::F64 && out_dtype == DType::f64) ||
                           e.dtype.type == FileDType::I64 || e.dtype.type == FileDType::BOOL;
  std::vector<unsigned char> buffer;
  unsigned char* dst = static_cast<unsigned char*>(out.raw_data());
  if (!same_layout) {
    buffer.resize(size_t(nbytes));
    dst = buffer.data();
  }
  in.seekg(std::streamoff(h.data_start + e.begin));
  in.read(reinterpret_cast<char*>(dst), std::streamsize(nbytes));
  if (!in) ctx.fail("tensor ", json::quote(e.name), ": cannot read its ", nbytes, " bytes");

  if (e.dtype.type == FileDType::BOOL) {  // any byte but 0 or 1 would be an invalid C++ bool
    for (uint64_t i = 0; i < nbytes; ++i)
      if (dst[i] > 1) ctx.fail("tensor ", json::quote(e.name), ": BOOL element ", i, " is ", int(dst[i]), ", not 0 or 1");
  }
  if (!same_layout) {
    if (out_dtype == DType::f32)
      convert_floats(e.dtype.type, dst, out.numel(), out.data<float>());
    else
      convert_floats(e.dtype.type, dst, out.numel(), out.data<double>());
  }
  return out;
}

const char* file_dtype_name(const Context& ctx, const std::string& name, DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i64: return "I64";
    case DType::b8: return "BOOL";
  }
  ctx.fail("tensor ", json::quote(name), ": cannot store dtype ", dtype_name(t));
}

}  // namespace

NamedTensors read_safetensors(const std::string& path, DType float_dtype) {
  const Context ctx{path};
  if (!is_floating(float_dtype)) ctx.fail("float tensors can be read as float32 or float64, not ", dtype_name(float_dtype));
  std::ifstream in;
  uint64_t file_size = 0;
  const Header h = read_header(ctx, in, file_size);
  NamedTensors out;
  out.reserve(h.entries.size());
  for (const Entry& e : h.entries) out.emplace_back(e.name, read_tensor(ctx, in, h, e, float_dtype));
  return out;
}

StoredTensors list_safetensors(const std::string& path) {
  const Context ctx{path};
  std::ifstream in;
  uint64_t file_size = 0;
  StoredTensors out;
  for (const Entry& e : read_header(ctx, in, file_size).entries) out.push_back({e.name, e.dtype.torch_name, e.shape});
  return out;
}

SafetensorsMetadata read_safetensors_metadata(const std::string& path) {
  const Context ctx{path};
  std::ifstream in;
  uint64_t file_size = 0;
  return read_header(ctx, in, file_size).metadata;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors, const SafetensorsMetadata& metadata) {
  const Context ctx{path};
  // Validate everything and lay out the data before creating any file.
  std::set<std::string> names;
  std::vector<Tensor> contents;  // contiguous CPU copies, in order
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (auto it = metadata.begin(); it != metadata.end(); ++it)
      header += (it == metadata.begin() ? "" : ",") + json::quote(it->first) + ":" + json::quote(it->second);
    header += "}";
  }
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") ctx.fail("a tensor cannot be named \"__metadata__\"");
    if (!names.insert(name).second) ctx.fail("two tensors are named ", json::quote(name));
    if (!tensor.defined()) ctx.fail("tensor ", json::quote(name), " is undefined");
    const char* dtype = file_dtype_name(ctx, name, tensor.dtype());
    Tensor t = tensor.detach().to(Device::cpu()).contiguous();
    const uint64_t nbytes = uint64_t(t.numel()) * dtype_size(t.dtype());
    std::string shape;
    for (int d = 0; d < t.dim(); ++d) shape += (d ? "," : "") + std::to_string(t.size(d));
    header += (header.size() > 1 ? "," : "") + json::quote(name) + ":{\"dtype\":\"" + dtype + "\",\"shape\":[" +
              shape + "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
    offset += nbytes;
    contents.push_back(t);
  }
  header += "}";
  // Pad with spaces (valid JSON whitespace) so the data starts 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');

  AtomicFile file(path, "safetensors: " + path);
  const uint64_t header_len = header.size();
  file.write(&header_len, 8);
  file.write(header.data(), header.size());
  for (const Tensor& t : contents) file.write(t.raw_data(), size_t(t.numel()) * dtype_size(t.dtype()));
  file.commit();
}

}  // namespace sg
