// Each thread keeps a stack of open scopes; closing one adds its time to the
// table under its name and to its parent's "children" time, so that
// self = total - time spent in nested scopes.
#include "autograd/profiler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sg::profiler {

namespace {

using Clock = std::chrono::steady_clock;

bool env_says_on() {
  const char* v = std::getenv("STYLEGRAD_PROFILE");
  return v && *v && std::strcmp(v, "0") != 0;
}

struct Row {
  long long calls = 0;
  double total_ns = 0, self_ns = 0;
};

struct Frame {
  std::string name;
  Clock::time_point start;
  double children_ns = 0;
};

std::mutex table_mutex;
std::map<std::string, Row>& table() {
  static std::map<std::string, Row> rows;
  return rows;
}
thread_local std::vector<Frame> open_scopes;

void print_at_exit() { print_table(); }

}  // namespace

bool detail::enabled_flag = env_says_on();

void set_enabled(bool on) { detail::enabled_flag = on; }

void Scope::begin(const char* name, const char* suffix) {
  static const bool registered = [] {
    table();  // constructed before the handler is registered, so it outlives it
    return std::atexit(print_at_exit) == 0;
  }();
  (void)registered;
  open_scopes.push_back(Frame{std::string(name) + suffix, Clock::now(), 0});
  active_ = true;
}

void Scope::end() {
  Frame f = std::move(open_scopes.back());
  open_scopes.pop_back();
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - f.start).count();
  if (!open_scopes.empty()) open_scopes.back().children_ns += ns;
  std::lock_guard<std::mutex> lock(table_mutex);
  Row& r = table()[f.name];
  r.calls += 1;
  r.total_ns += ns;
  r.self_ns += ns - f.children_ns;
}

Stat stat(const std::string& name) {
  std::lock_guard<std::mutex> lock(table_mutex);
  auto it = table().find(name);
  if (it == table().end()) return {};
  return {it->second.calls, it->second.total_ns / 1e6, it->second.self_ns / 1e6};
}

void reset() {
  std::lock_guard<std::mutex> lock(table_mutex);
  table().clear();
}

void print_table() {
  std::lock_guard<std::mutex> lock(table_mutex);
  if (table().empty()) return;
  std::vector<std::pair<std::string, Row>> rows(table().begin(), table().end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.self_ns > b.second.self_ns; });
  double all_self = 0;
  for (const auto& r : rows) all_self += r.second.self_ns;
  std::fprintf(stderr, "\nstylegrad profile (STYLEGRAD_PROFILE=1), sorted by self time:\n");
  std::fprintf(stderr, "%-32s %10s %12s %12s %7s %12s\n", "op", "calls", "self ms", "total ms", "self%", "us/call");
  for (const auto& [name, r] : rows)
    std::fprintf(stderr, "%-32s %10lld %12.2f %12.2f %6.1f%% %12.1f\n", name.c_str(), r.calls, r.self_ns / 1e6,
                 r.total_ns / 1e6, all_self > 0 ? 100.0 * r.self_ns / all_self : 0.0, r.total_ns / 1e3 / r.calls);
  std::fprintf(stderr, "%-32s %10s %12.2f\n", "all", "", all_self / 1e6);
}

}  // namespace sg::profiler
