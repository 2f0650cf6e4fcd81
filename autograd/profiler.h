// STYLEGRAD_PROFILE=1: time every op and every backward node, print a table
// at exit (to stderr), like torch.autograd.profiler's key_averages().
//
//   Tensor conv2d(...) {
//     SG_PROFILE("conv2d");     // times the rest of this scope
//     ...
//   }
//
// The engine times each backward node as "<op> backward". Scopes nest: an
// op's "total" includes the ops it calls, its "self" does not, so the self
// column adds up to the profiled time without counting anything twice.
// When the variable is unset a scope costs one test of a static bool.
#pragma once
#include <string>

namespace sg::profiler {

namespace detail {
extern bool enabled_flag;  // set from the environment at start-up
}
// True when the environment variable STYLEGRAD_PROFILE is set to anything but "0" or "".
inline bool enabled() { return detail::enabled_flag; }
// Turns timing on or off (tests; `stylegrad bench --profile`).
void set_enabled(bool on);

class Scope {
 public:
  // `suffix` is appended to the name (" backward" for backward nodes).
  explicit Scope(const char* name, const char* suffix = "") {
    if (enabled()) begin(name, suffix);
  }
  ~Scope() {
    if (active_) end();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  void begin(const char* name, const char* suffix);
  void end();
  bool active_ = false;
};

// The table so far, as printed at exit.
void print_table();
// One row of it (zeros for a name never timed).
struct Stat {
  long long calls = 0;
  double total_ms = 0, self_ms = 0;
};
Stat stat(const std::string& name);
// Forgets every timing (e.g. after a warm-up run).
void reset();

}  // namespace sg::profiler

#define SG_PROFILE_CONCAT2(a, b) a##b
#define SG_PROFILE_CONCAT(a, b) SG_PROFILE_CONCAT2(a, b)
#define SG_PROFILE(name) ::sg::profiler::Scope SG_PROFILE_CONCAT(sg_profile_scope_, __LINE__)(name)
