#include "weights/pickle.h"

#include <cstring>
#include <unordered_map>

namespace sg::pickle {

namespace {

// Bounds that no real checkpoint comes near. The VM does O(1) work and makes
// at most one value per opcode byte, so these only cap memory, not time.
constexpr size_t kMaxStackSize = size_t(1) << 20;
constexpr size_t kMaxMarkDepth = size_t(1) << 12;  // MARKs open at once (containers being built)
constexpr size_t kMaxMemoSize = size_t(1) << 22;
constexpr size_t kMaxValues = size_t(1) << 22;
constexpr size_t kMaxGlobalNameSize = 1024;

// The opcodes this VM runs (Python's Lib/pickletools.py documents them all).
enum Opcode : uint8_t {
  // protocol 0/1 opcodes that binary protocols still use
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2',
  NONE = 'N', BININT = 'J', BININT1 = 'K', BININT2 = 'M', BINFLOAT = 'G',
  BINSTRING = 'T', SHORT_BINSTRING = 'U', BINUNICODE = 'X', BINBYTES = 'B', SHORT_BINBYTES = 'C',
  EMPTY_TUPLE = ')', TUPLE = 't', EMPTY_LIST = ']', LIST = 'l', APPEND = 'a', APPENDS = 'e',
  EMPTY_DICT = '}', DICT = 'd', SETITEM = 's', SETITEMS = 'u',
  BINGET = 'h', LONG_BINGET = 'j', BINPUT = 'q', LONG_BINPUT = 'r',
  GLOBAL = 'c', REDUCE = 'R', BUILD = 'b', BINPERSID = 'Q',
  // protocol 2
  PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87,
  NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b,
  // protocol 4
  SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e,
  NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
};

constexpr int kHighestProtocol = 5;

class Machine {
 public:
  Machine(ByteSpan bytes, size_t start, const std::set<std::string>& allowed_globals)
      : in_(bytes, "pickle", start), allowed_globals_(allowed_globals) {}

  Unpickled run() {
    for (;;) {
      opcode_pos_ = in_.pos();
      opcode_ = in_.u8();
      if (opcode_ == STOP) {
        out_.root = pop();
        out_.end = in_.pos();
        return std::move(out_);
      }
      step();
    }
  }

 private:
  using Kind = Value::Kind;

  void step() {
    switch (opcode_) {
      case PROTO: {
        const uint8_t version = in_.u8();
        check(version <= kHighestProtocol, "unsupported pickle protocol ", int(version));
        break;
      }
      case FRAME: in_.skip(8); break;  // a frame's length is a read-ahead hint; its opcodes follow as usual

      // --- scalars ---
      case NONE: push(make(Kind::none)); break;
      case NEWTRUE: push(make_integer(Kind::boolean, 1)); break;
      case NEWFALSE: push(make_integer(Kind::boolean, 0)); break;
      case BININT: push(make_integer(Kind::integer, in_.i32())); break;
      case BININT1: push(make_integer(Kind::integer, in_.u8())); break;
      case BININT2: push(make_integer(Kind::integer, in_.u16())); break;
      case LONG1: push(make_long(in_.u8())); break;
      case LONG4: push(make_long(signed_length(in_.i32()))); break;
      case BINFLOAT: {
        // The one big-endian field in pickle.
        const ByteSpan b = in_.bytes(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = bits << 8 | b.data[i];
        Value* v = make(Kind::floating);
        std::memcpy(&v->floating, &bits, sizeof bits);
        push(v);
        break;
      }
      // Python 2's str (BINSTRING) is read as text, as Python 3 does by default.
      case BINUNICODE: push(make_text(Kind::string, in_.u32())); break;
      case SHORT_BINUNICODE: push(make_text(Kind::string, in_.u8())); break;
      case BINUNICODE8: push(make_text(Kind::string, in_.u64())); break;
      case BINSTRING: push(make_text(Kind::string, signed_length(in_.i32()))); break;
      case SHORT_BINSTRING: push(make_text(Kind::string, in_.u8())); break;
      case BINBYTES: push(make_text(Kind::bytes, in_.u32())); break;
      case SHORT_BINBYTES: push(make_text(Kind::bytes, in_.u8())); break;
      case BINBYTES8: push(make_text(Kind::bytes, in_.u64())); break;

      // --- stack and marks ---
      case MARK:
        check(marks_.size() < kMaxMarkDepth, "more than ", kMaxMarkDepth, " nested MARKs");
        marks_.push_back(stack_.size());
        break;
      case POP:
        // Like Python: pops a value, or the mark itself when nothing is above it.
        if (!marks_.empty() && marks_.back() == stack_.size())
          marks_.pop_back();
        else
          pop();
        break;
      case POP_MARK: pop_to_mark(); break;
      case DUP: push(top()); break;

      // --- containers ---
      case EMPTY_TUPLE: push(make(Kind::tuple)); break;
      case TUPLE1: push(make_tuple(1)); break;
      case TUPLE2: push(make_tuple(2)); break;
      case TUPLE3: push(make_tuple(3)); break;
      case TUPLE: push(make_sequence(Kind::tuple, pop_to_mark())); break;
      case EMPTY_LIST: push(make(Kind::list)); break;
      case LIST: push(make_sequence(Kind::list, pop_to_mark())); break;
      case APPEND: {
        Value* item = pop();
        append_items(top(), {item});
        break;
      }
      case APPENDS: {
        std::vector<Value*> items = pop_to_mark();
        append_items(top(), items);
        break;
      }
      case EMPTY_DICT: push(make(Kind::dict)); break;
      case DICT: {
        Value* dict = make(Kind::dict);
        set_items(dict, pop_to_mark());
        push(dict);
        break;
      }
      case SETITEM: {
        Value* value = pop();
        Value* key = pop();
        set_items(top(), {key, value});
        break;
      }
      case SETITEMS: {
        std::vector<Value*> keys_and_values = pop_to_mark();
        set_items(top(), keys_and_values);
        break;
      }

      // --- memo ---
      case BINGET: push(memo_get(in_.u8())); break;
      case LONG_BINGET: push(memo_get(in_.u32())); break;
      case BINPUT: memo_put(in_.u8()); break;
      case LONG_BINPUT: memo_put(in_.u32()); break;
      case MEMOIZE: memo_put(memo_.size()); break;

      // --- globals, calls, external references ---
      case GLOBAL: {
        std::string module = read_line();
        std::string name = read_line();
        push(make_global(module, name));
        break;
      }
      case STACK_GLOBAL: {
        Value* name = pop();
        Value* module = pop();
        check(name->is(Kind::string) && module->is(Kind::string), "STACK_GLOBAL needs two strings, got ",
              kind_name(module->kind), " and ", kind_name(name->kind));
        push(make_global(module->text, name->text));
        break;
      }
      case REDUCE:  // callable(*args)
      case NEWOBJ: {  // cls.__new__(cls, *args): the same thing for the classes we allow
        Value* args = pop();
        Value* callable = pop();
        push(make_call(callable, args));
        break;
      }
      case NEWOBJ_EX: {  // cls.__new__(cls, *args, **kwargs)
        Value* kwargs = pop();
        Value* args = pop();
        Value* cls = pop();
        check(kwargs->is(Kind::dict) && kwargs->entries.empty(), "NEWOBJ_EX with keyword arguments");
        push(make_call(cls, args));
        break;
      }
      case BUILD: {
        // obj.__setstate__(state). torch's OrderedDicts carry a `_metadata`
        // attribute (state-dict versions) this way; it is not needed, so the
        // state is dropped. Nothing else should get state.
        Value* state = pop();
        const Value* object = top();
        check(object->is(Kind::dict), "BUILD (setting state) on ", with_article(kind_name(object->kind)),
              "; only dicts may have state (state is ", with_article(kind_name(state->kind)), ")");
        break;
      }
      case BINPERSID: {
        Value* reference = make(Kind::persistent_id);
        reference->items = {pop()};
        out_.persistent_ids.push_back(reference);
        push(reference);
        break;
      }

      default:
        fail("unsupported opcode 0x", hex(opcode_),
             opcode_ >= 0x20 && opcode_ < 0x7f ? std::string(" '") + char(opcode_) + "'" : std::string());
    }
  }

  // --- values ---
  Value* make(Kind kind) {
    check(out_.arena.size() < kMaxValues, "more than ", kMaxValues, " values");
    out_.arena.push_back(std::make_unique<Value>());
    Value* v = out_.arena.back().get();
    v->kind = kind;
    return v;
  }
  Value* make_integer(Kind kind, int64_t x) {
    Value* v = make(kind);
    v->integer = x;
    return v;
  }
  Value* make_text(Kind kind, uint64_t size) {
    Value* v = make(kind);
    v->text = in_.string(size);
    return v;
  }
  uint64_t signed_length(int32_t n) {
    check(n >= 0, "negative length ", n);
    return uint64_t(n);
  }
  // LONG1/LONG4: an n-byte little-endian two's-complement integer. Values that
  // fit in int64 become integers (even if written with needless extra bytes);
  // larger ones keep their bytes (torch's legacy magic number is 10 bytes long).
  Value* make_long(uint64_t n) {
    const ByteSpan b = in_.bytes(n);
    if (n == 0) return make_integer(Kind::integer, 0);
    const bool negative = (b.data[n - 1] & 0x80) != 0;
    const uint8_t fill = negative ? 0xFF : 0x00;
    bool fits = true;
    for (uint64_t i = 8; i < n; ++i) fits = fits && b.data[i] == fill;
    if (n > 8 && (((b.data[7] & 0x80) != 0) != negative)) fits = false;
    if (!fits) {
      Value* v = make(Kind::big_integer);
      v->text = b.str();
      return v;
    }
    uint64_t bits = negative ? ~uint64_t(0) : 0;
    for (uint64_t i = 0; i < n && i < 8; ++i) {
      bits &= ~(uint64_t(0xFF) << (8 * i));
      bits |= uint64_t(b.data[i]) << (8 * i);
    }
    return make_integer(Kind::integer, int64_t(bits));
  }
  Value* make_sequence(Kind kind, const std::vector<Value*>& items) {
    Value* v = make(kind);
    v->items.assign(items.begin(), items.end());
    return v;
  }
  Value* make_tuple(size_t n) {
    std::vector<Value*> items(n);
    for (size_t i = n; i-- > 0;) items[i] = pop();
    return make_sequence(Kind::tuple, items);
  }
  void append_items(Value* list, const std::vector<Value*>& items) {
    check(list->is(Kind::list), "appending to ", with_article(kind_name(list->kind)), ", not a list");
    list->items.insert(list->items.end(), items.begin(), items.end());
  }
  // Keys are not de-duplicated: a pickled dict never repeats one, and readers
  // of the result reject duplicates where it matters.
  void set_items(Value* dict, const std::vector<Value*>& keys_and_values) {
    check(dict->is(Kind::dict), "setting items of a ", kind_name(dict->kind), ", not a dict");
    check(keys_and_values.size() % 2 == 0, "odd number of keys and values (", keys_and_values.size(), ")");
    for (size_t i = 0; i < keys_and_values.size(); i += 2)
      dict->entries.emplace_back(keys_and_values[i], keys_and_values[i + 1]);
  }
  Value* make_global(const std::string& module, const std::string& name) {
    const std::string qualified = module + "." + name;
    check(allowed_globals_.count(qualified) != 0, "refusing to load global '", qualified,
          "': it is not on the allow-list");
    Value* v = make(Kind::global);
    v->text = qualified;
    return v;
  }
  Value* make_call(Value* callable, Value* args) {
    check(callable->is(Kind::global), "calling ", with_article(kind_name(callable->kind)), ", not a global");
    check(args->is(Kind::tuple), "arguments of ", callable->text, " are a ", kind_name(args->kind),
          ", not a tuple");
    if (callable->text == "collections.OrderedDict") {
      // Python 3 pickles an OrderedDict as OrderedDict() followed by SETITEMS;
      // Python 2.7 (old checkpoints) as OrderedDict([[key, value], ...]).
      Value* dict = make(Kind::dict);
      check(args->items.size() <= 1, "collections.OrderedDict called with ", args->items.size(), " arguments");
      if (args->items.empty()) return dict;
      const Value* pairs = args->items[0];
      check(pairs->is(Kind::list) || pairs->is(Kind::tuple), "collections.OrderedDict called with a ",
            kind_name(pairs->kind), ", not a list of pairs");
      for (const Value* pair : pairs->items) {
        check((pair->is(Kind::list) || pair->is(Kind::tuple)) && pair->items.size() == 2,
              "collections.OrderedDict called with an item that is not a (key, value) pair");
        dict->entries.emplace_back(pair->items[0], pair->items[1]);
      }
      return dict;
    }
    Value* v = make(Kind::call);
    v->items = {callable, args};
    return v;
  }

  // --- stack ---
  // Only values above the innermost MARK are reachable, as in Python.
  size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Value* v) {
    check(stack_.size() < kMaxStackSize, "stack deeper than ", kMaxStackSize);
    stack_.push_back(v);
  }
  Value* top() {
    check(stack_.size() > stack_floor(), "stack underflow");
    return stack_.back();
  }
  Value* pop() {
    Value* v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<Value*> pop_to_mark() {
    check(!marks_.empty(), "no MARK to pop to");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
    return items;
  }

  // --- memo ---
  Value* memo_get(uint64_t index) {
    auto it = memo_.find(index);
    check(it != memo_.end(), "memo entry ", index, " was never stored");
    return it->second;
  }
  void memo_put(uint64_t index) {
    Value* v = top();
    check(memo_.size() < kMaxMemoSize || memo_.count(index), "memo larger than ", kMaxMemoSize);
    memo_[index] = v;
  }

  // GLOBAL's operands: text lines ending in '\n'.
  std::string read_line() {
    std::string line;
    for (;;) {
      const char c = char(in_.u8());
      if (c == '\n') return line;
      check(line.size() < kMaxGlobalNameSize, "GLOBAL name longer than ", kMaxGlobalNameSize, " bytes");
      line += c;
    }
  }

  static std::string hex(uint8_t byte) {
    const char* digits = "0123456789abcdef";
    return {digits[byte >> 4], digits[byte & 15]};
  }
  template <class... Args>
  void check(bool ok, const Args&... message) {
    if (!ok) fail(message...);
  }
  template <class... Args>
  [[noreturn]] void fail(const Args&... message) {
    throw Error(detail::concat("pickle: ", message..., " (opcode 0x", hex(opcode_), " at byte ", opcode_pos_, ")"));
  }

  ByteReader in_;
  const std::set<std::string>& allowed_globals_;
  Unpickled out_;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;  // stack sizes at each open MARK
  std::unordered_map<uint64_t, Value*> memo_;
  size_t opcode_pos_ = 0;
  uint8_t opcode_ = 0;
};

}  // namespace

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::none: return "None";
    case Value::Kind::boolean: return "bool";
    case Value::Kind::integer: return "int";
    case Value::Kind::big_integer: return "int";
    case Value::Kind::floating: return "float";
    case Value::Kind::string: return "str";
    case Value::Kind::bytes: return "bytes";
    case Value::Kind::tuple: return "tuple";
    case Value::Kind::list: return "list";
    case Value::Kind::dict: return "dict";
    case Value::Kind::global: return "global";
    case Value::Kind::call: return "call";
    case Value::Kind::persistent_id: return "persistent id";
  }
  return "?";
}

std::string with_article(const std::string& kind) {
  return (!kind.empty() && std::string("aeiou").find(kind[0]) != std::string::npos ? "an " : "a ") + kind;
}

const Value* Value::find(const std::string& key) const {
  for (const auto& [k, v] : entries)
    if (k->is_text() && k->text == key) return v;
  return nullptr;
}

const std::string& Value::callable_name() const {
  static const std::string none;
  return kind == Kind::call && items.at(0)->is(Kind::global) ? items[0]->text : none;
}

Unpickled unpickle(ByteSpan bytes, size_t start, const std::set<std::string>& allowed_globals) {
  return Machine(bytes, start, allowed_globals).run();
}

}  // namespace sg::pickle
