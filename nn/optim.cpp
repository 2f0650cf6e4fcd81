#include "nn/optim.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "autograd/grad_mode.h"
#include "kernels/kernel_table.h"
#include "ops/ops.h"
#include "tensor/storage.h"
#include "tensor/error.h"

namespace sg::nn {

// ---------------- reading a state_dict's JSON ----------------

namespace state_json {

static const char* kind_name(const json::Value& v) {
  switch (v.kind) {
    case json::Value::Kind::null: return "null";
    case json::Value::Kind::boolean: return "boolean";
    case json::Value::Kind::number: return "number";
    case json::Value::Kind::string: return "string";
    case json::Value::Kind::array: return "array";
    case json::Value::Kind::object: return "object";
  }
  return "value";
}

std::string join(const std::string& object_key, const std::string& key) {
  return object_key.empty() ? key : object_key + "." + key;
}

const json::Value& member(const std::string& who, const json::Value& object, const std::string& object_key,
                          const std::string& key) {
  SG_CHECK(object.is_object(), who, ": '", object_key, "' must be an object, got a ", kind_name(object));
  const json::Value* v = object.find(key);
  SG_CHECK(v, who, ": '", join(object_key, key), "' is missing");
  return *v;
}

double number(const std::string& who, const json::Value& v, const std::string& key) {
  SG_CHECK(v.is_number(), who, ": '", key, "' must be a number, got a ", kind_name(v));
  return v.number;
}

int64_t integer(const std::string& who, const json::Value& v, const std::string& key) {
  SG_CHECK(v.is_number(), who, ": '", key, "' must be an integer, got a ", kind_name(v));
  if (const std::optional<int64_t> i = json::to_int64(v)) return *i;
  // "3.0" (torch keeps Adam's step as a float tensor) is an integer too.
  const double x = v.number;
  SG_CHECK(x == std::floor(x) && std::abs(x) <= 9007199254740992.0, who, ": '", key, "' must be an integer, got ",
           v.number_text.empty() ? std::to_string(x) : v.number_text);
  return int64_t(x);
}

bool boolean(const std::string& who, const json::Value& v, const std::string& key) {
  SG_CHECK(v.is_bool(), who, ": '", key, "' must be true or false, got a ", kind_name(v));
  return v.boolean;
}

std::vector<double> numbers(const std::string& who, const json::Value& v, const std::string& key) {
  SG_CHECK(v.is_array(), who, ": '", key, "' must be an array of numbers, got a ", kind_name(v));
  std::vector<double> out;
  for (size_t i = 0; i < v.array.size(); ++i) out.push_back(number(who, v.array[i], join(key, std::to_string(i))));
  return out;
}

json::Value extended_number(double x) {
  if (std::isnan(x)) return json::make_string("NaN");
  if (std::isinf(x)) return json::make_string(x > 0 ? "Infinity" : "-Infinity");
  return json::make_number(x);
}

double extended_number(const std::string& who, const json::Value& v, const std::string& key) {
  if (v.is_string()) {
    if (v.string == "Infinity") return std::numeric_limits<double>::infinity();
    if (v.string == "-Infinity") return -std::numeric_limits<double>::infinity();
    if (v.string == "NaN") return std::numeric_limits<double>::quiet_NaN();
    throw Error(detail::concat(who, ": '", key, "' must be a number, \"Infinity\", \"-Infinity\" or \"NaN\", got ",
                               json::quote(v.string)));
  }
  return number(who, v, key);
}

}  // namespace state_json

namespace {

using namespace state_json;

// ---- writing ----

std::string state_key(size_t param) { return "state." + std::to_string(param); }

// One group's entry of "param_groups": its hyper-parameters, initial_lr if a
// scheduler set it, and the indices of its parameters.
json::Value group_json(std::vector<std::pair<std::string, json::Value>> members, std::optional<double> initial_lr,
                       size_t first_param, size_t count) {
  if (initial_lr) members.emplace_back("initial_lr", json::make_number(*initial_lr));
  std::vector<json::Value> ids;
  for (size_t i = 0; i < count; ++i) ids.push_back(json::make_int(int64_t(first_param + i)));
  members.emplace_back("params", json::make_array(std::move(ids)));
  return json::make_object(std::move(members));
}

json::Value state_dict_json(json::Value state, std::vector<json::Value> groups) {
  return json::make_object({{"state", std::move(state)}, {"param_groups", json::make_array(std::move(groups))}});
}

// ---- reading ----

// The saved state of one parameter: its scalars (a JSON object, or none) and
// tensors, each taken once by the optimizer; finish() refuses what is left.
struct ParamEntry {
  std::string key;  // "state.<saved index>"
  const json::Value* scalars = nullptr;
  std::set<std::string> scalars_taken;
  std::map<std::string, Tensor> tensors;  // by name after the key: "exp_avg", "old_dirs.3"

  bool has(const std::string& name) const {
    return tensors.count(name) || (scalars && scalars->find(name) != nullptr);
  }
  const json::Value& scalar(const std::string& who, const std::string& name) {
    SG_CHECK(scalars && scalars->find(name), who, ": '", key, ".", name, "' is missing");
    scalars_taken.insert(name);
    return *scalars->find(name);
  }
  // The tensor, checked against the shape it must have, as a fresh tensor of
  // `dtype` on `device` (the parameter's: a checkpoint is read on the CPU).
  Tensor tensor(const std::string& who, const std::string& name, const Shape& shape, DType dtype,
                const std::string& whose, Device device = Device::cpu()) {
    auto it = tensors.find(name);
    SG_CHECK(it != tensors.end(), who, ": tensor '", key, ".", name, "' is missing");
    SG_CHECK(it->second.shape() == shape, who, ": tensor '", key, ".", name, "' has shape ", it->second.shape().str(),
             ", ", whose, " has ", shape.str());
    SG_CHECK(is_floating(it->second.dtype()), who, ": tensor '", key, ".", name, "' must be floating-point, not ",
             dtype_name(it->second.dtype()));
    Tensor out = it->second.detach().to(dtype).clone().to(device);
    tensors.erase(it);
    return out;
  }
  void finish(const std::string& who) const {
    if (!tensors.empty()) throw Error(detail::concat(who, ": unexpected tensor '", key, ".", tensors.begin()->first, "'"));
    if (scalars)
      for (const auto& [name, v] : scalars->object)
        SG_CHECK(scalars_taken.count(name), who, ": unexpected '", key, ".", name, "'");
  }
};

// A state_dict checked against this optimizer's groups: each group's JSON,
// and the saved state of each parameter that has some, by index across groups.
struct Loaded {
  std::vector<const json::Value*> groups;
  std::vector<std::string> group_keys;  // "param_groups.<g>"
  std::map<size_t, ParamEntry> params;
};

Loaded parse_state_dict(const std::string& who, const StateDict& sd, const std::vector<size_t>& group_sizes) {
  Loaded out;
  const json::Value& groups = member(who, sd.json, "", "param_groups");
  SG_CHECK(groups.is_array(), who, ": 'param_groups' must be an array");
  SG_CHECK(groups.array.size() == group_sizes.size(), who, ": 'param_groups' has ", groups.array.size(),
           " groups, this optimizer has ", group_sizes.size());
  // Saved parameter indices map onto this optimizer's parameters by position, as in torch.
  std::map<int64_t, size_t> index_of;
  size_t next = 0;
  for (size_t g = 0; g < group_sizes.size(); ++g) {
    const std::string gkey = "param_groups." + std::to_string(g);
    const json::Value& group = groups.array[g];
    const json::Value& ids = member(who, group, gkey, "params");
    SG_CHECK(ids.is_array(), who, ": '", gkey, ".params' must be an array of parameter indices");
    SG_CHECK(ids.array.size() == group_sizes[g], who, ": '", gkey, ".params' lists ", ids.array.size(),
             " parameters, group ", g, " of this optimizer has ", group_sizes[g]);
    for (size_t k = 0; k < ids.array.size(); ++k) {
      const int64_t id = integer(who, ids.array[k], gkey + ".params." + std::to_string(k));
      SG_CHECK(index_of.emplace(id, next++).second, who, ": parameter index ", id, " appears twice in 'param_groups'");
    }
    out.groups.push_back(&group);
    out.group_keys.push_back(gkey);
  }
  auto entry_for = [&](const std::string& id_text, const std::string& what) -> ParamEntry& {
    int64_t id = -1;
    const json::Value as_number = [&] {
      try {
        return json::parse(id_text);
      } catch (const Error&) {
        return json::Value();
      }
    }();
    if (const std::optional<int64_t> i = json::to_int64(as_number)) id = *i;
    auto it = index_of.find(id);
    SG_CHECK(id >= 0 && it != index_of.end(), who, ": ", what, " '", "state.", id_text,
             "' names no parameter of 'param_groups'");
    ParamEntry& e = out.params[it->second];
    e.key = "state." + id_text;
    return e;
  };
  const json::Value& state = member(who, sd.json, "", "state");
  SG_CHECK(state.is_object(), who, ": 'state' must be an object");
  for (const auto& [id_text, scalars] : state.object) {
    SG_CHECK(scalars.is_object(), who, ": 'state.", id_text, "' must be an object");
    entry_for(id_text, "entry").scalars = &scalars;
  }
  for (const auto& [name, t] : sd.tensors) {
    const size_t dot1 = name.find('.');
    const size_t dot2 = dot1 == std::string::npos ? dot1 : name.find('.', dot1 + 1);
    SG_CHECK(name.compare(0, dot1, "state") == 0 && dot2 != std::string::npos && dot2 + 1 < name.size(), who,
             ": unexpected tensor '", name, "' (optimizer tensors are named state.<index>.<name>)");
    SG_CHECK(t.defined(), who, ": tensor '", name, "' is undefined");
    entry_for(name.substr(dot1 + 1, dot2 - dot1 - 1), "tensor").tensors[name.substr(dot2 + 1)] = t;
  }
  return out;
}

// The group keys torch 1.13 writes that switch implementations without
// changing the arithmetic; a state_dict saved by torch may have them.
bool is_torch_implementation_flag(const std::string& key) {
  return key == "foreach" || key == "differentiable" || key == "capturable" || key == "fused";
}

// Reads one group's hyper-parameters: `read` fills `o` from the keys it knows
// (marking them in `known`); every other key must be initial_lr, params or a
// torch implementation flag. Returns the group's initial_lr.
template <class Options, class Read>
std::optional<double> read_group(const std::string& who, const json::Value& group, const std::string& gkey,
                                 Options& o, std::vector<std::string> known, Read read) {
  read(o);
  std::optional<double> initial_lr;
  if (const json::Value* v = group.find("initial_lr")) initial_lr = number(who, *v, gkey + ".initial_lr");
  if (const json::Value* v = group.find("maximize"))
    SG_CHECK(!boolean(who, *v, gkey + ".maximize"), who, ": '", gkey, ".maximize' is true; stylegrad only minimises");
  known.insert(known.end(), {"initial_lr", "params", "maximize"});
  for (const auto& [key, v] : group.object) {
    bool ok = is_torch_implementation_flag(key);
    for (const std::string& k : known) ok = ok || k == key;
    SG_CHECK(ok, who, ": '", gkey, ".", key, "' is not a hyper-parameter of this optimizer");
  }
  return initial_lr;
}

void check_finished(const std::string& who, const Loaded& loaded) {
  for (const auto& [index, entry] : loaded.params) entry.finish(who);
}

}  // namespace

// ---------------- Optimizer ----------------

std::vector<Tensor> Optimizer::params() const {
  std::vector<Tensor> out;
  for (size_t g = 0; g < num_param_groups(); ++g)
    for (const Tensor& p : group_params(g)) out.push_back(p);
  return out;
}

void Optimizer::zero_grad() {
  for (size_t g = 0; g < num_param_groups(); ++g)
    for (const Tensor& p : group_params(g)) p.set_grad(Tensor());
}

template <class Options>
OptimizerWithGroups<Options>::OptimizerWithGroups(std::string name, std::vector<Group> groups)
    : Optimizer(std::move(name)), groups_(std::move(groups)) {
  std::set<const TensorImpl*> seen;
  for (const Group& group : groups_)
    for (const Tensor& p : group.params) {
      SG_CHECK(p.defined() && p.requires_grad() && p.is_leaf(),
               "optimizer: every parameter must be a leaf tensor that requires grad");
      SG_CHECK(seen.insert(p.impl()).second, this->name(), ": a parameter appears more than once in the groups");
    }
}

template class OptimizerWithGroups<SGDOptions>;
template class OptimizerWithGroups<AdamOptions>;
template class OptimizerWithGroups<AdamWOptions>;
template class OptimizerWithGroups<LBFGSOptions>;

// Every group's parameter count, for parse_state_dict.
template <class Groups>
static std::vector<size_t> group_sizes(const Groups& groups) {
  std::vector<size_t> sizes;
  for (const auto& g : groups) sizes.push_back(g.params.size());
  return sizes;
}

// ---------------- SGD ----------------

static void check_sgd_options(const SGDOptions& o, const std::string& who) {
  SG_CHECK(o.lr >= 0, who, ": invalid learning rate ", o.lr);
  SG_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), who, ": nesterov needs momentum > 0 and no dampening");
}

SGD::SGD(std::vector<Tensor> params, Options o) : SGD(std::vector<Group>{{std::move(params), o}}) {}

SGD::SGD(std::vector<Group> groups) : OptimizerWithGroups("SGD", std::move(groups)) {
  for (const Group& g : groups_) check_sgd_options(g.options, "SGD");
  momentum_buf_.resize(params().size());
}

void SGD::step() {
  NoGradGuard ng;
  size_t index = 0;
  for (Group& group : groups_) {
    const Options& o = group.options;
    for (Tensor& p : group.params) {
      Tensor& buf = momentum_buf_[index++];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      if (o.weight_decay != 0) g = g + p * o.weight_decay;
      if (o.momentum != 0) {
        if (!buf.defined()) buf = g.clone();
        else buf = buf * o.momentum + g * (1.0 - o.dampening);
        g = o.nesterov ? g + buf * o.momentum : buf;
      }
      p.add_(g, -o.lr);
    }
  }
}

StateDict SGD::state_dict() const {
  StateDict sd;
  std::vector<json::Value> groups;
  size_t index = 0;
  for (const Group& g : groups_) {
    const Options& o = g.options;
    groups.push_back(group_json({{"lr", json::make_number(o.lr)},
                                 {"momentum", json::make_number(o.momentum)},
                                 {"dampening", json::make_number(o.dampening)},
                                 {"weight_decay", json::make_number(o.weight_decay)},
                                 {"nesterov", json::make_bool(o.nesterov)}},
                                g.initial_lr, index, g.params.size()));
    for (size_t k = 0; k < g.params.size(); ++k, ++index)
      if (momentum_buf_[index].defined()) sd.tensors.emplace_back(state_key(index) + ".momentum_buffer", momentum_buf_[index]);
  }
  sd.json = state_dict_json(json::make_object(), std::move(groups));
  return sd;
}

void SGD::load_state_dict(const StateDict& sd) {
  const std::string who = "SGD.load_state_dict";
  Loaded loaded = parse_state_dict(who, sd, group_sizes(groups_));
  std::vector<Group> groups = groups_;
  for (size_t g = 0; g < groups.size(); ++g) {
    const json::Value& j = *loaded.groups[g];
    const std::string& k = loaded.group_keys[g];
    groups[g].initial_lr = read_group(who, j, k, groups[g].options,
                                      {"lr", "momentum", "dampening", "weight_decay", "nesterov"}, [&](Options& o) {
                                        o.lr = number(who, member(who, j, k, "lr"), k + ".lr");
                                        o.momentum = number(who, member(who, j, k, "momentum"), k + ".momentum");
                                        o.dampening = number(who, member(who, j, k, "dampening"), k + ".dampening");
                                        o.weight_decay = number(who, member(who, j, k, "weight_decay"), k + ".weight_decay");
                                        o.nesterov = boolean(who, member(who, j, k, "nesterov"), k + ".nesterov");
                                      });
    check_sgd_options(groups[g].options, who);
  }
  const std::vector<Tensor> ps = params();
  std::vector<Tensor> bufs(ps.size());
  for (auto& [index, entry] : loaded.params) {
    if (entry.tensors.count("momentum_buffer"))
      bufs[index] = entry.tensor(who, "momentum_buffer", ps[index].shape(), ps[index].dtype(),
                                 "parameter " + std::to_string(index), ps[index].device());
    else if (entry.has("momentum_buffer"))  // torch without momentum saves momentum_buffer None
      SG_CHECK(entry.scalar(who, "momentum_buffer").is_null(), who, ": '", entry.key,
               ".momentum_buffer' must be a tensor or null");
  }
  check_finished(who, loaded);
  groups_ = std::move(groups);
  momentum_buf_ = std::move(bufs);
}

// ---------------- Adam, AdamW ----------------

template <class Options>
static void check_adam_options(const Options& o, const std::string& who) {
  SG_CHECK(o.lr >= 0 && o.eps >= 0 && o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1 && o.weight_decay >= 0,
           who, ": invalid hyper-parameters (lr ", o.lr, ", betas ", o.beta1, ", ", o.beta2, ", eps ", o.eps,
           ", weight_decay ", o.weight_decay, ")");
}

template <class Options, bool kDecoupled>
AdamFamily<Options, kDecoupled>::AdamFamily(std::vector<Tensor> params, Options o)
    : AdamFamily(std::vector<Group>{{std::move(params), o}}) {}

template <class Options, bool kDecoupled>
AdamFamily<Options, kDecoupled>::AdamFamily(std::vector<Group> groups)
    : OptimizerWithGroups<Options>(kDecoupled ? "AdamW" : "Adam", std::move(groups)) {
  for (const Group& g : this->groups_) check_adam_options(g.options, this->name());
  state_.resize(this->params().size());
}

// The update itself is one fused kernel (kernels/cpu/optim.h has the formula):
// every tensor it reads and writes in place must be contiguous and on the
// parameter's device. A non-contiguous parameter or gradient is updated
// through a contiguous copy.
static void adam_step(const std::string& who, Tensor& p, const Tensor& grad, const Tensor& exp_avg,
                      const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq, const AdamStep& s) {
  for (const Tensor* t : {&grad, &exp_avg, &exp_avg_sq})
    SG_CHECK(t->device() == p.device() && t->dtype() == p.dtype(), who, ": state ", t->str(),
             " is not on the parameter's device and dtype (", p.str(), ")");
  const Tensor work = p.is_contiguous() ? p : p.contiguous();
  kernel_for(p.device(), &KernelTable::adam_update, "Adam.step")(work, grad.contiguous(), exp_avg, exp_avg_sq,
                                                                 max_exp_avg_sq, s);
  if (!p.is_contiguous()) p.copy_(work);
  for (const Tensor* t : {static_cast<const Tensor*>(&p), &exp_avg, &exp_avg_sq, &max_exp_avg_sq})
    if (t->defined()) t->storage()->bump_version();  // written in place, as by copy_
}

template <class Options, bool kDecoupled>
void AdamFamily<Options, kDecoupled>::step() {
  NoGradGuard ng;
  size_t index = 0;
  for (Group& group : this->groups_) {
    const Options& o = group.options;
    for (Tensor& p : group.params) {
      ParamState& st = state_[index++];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      ++st.step;
      if (!st.exp_avg.defined()) {
        st.exp_avg = zeros_like(p);
        st.exp_avg_sq = zeros_like(p);
      }
      if (o.amsgrad && !st.max_exp_avg_sq.defined()) st.max_exp_avg_sq = zeros_like(p);  // also: switched on later
      AdamStep s;
      s.lr = o.lr, s.beta1 = o.beta1, s.beta2 = o.beta2, s.eps = o.eps, s.weight_decay = o.weight_decay;
      s.bias_correction1 = 1.0 - std::pow(o.beta1, double(st.step));
      s.bias_correction2 = 1.0 - std::pow(o.beta2, double(st.step));
      s.decoupled_weight_decay = kDecoupled;
      s.amsgrad = o.amsgrad;
      adam_step(this->name(), p, g, st.exp_avg, st.exp_avg_sq, st.max_exp_avg_sq, s);
    }
  }
}

template <class Options, bool kDecoupled>
StateDict AdamFamily<Options, kDecoupled>::state_dict() const {
  StateDict sd;
  std::vector<json::Value> groups;
  std::vector<std::pair<std::string, json::Value>> state;
  size_t index = 0;
  for (const Group& g : this->groups_) {
    const Options& o = g.options;
    groups.push_back(group_json({{"lr", json::make_number(o.lr)},
                                 {"betas", json::make_array({json::make_number(o.beta1), json::make_number(o.beta2)})},
                                 {"eps", json::make_number(o.eps)},
                                 {"weight_decay", json::make_number(o.weight_decay)},
                                 {"amsgrad", json::make_bool(o.amsgrad)}},
                                g.initial_lr, index, g.params.size()));
    for (size_t k = 0; k < g.params.size(); ++k, ++index) {
      const ParamState& st = state_[index];
      if (!st.exp_avg.defined()) continue;
      state.emplace_back(std::to_string(index), json::make_object({{"step", json::make_int(st.step)}}));
      sd.tensors.emplace_back(state_key(index) + ".exp_avg", st.exp_avg);
      sd.tensors.emplace_back(state_key(index) + ".exp_avg_sq", st.exp_avg_sq);
      if (st.max_exp_avg_sq.defined()) sd.tensors.emplace_back(state_key(index) + ".max_exp_avg_sq", st.max_exp_avg_sq);
    }
  }
  sd.json = state_dict_json(json::make_object(std::move(state)), std::move(groups));
  return sd;
}

template <class Options, bool kDecoupled>
void AdamFamily<Options, kDecoupled>::load_state_dict(const StateDict& sd) {
  const std::string who = this->name() + ".load_state_dict";
  Loaded loaded = parse_state_dict(who, sd, group_sizes(this->groups_));
  std::vector<Group> groups = this->groups_;
  for (size_t g = 0; g < groups.size(); ++g) {
    const json::Value& j = *loaded.groups[g];
    const std::string& k = loaded.group_keys[g];
    groups[g].initial_lr = read_group(who, j, k, groups[g].options, {"lr", "betas", "eps", "weight_decay", "amsgrad"},
                                      [&](Options& o) {
                                        o.lr = number(who, member(who, j, k, "lr"), k + ".lr");
                                        const std::vector<double> betas =
                                            numbers(who, member(who, j, k, "betas"), k + ".betas");
                                        SG_CHECK(betas.size() == 2, who, ": '", k, ".betas' must hold 2 numbers, not ",
                                                 betas.size());
                                        o.beta1 = betas[0];
                                        o.beta2 = betas[1];
                                        o.eps = number(who, member(who, j, k, "eps"), k + ".eps");
                                        o.weight_decay = number(who, member(who, j, k, "weight_decay"), k + ".weight_decay");
                                        o.amsgrad = boolean(who, member(who, j, k, "amsgrad"), k + ".amsgrad");
                                      });
    check_adam_options(groups[g].options, who);
  }
  const std::vector<Tensor> ps = this->params();
  std::vector<ParamState> state(ps.size());
  for (auto& [index, entry] : loaded.params) {
    const Tensor& p = ps[index];
    const std::string whose = "parameter " + std::to_string(index);
    ParamState& st = state[index];
    st.step = integer(who, entry.scalar(who, "step"), entry.key + ".step");
    SG_CHECK(st.step >= 0, who, ": '", entry.key, ".step' is negative");
    st.exp_avg = entry.tensor(who, "exp_avg", p.shape(), p.dtype(), whose, p.device());
    st.exp_avg_sq = entry.tensor(who, "exp_avg_sq", p.shape(), p.dtype(), whose, p.device());
    if (entry.has("max_exp_avg_sq")) st.max_exp_avg_sq = entry.tensor(who, "max_exp_avg_sq", p.shape(), p.dtype(), whose, p.device());
  }
  // amsgrad needs max_exp_avg_sq wherever there is state (torch would fail at the next step).
  size_t index = 0;
  for (const Group& g : groups)
    for (size_t k = 0; k < g.params.size(); ++k, ++index)
      SG_CHECK(!g.options.amsgrad || !state[index].exp_avg.defined() || state[index].max_exp_avg_sq.defined(), who,
               ": tensor 'state.", index, ".max_exp_avg_sq' is missing (its group has amsgrad)");
  check_finished(who, loaded);
  this->groups_ = std::move(groups);
  state_ = std::move(state);
}

template class AdamFamily<AdamOptions, false>;
template class AdamFamily<AdamWOptions, true>;

// ---------------- L-BFGS ----------------

LBFGS::LBFGS(std::vector<Tensor> params, Options o)
    : OptimizerWithGroups("LBFGS", std::vector<Group>{{std::move(params), o}}) {
  Options& opt = options();
  SG_CHECK(opt.max_iter > 0 && opt.history_size > 0, "LBFGS: max_iter and history_size must be positive");
  if (opt.max_eval < 0) opt.max_eval = opt.max_iter * 5 / 4;
}

int64_t LBFGS::numel() const {
  int64_t n = 0;
  for (const Tensor& p : group_params(0)) n += p.numel();
  return n;
}

Tensor LBFGS::flat_grad() const {
  std::vector<Tensor> parts;
  for (const Tensor& p : group_params(0))
    parts.push_back(p.grad().defined() ? p.grad().reshape({-1}) : zeros({p.numel()}, TensorOptions(p.dtype())));
  return parts.size() == 1 ? parts[0].contiguous() : cat(parts, 0);
}

void LBFGS::add_to_params(double step, const Tensor& direction) {
  int64_t offset = 0;
  for (Tensor& p : groups_[0].params) {
    p.add_(direction.narrow(0, offset, p.numel()).reshape(p.shape()), step);
    offset += p.numel();
  }
}

static double dot(const Tensor& a, const Tensor& b) { return sum(a * b).item(); }
static double abs_max(const Tensor& a) { return max(abs(a)).item(); }

double LBFGS::step(const std::function<double()>& closure) {
  const Options& opt = options();
  auto evaluate = [&] {
    GradModeGuard on(true);
    return closure();
  };
  NoGradGuard ng;
  const double orig_loss = evaluate();
  double loss = orig_loss;
  int current_evals = 1;
  ++func_evals_;
  Tensor g = flat_grad();
  if (abs_max(g) <= opt.tolerance_grad) return orig_loss;

  for (int n_iter = 1; n_iter <= opt.max_iter; ++n_iter) {
    ++n_iter_;
    // 1. Search direction d = -H g, H from the (s, y) history (two-loop recursion).
    if (n_iter_ == 1) {
      d_ = neg(g);
      old_dirs_.clear();
      old_steps_.clear();
      ro_.clear();
      h_diag_ = 1;
    } else {
      Tensor y = g - prev_flat_grad_;  // change of gradient
      Tensor s = d_ * t_;              // change of parameters
      const double ys = dot(y, s);
      if (ys > 1e-10) {  // keep only pairs with positive curvature
        if (int(old_dirs_.size()) == opt.history_size) {
          old_dirs_.erase(old_dirs_.begin());
          old_steps_.erase(old_steps_.begin());
          ro_.erase(ro_.begin());
        }
        old_dirs_.push_back(y);
        old_steps_.push_back(s);
        ro_.push_back(1.0 / ys);
        h_diag_ = ys / dot(y, y);  // initial Hessian scale
      }
      const size_t k = old_dirs_.size();
      std::vector<double> al(k);
      Tensor q = neg(g);
      for (size_t i = k; i-- > 0;) {
        al[i] = dot(old_steps_[i], q) * ro_[i];
        q = q - old_dirs_[i] * al[i];
      }
      Tensor r = q * h_diag_;
      for (size_t i = 0; i < k; ++i) {
        const double be_i = dot(old_dirs_[i], r) * ro_[i];
        r = r + old_steps_[i] * (al[i] - be_i);
      }
      d_ = r;
    }
    prev_flat_grad_ = g.clone();
    prev_loss_ = loss;

    // 2. Step length: the very first step is scaled down to at most lr / |g|_1.
    t_ = n_iter_ == 1 ? std::min(1.0, 1.0 / sum(abs(g)).item()) * opt.lr : opt.lr;
    const double gtd = dot(g, d_);  // directional derivative
    if (gtd > -opt.tolerance_change) break;

    // 3. Take the step and re-evaluate (except after the last iteration).
    add_to_params(t_, d_);
    int ls_evals = 0;
    bool small_grad = false;
    if (n_iter != opt.max_iter) {
      loss = evaluate();
      g = flat_grad();
      small_grad = abs_max(g) <= opt.tolerance_grad;
      ls_evals = 1;
    }
    current_evals += ls_evals;
    func_evals_ += ls_evals;

    // 4. Stopping tests, in torch's order.
    if (n_iter == opt.max_iter) break;
    if (current_evals >= opt.max_eval) break;
    if (small_grad) break;
    if (abs_max(d_ * t_) <= opt.tolerance_change) break;
    if (std::abs(loss - prev_loss_) < opt.tolerance_change) break;
  }
  return orig_loss;
}

StateDict LBFGS::state_dict() const {
  const Options& o = options();
  StateDict sd;
  std::vector<json::Value> groups = {group_json({{"lr", json::make_number(o.lr)},
                                                 {"max_iter", json::make_int(o.max_iter)},
                                                 {"max_eval", json::make_int(o.max_eval)},
                                                 {"tolerance_grad", json::make_number(o.tolerance_grad)},
                                                 {"tolerance_change", json::make_number(o.tolerance_change)},
                                                 {"history_size", json::make_int(o.history_size)},
                                                 {"line_search_fn", json::make_null()}},
                                                groups_[0].initial_lr, 0, groups_[0].params.size())};
  std::vector<std::pair<std::string, json::Value>> state;
  if (func_evals_ > 0) {  // torch's state is empty until the first step
    std::vector<std::pair<std::string, json::Value>> scalars = {{"func_evals", json::make_int(func_evals_)},
                                                                {"n_iter", json::make_int(n_iter_)}};
    if (d_.defined()) {
      std::vector<json::Value> ro;
      for (double r : ro_) ro.push_back(json::make_number(r));
      scalars.emplace_back("t", json::make_number(t_));
      scalars.emplace_back("ro", json::make_array(std::move(ro)));
      scalars.emplace_back("H_diag", json::make_number(h_diag_));
      scalars.emplace_back("prev_loss", json::make_number(prev_loss_));
      sd.tensors.emplace_back("state.0.d", d_);
      for (size_t i = 0; i < old_dirs_.size(); ++i) sd.tensors.emplace_back("state.0.old_dirs." + std::to_string(i), old_dirs_[i]);
      for (size_t i = 0; i < old_steps_.size(); ++i)
        sd.tensors.emplace_back("state.0.old_stps." + std::to_string(i), old_steps_[i]);
      sd.tensors.emplace_back("state.0.prev_flat_grad", prev_flat_grad_);
    }
    state.emplace_back("0", json::make_object(std::move(scalars)));
  }
  sd.json = state_dict_json(json::make_object(std::move(state)), std::move(groups));
  return sd;
}

void LBFGS::load_state_dict(const StateDict& sd) {
  const std::string who = "LBFGS.load_state_dict";
  Loaded loaded = parse_state_dict(who, sd, group_sizes(groups_));
  Options opt = options();
  const json::Value& j = *loaded.groups[0];
  const std::string& k = loaded.group_keys[0];
  const std::optional<double> initial_lr = read_group(
      who, j, k, opt,
      {"lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size", "line_search_fn"},
      [&](Options& o) {
        o.lr = number(who, member(who, j, k, "lr"), k + ".lr");
        o.max_iter = int(integer(who, member(who, j, k, "max_iter"), k + ".max_iter"));
        o.max_eval = int(integer(who, member(who, j, k, "max_eval"), k + ".max_eval"));
        o.tolerance_grad = number(who, member(who, j, k, "tolerance_grad"), k + ".tolerance_grad");
        o.tolerance_change = number(who, member(who, j, k, "tolerance_change"), k + ".tolerance_change");
        o.history_size = int(integer(who, member(who, j, k, "history_size"), k + ".history_size"));
        SG_CHECK(member(who, j, k, "line_search_fn").is_null(), who, ": '", k,
                 ".line_search_fn' must be null (stylegrad's L-BFGS has no line search)");
      });
  SG_CHECK(opt.max_iter > 0 && opt.history_size > 0 && opt.max_eval > 0, who,
           ": max_iter, max_eval and history_size must be positive");

  const int64_t n = numel();
  const DType dtype = group_params(0).empty() ? DType::f32 : group_params(0)[0].dtype();
  const Shape flat{n};
  Tensor d, prev_flat_grad;
  double t = 0, prev_loss = 0, h_diag = 1;
  std::vector<Tensor> old_dirs, old_steps;
  std::vector<double> ro;
  int64_t func_evals = 0, n_iter = 0;
  for (auto& [index, entry] : loaded.params) {
    SG_CHECK(index == 0, who, ": L-BFGS keeps its state under parameter 0, not under '", entry.key, "'");
    func_evals = integer(who, entry.scalar(who, "func_evals"), entry.key + ".func_evals");
    n_iter = integer(who, entry.scalar(who, "n_iter"), entry.key + ".n_iter");
    if (entry.has("al")) entry.scalar(who, "al");  // torch's scratch buffer for the two-loop recursion: not state
    // torch's lists of tensors come as "old_dirs.<k>" tensors; an empty one as an empty JSON list.
    for (const char* list : {"old_dirs", "old_stps"})
      if (entry.scalars && entry.scalars->find(list)) {
        const json::Value& v = entry.scalar(who, list);
        SG_CHECK(v.is_array() && v.array.empty(), who, ": '", entry.key, ".", list,
                 "' must be tensors named ", entry.key, ".", list, ".<k>");
      }
    if (!entry.has("d")) continue;
    d = entry.tensor(who, "d", flat, dtype, "the flattened parameters");
    prev_flat_grad = entry.tensor(who, "prev_flat_grad", flat, dtype, "the flattened parameters");
    t = number(who, entry.scalar(who, "t"), entry.key + ".t");
    h_diag = number(who, entry.scalar(who, "H_diag"), entry.key + ".H_diag");
    prev_loss = number(who, entry.scalar(who, "prev_loss"), entry.key + ".prev_loss");
    ro = numbers(who, entry.scalar(who, "ro"), entry.key + ".ro");
    SG_CHECK(int64_t(ro.size()) <= opt.history_size, who, ": '", entry.key, ".ro' holds ", ro.size(),
             " pairs, more than history_size ", opt.history_size);
    for (size_t i = 0; i < ro.size(); ++i) {
      old_dirs.push_back(entry.tensor(who, "old_dirs." + std::to_string(i), flat, dtype, "the flattened parameters"));
      old_steps.push_back(entry.tensor(who, "old_stps." + std::to_string(i), flat, dtype, "the flattened parameters"));
    }
  }
  check_finished(who, loaded);
  groups_[0].options = opt;
  groups_[0].initial_lr = initial_lr;
  d_ = d;
  prev_flat_grad_ = prev_flat_grad;
  t_ = t;
  prev_loss_ = prev_loss;
  h_diag_ = h_diag;
  old_dirs_ = std::move(old_dirs);
  old_steps_ = std::move(old_steps);
  ro_ = std::move(ro);
  func_evals_ = func_evals;
  n_iter_ = n_iter;
}

}  // namespace sg::nn
