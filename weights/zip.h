// A read-only ZIP reader: just what torch.save's archives (torch >= 1.6) need.
//
// A ZIP file is read from the end: the End Of Central Directory record (EOCD)
// says where the central directory is; the central directory lists every
// entry with its sizes and the offset of its local header; the local header
// precedes the entry's bytes. Archives over 4 GiB (or with over 65535
// entries) put 64-bit values in ZIP64 records instead. torch stores entries
// uncompressed (method 0), so this reader hands out views of stored entries
// and refuses compressed or encrypted ones by name.
//
// The archive is untrusted: every offset and size is checked against the
// buffer before use (see weights/byte_reader.h).
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "weights/byte_reader.h"

namespace sg::zip {

struct Entry {
  std::string name;
  uint16_t method = 0;            // 0 = stored; 8 = deflate; anything but 0 is refused on read
  bool encrypted = false;
  uint64_t compressed_size = 0;   // bytes in the archive
  uint64_t size = 0;              // bytes once uncompressed
  uint64_t data_offset = 0;       // where the entry's bytes begin, just past its local header
};

class Archive {
 public:
  // Parses the directory of the archive held in `bytes` (which must outlive the Archive).
  explicit Archive(ByteSpan bytes);

  const std::vector<Entry>& entries() const { return entries_; }  // central-directory order
  const Entry* find(const std::string& name) const;                // null if absent
  // The bytes of a stored entry; throws naming the entry if it is compressed or encrypted.
  ByteSpan read(const Entry& entry) const;

 private:
  ByteSpan bytes_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;  // name -> position in entries_
};

}  // namespace sg::zip
