// A reader for the protobuf wire format: enough to decode ONNX files without a
// protobuf library or generated code.
//
// A message is a flat sequence of fields. Each field starts with a varint key,
// (field_number << 3) | wire_type, followed by its value:
//   wire type 0, varint   base-128, little end first (int32/int64/uint64/bool/enum)
//   wire type 1, fixed64  8 bytes little-endian (double)
//   wire type 2, bytes    a varint length, then that many bytes (strings, embedded
//                         messages, and "packed" repeated numbers)
//   wire type 5, fixed32  4 bytes little-endian (float)
// Nothing in the bytes says what a field means; the caller knows the schema and
// asks for the value with the accessor that fits (Field::as_float, ...).
//
// The input is untrusted: every read is bounds-checked, embedded messages nest
// at most kMaxDepth deep, and malformed input throws sg::Error with one line
// naming the message and the byte offset. Nothing is copied: a Field's bytes
// view into the caller's buffer, which must outlive the Reader.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sg::protobuf {

enum class WireType : uint8_t { varint = 0, fixed64 = 1, bytes = 2, fixed32 = 5 };
const char* wire_type_name(WireType t);

// Embedded messages deeper than this are rejected (ONNX needs about 6).
constexpr int kMaxDepth = 32;

// One field as it was on the wire.
struct Field {
  uint32_t number = 0;
  WireType type = WireType::varint;
  uint64_t bits = 0;       // varint value, or the raw bits of a fixed32/fixed64
  std::string_view bytes;  // the payload of a length-delimited field
  const char* message = "";  // name of the enclosing message, for errors

  // Typed views; each throws if the wire type does not fit.
  int64_t as_int64() const;   // varint, two's complement (int32, int64, enum, bool)
  uint64_t as_uint64() const;  // varint
  float as_float() const;     // fixed32
  double as_double() const;   // fixed64
  std::string as_string() const;  // length-delimited
  void expect(WireType t) const;  // throws "ModelProto field 7: wire type varint, expected bytes"
};

class Reader {
 public:
  // `message` names what is being read in errors: a string literal ("ModelProto").
  explicit Reader(std::string_view data, const char* message = "message", int depth = 0);

  // Reads the next field into `f`; returns false at the end of the message.
  bool next(Field& f);
  // A reader over a length-delimited field, read as an embedded message.
  Reader embedded(const Field& f, const char* message) const;

  int depth() const { return depth_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  const char* message_;
  int depth_ = 0;
};

// The value of up to 8 little-endian bytes (fixed32/fixed64 payloads, raw tensor data).
uint64_t little_endian(std::string_view bytes);

// Repeated numbers come either packed (one length-delimited field holding all
// the values back to back) or as one field per value; these append from either.
void append_varints(const Field& f, std::vector<int64_t>& out);
void append_floats(const Field& f, std::vector<float>& out);
void append_doubles(const Field& f, std::vector<double>& out);

}  // namespace sg::protobuf
