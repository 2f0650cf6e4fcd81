#include "apps/output_plan.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "apps/cli.h"
#include "tensor/error.h"

namespace sg::cli {

namespace fs = std::filesystem;

namespace {

std::string quoted(const std::string& what, const std::string& path) { return what + " '" + path + "'"; }

// The canonical form of a path that may not exist yet (its existing prefix resolved).
std::string canonical_of(const std::string& path) {
  std::error_code ec;
  const fs::path c = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? fs::absolute(path).lexically_normal().string() : c.string();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i == 0 ? "" : i + 1 == v.size() ? " or " : ", ") + v[i];
  return s;
}

}  // namespace

void require_readable_file(const std::string& path, const std::string& what) {
  const std::string name = quoted(what, path);
  SG_USAGE_CHECK(!path.empty(), what, " is empty");
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) throw Error(name + ": no such file");
  if (ec) throw Error(name + ": " + ec.message());
  if (st.type() == fs::file_type::directory) throw Error(name + ": is a directory, not a file");
  if (st.type() != fs::file_type::regular) throw Error(name + ": not a regular file");
  if (::access(path.c_str(), R_OK) != 0) throw Error(name + ": " + std::strerror(errno));
}

void OutputPlan::input(const std::string& path, const std::string& what) {
  inputs_.push_back({path, what, Kind::file, {}});
}

void OutputPlan::output(const std::string& path, const std::string& what, Kind kind,
                        std::vector<std::string> extensions) {
  if (kind == Kind::image && extensions.empty()) extensions = {".png", ".jpg", ".jpeg"};
  outputs_.push_back({path, what, kind, std::move(extensions)});
}

void require_creatable_directory(const std::string& path, const std::string& what) {
  SG_USAGE_CHECK(!path.empty(), what, " is empty");
  std::error_code ec;
  fs::path existing = fs::path(path).lexically_normal();
  // Walk up to the deepest part that exists; each missing part will be created.
  while (!existing.empty() && fs::status(existing, ec).type() == fs::file_type::not_found)
    existing = existing.has_parent_path() && existing.parent_path() != existing ? existing.parent_path() : fs::path();
  if (existing.empty()) existing = ".";
  if (!fs::is_directory(existing, ec))
    throw Error(what + " '" + path + "': '" + existing.string() + "' exists and is not a directory");
  if (::access(existing.c_str(), W_OK | X_OK) != 0)
    throw Error(what + " '" + path + "': cannot write in directory '" + existing.string() + "': " + std::strerror(errno));
}

void OutputPlan::check() const {
  for (const Entry& in : inputs_) require_readable_file(in.path, in.what);

  // Directories this plan creates: files inside them need no existing parent.
  std::vector<std::string> new_dirs;
  for (const Entry& o : outputs_)
    if (o.kind == Kind::directory) new_dirs.push_back(canonical_of(o.path));

  for (const Entry& o : outputs_) {
    const std::string name = quoted(o.what, o.path);
    SG_USAGE_CHECK(!o.path.empty(), o.what, " is empty");
    const fs::path p(o.path);
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (o.kind == Kind::directory) {
      if (st.type() != fs::file_type::not_found && !fs::is_directory(st))
        throw Error(name + ": exists and is not a directory");
    } else {
      SG_USAGE_CHECK(!p.filename().empty() && p.filename() != "." && p.filename() != "..", name,
                     ": names a directory, not a file");
      if (!o.extensions.empty()) {
        const std::string ext = lower(p.extension().string()), stem = p.stem().string();
        SG_USAGE_CHECK(std::find(o.extensions.begin(), o.extensions.end(), ext) != o.extensions.end() &&
                           !stem.empty() && stem[0] != '.',
                       name, ": expected a name ending in ", join(o.extensions));
      }
      if (fs::is_directory(st)) throw Error(name + ": is a directory");
      if (st.type() != fs::file_type::not_found && !fs::is_regular_file(st))
        throw Error(name + ": exists and is not a regular file");
    }
    // The directory it goes in must exist (or be one this plan creates), be a directory and be writable.
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    if (std::find(new_dirs.begin(), new_dirs.end(), canonical_of(dir.string())) != new_dirs.end()) continue;
    const fs::file_status ds = fs::status(dir, ec);
    if (ds.type() == fs::file_type::not_found)
      throw Error(name + ": directory '" + dir.string() + "' does not exist");
    if (!fs::is_directory(ds)) throw Error(name + ": '" + dir.string() + "' is not a directory");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
      throw Error(name + ": cannot write in directory '" + dir.string() + "': " + std::strerror(errno));
  }

  // Collisions: each output with every earlier output and with every input.
  std::map<std::string, const Entry*> seen;
  for (const Entry& in : inputs_) seen.emplace(canonical_of(in.path), &in);
  for (const Entry& o : outputs_) {
    const std::string c = canonical_of(o.path);
    auto [it, fresh] = seen.emplace(c, &o);
    const Entry* hit = fresh ? nullptr : it->second;
    std::error_code ec;
    for (const Entry& in : inputs_)  // a hard link to an input has its own canonical path
      if (!hit && fs::equivalent(o.path, in.path, ec)) hit = &in;
    if (!hit) continue;
    const Entry& other = *hit;
    const bool is_input = &other >= inputs_.data() && &other < inputs_.data() + inputs_.size();
    throw UsageError(quoted(o.what, o.path) + " is the same file as " + (is_input ? "the input " : "") +
                     quoted(other.what, other.path) + (is_input ? ": it would be overwritten" : ": one would replace the other"));
  }
}

}  // namespace sg::cli
