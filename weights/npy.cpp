#include "weights/npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "io/atomic_file.h"
#include "tensor/error.h"

namespace sg {

namespace {
const char kMagic[] = "\x93NUMPY";

const char* descr_of(DType t) {
  switch (t) {
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::i64: return "<i8";
    case DType::b8: return "|b1";
  }
  return "";
}
}  // namespace

void write_npy(const std::string& path, const Tensor& t_in) {
  Tensor t = t_in.detach().to(Device::cpu()).contiguous();
  std::ostringstream shape;
  shape << "(";
  for (int i = 0; i < t.dim(); ++i) shape << t.size(i) << (t.dim() == 1 || i + 1 < t.dim() ? "," : "") << (i + 1 < t.dim() ? " " : "");
  shape << ")";
  std::string header = std::string("{'descr': '") + descr_of(t.dtype()) + "', 'fortran_order': False, 'shape': " +
                       shape.str() + ", }";
  // magic (6) + version (2) + header length (2) + header, padded with spaces
  // and a final newline to a multiple of 64 bytes.
  const size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  const uint16_t hlen = uint16_t(header.size());
  std::string bytes(kMagic, 6);
  bytes += {'\x01', '\x00', char(hlen & 0xff), char(hlen >> 8)};
  bytes += header;
  bytes.append(static_cast<const char*>(t.raw_data()), size_t(t.numel()) * dtype_size(t.dtype()));
  write_file_atomic(path, bytes);
}

Tensor read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  SG_CHECK(f.good(), "cannot read '", path, "': no such file");
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto bad = [&](const std::string& why) { return Error("cannot read '" + path + "': not a valid .npy file (" + why + ")"); };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0) throw bad("no NUMPY magic");
  const int major = bytes[6];
  size_t hlen = 0, start = 0;
  if (major == 1) {
    hlen = uint8_t(bytes[8]) | size_t(uint8_t(bytes[9])) << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw bad("truncated header");
    hlen = uint8_t(bytes[8]) | size_t(uint8_t(bytes[9])) << 8 | size_t(uint8_t(bytes[10])) << 16 |
           size_t(uint8_t(bytes[11])) << 24;
    start = 12;
  } else {
    throw bad("unknown version " + std::to_string(major));
  }
  if (hlen > bytes.size() - start) throw bad("header longer than the file");
  const std::string header(bytes.data() + start, hlen);
  auto field = [&](const std::string& key) {
    const size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) throw bad("no '" + key + "' in the header");
    return header.substr(header.find(':', k) + 1);
  };
  const std::string descr_field = field("descr");
  DType dt;
  if (descr_field.find("'<f4'") != std::string::npos) dt = DType::f32;
  else if (descr_field.find("'<f8'") != std::string::npos) dt = DType::f64;
  else if (descr_field.find("'<i8'") != std::string::npos) dt = DType::i64;
  else if (descr_field.find("'|b1'") != std::string::npos) dt = DType::b8;
  else throw bad("unsupported dtype");
  if (field("fortran_order").find("False") != 1 && field("fortran_order").find("False") != 0) throw bad("Fortran order");
  const std::string shape_field = field("shape");
  const size_t open = shape_field.find('('), close = shape_field.find(')');
  if (open == std::string::npos || close == std::string::npos || close < open) throw bad("bad shape");
  Shape shape;
  std::string inner = shape_field.substr(open + 1, close - open - 1);
  std::istringstream is(inner);
  std::string item;
  int64_t count = 1;
  while (std::getline(is, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    const long long d = std::atoll(item.c_str());
    if (d < 0 || d > (int64_t(1) << 40)) throw bad("bad dimension");
    shape.push_back(d);
    count *= d;
    if (count > (int64_t(1) << 40)) throw bad("too many elements");
  }
  const size_t nbytes = size_t(count) * dtype_size(dt);
  if (nbytes != bytes.size() - start - hlen) throw bad("data size does not match the shape");
  Tensor t = empty(shape, TensorOptions(dt));
  std::memcpy(t.raw_data(), bytes.data() + start + hlen, nbytes);
  return t;
}

}  // namespace sg
