#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "tensor/error.h"

namespace sg {

namespace fs = std::filesystem;

namespace {
fs::path directory_of(const std::string& path) {
  const fs::path dir = fs::path(path).parent_path();
  return dir.empty() ? fs::path(".") : dir;
}
}  // namespace

void require_directory_for(const std::string& path, const std::string& error_prefix) {
  const fs::path dir = directory_of(path);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(error_prefix + ": directory '" + dir.string() + "' does not exist");
}

AtomicFile::AtomicFile(const std::string& path, std::string error_prefix)
    : path_(path), error_prefix_(std::move(error_prefix)) {
  require_directory_for(path, error_prefix_);
  const fs::path dir = directory_of(path);
  // A hidden, unique name: the process id tells processes apart, the counter threads and files.
  static std::atomic<unsigned> counter{0};
  tmp_ = (dir / ("." + fs::path(path).filename().string() + ".tmp" + std::to_string(::getpid()) + "_" +
                 std::to_string(counter++)))
             .string();
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);  // never reuse an existing file
  if (fd_ < 0) fail(std::string("cannot create a file in '") + dir.string() + "': " + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::fail(const std::string& why) const { throw Error(error_prefix_ + ": " + why); }

void AtomicFile::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {  // write() may write less than asked
    const ssize_t written = ::write(fd_, p, n);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) fail(std::strerror(written < 0 ? errno : EIO));
    p += written;
    n -= size_t(written);
  }
}

void AtomicFile::commit() {
  // fsync before rename: after a crash the target is the old file or the new one, never a stub.
  if (::fsync(fd_) != 0) fail(std::strerror(errno));
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) fail(std::strerror(errno));
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail(std::strerror(errno));
  committed_ = true;
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  AtomicFile f(path, "cannot write '" + path + "'");
  f.write(contents.data(), contents.size());
  f.commit();
}

}  // namespace sg
