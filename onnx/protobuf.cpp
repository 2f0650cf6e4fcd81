#include "onnx/protobuf.h"

#include <cstring>

#include "tensor/error.h"

namespace sg::protobuf {

namespace {

[[noreturn]] void fail(std::string_view message, const std::string& why) {
  throw Error("protobuf: " + std::string(message) + ": " + why);
}

// Reads a base-128 varint at data[pos], advancing pos. At most 10 bytes: the
// 10th may only carry the 64th bit.
uint64_t read_varint(std::string_view data, size_t& pos, std::string_view message) {
  const size_t start = pos;
  uint64_t value = 0;
  for (int shift = 0;; shift += 7) {
    if (pos >= data.size())
      fail(message, "truncated varint at byte " + std::to_string(start) + " of " + std::to_string(data.size()));
    const uint8_t byte = uint8_t(data[pos++]);
    if (shift == 63 && byte > 1) fail(message, "varint at byte " + std::to_string(start) + " is longer than 64 bits");
    value |= uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return value;
  }
}

// The next n bytes at data[pos], advancing pos.
std::string_view read_bytes(std::string_view data, size_t& pos, uint64_t n, std::string_view message) {
  const size_t left = data.size() - pos;
  if (n > left)
    fail(message, "field at byte " + std::to_string(pos) + " needs " + std::to_string(n) + " bytes, only " +
                      std::to_string(left) + " left");
  std::string_view out = data.substr(pos, size_t(n));
  pos += size_t(n);
  return out;
}

float float_from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

double double_from_bits(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

std::string field_name(const Field& f) {
  return std::string(f.message) + " field " + std::to_string(f.number);
}

}  // namespace

uint64_t little_endian(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = bytes.size(); i-- > 0;) v = (v << 8) | uint8_t(bytes[i]);
  return v;
}

const char* wire_type_name(WireType t) {
  switch (t) {
    case WireType::varint: return "varint";
    case WireType::fixed64: return "fixed64";
    case WireType::bytes: return "length-delimited";
    case WireType::fixed32: return "fixed32";
  }
  return "?";
}

// ---------------- Field ----------------

void Field::expect(WireType t) const {
  if (type != t)
    throw Error("protobuf: " + field_name(*this) + ": wire type " + wire_type_name(type) + ", expected " +
                wire_type_name(t));
}

int64_t Field::as_int64() const {
  expect(WireType::varint);
  return int64_t(bits);  // negative int32/int64 are sent as 10-byte two's complement
}

uint64_t Field::as_uint64() const {
  expect(WireType::varint);
  return bits;
}

float Field::as_float() const {
  expect(WireType::fixed32);
  return float_from_bits(uint32_t(bits));
}

double Field::as_double() const {
  expect(WireType::fixed64);
  return double_from_bits(bits);
}

std::string Field::as_string() const {
  expect(WireType::bytes);
  return std::string(bytes);
}

// ---------------- Reader ----------------

Reader::Reader(std::string_view data, const char* message, int depth)
    : data_(data), message_(message), depth_(depth) {
  if (depth_ > kMaxDepth)
    fail(message_, "messages nested more than " + std::to_string(kMaxDepth) + " deep");
}

bool Reader::next(Field& f) {
  if (pos_ >= data_.size()) return false;
  const size_t start = pos_;
  const uint64_t key = read_varint(data_, pos_, message_);
  const uint64_t number = key >> 3;
  if (number == 0 || number > (1u << 29) - 1)
    fail(message_, "invalid field number " + std::to_string(number) + " at byte " + std::to_string(start));
  f = Field();
  f.number = uint32_t(number);
  f.message = message_;
  switch (key & 7) {
    case 0:
      f.type = WireType::varint;
      f.bits = read_varint(data_, pos_, message_);
      break;
    case 1:
      f.type = WireType::fixed64;
      f.bits = little_endian(read_bytes(data_, pos_, 8, message_));
      break;
    case 2: {
      f.type = WireType::bytes;
      const uint64_t n = read_varint(data_, pos_, message_);
      f.bytes = read_bytes(data_, pos_, n, message_);
      break;
    }
    case 5:
      f.type = WireType::fixed32;
      f.bits = little_endian(read_bytes(data_, pos_, 4, message_));
      break;
    case 3:
    case 4:
      fail(message_, "field " + std::to_string(number) + " at byte " + std::to_string(start) +
                         " uses groups (wire types 3/4), which ONNX never does");
    default:
      fail(message_, "invalid wire type " + std::to_string(key & 7) + " for field " + std::to_string(number) +
                         " at byte " + std::to_string(start));
  }
  return true;
}

Reader Reader::embedded(const Field& f, const char* message) const {
  f.expect(WireType::bytes);
  return Reader(f.bytes, message, depth_ + 1);
}

// ---------------- repeated numbers ----------------

void append_varints(const Field& f, std::vector<int64_t>& out) {
  if (f.type == WireType::varint) {
    out.push_back(f.as_int64());
    return;
  }
  f.expect(WireType::bytes);
  const std::string message = field_name(f) + " (packed varints)";
  size_t pos = 0;
  while (pos < f.bytes.size()) out.push_back(int64_t(read_varint(f.bytes, pos, message)));
}

// Packed fixed-size values: the payload must hold a whole number of them.
template <class T, class Decode>
static void append_fixed(const Field& f, WireType single, size_t size, std::vector<T>& out, Decode decode) {
  if (f.type == single) {
    out.push_back(decode(f.bits));
    return;
  }
  f.expect(WireType::bytes);
  if (f.bytes.size() % size != 0)
    throw Error("protobuf: " + field_name(f) + ": packed " + std::to_string(f.bytes.size()) +
                " bytes, not a multiple of " + std::to_string(size));
  out.reserve(out.size() + f.bytes.size() / size);
  for (size_t at = 0; at < f.bytes.size(); at += size) out.push_back(decode(little_endian(f.bytes.substr(at, size))));
}

void append_floats(const Field& f, std::vector<float>& out) {
  append_fixed(f, WireType::fixed32, 4, out, [](uint64_t b) { return float_from_bits(uint32_t(b)); });
}

void append_doubles(const Field& f, std::vector<double>& out) {
  append_fixed(f, WireType::fixed64, 8, out, double_from_bits);
}

}  // namespace sg::protobuf
