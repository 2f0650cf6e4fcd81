// Writing a file so that a reader never sees it half-written and a failure
// never destroys what was there: the bytes go to a new temporary file in the
// same directory (the same file system, so rename() is atomic), are flushed
// to disk, and only then renamed over the target. Every writer of user-visible
// files (images, weights, .npy, CSV, SVG) goes through here.
//
// The temporary file is ".<target name>.stylegrad-tmp.<host>.<pid>.<n>" next
// to the target. It is removed on any error; a process killed mid-write leaves
// it behind, and the next AtomicFile for the same target removes it: a file of
// exactly that pattern whose process (on this host) no longer runs, or that is
// older than an hour. Nothing else is ever deleted.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

namespace sg {

class AtomicFile {
 public:
  // Creates the temporary file. Every error is an sg::Error of one line,
  // "<error_prefix>: <why>", e.g. "cannot write image 'out.png': disk full".
  AtomicFile(const std::string& path, std::string error_prefix);
  // Removes the temporary file unless commit() renamed it into place.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  // fsync, close, rename over the target.
  void commit();

 private:
  [[noreturn]] void fail(const std::string& why) const;
  std::string path_, tmp_, error_prefix_;
  int fd_ = -1;
  bool committed_ = false;
};

// Throws "<error_prefix>: directory 'D' does not exist" unless the directory
// `path` would be written in exists (AtomicFile checks this first; commands
// call it before long work, so that it does not fail only at the end).
void require_directory_for(const std::string& path, const std::string& error_prefix);

// The temporary-file prefix for a target named `target_name` (no directory).
std::string atomic_file_temporary_prefix(const std::string& target_name);

// Removes the leftovers described above for `path`; returns how many.
int remove_stale_temporaries(const std::string& path, std::chrono::seconds max_age = std::chrono::hours(1));

// The whole file at once; errors read "cannot write '<path>': <why>".
void write_file_atomic(const std::string& path, const std::string& contents);

}  // namespace sg
