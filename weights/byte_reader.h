// Bounds-checked reading of untrusted bytes held in memory.
//
// Every weights reader (zip, pickle, torch checkpoints) parses files through
// ByteReader, so a short or lying file always ends in an sg::Error that says
// what was being read and where -- never in a read past the buffer. Sizes that
// come from the file are uint64_t and are compared against what is left
// *before* any pointer arithmetic, so they cannot overflow.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/error.h"

namespace sg {

// A read-only view of bytes owned by someone else.
struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t size = 0;

  // The bytes [offset, offset + length); throws if they are not all inside.
  ByteSpan subspan(uint64_t offset, uint64_t length, const char* what) const {
    SG_CHECK(offset <= size && length <= size - offset, what, ": bytes [", offset, ", ", offset, " + ", length,
             ") lie outside the ", size, " available");
    return ByteSpan{data + offset, size_t(length)};
  }
  std::string str() const { return std::string(reinterpret_cast<const char*>(data), size); }
};

// Little-endian values assembled byte by byte: right on any host, and compilers
// turn the pattern into a single load on little-endian ones.
inline uint16_t load_le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
inline uint32_t load_le32(const uint8_t* p) { return uint32_t(load_le16(p)) | uint32_t(load_le16(p + 2)) << 16; }
inline uint64_t load_le64(const uint8_t* p) { return uint64_t(load_le32(p)) | uint64_t(load_le32(p + 4)) << 32; }

// A cursor over a ByteSpan. `what` names the data in error messages ("zip", "pickle").
class ByteReader {
 public:
  ByteReader(ByteSpan bytes, const char* what, size_t pos = 0) : bytes_(bytes), what_(what), pos_(pos) {
    SG_CHECK(pos <= bytes.size, what_, ": start offset ", pos, " is past the end (", bytes.size, " bytes)");
  }

  size_t pos() const { return pos_; }
  size_t remaining() const { return bytes_.size - pos_; }
  bool at_end() const { return pos_ == bytes_.size; }

  uint8_t u8() { return *take(1); }
  uint16_t u16() { return load_le16(take(2)); }
  uint32_t u32() { return load_le32(take(4)); }
  uint64_t u64() { return load_le64(take(8)); }
  int32_t i32() { return int32_t(u32()); }  // two's complement, as every host stores it

  // The next n bytes, as a span or as a string.
  ByteSpan bytes(uint64_t n) {
    const uint8_t* p = take(n);
    return ByteSpan{p, size_t(n)};
  }
  std::string string(uint64_t n) { return bytes(n).str(); }
  void skip(uint64_t n) { take(n); }

 private:
  // Advances past n bytes and returns where they start, or throws if fewer are left.
  const uint8_t* take(uint64_t n) {
    SG_CHECK(n <= remaining(), what_, ": truncated: needs ", n, " bytes at offset ", pos_, " but only ",
             remaining(), " remain");
    const uint8_t* p = bytes_.data + pos_;
    pos_ += size_t(n);
    return p;
  }

  ByteSpan bytes_;
  const char* what_;
  size_t pos_;
};

}  // namespace sg
