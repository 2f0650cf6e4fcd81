// One exception type for every user-facing error. Messages name the op and the
// shapes involved, e.g. "add: shapes [2, 3] and [4] do not broadcast".
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace sg {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace sg

// SG_CHECK(cond, "conv2d: ", ...) throws sg::Error with the concatenated message.
#define SG_CHECK(cond, ...)                                   \
  do {                                                        \
    if (!(cond)) throw ::sg::Error(::sg::detail::concat(__VA_ARGS__)); \
  } while (0)
