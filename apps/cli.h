// A small argument parser shared by the subcommands: --name VALUE options
// with defaults, --flag switches, positionals, and a generated --help.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tensor/device.h"
#include "tensor/error.h"

namespace sg::cli {

// The command line itself is wrong (an unknown option, a value of the wrong
// kind or out of range, two outputs that are the same file): main exits with
// status 2. Every other sg::Error is a failure while running: status 1.
struct UsageError : Error {
  using Error::Error;
};

#define SG_USAGE_CHECK(cond, ...)                                                \
  do {                                                                           \
    if (!(cond)) throw ::sg::cli::UsageError(::sg::detail::concat(__VA_ARGS__)); \
  } while (0)

// What get_double requires of a value; every value must be finite.
enum class Num { finite, positive, non_negative };

class ArgParser {
 public:
  ArgParser(std::string usage, std::string description);
  ArgParser& option(const std::string& name, const std::string& default_value, const std::string& help);
  ArgParser& flag(const std::string& name, const std::string& help);
  // Options registered with underscores (the official CycleGAN/pix2pix names,
  // --no_dropout) also match when written with dashes (--no-dropout).
  ArgParser& accept_dashes() {
    accept_dashes_ = true;
    return *this;
  }
  // Returns false when --help was asked for (help printed); throws sg::Error on bad arguments.
  bool parse(int argc, char** argv);

  std::string get(const std::string& name) const;
  // Numbers: a value that is not one, nan, inf, or out of range is a UsageError naming the option.
  double get_double(const std::string& name, Num need = Num::finite) const;
  int64_t get_int(const std::string& name, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) const;
  std::vector<double> get_doubles(const std::string& name, Num need = Num::finite) const;  // comma-separated
  std::vector<int64_t> get_ints(const std::string& name, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) const;
  // Refuses an option given explicitly that does not apply: "--NAME does not apply <why>".
  void refuse_if_set(const std::string& name, const std::string& why) const;
  bool has(const std::string& name) const;  // a flag was given, or an option was set explicitly
  std::vector<std::string> get_list(const std::string& name) const;  // comma-separated
  const std::vector<std::string>& positionals() const { return positionals_; }
  std::string help() const;
  // The registered names, in registration order, and each one's default ("" for a flag).
  const std::vector<std::string>& names() const { return order_; }
  std::string default_value(const std::string& name) const;
  bool is_flag(const std::string& name) const;

 private:
  struct Opt {
    std::string value, help, default_value;
    bool is_flag = false, set = false;
  };
  std::string usage_, description_;
  std::vector<std::string> order_;
  std::map<std::string, Opt> opts_;
  std::vector<std::string> positionals_;
  bool accept_dashes_ = false;
};

std::vector<std::string> split(const std::string& s, char sep);

// --device, for every subcommand that computes: where the networks and their
// inputs live (default cpu; results come back to the CPU to be written).
void add_device_option(ArgParser& p);
// Its value, checked before any work: a name that is no device is a
// UsageError naming the valid ones; a CUDA device this build or machine lacks
// is one sg::Error naming cuda-emulated (tensor/device.h).
Device device_option(const ArgParser& p);

// The memory a job may count on: the machine's physical memory, or less when
// the process's address space is limited (ulimit -v, RLIMIT_AS), so that a size
// check refuses a job before it starts instead of running out half-way.
struct MemoryLimit {
  double bytes;
  std::string what;  // "this machine has" | "this process may use (ulimit -v)"
};
MemoryLimit memory_limit();
int64_t gibibytes(double bytes);  // rounded to the nearest GiB, at least 1 when bytes > 0

}  // namespace sg::cli
