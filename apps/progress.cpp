#include "apps/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sg::cli {

Progress::Progress(int64_t total, int64_t every)
    : total_(total), every_(every), tty_(isatty(fileno(stderr))), start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string format_duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

void Progress::update(int64_t done, const std::string& info) {
  const bool last = done >= total_;
  if (!tty_ && !last && (every_ <= 0 || done % every_ != 0)) return;
  const double t = elapsed_seconds();
  const double rate = done > 0 ? double(done) / t : 0;
  const std::string eta = done > 0 ? format_duration(double(total_ - done) / rate) : "?";
  const int width = 24, filled = total_ > 0 ? int(width * done / total_) : width;
  std::string bar(size_t(filled), '=');
  if (filled < width) bar += '>' + std::string(size_t(width - filled - 1), ' ');
  std::fprintf(stderr, "%siter %lld/%lld [%s] %3d%% %s  %.2f it/s  ETA %s%s", tty_ ? "\r\033[K" : "",
               (long long)done, (long long)total_, bar.c_str(), total_ > 0 ? int(100 * done / total_) : 100,
               info.c_str(), rate, eta.c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

void Progress::finish() {
  if (tty_) std::fputc('\n', stderr);
}

}  // namespace sg::cli
