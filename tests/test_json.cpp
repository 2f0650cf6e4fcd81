#include <limits>
#include <string>

#include "tests/test_util.h"
#include "weights/json.h"

using namespace sg;
using namespace sg::test;

namespace {

std::string json_error(const std::string& text) {
  return error_of([&] { json::parse(text); });
}

}  // namespace

TEST_CASE("json: values, in file order") {
  const json::Value v = json::parse(R"( {"b": [1, -2.5e1, 0], "a": {"t": true, "f": false, "n": null}, "s": "x"} )");
  REQUIRE(v.is_object());
  REQUIRE(v.object.size() == 3);
  CHECK(v.object[0].first == "b");  // not sorted
  CHECK(v.object[1].first == "a");
  const json::Value* b = v.find("b");
  REQUIRE(b);
  REQUIRE(b->array.size() == 3);
  CHECK(b->array[1].number == -25.0);
  CHECK(b->array[1].number_text == "-2.5e1");
  CHECK(v.find("a")->find("t")->boolean);
  CHECK(v.find("a")->find("f")->is_bool());
  CHECK(v.find("a")->find("n")->is_null());
  CHECK(v.find("s")->string == "x");
  CHECK(v.find("missing") == nullptr);
  CHECK(json::parse("[]").array.empty());
  CHECK(json::parse("{}").object.empty());
  CHECK(json::parse("\t\r\n 7 \n").number == 7);
}

TEST_CASE("json: integers stay exact beyond 2^53") {
  CHECK(json::to_uint64(json::parse("18446744073709551615")) == uint64_t(18446744073709551615ull));
  CHECK(json::to_uint64(json::parse("9007199254740993")) == uint64_t(9007199254740993ull));
  CHECK(!json::to_uint64(json::parse("18446744073709551616")));  // 2^64
  CHECK(!json::to_uint64(json::parse("-1")));
  CHECK(!json::to_uint64(json::parse("1.0")));
  CHECK(!json::to_uint64(json::parse("1e3")));
  CHECK(!json::to_uint64(json::parse("\"1\"")));
  CHECK(json::to_int64(json::parse("-9223372036854775808")) == std::numeric_limits<int64_t>::min());
  CHECK(!json::to_int64(json::parse("9223372036854775808")));
}

TEST_CASE("json: strings, escapes and UTF-8") {
  CHECK(json::parse(R"("a\"b\\c\/d\b\f\n\r\t")").string == "a\"b\\c/d\b\f\n\r\t");
  CHECK(json::parse(R"("\u00e9\u2713")").string == "\xC3\xA9\xE2\x9C\x93");
  CHECK(json::parse(R"("\ud83d\ude00")").string == "\xF0\x9F\x98\x80");  // a surrogate pair, one code point
  CHECK(json::parse("\"\xC3\xA9\xF0\x9F\x98\x80\"").string == "\xC3\xA9\xF0\x9F\x98\x80");  // raw UTF-8
  CHECK(json::parse(R"("\u0000")").string == std::string(1, '\0'));
  for (const std::string& s : {std::string("plain"), std::string("q\"b\\s"), std::string("nl\nx\x01\x1f\x7f"),
                              std::string("\xC3\xA9")})
    CHECK(json::parse(json::quote(s)).string == s);
  CHECK(json::quote("a\nb") == "\"a\\nb\"");
}

TEST_CASE("json: every malformed text is an error with its byte offset") {
  struct Bad {
    const char* text;
    const char* error;
  };
  const Bad cases[] = {
      {"", "json: unexpected end of text at byte 0"},
      {"   ", "json: unexpected end of text at byte 3"},
      {"{} x", "json: unexpected text after the value at byte 3"},
      {"01", "json: unexpected text after the value at byte 1"},
      {"-", "json: invalid number at byte 1"},
      {"1.", "json: expected a digit after '.' at byte 2"},
      {"1e+", "json: expected a digit in the exponent at byte 3"},
      {"1e999", "json: number out of range at byte 0"},
      {"NaN", "json: expected a value at byte 0"},
      {"tru", "json: invalid literal (expected true) at byte 0"},
      {"[1,]", "json: expected a value at byte 3"},
      {"[1 2]", "json: expected ',' or ']' in array at byte 3"},
      {"{\"a\":1,}", "json: expected a string key at byte 7"},
      {"{\"a\" 1}", "json: expected ':' at byte 5"},
      {"{\"a\":1 \"b\":2}", "json: expected ',' or '}' in object at byte 7"},
      {"{1:2}", "json: expected a string key at byte 1"},
      {"{\"a\":1,\"a\":2}", "json: duplicate key \"a\" at byte 7"},
      {"\"abc", "json: unterminated string at byte 0"},
      {"\"a\x01\"", "json: control character in string (must be escaped) at byte 2"},
      {"\"\\x\"", "json: invalid escape in string at byte 1"},
      {"\"\\u12G4\"", "json: invalid hex digit in \\u escape at byte 5"},
      {"\"\\ud800\"", "json: unpaired high surrogate in \\u escape at byte 1"},
      {"\"\\ud800\\u0041\"", "json: unpaired high surrogate in \\u escape at byte 1"},
      {"\"\\udc00\"", "json: unpaired low surrogate in \\u escape at byte 1"},
      {"\"\xff\"", "json: invalid UTF-8 in string at byte 1"},
      {"\"\xC0\xAF\"", "json: invalid UTF-8 in string at byte 1"},      // overlong '/'
      {"\"\xED\xA0\x80\"", "json: invalid UTF-8 in string at byte 1"},  // an encoded surrogate
      {"\"\xE2\x9C\"", "json: invalid UTF-8 in string at byte 1"},      // truncated sequence
  };
  for (const Bad& bad : cases) {
    INFO("text: ", json::quote(bad.text));
    CHECK(json_error(bad.text) == bad.error);
  }
}

TEST_CASE("json: nesting is limited, so hostile input cannot exhaust the stack") {
  const auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  CHECK(json_error(nested(json::kDefaultMaxDepth)).empty());
  CHECK(json_error(nested(json::kDefaultMaxDepth + 1)) == "json: nesting deeper than 64 levels at byte 64");
  CHECK(json_error(std::string(1000000, '[')) == "json: nesting deeper than 64 levels at byte 64");
  CHECK(json_error(std::string(1000000, '{')).find("json: expected a string key") == 0);
  CHECK(json_error("{\"a\":" + nested(3) + "}").empty());
  CHECK(error_of([&] { json::parse(nested(3), 2); }) == "json: nesting deeper than 2 levels at byte 2");
}
