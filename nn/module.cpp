#include "nn/module.h"

#include <algorithm>
#include <map>
#include <set>

#include "autograd/grad_mode.h"
#include "tensor/error.h"

namespace sg::nn {

Tensor Module::forward(const Tensor&) { throw Error("this module does not take a single tensor input"); }

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  if (value.defined() && !value.requires_grad()) value.requires_grad_();
  params_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  buffers_.emplace_back(name, value);
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  SG_CHECK(m != nullptr, "register_module: module '", name, "' is null");
  SG_CHECK(!name.empty() && name.find('.') == std::string::npos, "register_module: bad name '", name,
           "' (expected a non-empty name without '.')");
  for (const auto& [existing, c] : children_)
    SG_CHECK(existing != name, "register_module: a child named '", name, "' already exists");
  children_.emplace_back(name, std::move(m));
}

static void collect_modules(Module* m, const std::string& name, std::set<const Module*>& seen, NamedModules& out) {
  if (!seen.insert(m).second) return;
  out.emplace_back(name, m);
  for (const auto& [child_name, child] : m->named_children())
    collect_modules(child.get(), name.empty() ? child_name : name + "." + child_name, seen, out);
}

NamedModules Module::named_modules() {
  NamedModules out;
  std::set<const Module*> seen;
  collect_modules(this, "", seen, out);
  return out;
}

void Module::collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const {
  if (params)
    for (const auto& [name, t] : params_)
      if (t.defined()) out.emplace_back(prefix + name, t);
  if (buffers)
    for (const auto& [name, t] : buffers_)
      if (t.defined()) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, buffers, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, false, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", true, true, out);
  return out;
}

void Module::load_state_dict(const NamedTensors& state, bool strict) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) given[name] = &t;
  NoGradGuard no_grad;
  for (auto& [name, mine] : state_dict()) {
    auto it = given.find(name);
    if (it == given.end()) {
      SG_CHECK(!strict, "load_state_dict: missing key '", name, "' (expected shape ", mine.shape().str(), ")");
      continue;
    }
    const Tensor& src = *it->second;
    SG_CHECK(src.shape() == mine.shape(), "load_state_dict: '", name, "' has shape ", src.shape().str(),
             " in the file but ", mine.shape().str(), " in the model");
    // copy_ would turn integers into floats without a word; a float weight
    // stored as an integer tensor is a wrong file, not a conversion.
    SG_CHECK(!is_floating(mine.dtype()) || is_floating(src.dtype()), "load_state_dict: '", name, "' is ",
             dtype_name(src.dtype()), " in the file but the model expects a floating-point tensor (",
             dtype_name(mine.dtype()), ")");
    mine.copy_(src.detach().to(mine.device()));  // a file is read on the CPU; the module may be elsewhere
    given.erase(it);
  }
  if (strict && !given.empty())
    throw Error("load_state_dict: unexpected key '" + given.begin()->first + "'" +
                (given.size() > 1 ? " (and " + std::to_string(given.size() - 1) + " more)" : ""));
}

// Replaces the data of every distinct tensor in `tensors` (and of its .grad)
// with convert(tensor), in place: the TensorImpl keeps its identity and
// autograd fields and takes the converted storage, strides and dtype.
template <class Convert>
static void convert_in_place(const NamedTensors& tensors, Convert convert) {
  NoGradGuard no_grad;
  std::set<TensorImpl*> seen;
  std::vector<std::pair<TensorImpl*, Tensor>> values, grads;
  for (const auto& [name, t] : tensors) {
    if (!seen.insert(t.impl()).second) continue;
    values.emplace_back(t.impl(), convert(t.detach()));
    if (t.grad().defined()) grads.emplace_back(t.impl(), convert(t.grad().detach()));
  }
  for (auto& [impl, v] : values) {
    SG_CHECK(v.shape() == impl->shape, "Module::to: a conversion changed a shape");
    impl->storage = v.storage();
    impl->strides = v.strides();
    impl->offset = v.offset();
    impl->dtype = v.dtype();
  }
  for (auto& [impl, g] : grads) impl->grad = g;
}

Module& Module::to(DType dtype) {
  SG_CHECK(is_floating(dtype), "Module::to: expected float32 or float64, got ", dtype_name(dtype));
  convert_in_place(state_dict(), [dtype](const Tensor& t) { return is_floating(t.dtype()) ? t.to(dtype) : t; });
  return *this;
}

Module& Module::to(Device device) {
  check_device_available(device);
  convert_in_place(state_dict(), [device](const Tensor& t) { return t.to(device); });
  return *this;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::zero_grad() {
  for (auto& p : parameters()) p.set_grad(Tensor());
}

void Module::requires_grad_(bool on) {
  for (auto& p : parameters()) p.requires_grad_(on);
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& p : parameters()) n += p.numel();
  return n;
}

ModuleList::ModuleList(const std::vector<std::shared_ptr<Module>>& modules) {
  for (const auto& m : modules) push_back(m);
}

void ModuleList::push_back(std::shared_ptr<Module> m) {
  register_module(std::to_string(modules_.size()), m);
  modules_.push_back(std::move(m));
}

const std::shared_ptr<Module>& ModuleList::operator[](size_t i) const {
  SG_CHECK(i < modules_.size(), "ModuleList: index ", i, " out of range (size ", modules_.size(), ")");
  return modules_[i];
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& m : *this) h = m->forward(h);
  return h;
}

FeaturesAndOutput Sequential::forward_features(const Tensor& x, const std::vector<int64_t>& layers,
                                                bool encode_only) {
  for (int64_t i : layers)
    SG_CHECK(i >= -1 && i < int64_t(size()), "Sequential::forward_features: layer ", i, " out of range (",
             size(), " children; -1 means the end)");
  FeaturesAndOutput out;
  if (layers.empty()) {
    out.output = forward(x);
    return out;
  }
  // CUT's early return compares with layers[-1] after appending len(model) for a -1.
  const bool has_end = std::find(layers.begin(), layers.end(), -1) != layers.end();
  const int64_t stop_after = has_end ? int64_t(size()) : layers.back();
  Tensor h = x;
  for (int64_t i = 0; i < int64_t(size()); ++i) {
    h = (*this)[size_t(i)]->forward(h);
    if (std::find(layers.begin(), layers.end(), i) != layers.end()) out.features.push_back(h);
    if (encode_only && i == stop_after) return out;
  }
  out.output = h;
  return out;
}

}  // namespace sg::nn
