// A small, safe pickle virtual machine: enough of protocols 2-5 to read what
// torch.save writes, and nothing that can run code.
//
// A pickle is a program for a stack machine: opcodes push values (ints,
// strings, empty containers), build containers from the top of the stack,
// store and fetch values in a "memo" (so shared objects are written once),
// and -- the dangerous part -- import globals (GLOBAL 'posix system') and call
// them (REDUCE). Python's pickle imports and calls whatever the file names.
// This VM imports nothing: a global is only a name, and it must be on the
// caller's allow-list or unpickling stops with an error naming it. Calls are
// not performed either: REDUCE produces a `call` value (the callable's name
// plus its arguments) that the caller interprets -- torch_checkpoint.cpp turns
// calls of torch._utils._rebuild_tensor_v2 into tensors. The one call the VM
// performs itself is collections.OrderedDict(...), which makes a dict.
//
// Stack, memo and value counts are bounded, every read is bounds-checked, and
// the VM never recurses, so a hostile pickle costs at most time and memory in
// proportion to its size.
#pragma once
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "weights/byte_reader.h"

namespace sg::pickle {

// A Python object as the pickle describes it.
struct Value {
  enum class Kind : uint8_t {
    none,
    boolean,        // `integer` is 0 or 1
    integer,        // fits in int64
    big_integer,    // `text` holds its little-endian two's-complement bytes
    floating,
    string,         // `text` (str; also Python 2's byte strings)
    bytes,          // `text`
    tuple,          // `items`
    list,           // `items`
    dict,           // `entries`, in insertion order
    global,         // `text` is "module.name", e.g. "torch.FloatStorage"
    call,           // `items` = {callable, args tuple}: the result of REDUCE / NEWOBJ
    persistent_id,  // `items` = {id}: a reference to data outside the pickle (torch: a storage)
  };

  Kind kind = Kind::none;
  int64_t integer = 0;
  double floating = 0;
  std::string text;
  std::vector<const Value*> items;
  std::vector<std::pair<const Value*, const Value*>> entries;

  bool is(Kind k) const { return kind == k; }
  bool is_text() const { return kind == Kind::string || kind == Kind::bytes; }
  // Dicts: the value of the first entry whose key is the text `key`, or null.
  const Value* find(const std::string& key) const;
  // For a call: the callable's "module.name" ("" if the callable is not a global).
  const std::string& callable_name() const;
  const Value& args() const { return *items.at(1); }  // for a call
};

const char* kind_name(Value::Kind kind);  // "int", "str", "dict", "call", ...
std::string with_article(const std::string& kind);  // "an int", "a dict": for messages

// What one run of the VM produced. Values point at each other freely (the
// memo lets a pickle share them, even build cycles), so they live in an arena
// owned here and are freed together: pointers stay valid while this lives.
struct Unpickled {
  std::vector<std::unique_ptr<Value>> arena;
  const Value* root = nullptr;               // the value STOP returned
  std::vector<const Value*> persistent_ids;  // every persistent_id value, in stream order
  size_t end = 0;                            // offset just past the STOP opcode
};

// Runs the pickle that starts at `start` in `bytes` up to its STOP opcode.
// `allowed_globals` lists the "module.name"s it may reference; any other
// global is an sg::Error naming it.
Unpickled unpickle(ByteSpan bytes, size_t start, const std::set<std::string>& allowed_globals);

}  // namespace sg::pickle
