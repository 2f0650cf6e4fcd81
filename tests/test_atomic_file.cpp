// io/atomic_file: temporary files are recognisable, removed on errors, and
// leftovers of killed writers are cleaned up by the next write to the same
// target; nothing else is ever deleted.
#include "io/atomic_file.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;
namespace fs = std::filesystem;

namespace {

void touch(const std::string& path) { std::ofstream(path) << "x"; }

// The pid of a process that has exited (a child, reaped).
pid_t dead_pid() {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

// The "<host>" part of a live temporary file's name (the test cannot know it otherwise).
std::string temporary_host(const TempDir& dir, const std::string& target) {
  AtomicFile f(dir.file(target), "test");
  const std::string prefix = atomic_file_temporary_prefix(target);
  for (const std::string& name : dir.entries())
    if (name.rfind(prefix, 0) == 0) {
      const std::string rest = name.substr(prefix.size());  // HOST.PID.N
      return rest.substr(0, rest.find('.'));
    }
  FAIL("no temporary file for ", target);
  return "";
}

}  // namespace

TEST_CASE("atomic file: the temporary file is named after stylegrad, the target, host and process") {
  TempDir dir;
  {
    AtomicFile f(dir.file("out.txt"), "test");
    f.write("abc", 3);
    const std::vector<std::string> names = dir.entries();
    REQUIRE(names.size() == 1);
    const std::string prefix = ".out.txt.stylegrad-tmp.";
    CHECK(names[0].rfind(prefix, 0) == 0);
    CHECK(names[0].find("." + std::to_string(::getpid()) + ".") != std::string::npos);
    f.commit();
  }
  CHECK(dir.entries() == std::vector<std::string>{"out.txt"});
  {
    AtomicFile f(dir.file("out.txt"), "test");
    f.write("partial", 7);
  }  // not committed: an error path; the temporary goes, the old file stays
  CHECK(dir.entries() == std::vector<std::string>{"out.txt"});
}

TEST_CASE("atomic file: a killed writer's leftover is removed by the next write to the same target") {
  TempDir dir;
  const std::string target = dir.file("out.png");
  // A child that dies mid-write (no destructors run) leaves its temporary file.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    AtomicFile* f = new AtomicFile(target, "test");
    f->write("half", 4);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(dir.entries().size() == 1);
  CHECK(dir.entries()[0].rfind(".out.png.stylegrad-tmp.", 0) == 0);

  write_file_atomic(target, "whole");
  CHECK(dir.entries() == std::vector<std::string>{"out.png"});
}

TEST_CASE("atomic file: only files of the exact pattern whose writer is gone or that are an hour old are removed") {
  TempDir dir;
  const std::string host = temporary_host(dir, "out.png");
  REQUIRE(dir.entries().empty());
  const std::string prefix = ".out.png.stylegrad-tmp.";
  const std::string dead = std::to_string(dead_pid()), alive = std::to_string(::getppid());
  const std::vector<std::string> removed = {
      prefix + host + "." + dead + ".0",      // this host, process gone
      prefix + host + "." + dead + ".17",
      prefix + "otherhost." + alive + ".3",  // another host's, untouched for two hours (set below)
  };
  const std::vector<std::string> kept = {
      prefix + host + "." + alive + ".0",          // a live writer on this host
      prefix + "otherhost." + dead + ".0",         // another host, recent: its PIDs mean nothing here
      prefix + host + "." + dead,                  // no counter: not the pattern
      prefix + host + "." + dead + ".0.bak",       // more after it
      prefix + host + "." + dead + ".x",           // counter not a number
      prefix + "bad_host." + dead + ".0",          // '_' is never in a host part
      ".other.png.stylegrad-tmp." + host + "." + dead + ".0",  // another target
      ".out.png.tmp" + dead + "_0",                // some other program's (or an old) name
      "out.png.stylegrad-tmp." + host + "." + dead + ".0",     // not hidden
      "notes.txt",
  };
  for (const std::string& name : removed) touch(dir.file(name));
  for (const std::string& name : kept) touch(dir.file(name));
  fs::last_write_time(dir.file(removed[2]), fs::file_time_type::clock::now() - std::chrono::hours(2));
  // A directory and a symlink of the pattern, writer gone: not regular files, never removed.
  const std::string dir_like = prefix + host + "." + dead + ".5", link_like = prefix + host + "." + dead + ".6";
  fs::create_directory(dir.file(dir_like));
  fs::create_symlink(dir.file("notes.txt"), dir.file(link_like));

  CHECK(remove_stale_temporaries(dir.file("out.png")) == int(removed.size()));
  std::vector<std::string> expected = kept;
  expected.push_back(dir_like);
  expected.push_back(link_like);
  std::sort(expected.begin(), expected.end());
  CHECK(dir.entries() == expected);
  CHECK(fs::exists(dir.file("notes.txt")));

  // Age alone also counts (a PID may have been reused): with a zero age both remaining
  // files of the pattern go, and still nothing else.
  CHECK(remove_stale_temporaries(dir.file("out.png"), std::chrono::seconds(0)) == 2);
  expected.erase(std::find(expected.begin(), expected.end(), kept[0]));
  expected.erase(std::find(expected.begin(), expected.end(), kept[1]));
  CHECK(dir.entries() == expected);
}
