#include "apps/cli.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <sys/resource.h>
#include <unistd.h>

#include "tensor/error.h"

namespace sg::cli {

ArgParser::ArgParser(std::string usage, std::string description)
    : usage_(std::move(usage)), description_(std::move(description)) {}

ArgParser& ArgParser::option(const std::string& name, const std::string& def, const std::string& help) {
  order_.push_back(name);
  opts_[name] = {def, help, def, false, false};
  return *this;
}

ArgParser& ArgParser::flag(const std::string& name, const std::string& help) {
  order_.push_back(name);
  opts_[name] = {"", help, "", true, false};
  return *this;
}

bool ArgParser::parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(help().c_str(), stdout);
      return false;
    }
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      positionals_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = opts_.find(name);
    if (it == opts_.end() && accept_dashes_) {
      std::string underscored = name;
      for (char& c : underscored)
        if (c == '-') c = '_';
      it = opts_.find(underscored);
    }
    SG_USAGE_CHECK(it != opts_.end(), "unknown option --", name, " (see --help)");
    Opt& o = it->second;
    if (o.is_flag) {
      SG_USAGE_CHECK(!inline_value, "--", name, " takes no value");
      o.set = true;
      continue;
    }
    if (!inline_value) {
      SG_USAGE_CHECK(i + 1 < argc, "--", name, " needs a value");
      value = argv[++i];
    }
    o.value = value;
    o.set = true;
  }
  return true;
}

std::string ArgParser::get(const std::string& name) const {
  auto it = opts_.find(name);
  SG_CHECK(it != opts_.end(), "internal: no option --", name);
  return it->second.value;
}

namespace {

double parse_double(const std::string& v, const std::string& what, Num need) {
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(v.c_str(), &end);
  SG_USAGE_CHECK(!v.empty() && end && *end == 0, what, " expects a number, got '", v, "'");
  SG_USAGE_CHECK(std::isfinite(d) && errno != ERANGE, what, " expects a finite number, got '", v, "'");
  SG_USAGE_CHECK(need != Num::positive || d > 0, what, " must be positive, got '", v, "'");
  SG_USAGE_CHECK(need != Num::non_negative || d >= 0, what, " must not be negative, got '", v, "'");
  return d;
}

int64_t parse_int(const std::string& v, const std::string& what, int64_t lo, int64_t hi) {
  char* end = nullptr;
  errno = 0;
  const long long d = std::strtoll(v.c_str(), &end, 10);
  SG_USAGE_CHECK(!v.empty() && end && *end == 0, what, " expects an integer, got '", v, "'");
  auto range = [&]() -> std::string {
    if (hi == INT64_MAX) return ">= " + std::to_string(lo);
    if (lo == INT64_MIN) return "<= " + std::to_string(hi);
    return "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  };
  SG_USAGE_CHECK(errno != ERANGE && d >= lo && d <= hi, what, " must be an integer ", range(), ", got '", v, "'");
  return d;
}

}  // namespace

double ArgParser::get_double(const std::string& name, Num need) const { return parse_double(get(name), "--" + name, need); }

int64_t ArgParser::get_int(const std::string& name, int64_t lo, int64_t hi) const {
  return parse_int(get(name), "--" + name, lo, hi);
}

std::vector<double> ArgParser::get_doubles(const std::string& name, Num need) const {
  std::vector<double> out;
  for (const auto& s : get_list(name)) out.push_back(parse_double(s, "--" + name, need));
  return out;
}

std::vector<int64_t> ArgParser::get_ints(const std::string& name, int64_t lo, int64_t hi) const {
  std::vector<int64_t> out;
  for (const auto& s : get_list(name)) out.push_back(parse_int(s, "--" + name, lo, hi));
  return out;
}

void ArgParser::refuse_if_set(const std::string& name, const std::string& why) const {
  SG_USAGE_CHECK(!has(name), "--", name, " does not apply ", why);
}

bool ArgParser::has(const std::string& name) const {
  auto it = opts_.find(name);
  return it != opts_.end() && it->second.set;
}

std::string ArgParser::default_value(const std::string& name) const {
  auto it = opts_.find(name);
  SG_CHECK(it != opts_.end(), "internal: no option --", name);
  return it->second.default_value;
}

bool ArgParser::is_flag(const std::string& name) const {
  auto it = opts_.find(name);
  SG_CHECK(it != opts_.end(), "internal: no option --", name);
  return it->second.is_flag;
}

std::vector<std::string> ArgParser::get_list(const std::string& name) const { return split(get(name), ','); }

std::string ArgParser::help() const {
  std::string s = "usage: " + usage_ + "\n\n" + description_ + "\n";
  if (!order_.empty()) s += "\noptions:\n";
  for (const auto& name : order_) {
    const Opt& o = opts_.at(name);
    std::string left = "  --" + name + (o.is_flag ? "" : " VALUE");
    if (left.size() < 28) left.resize(28, ' ');
    else left += "\n" + std::string(28, ' ');
    s += left + o.help;
    if (!o.is_flag && !o.value.empty()) s += " (default: " + o.value + ")";
    s += "\n";
  }
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

void add_device_option(ArgParser& p) {
  p.option("device", "cpu", "cpu, cuda, cuda:N (a GPU) or cuda-emulated (the CUDA kernels run on the CPU, for testing)");
}

Device device_option(const ArgParser& p) {
  const std::string name = p.get("device");
  Device d;
  try {
    d = parse_device(name);
  } catch (const Error& e) {
    throw UsageError(std::string("--device: ") + e.what());
  }
  check_device_available(d);
  return d;
}

MemoryLimit memory_limit() {
  MemoryLimit limit{double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE)), "this machine has"};
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY && double(as.rlim_cur) < limit.bytes)
    limit = {double(as.rlim_cur), "this process may use (ulimit -v)"};
  return limit;
}

int64_t gibibytes(double bytes) {
  const double gib = bytes / double(int64_t(1) << 30);
  return bytes > 0 && gib < 1 ? 1 : int64_t(std::llround(gib));
}

}  // namespace sg::cli
