#include "weights/zip.h"

namespace sg::zip {

namespace {

// Record signatures: "PK" followed by two bytes naming the record.
constexpr uint32_t kLocalHeaderSignature = 0x04034b50;    // PK\3\4
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;  // PK\1\2
constexpr uint32_t kEndRecordSignature = 0x06054b50;      // PK\5\6
constexpr uint32_t kZip64EndRecordSignature = 0x06064b50; // PK\6\6
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;   // PK\6\7
constexpr uint16_t kZip64ExtraFieldId = 0x0001;

constexpr size_t kEndRecordSize = 22;     // fixed part; a comment of up to 65535 bytes follows
constexpr size_t kZip64LocatorSize = 20;  // sits just before the end record
constexpr size_t kCentralHeaderSize = 46; // fixed part; name, extra field and comment follow
constexpr size_t kMaxCommentSize = 0xFFFF;

// A 16- or 32-bit field holding all ones means "the real value is in a ZIP64 record".
constexpr uint16_t kZip64Marker16 = 0xFFFF;
constexpr uint32_t kZip64Marker32 = 0xFFFFFFFF;

constexpr uint16_t kFlagEncrypted = 1 << 0;

struct CentralDirectory {
  uint64_t entry_count = 0;
  uint64_t size = 0;
  uint64_t offset = 0;
};

// The end record is the last thing in the file, except for its comment, so it
// starts in the last 22 + 65535 bytes. Scan backwards and take the first
// signature whose comment would end inside the file.
size_t find_end_record(ByteSpan file) {
  SG_CHECK(file.size >= kEndRecordSize, "zip: ", file.size, " bytes is too small to be an archive");
  const size_t last = file.size - kEndRecordSize;
  const size_t first = last > kMaxCommentSize ? last - kMaxCommentSize : 0;
  for (size_t pos = last + 1; pos-- > first;) {
    if (load_le32(file.data + pos) != kEndRecordSignature) continue;
    const uint16_t comment_size = load_le16(file.data + pos + 20);
    if (comment_size <= file.size - pos - kEndRecordSize) return pos;
  }
  throw Error("zip: no end-of-central-directory record (not a zip archive, or truncated)");
}

CentralDirectory read_central_directory_location(ByteSpan file) {
  const size_t end_record = find_end_record(file);
  ByteReader r(file, "zip end record", end_record + 4);
  const uint16_t disk = r.u16(), directory_disk = r.u16();
  r.skip(2);  // entries on this disk: the same as the total in a one-disk archive
  CentralDirectory dir;
  dir.entry_count = r.u16();
  dir.size = r.u32();
  dir.offset = r.u32();

  const bool needs_zip64 =
      dir.entry_count == kZip64Marker16 || dir.size == kZip64Marker32 || dir.offset == kZip64Marker32;
  if (!needs_zip64) {
    SG_CHECK(disk == 0 && directory_disk == 0, "zip: multi-disk archives are not supported");
    return dir;
  }
  // ZIP64: a fixed-size locator just before the end record points at the
  // ZIP64 end record, which holds the 64-bit counts.
  SG_CHECK(end_record >= kZip64LocatorSize, "zip: ZIP64 values announced but no ZIP64 locator");
  ByteReader locator(file, "zip ZIP64 locator", end_record - kZip64LocatorSize);
  SG_CHECK(locator.u32() == kZip64LocatorSignature, "zip: ZIP64 values announced but no ZIP64 locator");
  locator.skip(4);  // disk holding the ZIP64 end record
  const uint64_t zip64_end_offset = locator.u64();
  SG_CHECK(zip64_end_offset <= file.size, "zip: ZIP64 end record offset ", zip64_end_offset, " is past the end");
  ByteReader zip64(file, "zip ZIP64 end record", size_t(zip64_end_offset));
  SG_CHECK(zip64.u32() == kZip64EndRecordSignature, "zip: bad ZIP64 end record signature");
  zip64.skip(8 + 2 + 2);  // record size, version made by, version needed
  const uint32_t disk64 = zip64.u32(), directory_disk64 = zip64.u32();
  SG_CHECK(disk64 == 0 && directory_disk64 == 0, "zip: multi-disk archives are not supported");
  zip64.skip(8);  // entries on this disk
  dir.entry_count = zip64.u64();
  dir.size = zip64.u64();
  dir.offset = zip64.u64();
  return dir;
}

// Replaces the sizes and offset marked 0xFFFFFFFF with the 64-bit values of
// the ZIP64 extra field, which lists only the marked ones, in this order.
void apply_zip64_extra(ByteSpan extra, Entry& entry, uint64_t& local_header_offset) {
  const bool size_marked = entry.size == kZip64Marker32;
  const bool compressed_marked = entry.compressed_size == kZip64Marker32;
  const bool offset_marked = local_header_offset == kZip64Marker32;
  if (!size_marked && !compressed_marked && !offset_marked) return;
  ByteReader fields(extra, "zip extra field");
  while (!fields.at_end()) {
    const uint16_t id = fields.u16();
    const uint16_t length = fields.u16();
    ByteSpan data = fields.bytes(length);
    if (id != kZip64ExtraFieldId) continue;
    ByteReader zip64(data, "zip ZIP64 extra field");
    if (size_marked) entry.size = zip64.u64();
    if (compressed_marked) entry.compressed_size = zip64.u64();
    if (offset_marked) local_header_offset = zip64.u64();
    return;
  }
  throw Error("zip: entry '" + entry.name + "' has 0xFFFFFFFF sizes but no ZIP64 extra field");
}

// Returns the offset of the entry's bytes: just past its local header, whose
// name and extra field may differ in length from the central directory's
// (torch pads the local extra field so that data starts 64-byte aligned).
uint64_t data_offset_after_local_header(ByteSpan file, const Entry& entry, uint64_t local_header_offset) {
  SG_CHECK(local_header_offset <= file.size, "zip: entry '", entry.name, "' has local header offset ",
           local_header_offset, " past the end of the ", file.size, "-byte file");
  ByteReader r(file, "zip local header", size_t(local_header_offset));
  SG_CHECK(r.u32() == kLocalHeaderSignature, "zip: entry '", entry.name, "' has no local header at offset ",
           local_header_offset);
  r.skip(22);  // version, flags, method, time, date, crc-32, sizes: the central directory's copy is used
  const uint16_t name_size = r.u16(), extra_size = r.u16();
  SG_CHECK(r.string(name_size) == entry.name, "zip: local header name differs from central directory name '",
           entry.name, "'");
  r.skip(extra_size);
  SG_CHECK(entry.compressed_size <= r.remaining(), "zip: entry '", entry.name, "' needs ", entry.compressed_size,
           " bytes at offset ", r.pos(), " but the file has only ", r.remaining(), " left (truncated?)");
  return r.pos();
}

}  // namespace

Archive::Archive(ByteSpan bytes) : bytes_(bytes) {
  const CentralDirectory dir = read_central_directory_location(bytes);
  ByteSpan directory = bytes.subspan(dir.offset, dir.size, "zip central directory");
  // Each entry takes at least 46 bytes, which bounds the count before any allocation.
  SG_CHECK(dir.entry_count <= directory.size / kCentralHeaderSize, "zip: central directory of ", directory.size,
           " bytes cannot hold ", dir.entry_count, " entries");
  entries_.reserve(size_t(dir.entry_count));

  ByteReader r(directory, "zip central directory");
  for (uint64_t i = 0; i < dir.entry_count; ++i) {
    SG_CHECK(r.u32() == kCentralHeaderSignature, "zip: bad central directory entry signature at entry ", i);
    Entry entry;
    r.skip(4);  // version made by, version needed
    entry.encrypted = (r.u16() & kFlagEncrypted) != 0;
    entry.method = r.u16();
    r.skip(8);  // time, date, crc-32
    entry.compressed_size = r.u32();
    entry.size = r.u32();
    const uint16_t name_size = r.u16(), extra_size = r.u16(), comment_size = r.u16();
    r.skip(8);  // disk number, internal and external attributes
    uint64_t local_header_offset = r.u32();
    entry.name = r.string(name_size);
    const ByteSpan extra = r.bytes(extra_size);
    r.skip(comment_size);

    apply_zip64_extra(extra, entry, local_header_offset);
    entry.data_offset = data_offset_after_local_header(bytes, entry, local_header_offset);
    SG_CHECK(index_.emplace(entry.name, entries_.size()).second, "zip: entry '", entry.name, "' appears twice");
    entries_.push_back(std::move(entry));
  }
}

const Entry* Archive::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

ByteSpan Archive::read(const Entry& entry) const {
  SG_CHECK(!entry.encrypted, "zip: entry '", entry.name, "' is encrypted");
  SG_CHECK(entry.method == 0, "zip: entry '", entry.name, "' is compressed (method ", entry.method,
           entry.method == 8 ? ", deflate" : "", "); only stored entries can be read, as torch.save writes them");
  SG_CHECK(entry.size == entry.compressed_size, "zip: stored entry '", entry.name, "' has size ", entry.size,
           " but compressed size ", entry.compressed_size);
  return bytes_.subspan(entry.data_offset, entry.size, "zip entry");
}

}  // namespace sg::zip
