#include "weights/torch_checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <unordered_set>

#include "weights/zip.h"

namespace sg {

using pickle::Value;
using Kind = pickle::Value::Kind;

namespace {

// ---- storage types ----

enum class Element { f64, f32, f16, bf16, i64, i32, i16, i8, u8, b8 };

struct StorageType {
  const char* name;
  Element element;
  size_t element_size;
  const char* dtype;  // torch's name of the element type, as weights-info shows it
};

// The storage classes torch.save names in persistent ids (torch.<X>Storage,
// even in torch 2.x). Complex and quantized storages are not here, so a
// checkpoint holding them is refused at its first reference to one.
constexpr StorageType kStorageTypes[] = {
    {"torch.DoubleStorage", Element::f64, 8, "float64"}, {"torch.FloatStorage", Element::f32, 4, "float32"},
    {"torch.HalfStorage", Element::f16, 2, "float16"},   {"torch.BFloat16Storage", Element::bf16, 2, "bfloat16"},
    {"torch.LongStorage", Element::i64, 8, "int64"},     {"torch.IntStorage", Element::i32, 4, "int32"},
    {"torch.ShortStorage", Element::i16, 2, "int16"},    {"torch.CharStorage", Element::i8, 1, "int8"},
    {"torch.ByteStorage", Element::u8, 1, "uint8"},      {"torch.BoolStorage", Element::b8, 1, "bool"},
};

const StorageType* find_storage_type(const std::string& name) {
  for (const StorageType& t : kStorageTypes)
    if (name == t.name) return &t;
  return nullptr;
}
const StorageType& storage_type(const std::string& name) {
  const StorageType* t = find_storage_type(name);
  SG_CHECK(t, "unknown storage type '", name, "'");
  return *t;
}

// ---- the functions a pickled tensor calls ----

// torch._utils._rebuild_tensor(storage, storage_offset, size, stride): torch < 0.4 (torchvision's VGG files).
const std::string kRebuildTensorV1 = "torch._utils._rebuild_tensor";
// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
const std::string kRebuildTensorV2 = "torch._utils._rebuild_tensor_v2";
// nn.Parameter: _rebuild_parameter(data, requires_grad, backward_hooks[, state]), data being a tensor.
const std::string kRebuildParameter = "torch._utils._rebuild_parameter";
const std::string kRebuildParameterWithState = "torch._utils._rebuild_parameter_with_state";

bool is_rebuild_tensor(const Value& v) {
  const std::string& fn = v.callable_name();
  return fn == kRebuildTensorV1 || fn == kRebuildTensorV2;
}
bool is_rebuild_parameter(const Value& v) {
  const std::string& fn = v.callable_name();
  return fn == kRebuildParameter || fn == kRebuildParameterWithState;
}

// ---- reading pickled values ----

// "an int", "a list", "a call of torch.foo": the value's kind with its article.
std::string describe(const Value& v) {
  if (v.is(Kind::call)) return "a call of " + v.callable_name();
  return pickle::with_article(pickle::kind_name(v.kind));
}

int64_t as_int(const Value& v, const std::string& what) {
  SG_CHECK(v.is(Kind::integer), what, " is ", describe(v), ", not an int");
  return v.integer;
}
const std::string& as_text(const Value& v, const std::string& what) {
  SG_CHECK(v.is_text(), what, " is ", describe(v), ", not a string");
  return v.text;
}
std::vector<int64_t> as_int_tuple(const Value& v, const std::string& what) {
  SG_CHECK(v.is(Kind::tuple) || v.is(Kind::list), what, " is ", describe(v), ", not a tuple");
  std::vector<int64_t> ints;
  for (const Value* item : v.items) ints.push_back(as_int(*item, what + " element"));
  return ints;
}

// ---- flattening nested dicts ----

constexpr int kMaxDictNesting = 64;

struct Leaf {
  std::string name;
  const Value* value;
};

std::string key_text(const Value& key, const std::string& prefix) {
  if (key.is_text()) return key.text;
  if (key.is(Kind::integer)) return std::to_string(key.integer);
  throw Error("dict '" + prefix + "' has a key that is " + describe(key) + "; keys must be strings or ints");
}

// Every non-dict value below `dict`, named by its keys joined with '.'. A dict
// may appear only once (the pickle memo could share one, or make a cycle),
// which also keeps the walk linear in the size of the pickle.
void flatten_into(const Value& dict, const std::string& prefix, int depth, std::vector<Leaf>& leaves,
                  std::unordered_set<const Value*>& dicts_seen, std::unordered_set<std::string>& names) {
  SG_CHECK(depth <= kMaxDictNesting, "dicts nested more than ", kMaxDictNesting, " deep at '", prefix, "'");
  SG_CHECK(dicts_seen.insert(&dict).second, "dict '", prefix, "' appears twice (shared or cyclic)");
  for (const auto& [key, value] : dict.entries) {
    const std::string name = prefix.empty() ? key_text(*key, prefix) : prefix + "." + key_text(*key, prefix);
    if (value->is(Kind::dict)) {
      flatten_into(*value, name, depth + 1, leaves, dicts_seen, names);
    } else {
      SG_CHECK(names.insert(name).second, "entry '", name, "' appears twice");
      leaves.push_back({name, value});
    }
  }
}

std::vector<Leaf> flatten(const Value& dict) {
  std::vector<Leaf> leaves;
  std::unordered_set<const Value*> dicts_seen;
  std::unordered_set<std::string> names;
  flatten_into(dict, "", 0, leaves, dicts_seen, names);
  return leaves;
}

// Why `dict` is not a dict of tensors, or "" if it is one.
std::string why_not_dict_of_tensors(const Value& dict) {
  try {
    for (const Leaf& leaf : flatten(dict))
      if (!is_pickled_tensor(*leaf.value)) return "entry '" + leaf.name + "' (" + describe(*leaf.value) + ") is not a tensor";
    return "";
  } catch (const Error& e) {
    return e.what();  // a cycle, a bad key, ...
  }
}

// ---- converting storage elements ----

// IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31;
  const uint32_t exponent = (h >> 10) & 0x1F;
  const uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | mantissa << 13;  // inf or nan (payload kept)
  } else if (exponent != 0) {
    bits = sign | (exponent - 15 + 127) << 23 | mantissa << 13;  // normal: rebias the exponent
  } else {
    // zero or subnormal: mantissa * 2^-24, exact in float
    const float magnitude = std::ldexp(float(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// bfloat16 is the top half of a float32.
float bfloat16_to_float(uint16_t b) {
  const uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

double read_floating(Element e, const uint8_t* p) {
  switch (e) {
    case Element::f64: {
      const uint64_t bits = load_le64(p);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    case Element::f32: {
      const uint32_t bits = load_le32(p);
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return f;
    }
    case Element::f16: return half_to_float(load_le16(p));
    case Element::bf16: return bfloat16_to_float(load_le16(p));
    default: return 0;
  }
}

int64_t read_integer(Element e, const uint8_t* p) {
  switch (e) {
    case Element::i64: return int64_t(load_le64(p));
    case Element::i32: return int32_t(load_le32(p));
    case Element::i16: return int16_t(load_le16(p));
    case Element::i8: return int8_t(p[0]);
    case Element::u8: return p[0];
    case Element::b8: return p[0] != 0;
    default: return 0;
  }
}

bool is_floating_element(Element e) {
  return e == Element::f64 || e == Element::f32 || e == Element::f16 || e == Element::bf16;
}

template <class Out, class Read>
void convert_elements(const uint8_t* src, size_t element_size, Out* dst, int64_t n, Read read) {
  for (int64_t i = 0; i < n; ++i) dst[i] = Out(read(src + size_t(i) * element_size));
}

// A whole storage as a flat tensor: floating types become `want`, integers
// i64, bools b8. Tensors are then views of it, as in torch.
Tensor convert_storage(const TorchCheckpoint::StorageData& s, DType want) {
  const StorageType& type = storage_type(s.type);
  const Element e = type.element;
  const DType out = is_floating_element(e) ? want : e == Element::b8 ? DType::b8 : DType::i64;
  Tensor flat = empty({s.numel}, out);
  const uint8_t* src = s.bytes.data;
  auto floating = [e](const uint8_t* p) { return read_floating(e, p); };
  auto integer = [e](const uint8_t* p) { return read_integer(e, p); };
  switch (out) {
    case DType::f32: convert_elements(src, type.element_size, flat.data<float>(), s.numel, floating); break;
    case DType::f64: convert_elements(src, type.element_size, flat.data<double>(), s.numel, floating); break;
    case DType::i64: convert_elements(src, type.element_size, flat.data<int64_t>(), s.numel, integer); break;
    case DType::b8: convert_elements(src, type.element_size, flat.data<bool>(), s.numel, integer); break;
  }
  return flat;
}

// ---- file layout constants ----

// The legacy format's first pickle holds this number (0x1950a86a20f9469cfc6c),
// 10 bytes little-endian, so it unpickles as a big integer.
const std::string kLegacyMagicBytes("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
constexpr int64_t kLegacyProtocolVersion = 1001;
const std::set<std::string> kNoGlobals;

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  SG_CHECK(in, path, ": cannot open for reading");
  const std::streamoff size = in.tellg();
  SG_CHECK(size >= 0, path, ": cannot tell the file size (is it a directory?)");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  SG_CHECK(in.gcount() == size, path, ": read only ", in.gcount(), " of ", size, " bytes");
  return bytes;
}

}  // namespace

// ---- public helpers ----

const std::set<std::string>& torch_checkpoint_allowed_globals() {
  static const std::set<std::string> allowed = [] {
    std::set<std::string> names = {"collections.OrderedDict", kRebuildTensorV1, kRebuildTensorV2, kRebuildParameter,
                                   kRebuildParameterWithState};
    for (const StorageType& t : kStorageTypes) names.insert(t.name);
    return names;
  }();
  return allowed;
}

bool is_pickled_tensor(const Value& v) { return is_rebuild_tensor(v) || is_rebuild_parameter(v); }

const Value& find_state_dict(const Value& root) {
  SG_CHECK(root.is(Kind::dict), "the checkpoint holds ", describe(root), ", not a dict of tensors");
  const std::string problem = why_not_dict_of_tensors(root);
  if (problem.empty()) return root;
  for (const char* wrapper : {"state_dict", "model", "params"}) {
    const Value* inner = root.find(wrapper);
    if (inner && inner->is(Kind::dict) && why_not_dict_of_tensors(*inner).empty()) return *inner;
  }
  // `problem` names leaves from the top, so a wrapper's own bad leaf shows as 'state_dict.x'.
  throw Error(problem + ", and no 'state_dict', 'model' or 'params' entry is a dict of tensors");
}

// ---- TorchCheckpoint ----

TorchCheckpoint TorchCheckpoint::open(const std::string& path) { return TorchCheckpoint(path, read_file(path)); }

TorchCheckpoint TorchCheckpoint::from_memory(const uint8_t* data, size_t size, const std::string& name) {
  return TorchCheckpoint(name, std::vector<uint8_t>(data, data + size));
}

TorchCheckpoint::TorchCheckpoint(std::string name, std::vector<uint8_t> bytes)
    : name_(std::move(name)), bytes_(std::move(bytes)) {
  try {
    const bool is_zip = bytes_.size() >= 4 && std::memcmp(bytes_.data(), "PK\x03\x04", 4) == 0;
    const bool is_pickle = bytes_.size() >= 2 && bytes_[0] == 0x80;  // the PROTO opcode
    const bool is_tar = bytes_.size() >= 262 && std::memcmp(bytes_.data() + 257, "ustar", 5) == 0;
    if (is_zip)
      read_zip();
    else if (is_pickle)
      read_legacy();
    else if (is_tar)
      throw Error("the tar checkpoint format of early torch releases is not supported; re-save the file with a newer torch");
    else
      throw Error("not a PyTorch checkpoint: neither a zip archive nor a legacy pickle file");
  } catch (const Error& e) {
    throw Error(name_ + ": " + e.what());
  }
}

void TorchCheckpoint::read_zip() {
  const ByteSpan file{bytes_.data(), bytes_.size()};
  const zip::Archive archive(file);
  // torch names the top directory after the file it saved ("archive" in newer versions).
  const zip::Entry* pickle_entry = nullptr;
  std::string dir;
  for (const zip::Entry& e : archive.entries()) {
    const size_t slash = e.name.find('/');
    if (slash == std::string::npos || e.name.compare(slash, std::string::npos, "/data.pkl") != 0) continue;
    SG_CHECK(!pickle_entry, "zip archive has two data.pkl entries: '", pickle_entry->name, "' and '", e.name, "'");
    pickle_entry = &e;
    dir = e.name.substr(0, slash);
  }
  SG_CHECK(pickle_entry, "zip archive has no '<dir>/data.pkl' entry: not written by torch.save");
  if (const zip::Entry* byte_order = archive.find(dir + "/byteorder"))  // torch >= 2.1 writes this
    SG_CHECK(archive.read(*byte_order).str() == "little", "big-endian checkpoints are not supported");

  object_ = pickle::unpickle(archive.read(*pickle_entry), 0, torch_checkpoint_allowed_globals());
  collect_storage_references();

  for (auto& [key, storage] : storages_) {
    const std::string entry_name = dir + "/data/" + key;
    const zip::Entry* entry = archive.find(entry_name);
    SG_CHECK(entry, "storage '", key, "' is missing: no entry '", entry_name, "'");
    const ByteSpan data = archive.read(*entry);
    const size_t element_size = storage_type(storage.type).element_size;
    SG_CHECK(uint64_t(storage.numel) <= data.size / element_size, "storage entry '", entry_name, "' has ", data.size,
             " bytes but its ", storage.numel, " elements (", storage.type, ") need ",
             uint64_t(storage.numel) * element_size);  // no overflow: numel <= 2^63 and element_size <= 8
    storage.bytes = data.subspan(0, uint64_t(storage.numel) * element_size, "storage");
  }
}

void TorchCheckpoint::read_legacy() {
  const ByteSpan file{bytes_.data(), bytes_.size()};
  size_t pos = 0;
  auto next_pickle = [&](const std::set<std::string>& allowed) {
    pickle::Unpickled p = pickle::unpickle(file, pos, allowed);
    pos = p.end;
    return p;
  };

  const pickle::Unpickled magic = next_pickle(kNoGlobals);
  SG_CHECK(magic.root->is(Kind::big_integer) && magic.root->text == kLegacyMagicBytes,
           "bad magic number: not a PyTorch checkpoint (or a corrupt one)");
  const pickle::Unpickled version = next_pickle(kNoGlobals);
  SG_CHECK(version.root->is(Kind::integer) && version.root->integer == kLegacyProtocolVersion,
           "unsupported legacy protocol version (", describe(*version.root), ", expected ", kLegacyProtocolVersion,
           ")");
  const pickle::Unpickled sys_info = next_pickle(kNoGlobals);
  if (sys_info.root->is(Kind::dict)) {
    const Value* little_endian = sys_info.root->find("little_endian");
    SG_CHECK(!little_endian || !little_endian->is(Kind::boolean) || little_endian->integer == 1,
             "big-endian checkpoints are not supported");
  }
  object_ = next_pickle(torch_checkpoint_allowed_globals());
  collect_storage_references();

  // The storages follow, in the order of this key list: a u64 element count, then the raw elements.
  const pickle::Unpickled keys = next_pickle(kNoGlobals);
  SG_CHECK(keys.root->is(Kind::list), "storage key list is ", describe(*keys.root), ", not a list");
  ByteReader data(file, "legacy storage data", pos);
  std::unordered_set<std::string> keys_read;
  for (const Value* key_value : keys.root->items) {
    const std::string& key = as_text(*key_value, "storage key");
    auto it = storages_.find(key);
    SG_CHECK(it != storages_.end(), "storage '", key, "' in the data section is not referenced by any tensor");
    SG_CHECK(keys_read.insert(key).second, "storage '", key, "' appears twice in the data section");
    StorageData& storage = it->second;
    const uint64_t count = data.u64();
    SG_CHECK(count == uint64_t(storage.numel), "storage '", key, "' has ", count, " elements in the data section but ",
             storage.numel, " in the pickle");
    const size_t element_size = storage_type(storage.type).element_size;
    SG_CHECK(count <= data.remaining() / element_size, "truncated: storage '", key, "' needs ", count, " elements of ",
             element_size, " bytes at offset ", data.pos(), " but only ", data.remaining(), " bytes remain");
    storage.bytes = data.bytes(count * element_size);
  }
  for (const auto& [key, storage] : storages_)
    SG_CHECK(keys_read.count(key), "storage '", key, "' is missing from the data section");
}

// Persistent ids look like ('storage', torch.FloatStorage, key, location, numel)
// with, in legacy files, a sixth item: None or (view_key, offset, view_numel)
// naming a slice of the storage.
void TorchCheckpoint::collect_storage_references() {
  for (const Value* reference : object_.persistent_ids) {
    const Value& id = *reference->items.at(0);
    SG_CHECK(id.is(Kind::tuple) && (id.items.size() == 5 || id.items.size() == 6),
             "persistent id is ", describe(id), " of ", id.items.size(),
             " items, expected ('storage', type, key, location, numel)");
    const std::string& tag = as_text(*id.items[0], "persistent id tag");
    SG_CHECK(tag == "storage", "persistent id '", tag,
             "' is not a storage (pickled nn.Module classes are not supported: save model.state_dict())");
    const Value& type = *id.items[1];
    SG_CHECK(type.is(Kind::global) && find_storage_type(type.text), "unknown storage type '",
             type.is(Kind::global) ? type.text : describe(type), "'");
    const std::string& key = as_text(*id.items[2], "storage key");
    as_text(*id.items[3], "storage location");  // "cpu", "cuda:0": everything is loaded to the CPU
    const int64_t numel = as_int(*id.items[4], "storage size");
    SG_CHECK(numel >= 0, "storage '", key, "' has negative size ", numel);

    auto [it, inserted] = storages_.try_emplace(key);
    StorageData& storage = it->second;
    if (inserted) {
      storage.key = key;
      storage.type = type.text;
      storage.numel = numel;
    }
    SG_CHECK(storage.type == type.text && storage.numel == numel, "storage '", key, "' is referenced both as ",
             storage.numel, " x ", storage.type, " and as ", numel, " x ", type.text);

    StorageView view{&storage, 0, numel};
    if (id.items.size() == 6 && !id.items[5]->is(Kind::none)) {
      const Value& meta = *id.items[5];
      SG_CHECK(meta.is(Kind::tuple) && meta.items.size() == 3, "storage '", key,
               "' view metadata is not (view_key, offset, size)");
      as_text(*meta.items[0], "storage view key");  // names the slice; equal slices need no sharing here
      view.offset = as_int(*meta.items[1], "storage view offset");
      view.numel = as_int(*meta.items[2], "storage view size");
      SG_CHECK(view.offset >= 0 && view.numel >= 0 && view.offset <= numel && view.numel <= numel - view.offset,
               "storage '", key, "' view [", view.offset, ", +", view.numel, ") exceeds its ", numel, " elements");
    }
    references_[reference] = view;
  }
}

TorchCheckpoint::ParsedView TorchCheckpoint::parse_view(const Value& call) const {
  const Value* rebuild = &call;
  if (is_rebuild_parameter(call)) {  // an nn.Parameter wraps a plain tensor
    SG_CHECK(!call.args().items.empty() && is_rebuild_tensor(*call.args().items[0]),
             "parameter data is not a tensor");
    rebuild = call.args().items[0];
  }
  const std::vector<const Value*>& args = rebuild->args().items;
  const bool v1 = rebuild->callable_name() == kRebuildTensorV1;
  SG_CHECK(v1 ? args.size() == 4 : (args.size() == 6 || args.size() == 7), rebuild->callable_name(), " has ",
           args.size(), " arguments");

  SG_CHECK(args[0]->is(Kind::persistent_id), "tensor storage is a ", describe(*args[0]), ", not a storage");
  ParsedView v;
  v.storage = references_.at(args[0]);
  v.offset = as_int(*args[1], "storage offset");
  const std::vector<int64_t> size = as_int_tuple(*args[2], "size");
  const std::vector<int64_t> stride = as_int_tuple(*args[3], "stride");
  SG_CHECK(size.size() <= size_t(kMaxDims) && stride.size() <= size_t(kMaxDims), "tensor has ", size.size(),
           " dims; at most ", kMaxDims, " are supported");
  SG_CHECK(size.size() == stride.size(), "size ", Shape(size).str(), " and stride ", Shape(stride).str(),
           " have different lengths");
  v.size = Shape(size);
  v.stride = Strides(stride);
  const std::string described =
      "view (offset " + std::to_string(v.offset) + ", size " + v.size.str() + ", stride " + v.stride.str() + ")";

  // The element count, the product of the sizes, must fit in int64 (for an
  // empty view, the product of its non-zero sizes: later code multiplies them).
  int64_t numel = 1;
  for (int64_t s : size) {
    SG_CHECK(s >= 0, described, " has a negative size");
    SG_CHECK(s == 0 || !__builtin_mul_overflow(numel, s, &numel), described, ": the element count overflows int64");
  }
  const bool empty_view = std::find(size.begin(), size.end(), 0) != size.end();
  if (empty_view) numel = 0;

  // The view reads elements offset + sum_i k_i * stride[i] for 0 <= k_i < size[i];
  // the largest, offset + sum_i (size[i] - 1) * stride[i], must lie inside the
  // storage (strides are non-negative, so the smallest is the offset).
  bool ok = v.offset >= 0;
  int64_t last = v.offset;
  for (size_t i = 0; i < size.size() && ok; ++i) {
    int64_t reach;
    ok = stride[i] >= 0 && (empty_view || (!__builtin_mul_overflow(size[i] - 1, stride[i], &reach) &&
                                           !__builtin_add_overflow(last, reach, &last)));
  }
  const bool fits = ok && (empty_view ? v.offset <= v.storage.numel : last < v.storage.numel);
  SG_CHECK(fits, described, " reaches outside its storage '", v.storage.storage->key, "' of ", v.storage.numel,
           " elements");
  // A view inside its storage can still claim many more elements than the
  // storage holds (stride 0: an expanded tensor), and every later copy would
  // allocate them all. Parameters and buffers never overlap themselves, so
  // such a view is refused here, before anything is allocated.
  SG_CHECK(numel <= v.storage.numel, described, " claims ", numel, " elements but its storage '",
           v.storage.storage->key, "' holds only ", v.storage.numel,
           " (overlapping elements, e.g. stride 0, are not supported in a state_dict)");
  return v;
}

Tensor TorchCheckpoint::make_tensor(const Value& call, DType want,
                                    std::unordered_map<const StorageData*, Tensor>& converted) const {
  const ParsedView v = parse_view(call);
  const StorageData* storage = v.storage.storage;
  auto it = converted.find(storage);
  if (it == converted.end()) it = converted.emplace(storage, convert_storage(*storage, want)).first;
  return make_view(it->second, v.size, v.stride, v.storage.offset + v.offset);
}

StoredTensors TorchCheckpoint::stored_tensors(const Value& dict) const {
  try {
    SG_CHECK(dict.is(Kind::dict), "expected a dict of tensors, got a ", describe(dict));
    StoredTensors result;
    for (const Leaf& leaf : flatten(dict)) {
      SG_CHECK(is_pickled_tensor(*leaf.value), "entry '", leaf.name, "' (", describe(*leaf.value),
               ") is not a tensor");
      try {
        const ParsedView v = parse_view(*leaf.value);
        result.push_back({leaf.name, storage_type(v.storage.storage->type).dtype, v.size});
      } catch (const Error& e) {
        throw Error("tensor '" + leaf.name + "': " + e.what());
      }
    }
    return result;
  } catch (const Error& e) {
    throw Error(name_ + ": " + e.what());
  }
}

NamedTensors TorchCheckpoint::tensors(const Value& dict, DType want) const {
  try {
    SG_CHECK(want == DType::f32 || want == DType::f64, "floating-point tensors can be loaded as float32 or float64, not ",
             dtype_name(want));
    SG_CHECK(dict.is(Kind::dict), "expected a dict of tensors, got a ", describe(dict));
    std::unordered_map<const StorageData*, Tensor> converted;  // each storage converted once; tensors share it
    NamedTensors result;
    for (const Leaf& leaf : flatten(dict)) {
      SG_CHECK(is_pickled_tensor(*leaf.value), "entry '", leaf.name, "' (", describe(*leaf.value),
               ") is not a tensor");
      try {
        result.emplace_back(leaf.name, make_tensor(*leaf.value, want, converted));
      } catch (const Error& e) {
        throw Error("tensor '" + leaf.name + "': " + e.what());
      }
    }
    return result;
  } catch (const Error& e) {
    throw Error(name_ + ": " + e.what());
  }
}

// find_state_dict's errors get the file name here; tensors() adds it itself.
static NamedTensors state_dict_tensors(const TorchCheckpoint& checkpoint, DType want) {
  const Value* state_dict = nullptr;
  try {
    state_dict = &find_state_dict(checkpoint.root());
  } catch (const Error& e) {
    throw Error(checkpoint.name() + ": " + e.what());
  }
  return checkpoint.tensors(*state_dict, want);
}

NamedTensors load_torch_checkpoint(const std::string& path, DType want) {
  return state_dict_tensors(TorchCheckpoint::open(path), want);
}

StoredTensors list_torch_checkpoint(const std::string& path) {
  const TorchCheckpoint checkpoint = TorchCheckpoint::open(path);
  const Value* state_dict = nullptr;
  try {
    state_dict = &find_state_dict(checkpoint.root());
  } catch (const Error& e) {
    throw Error(checkpoint.name() + ": " + e.what());
  }
  return checkpoint.stored_tensors(*state_dict);
}

NamedTensors load_torch_checkpoint_from_memory(const uint8_t* data, size_t size, DType want, const std::string& name) {
  return state_dict_tensors(TorchCheckpoint::from_memory(data, size, name), want);
}

}  // namespace sg
