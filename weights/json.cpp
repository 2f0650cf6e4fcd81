// A recursive-descent parser: one function per JSON production, each reading
// from `pos` and leaving it just after what it read. Every byte access goes
// through peek()/next(), which check the end of the text.
#include "weights/json.h"

#include <charconv>
#include <cmath>
#include <set>

#include "tensor/error.h"

namespace sg::json {

const Value* Value::find(const std::string& key) const {
  if (kind != Kind::object) return nullptr;
  for (const auto& member : object)
    if (member.first == key) return &member.second;
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(const std::string& text, int max_depth) : text_(text), max_depth_(max_depth) {}

  Value parse_document() {
    skip_whitespace();
    Value v = parse_value(0);
    skip_whitespace();
    if (pos_ != text_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  const std::string& text_;
  const int max_depth_;
  size_t pos_ = 0;

  [[noreturn]] void fail(const std::string& what) const { fail_at(what, pos_); }
  [[noreturn]] void fail_at(const std::string& what, size_t at) const {
    throw Error(detail::concat("json: ", what, " at byte ", at));
  }

  bool at_end() const { return pos_ >= text_.size(); }
  // The byte at `pos_`, or an error if the text ended.
  unsigned char peek() const {
    if (at_end()) fail("unexpected end of text");
    return static_cast<unsigned char>(text_[pos_]);
  }
  unsigned char next() {
    unsigned char c = peek();
    ++pos_;
    return c;
  }
  void expect(char c) {
    if (peek() != static_cast<unsigned char>(c)) fail(detail::concat("expected '", c, "'"));
    ++pos_;
  }
  void skip_whitespace() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

  Value parse_value(int depth) {
    const unsigned char c = peek();
    if (c == '{' || c == '[') {
      // depth counts the arrays/objects we are inside of, this one included.
      if (depth + 1 > max_depth_) fail(detail::concat("nesting deeper than ", max_depth_, " levels"));
      return c == '{' ? parse_object(depth + 1) : parse_array(depth + 1);
    }
    Value v;
    if (c == '"') {
      v.kind = Value::Kind::string;
      v.string = parse_string();
    } else if (c == '-' || is_digit(c)) {
      parse_number(v);
    } else if (c == 't') {
      parse_literal("true");
      v.kind = Value::Kind::boolean;
      v.boolean = true;
    } else if (c == 'f') {
      parse_literal("false");
      v.kind = Value::Kind::boolean;
    } else if (c == 'n') {
      parse_literal("null");
    } else {
      fail("expected a value");
    }
    return v;
  }

  void parse_literal(const char* word) {
    const size_t start = pos_;
    for (const char* p = word; *p; ++p)
      if (at_end() || text_[pos_++] != *p) fail_at(detail::concat("invalid literal (expected ", word, ")"), start);
  }

  Value parse_object(int depth) {
    Value v;
    v.kind = Value::Kind::object;
    std::set<std::string> seen;  // duplicate keys are ambiguous: reject them
    expect('{');
    skip_whitespace();
    if (peek() == '}') {
      ++pos_;
      return v;
    }
    while (true) {
      skip_whitespace();
      const size_t key_at = pos_;
      if (peek() != '"') fail("expected a string key");
      std::string key = parse_string();
      if (!seen.insert(key).second) fail_at("duplicate key " + quote(key), key_at);
      skip_whitespace();
      expect(':');
      skip_whitespace();
      Value member = parse_value(depth);
      v.object.emplace_back(std::move(key), std::move(member));
      skip_whitespace();
      const unsigned char c = next();
      if (c == '}') return v;
      if (c != ',') fail_at("expected ',' or '}' in object", pos_ - 1);
    }
  }

  Value parse_array(int depth) {
    Value v;
    v.kind = Value::Kind::array;
    expect('[');
    skip_whitespace();
    if (peek() == ']') {
      ++pos_;
      return v;
    }
    while (true) {
      skip_whitespace();
      v.array.push_back(parse_value(depth));
      skip_whitespace();
      const unsigned char c = next();
      if (c == ']') return v;
      if (c != ',') fail_at("expected ',' or ']' in array", pos_ - 1);
    }
  }

  // number = [-] (0 | [1-9][0-9]*) [. [0-9]+] [(e|E) [+|-] [0-9]+]
  void parse_number(Value& v) {
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (!at_end() && text_[pos_] == '0') {
      ++pos_;
    } else if (!at_end() && is_digit(peek())) {
      while (!at_end() && is_digit(peek())) ++pos_;
    } else {
      fail("invalid number");
    }
    if (!at_end() && text_[pos_] == '.') {
      ++pos_;
      if (at_end() || !is_digit(peek())) fail("expected a digit after '.'");
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    if (!at_end() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (!at_end() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (at_end() || !is_digit(peek())) fail("expected a digit in the exponent");
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    v.kind = Value::Kind::number;
    v.number_text = text_.substr(start, pos_ - start);
    const char* first = v.number_text.data();
    const char* last = first + v.number_text.size();
    const auto result = std::from_chars(first, last, v.number);  // locale-independent
    if (result.ec != std::errc() || result.ptr != last) fail_at("number out of range", start);
  }

  unsigned hex_digit() {
    const unsigned char c = next();
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    fail_at("invalid hex digit in \\u escape", pos_ - 1);
  }
  unsigned parse_hex4() {
    unsigned u = 0;
    for (int i = 0; i < 4; ++i) u = u * 16 + hex_digit();
    return u;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  // \uXXXX, with UTF-16 surrogate pairs (\uD83D\uDE00) joined into one code point.
  uint32_t parse_unicode_escape() {
    const size_t start = pos_ - 2;  // at the backslash
    const uint32_t u = parse_hex4();
    if (u >= 0xDC00 && u <= 0xDFFF) fail_at("unpaired low surrogate in \\u escape", start);
    if (u < 0xD800 || u > 0xDBFF) return u;
    if (at_end() || text_[pos_] != '\\' || pos_ + 1 >= text_.size() || text_[pos_ + 1] != 'u')
      fail_at("unpaired high surrogate in \\u escape", start);
    pos_ += 2;
    const uint32_t low = parse_hex4();
    if (low < 0xDC00 || low > 0xDFFF) fail_at("unpaired high surrogate in \\u escape", start);
    return 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
  }

  // Copies one multi-byte UTF-8 sequence starting at `pos_`, rejecting
  // malformed, overlong and surrogate encodings.
  void copy_utf8_sequence(std::string& out) {
    const size_t start = pos_;
    const unsigned char lead = next();
    int continuation = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuation = 2;
      if (lead == 0xE0) lo = 0xA0;  // overlong
      if (lead == 0xED) hi = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation = 3;
      if (lead == 0xF0) lo = 0x90;  // overlong
      if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      fail_at("invalid UTF-8 in string", start);
    }
    out += char(lead);
    for (int i = 0; i < continuation; ++i) {
      if (at_end()) fail_at("invalid UTF-8 in string", start);
      const unsigned char c = next();
      if (c < (i == 0 ? lo : 0x80) || c > (i == 0 ? hi : 0xBF)) fail_at("invalid UTF-8 in string", start);
      out += char(c);
    }
  }

  std::string parse_string() {
    const size_t start = pos_;
    expect('"');
    std::string out;
    while (true) {
      if (at_end()) fail_at("unterminated string", start);
      const unsigned char c = peek();
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("control character in string (must be escaped)");
      if (c >= 0x80) {
        copy_utf8_sequence(out);
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out += char(c);
        continue;
      }
      const unsigned char e = next();
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, parse_unicode_escape()); break;
        default: fail_at("invalid escape in string", pos_ - 2);
      }
    }
  }
};

bool is_plain_integer(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = (s[0] == '-' ? 1 : 0); i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

}  // namespace

Value parse(const std::string& text, int max_depth) { return Parser(text, max_depth).parse_document(); }

std::optional<uint64_t> to_uint64(const Value& v) {
  if (!v.is_number() || !is_plain_integer(v.number_text) || v.number_text[0] == '-') return std::nullopt;
  uint64_t out = 0;
  const char* last = v.number_text.data() + v.number_text.size();
  const auto result = std::from_chars(v.number_text.data(), last, out);
  if (result.ec != std::errc() || result.ptr != last) return std::nullopt;  // too large
  return out;
}

std::optional<int64_t> to_int64(const Value& v) {
  if (!v.is_number() || !is_plain_integer(v.number_text)) return std::nullopt;
  int64_t out = 0;
  const char* last = v.number_text.data() + v.number_text.size();
  const auto result = std::from_chars(v.number_text.data(), last, out);
  if (result.ec != std::errc() || result.ptr != last) return std::nullopt;
  return out;
}

Value make_null() { return Value(); }

Value make_bool(bool b) {
  Value v;
  v.kind = Value::Kind::boolean;
  v.boolean = b;
  return v;
}

Value make_number(double x) {
  SG_CHECK(std::isfinite(x), "json: cannot write the non-finite number ", x);
  Value v;
  v.kind = Value::Kind::number;
  v.number = x;
  return v;
}

Value make_int(int64_t i) {
  Value v;
  v.kind = Value::Kind::number;
  v.number = double(i);
  v.number_text = std::to_string(i);
  return v;
}

Value make_string(std::string s) {
  Value v;
  v.kind = Value::Kind::string;
  v.string = std::move(s);
  return v;
}

Value make_array(std::vector<Value> items) {
  Value v;
  v.kind = Value::Kind::array;
  v.array = std::move(items);
  return v;
}

Value make_object(std::vector<std::pair<std::string, Value>> members) {
  Value v;
  v.kind = Value::Kind::object;
  v.object = std::move(members);
  return v;
}

static void write_into(const Value& v, std::string& out) {
  switch (v.kind) {
    case Value::Kind::null: out += "null"; return;
    case Value::Kind::boolean: out += v.boolean ? "true" : "false"; return;
    case Value::Kind::number: {
      if (!v.number_text.empty()) {
        out += v.number_text;
        return;
      }
      SG_CHECK(std::isfinite(v.number), "json: cannot write the non-finite number ", v.number);
      char buf[32];  // the shortest round-trip form of a double needs at most 24 characters
      const auto result = std::to_chars(buf, buf + sizeof buf, v.number);
      out.append(buf, result.ptr);
      return;
    }
    case Value::Kind::string: out += quote(v.string); return;
    case Value::Kind::array:
      out += '[';
      for (size_t i = 0; i < v.array.size(); ++i) {
        if (i) out += ',';
        write_into(v.array[i], out);
      }
      out += ']';
      return;
    case Value::Kind::object: {
      std::set<std::string> seen;
      out += '{';
      for (size_t i = 0; i < v.object.size(); ++i) {
        const auto& [key, member] = v.object[i];
        SG_CHECK(seen.insert(key).second, "json: cannot write the duplicate key ", quote(key));
        if (i) out += ',';
        out += quote(key);
        out += ':';
        write_into(member, out);
      }
      out += '}';
      return;
    }
  }
}

std::string write(const Value& v) {
  std::string out;
  write_into(v, out);
  return out;
}

std::string quote(const std::string& s) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

}  // namespace sg::json
