// A one-line progress display: "iter 120/1000 [=====>    ] 12% content 1.2e+01 ... 3.4 it/s ETA 4m12s".
// On a terminal it redraws in place; otherwise (logs, CI) it prints a line every `every` steps.
#pragma once
#include <chrono>
#include <string>

namespace sg::cli {

class Progress {
 public:
  Progress(int64_t total, int64_t every);
  // Shows step `done` of `total` with `info` (losses...).
  void update(int64_t done, const std::string& info);
  void finish();  // ends the line on a terminal
  double elapsed_seconds() const;

 private:
  int64_t total_, every_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

std::string format_duration(double seconds);  // "4m12s", "1h03m", "12.3s"

}  // namespace sg::cli
