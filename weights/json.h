// A small, strict JSON parser (RFC 8259) for headers of weight files, which
// are untrusted input. Strict means: no comments, no trailing commas, no
// NaN/Infinity, no leading zeros, no raw control characters in strings, valid
// UTF-8 only, no duplicate keys in an object, and nothing but whitespace after
// the value. Nesting is limited so that a hostile file cannot exhaust the
// stack. Every error is an sg::Error "json: <what> at byte <offset>".
// write() turns a Value back into text.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sg::json {

struct Value {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  double number = 0;        // numbers: the value as a double ...
  std::string number_text;  // ... and as written, so integers above 2^53 stay exact
  std::string string;       // UTF-8, escapes decoded
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;  // members in file order

  bool is_null() const { return kind == Kind::null; }
  bool is_bool() const { return kind == Kind::boolean; }
  bool is_number() const { return kind == Kind::number; }
  bool is_string() const { return kind == Kind::string; }
  bool is_array() const { return kind == Kind::array; }
  bool is_object() const { return kind == Kind::object; }

  // The member named `key` of an object, or nullptr (also for non-objects).
  const Value* find(const std::string& key) const;
};

// Nesting deeper than this is an error; weight-file headers need 3 levels.
constexpr int kDefaultMaxDepth = 64;

Value parse(const std::string& text, int max_depth = kDefaultMaxDepth);

// The value of a number written as a plain non-negative integer ("0", "42"),
// if it fits in 64 bits; nullopt for anything else ("-1", "1.0", "1e3", strings).
std::optional<uint64_t> to_uint64(const Value& v);
// Same for integers that may be negative and fit in int64 ("-3", "7").
std::optional<int64_t> to_int64(const Value& v);

// ---- writing ----
// Values to write (stylegrad's own files: optimizer and scheduler states in a
// checkpoint's metadata). Members keep the order given.
Value make_null();
Value make_bool(bool b);
// JSON has no NaN or infinity: a non-finite x is an error.
Value make_number(double x);
Value make_int(int64_t i);
Value make_string(std::string s);
Value make_array(std::vector<Value> items = {});
Value make_object(std::vector<std::pair<std::string, Value>> members = {});

// Compact JSON text that parse() reads back as the same value: numbers as
// their number_text when they have one (what parse() read, or make_int's
// digits), else with the fewest digits that read back as exactly the same
// double. Duplicate object keys and non-finite numbers are errors.
std::string write(const Value& v);

// `s` as a JSON string literal, quotes included: "a\"b\n" -> "\"a\\\"b\\n\"".
// Also used to print untrusted names in error messages on one line.
std::string quote(const std::string& s);

}  // namespace sg::json
