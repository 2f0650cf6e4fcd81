#include "weights/torch_save.h"

#include <array>
#include <cstring>

#include "io/atomic_file.h"
#include "tensor/error.h"

namespace sg {

namespace {

// ---- pickle, protocol 2: just the opcodes a state_dict needs ----

class Pickler {
 public:
  Pickler() { out_ += "\x80\x02"; }  // PROTO 2
  void global(const std::string& module, const std::string& name) { out_ += 'c' + module + '\n' + name + '\n'; }
  void mark() { out_ += '('; }
  void tuple() { out_ += 't'; }          // the items since the last mark
  void empty_tuple() { out_ += ')'; }
  void reduce() { out_ += 'R'; }         // callable(*args)
  void setitems() { out_ += 'u'; }       // dict[k] = v for the pairs since the mark
  void persistent_id() { out_ += 'Q'; }  // BINPERSID: the tuple on the stack
  void boolean(bool v) { out_ += v ? '\x88' : '\x89'; }
  void stop() { out_ += '.'; }
  void string(const std::string& s) {  // BINUNICODE: u32 length + UTF-8
    out_ += 'X';
    u32(uint32_t(s.size()));
    out_ += s;
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      out_ += 'K', out_ += char(v);  // BININT1
    } else if (v >= 0 && v < 65536) {
      out_ += 'M', out_ += char(v & 0xff), out_ += char(v >> 8);  // BININT2
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      out_ += 'J';  // BININT, signed 32-bit little-endian
      u32(uint32_t(int32_t(v)));
    } else {
      out_ += '\x8a', out_ += char(8);  // LONG1: 8 bytes, two's complement little-endian
      for (int i = 0; i < 8; ++i) out_ += char((uint64_t(v) >> (8 * i)) & 0xff);
    }
  }
  // An empty OrderedDict: collections.OrderedDict()
  void ordered_dict() {
    global("collections", "OrderedDict");
    empty_tuple();
    reduce();
  }
  const std::string& bytes() const { return out_; }

 private:
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_ += char((v >> (8 * i)) & 0xff);
  }
  std::string out_;
};

const char* storage_type(DType t) {
  switch (t) {
    case DType::f32: return "FloatStorage";
    case DType::f64: return "DoubleStorage";
    case DType::i64: return "LongStorage";
    case DType::b8: return "BoolStorage";
  }
  return "?";
}

// ---- ZIP, stored entries ----

uint32_t crc32(const std::string& data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

class ZipWriter {
 public:
  // Appends an entry whose data starts at a multiple of 64 bytes, padding the
  // local header's extra field as torch does.
  void add(const std::string& name, const std::string& data) {
    SG_CHECK(data.size() < 0xFFFFFFFFu && out_.size() < 0xFFFFFFFFu,
             "torch save: '", name, "' does not fit a ZIP32 archive (4 GB)");
    const uint32_t offset = uint32_t(out_.size()), crc = crc32(data), size = uint32_t(data.size());
    const size_t header_end = out_.size() + 30 + name.size() + 4;  // + the extra field's own 4 bytes
    const uint16_t padding = uint16_t((64 - header_end % 64) % 64);
    u32(0x04034b50), u16(20), u16(0), u16(0), u16(0), u16(0);  // signature, version, flags, stored, time, date
    u32(crc), u32(size), u32(size), u16(uint16_t(name.size())), u16(uint16_t(4 + padding));
    out_ += name;
    u16(0x4246), u16(padding);  // extra field "FB": padding
    out_.append(padding, 'Z');
    out_ += data;
    entries_.push_back({name, crc, size, offset});
  }
  std::string finish() {
    const uint32_t directory_start = uint32_t(out_.size());
    for (const Entry& e : entries_) {
      u32(0x02014b50), u16(20), u16(20), u16(0), u16(0), u16(0), u16(0);
      u32(e.crc), u32(e.size), u32(e.size), u16(uint16_t(e.name.size()));
      u16(0), u16(0), u16(0), u16(0), u32(0), u32(e.offset);  // extra, comment, disk, attributes, offset
      out_ += e.name;
    }
    const uint32_t directory_size = uint32_t(out_.size()) - directory_start;
    u32(0x06054b50), u16(0), u16(0), u16(uint16_t(entries_.size())), u16(uint16_t(entries_.size()));
    u32(directory_size), u32(directory_start), u16(0);
    return std::move(out_);
  }

 private:
  struct Entry {
    std::string name;
    uint32_t crc, size, offset;
  };
  void u16(uint16_t v) { out_ += char(v & 0xff), out_ += char(v >> 8); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_ += char((v >> (8 * i)) & 0xff);
  }
  std::string out_;
  std::vector<Entry> entries_;
};

}  // namespace

std::string torch_state_dict_bytes(const NamedTensors& state) {
  SG_CHECK(state.size() < 65535, "torch save: ", state.size(), " tensors do not fit a ZIP32 archive");
  Pickler p;
  p.ordered_dict();
  p.mark();
  std::vector<std::string> storages;
  for (const auto& [name, tensor] : state) {
    SG_CHECK(tensor.defined(), "torch save: '", name, "' is an undefined tensor");
    const Tensor t = tensor.detach().to(Device::cpu()).contiguous();
    const std::string key = std::to_string(storages.size());
    storages.emplace_back(static_cast<const char*>(t.raw_data()), size_t(t.numel()) * dtype_size(t.dtype()));
    p.string(name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.mark();
    {
      p.mark();  // the persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
      p.string("storage");
      p.global("torch", storage_type(t.dtype()));
      p.string(key);
      p.string("cpu");
      p.integer(t.numel());
      p.tuple();
      p.persistent_id();
      p.integer(0);  // storage offset
      p.mark();
      for (int64_t d : t.shape()) p.integer(d);
      p.tuple();
      p.mark();
      for (int64_t s : t.strides()) p.integer(s);
      p.tuple();
      p.boolean(false);  // requires_grad
      p.ordered_dict();  // backward hooks
    }
    p.tuple();
    p.reduce();
  }
  p.setitems();
  p.stop();

  ZipWriter zip;
  zip.add("archive/data.pkl", p.bytes());
  for (size_t k = 0; k < storages.size(); ++k) zip.add("archive/data/" + std::to_string(k), storages[k]);
  zip.add("archive/version", "3\n");
  return zip.finish();
}

void save_torch_state_dict(const std::string& path, const NamedTensors& state) {
  const std::string bytes = torch_state_dict_bytes(state);
  AtomicFile f(path, "cannot write '" + path + "'");
  f.write(bytes.data(), bytes.size());
  f.commit();
}

}  // namespace sg
