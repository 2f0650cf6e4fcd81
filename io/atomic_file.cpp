#include "io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
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

// This machine's name, reduced to [A-Za-z0-9-] so that it cannot contain the
// name's separators ('.', '/'); "host" if it has none.
std::string host_name() {
  char buffer[256] = {};
  std::string host;
  if (::gethostname(buffer, sizeof buffer - 1) == 0)
    for (const char* c = buffer; *c; ++c)
      if (std::isalnum(static_cast<unsigned char>(*c)) || *c == '-') host += *c;
  return host.empty() ? "host" : host;
}

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Whether `name` (a file name in the target's directory) is a temporary file
// AtomicFile made for `target_name`, and if so the host and process that made it.
bool parse_temporary_name(const std::string& name, const std::string& target_name, std::string& host, long& pid) {
  const std::string prefix = atomic_file_temporary_prefix(target_name);
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  // the rest: HOST.PID.COUNTER
  const std::string rest = name.substr(prefix.size());
  const size_t dot2 = rest.rfind('.');
  if (dot2 == std::string::npos || dot2 == 0) return false;
  const size_t dot1 = rest.rfind('.', dot2 - 1);
  if (dot1 == std::string::npos || dot1 == 0) return false;
  host = rest.substr(0, dot1);
  const std::string pid_text = rest.substr(dot1 + 1, dot2 - dot1 - 1), counter = rest.substr(dot2 + 1);
  for (char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  if (!all_digits(pid_text) || !all_digits(counter)) return false;
  pid = std::stol(pid_text);
  return pid > 0;
}
}  // namespace

std::string atomic_file_temporary_prefix(const std::string& target_name) {
  return "." + target_name + ".stylegrad-tmp.";
}

int remove_stale_temporaries(const std::string& path, std::chrono::seconds max_age) {
  const fs::path dir = directory_of(path);
  const std::string target_name = fs::path(path).filename().string();
  const std::string this_host = host_name();
  const auto now = fs::file_time_type::clock::now();
  int removed = 0;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string host;
    long pid = 0;
    if (!parse_temporary_name(it->path().filename().string(), target_name, host, pid)) continue;
    std::error_code e2;
    if (!fs::is_regular_file(fs::symlink_status(it->path(), e2))) continue;  // never follow a link
    const auto modified = fs::last_write_time(it->path(), e2);
    if (e2) continue;
    // A writer on this machine whose process is gone will never finish its
    // file; any writer's file untouched for max_age is abandoned (AtomicFile
    // writes in one go, in seconds; another machine's PIDs mean nothing here).
    const bool writer_gone = host == this_host && pid != ::getpid() && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH;
    const bool too_old = now - modified > max_age;
    if ((writer_gone || too_old) && fs::remove(it->path(), e2)) ++removed;
  }
  return removed;
}

void require_directory_for(const std::string& path, const std::string& error_prefix) {
  const fs::path dir = directory_of(path);
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  if (fs::exists(dir, ec)) throw Error(error_prefix + ": '" + dir.string() + "' is not a directory");
  throw Error(error_prefix + ": directory '" + dir.string() + "' does not exist");
}

AtomicFile::AtomicFile(const std::string& path, std::string error_prefix)
    : path_(path), error_prefix_(std::move(error_prefix)) {
  require_directory_for(path, error_prefix_);
  const fs::path dir = directory_of(path);
  // Leftovers of earlier writes to this target that were killed before they
  // could clean up (see atomic_file.h).
  remove_stale_temporaries(path);
  // A hidden, unique, recognisable name: ".<target>.stylegrad-tmp.<host>.<pid>.<n>";
  // host and process id tell processes apart, the counter threads and files.
  static std::atomic<unsigned> counter{0};
  tmp_ = (dir / (atomic_file_temporary_prefix(fs::path(path).filename().string()) + host_name() + "." +
                 std::to_string(::getpid()) + "." + std::to_string(counter++)))
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
