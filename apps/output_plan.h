// Every file a command reads and writes, known before it starts any work:
// check() refuses, in one line naming both, two outputs that are the same file
// or an output that is an input (compared as canonical paths, so `./a.png` and
// `a.png` and a path through a symlinked directory are the same file), and every
// output location that would fail only after the work: an existing directory, a
// directory that does not exist, is a file or is not writable, a name with no
// stem (`out/.png`) or a wrong extension. Inputs must exist, be regular files and
// be readable, each case said as it is.
//
// Exit codes (apps/main.cpp): a collision or a bad extension is a UsageError
// (status 2: the command line contradicts itself); the file system's answers
// (missing, unreadable, unwritable) are sg::Error (status 1).
#pragma once
#include <string>
#include <vector>

namespace sg::cli {

class OutputPlan {
 public:
  enum class Kind { image, file, directory };
  // `what` names the option in messages, e.g. "--output" or "the loss plot".
  void input(const std::string& path, const std::string& what);
  // extensions: lower-case, with the dot (".csv"); case-insensitive match; empty: any.
  void output(const std::string& path, const std::string& what, Kind kind = Kind::file,
              std::vector<std::string> extensions = {});
  void check() const;

 private:
  struct Entry {
    std::string path, what;
    Kind kind;
    std::vector<std::string> extensions;
  };
  std::vector<Entry> inputs_, outputs_;
};

// The same error cases as OutputPlan::input, for one file read later.
void require_readable_file(const std::string& path, const std::string& what);

// A folder the command will create with its parents (checkpoints/NAME,
// results/NAME/test_latest), as the official mkdirs: every part that exists
// must be a directory, and the deepest existing one writable. Checked before
// any work, so a run does not fail at its first save; one sg::Error line.
void require_creatable_directory(const std::string& path, const std::string& what);

}  // namespace sg::cli
