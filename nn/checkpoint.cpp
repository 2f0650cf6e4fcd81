#include "nn/checkpoint.h"

#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "nn/lr_scheduler.h"
#include "nn/module.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "weights/safetensors.h"
#include "weights/torch_checkpoint.h"

namespace sg::nn {

using namespace state_json;

namespace {

constexpr const char* kMetadataKey = "stylegrad_checkpoint";
constexpr const char* kRngTensor = "rng";
constexpr int64_t kFormat = 1;

// Names are unique across modules, optimizers and schedulers, non-empty,
// without '.' (they are the prefix before the first '.'), and not "rng".
void check_names(const Checkpoint& c) {
  std::set<std::string> seen;
  auto check = [&](const char* kind, const std::string& name, const void* object) {
    SG_CHECK(object, "checkpoint: ", kind, " '", name, "' is null");
    SG_CHECK(!name.empty() && name.find('.') == std::string::npos && name != kRngTensor, "checkpoint: ", kind,
             " name '", name, "' must be non-empty, without '.', and not 'rng'");
    SG_CHECK(seen.insert(name).second, "checkpoint: two objects are named '", name, "'");
  };
  for (const auto& [name, m] : c.modules) check("module", name, m);
  for (const auto& [name, o] : c.optimizers) check("optimizer", name, o);
  for (const auto& [name, s] : c.schedulers) check("scheduler", name, s);
  for (const auto& [name, t] : c.tensor_sets)
    check("tensor set", name, t.save && t.load ? &t : nullptr);
}

// The Generator's state as int64 [6]: s[0..3], has_spare, the spare's bits.
Tensor rng_tensor(const Generator& gen) {
  const GeneratorState st = gen.state();
  Tensor t = empty({6}, TensorOptions(DType::i64));
  int64_t* d = t.data<int64_t>();
  std::memcpy(d, st.s, sizeof st.s);
  d[4] = st.has_spare ? 1 : 0;
  std::memcpy(&d[5], &st.spare, sizeof st.spare);
  return t;
}

GeneratorState rng_state(const std::string& who, const Tensor& t) {
  SG_CHECK(t.dtype() == DType::i64 && t.shape() == Shape{6}, who, ": tensor 'rng' must be int64 [6], not ",
           dtype_name(t.dtype()), " ", t.shape().str());
  const Tensor c = t.contiguous();
  const int64_t* d = c.data<int64_t>();
  SG_CHECK(d[4] == 0 || d[4] == 1, who, ": tensor 'rng': element 4 (has_spare) must be 0 or 1, got ", d[4]);
  GeneratorState st;
  std::memcpy(st.s, d, sizeof st.s);
  st.has_spare = d[4] == 1;
  std::memcpy(&st.spare, &d[5], sizeof st.spare);
  return st;
}

std::string names_of(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// A module's keys against the file's: everything present with its shape, nothing else.
void check_module(const std::string& who, const std::string& name, const Module& m, const NamedTensors& file) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [key, t] : file) given[key] = &t;
  for (const auto& [key, mine] : m.state_dict()) {
    auto it = given.find(key);
    SG_CHECK(it != given.end(), who, ": missing tensor '", name, ".", key, "' (module '", name, "' has it, shape ",
             mine.shape().str(), ")");
    SG_CHECK(it->second->shape() == mine.shape(), who, ": tensor '", name, ".", key, "' has shape ",
             it->second->shape().str(), " in the file, module '", name, "' has ", mine.shape().str());
    given.erase(it);
  }
  SG_CHECK(given.empty(), who, ": unexpected tensor '", name, ".", (given.empty() ? "" : given.begin()->first),
           "' (module '", name, "' has no such key)");
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  check_names(c);
  NamedTensors tensors;
  bool any_f64 = false;
  auto add = [&](const std::string& name, const Tensor& t) {
    any_f64 = any_f64 || t.dtype() == DType::f64;
    tensors.emplace_back(name, t);
  };
  std::vector<json::Value> modules;
  for (const auto& [name, m] : c.modules) {
    modules.push_back(json::make_string(name));
    for (const auto& [key, t] : m->state_dict()) add(name + "." + key, t);
  }
  std::vector<std::pair<std::string, json::Value>> optimizers, schedulers;
  for (const auto& [name, o] : c.optimizers) {
    StateDict sd = o->state_dict();
    for (const auto& [key, t] : sd.tensors) add(name + "." + key, t);
    optimizers.emplace_back(name, std::move(sd.json));
  }
  for (const auto& [name, s] : c.schedulers) schedulers.emplace_back(name, s->state_dict());
  std::vector<json::Value> tensor_sets;
  for (const auto& [name, set] : c.tensor_sets) {
    tensor_sets.push_back(json::make_string(name));
    for (const auto& [key, t] : set.save()) add(name + "." + key, t);
  }
  if (c.generator) tensors.emplace_back(kRngTensor, rng_tensor(*c.generator));

  // Float tensors are read back in one dtype: float64 when any was saved so, which keeps float32 values exact too.
  const json::Value info = json::make_object({{"format", json::make_int(kFormat)},
                                              {"epoch", json::make_int(c.epoch)},
                                              {"iteration", json::make_int(c.iteration)},
                                              {"float_dtype", json::make_string(any_f64 ? "float64" : "float32")},
                                              {"modules", json::make_array(std::move(modules))},
                                              {"optimizers", json::make_object(std::move(optimizers))},
                                              {"schedulers", json::make_object(std::move(schedulers))},
                                              {"tensor_sets", json::make_array(std::move(tensor_sets))},
                                              {"rng", json::make_bool(c.generator != nullptr)}});
  write_safetensors(path, tensors, {{kMetadataKey, json::write(info)}});
}

void load_checkpoint(const std::string& path, Checkpoint& c, bool strict) {
  check_names(c);
  const std::string who = "checkpoint " + path;
  const SafetensorsMetadata metadata = read_safetensors_metadata(path);
  auto meta = metadata.find(kMetadataKey);
  SG_CHECK(meta != metadata.end(), who, ": not a stylegrad checkpoint (its metadata has no '", kMetadataKey, "')");
  json::Value info;
  try {
    info = json::parse(meta->second);
  } catch (const Error& e) {
    throw Error(who + ": metadata '" + kMetadataKey + "' is not valid JSON: " + e.what());
  }
  const int64_t format = integer(who, member(who, info, "", "format"), "format");
  SG_CHECK(format == kFormat, who, ": checkpoint format ", format, ", this stylegrad reads format ", kFormat);
  const int64_t epoch = integer(who, member(who, info, "", "epoch"), "epoch");
  const int64_t iteration = integer(who, member(who, info, "", "iteration"), "iteration");
  const json::Value& float_dtype = member(who, info, "", "float_dtype");
  SG_CHECK(float_dtype.is_string() && (float_dtype.string == "float32" || float_dtype.string == "float64"), who,
           ": 'float_dtype' must be \"float32\" or \"float64\"");
  const json::Value& module_list = member(who, info, "", "modules");
  const json::Value& optimizer_states = member(who, info, "", "optimizers");
  const json::Value& scheduler_states = member(who, info, "", "schedulers");
  const bool has_rng = boolean(who, member(who, info, "", "rng"), "rng");
  SG_CHECK(module_list.is_array(), who, ": 'modules' must be an array of names");
  SG_CHECK(optimizer_states.is_object() && scheduler_states.is_object(), who,
           ": 'optimizers' and 'schedulers' must be objects");
  std::set<std::string> file_modules, file_optimizers, file_schedulers, file_sets;
  for (const json::Value& n : module_list.array) {
    SG_CHECK(n.is_string(), who, ": 'modules' must be an array of names");
    file_modules.insert(n.string);
  }
  if (const json::Value* sets = info.find("tensor_sets")) {  // absent in files written before tensor sets
    SG_CHECK(sets->is_array(), who, ": 'tensor_sets' must be an array of names");
    for (const json::Value& n : sets->array) {
      SG_CHECK(n.is_string(), who, ": 'tensor_sets' must be an array of names");
      file_sets.insert(n.string);
    }
  }
  for (const auto& [name, v] : optimizer_states.object) file_optimizers.insert(name);
  for (const auto& [name, v] : scheduler_states.object) file_schedulers.insert(name);

  // The tensors by object: "G_A.model.1.weight" -> ["G_A"]["model.1.weight"].
  const NamedTensors all = read_safetensors(path, float_dtype.string == "float64" ? DType::f64 : DType::f32);
  std::map<std::string, NamedTensors> by_object;
  const Tensor* rng = nullptr;
  for (const auto& [name, t] : all) {
    if (name == kRngTensor) {
      rng = &t;
      continue;
    }
    const size_t dot = name.find('.');
    const std::string object = dot == std::string::npos ? "" : name.substr(0, dot);
    SG_CHECK(file_modules.count(object) || file_optimizers.count(object) || file_sets.count(object), who,
             ": unexpected tensor '", name, "' (no module, optimizer or tensor set of the checkpoint is named '",
             object, "')");
    by_object[object].emplace_back(name.substr(dot + 1), t);
  }
  SG_CHECK(rng || !has_rng, who, ": the metadata says there is a generator state, but tensor 'rng' is missing");

  // Is every object given in the file, and (strict) every object of the file given?
  auto check_present = [&](const char* kind, const std::string& name, const std::set<std::string>& in_file) {
    SG_CHECK(in_file.count(name), who, ": no ", kind, " '", name, "' in the file (it has ", names_of(in_file), ")");
  };
  std::set<std::string> given;
  for (const auto& [name, m] : c.modules) check_present("module", name, file_modules), given.insert(name);
  for (const auto& [name, o] : c.optimizers) check_present("optimizer", name, file_optimizers), given.insert(name);
  for (const auto& [name, s] : c.schedulers) check_present("scheduler", name, file_schedulers), given.insert(name);
  for (const auto& [name, t] : c.tensor_sets) check_present("tensor set", name, file_sets), given.insert(name);
  SG_CHECK(!c.generator || rng, who, ": the file has no generator state (tensor 'rng')");
  if (strict) {
    for (const auto* names : {&file_modules, &file_optimizers, &file_schedulers, &file_sets})
      for (const std::string& name : *names)
        SG_CHECK(given.count(name), who, ": the file has ",
                 names == &file_modules      ? "module"
                 : names == &file_optimizers ? "optimizer"
                 : names == &file_sets       ? "tensor set"
                                             : "scheduler",
                 " '", name, "', which was not given (load with strict = false to skip it)");
    SG_CHECK(!rng || c.generator, who, ": the file has a generator state, but no generator was given");
  }
  for (const auto& [name, m] : c.modules) check_module(who, name, *m, by_object[name]);
  const std::optional<GeneratorState> rng_st = c.generator ? std::optional(rng_state(who, *rng)) : std::nullopt;

  for (const auto& [name, m] : c.modules) m->load_state_dict(by_object[name], /*strict=*/true);
  for (const auto& [name, o] : c.optimizers) {
    try {
      o->load_state_dict(StateDict{by_object[name], *optimizer_states.find(name)});
    } catch (const Error& e) {
      throw Error(who + ": optimizer '" + name + "': " + e.what());
    }
  }
  for (const auto& [name, s] : c.schedulers) {
    try {
      s->load_state_dict(*scheduler_states.find(name));
    } catch (const Error& e) {
      throw Error(who + ": scheduler '" + name + "': " + e.what());
    }
  }
  for (const auto& [name, set] : c.tensor_sets) {
    try {
      set.load(by_object[name]);
    } catch (const Error& e) {
      throw Error(who + ": tensor set '" + name + "': " + e.what());
    }
  }
  if (c.generator) c.generator->set_state(*rng_st);
  c.epoch = epoch;
  c.iteration = iteration;
}

// ---------------- torch.save(optimizer.state_dict()) ----------------

namespace {

using PValue = pickle::Value;
using PKind = pickle::Value::Kind;

// Turns the pickled values of an optimizer state_dict into JSON and tensors.
struct TorchStateReader {
  const TorchCheckpoint& file;
  NamedTensors& tensors;

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(file.name() + ": '" + key + "' " + what);
  }

  Tensor tensor(const PValue& v, const std::string& key) const {
    // TorchCheckpoint converts the tensors of a dict: make one holding only this tensor, named by its key.
    PValue name, dict;
    name.kind = PKind::string;
    name.text = key;
    dict.kind = PKind::dict;
    dict.entries.emplace_back(&name, &v);
    return file.tensors(dict, DType::f64).at(0).second;
  }

  // The JSON of `v`, or nothing when `v` went into `tensors` (allowed in state entries only).
  std::optional<json::Value> value(const PValue& v, const std::string& key, bool tensors_allowed) const {
    if (is_pickled_tensor(v)) {
      Tensor t = tensor(v, key);
      if (t.dim() == 0) return extended_number(t.item());  // torch keeps step, H_diag, ro[i] as 0-d tensors
      if (!tensors_allowed) fail(key, "is a tensor; expected a number");
      tensors.emplace_back(key, t);
      return std::nullopt;
    }
    switch (v.kind) {
      case PKind::none: return json::make_null();
      case PKind::boolean: return json::make_bool(v.integer != 0);
      case PKind::integer: return json::make_int(v.integer);
      case PKind::floating: return extended_number(v.floating);
      case PKind::string: return json::make_string(v.text);
      case PKind::tuple:
      case PKind::list: {
        bool all_tensors = !v.items.empty();  // a list of tensors (old_dirs) goes to "key.0", "key.1", ...
        for (const PValue* item : v.items)
          all_tensors = all_tensors && is_pickled_tensor(*item) && tensor(*item, key).dim() > 0;
        std::vector<json::Value> items;
        for (size_t i = 0; i < v.items.size(); ++i) {
          std::optional<json::Value> item = value(*v.items[i], key + "." + std::to_string(i), all_tensors && tensors_allowed);
          if (item) items.push_back(std::move(*item));
        }
        if (all_tensors && tensors_allowed) return std::nullopt;
        return json::make_array(std::move(items));
      }
      default: fail(key, std::string("is a ") + pickle::kind_name(v.kind) + ", not a number, string, list or tensor");
    }
  }
};

}  // namespace

StateDict read_torch_optimizer_state_dict(const std::string& path) {
  const TorchCheckpoint file = TorchCheckpoint::open(path);
  const PValue& root = file.root();
  SG_CHECK(root.is(PKind::dict) && root.find("state") && root.find("param_groups"), path,
           ": not an optimizer state_dict (expected a dict with 'state' and 'param_groups')");
  StateDict sd;
  TorchStateReader reader{file, sd.tensors};

  const PValue& state = *root.find("state");
  SG_CHECK(state.is(PKind::dict), path, ": 'state' is a ", pickle::kind_name(state.kind), ", not a dict");
  std::vector<std::pair<std::string, json::Value>> state_json;
  for (const auto& [id, entry] : state.entries) {
    SG_CHECK(id->is(PKind::integer), path, ": a key of 'state' is a ", pickle::kind_name(id->kind),
             ", not a parameter index");
    const std::string key = "state." + std::to_string(id->integer);
    SG_CHECK(entry->is(PKind::dict), path, ": '", key, "' is a ", pickle::kind_name(entry->kind), ", not a dict");
    std::vector<std::pair<std::string, json::Value>> scalars;
    for (const auto& [name, v] : entry->entries) {
      SG_CHECK(name->is_text(), path, ": a key of '", key, "' is not a string");
      if (std::optional<json::Value> j = reader.value(*v, key + "." + name->text, true))
        scalars.emplace_back(name->text, std::move(*j));
    }
    state_json.emplace_back(std::to_string(id->integer), json::make_object(std::move(scalars)));
  }

  const PValue& groups = *root.find("param_groups");
  SG_CHECK(groups.is(PKind::list), path, ": 'param_groups' is a ", pickle::kind_name(groups.kind), ", not a list");
  std::vector<json::Value> groups_json;
  for (size_t g = 0; g < groups.items.size(); ++g) {
    const PValue& group = *groups.items[g];
    const std::string key = "param_groups." + std::to_string(g);
    SG_CHECK(group.is(PKind::dict), path, ": '", key, "' is a ", pickle::kind_name(group.kind), ", not a dict");
    std::vector<std::pair<std::string, json::Value>> members;
    for (const auto& [name, v] : group.entries) {
      SG_CHECK(name->is_text(), path, ": a key of '", key, "' is not a string");
      members.emplace_back(name->text, *reader.value(*v, key + "." + name->text, false));
    }
    groups_json.push_back(json::make_object(std::move(members)));
  }
  sd.json = json::make_object(
      {{"state", json::make_object(std::move(state_json))}, {"param_groups", json::make_array(std::move(groups_json))}});
  return sd;
}

}  // namespace sg::nn
