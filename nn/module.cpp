#include "nn/module.h"

#include <map>

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

void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  for (const auto& [name, t] : params ? params_ : buffers_)
    if (t.defined()) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_)
    if (child) child->collect(prefix + name + ".", params, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out = named_parameters();
  for (auto& nb : named_buffers()) out.push_back(nb);
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
    mine.copy_(src);
    given.erase(it);
  }
  if (strict && !given.empty())
    throw Error("load_state_dict: unexpected key '" + given.begin()->first + "'" +
                (given.size() > 1 ? " (and " + std::to_string(given.size() - 1) + " more)" : ""));
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_)
    if (c) c->train(on);
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

void Sequential::push_back(std::shared_ptr<Module> m) {
  register_module(std::to_string(children().size()), std::move(m));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& [name, m] : children()) h = m->forward(h);
  return h;
}

}  // namespace sg::nn
