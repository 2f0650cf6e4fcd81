#include "apps/cli.h"

#include <cstdio>
#include <cstdlib>

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
    SG_CHECK(it != opts_.end(), "unknown option --", name, " (see --help)");
    Opt& o = it->second;
    if (o.is_flag) {
      SG_CHECK(!inline_value, "--", name, " takes no value");
      o.set = true;
      continue;
    }
    if (!inline_value) {
      SG_CHECK(i + 1 < argc, "--", name, " needs a value");
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

double ArgParser::get_double(const std::string& name) const {
  const std::string v = get(name);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  SG_CHECK(!v.empty() && end && *end == 0, "--", name, " expects a number, got '", v, "'");
  return d;
}

int64_t ArgParser::get_int(const std::string& name) const {
  const std::string v = get(name);
  char* end = nullptr;
  const long long d = std::strtoll(v.c_str(), &end, 10);
  SG_CHECK(!v.empty() && end && *end == 0, "--", name, " expects an integer, got '", v, "'");
  return d;
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

}  // namespace sg::cli
