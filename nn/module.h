// Modules: objects that own named parameters and buffers, with torch's
// dotted names ("features.0.weight", "model.1.bias"), so that state_dicts
// saved by PyTorch load as they are.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace sg::nn {

using sg::NamedTensors;

class Module;
using NamedChildren = std::vector<std::pair<std::string, std::shared_ptr<Module>>>;
// Non-owning: valid while the root module lives.
using NamedModules = std::vector<std::pair<std::string, Module*>>;

class Module {
 public:
  virtual ~Module() = default;
  // Modules that map one tensor to one tensor (most layers) override this;
  // it is what Sequential calls.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Parameters/buffers of this module and its children, in registration order.
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  std::vector<Tensor> parameters() const;
  // Parameters and buffers together, in torch's state_dict() order: each
  // module's own parameters, then its own buffers, then its children's.
  NamedTensors state_dict() const;
  // Copies values in place (shapes must match). strict: every key of this
  // module must be present and no unknown key given. Errors name the key.
  void load_state_dict(const NamedTensors& state, bool strict = true);

  // torch's named_modules(): this module first, named "", then every
  // descendant depth-first in registration order, named by its dotted path
  // ("model", "model.0", "blocks.1.conv"). A module reachable twice (shared)
  // is listed once, under the first name, as torch does.
  NamedModules named_modules();
  // The direct children in registration order, as torch's named_children().
  const NamedChildren& named_children() const { return children_; }
  // torch's apply(fn): fn on every child's subtree first, then on this module
  // (CycleGAN's init_weights visits the layers this way).
  template <class Fn>
  Module& apply(Fn&& fn) {
    for (auto& [name, child] : children_) child->apply(fn);
    fn(*this);
    return *this;
  }

  // torch's module.to(dtype) / module.to(device), in place: every floating
  // parameter and buffer (to(dtype); integer buffers such as
  // num_batches_tracked keep their type), or every one (to(device)), and its
  // .grad, is converted, and the tensor takes the new data itself, so every
  // handle a layer holds (Conv2d::weight) sees it; requires_grad stays. All are
  // converted before any is replaced: on an error the module is unchanged.
  // Create optimizers afterwards (their state is not converted), and do not
  // convert between a forward and its backward.
  Module& to(DType dtype);
  Module& to(Device device);  // cuda without a CUDA build or device: one error

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();
  void requires_grad_(bool on);
  int64_t num_parameters() const;

 protected:
  Tensor register_parameter(const std::string& name, Tensor value);
  Tensor register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }
  bool training_ = true;

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  // Pre-order, as torch: this module's parameters and/or buffers, then each child's.
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const;
  NamedTensors params_, buffers_;
  NamedChildren children_;
};

// Children named "0", "1", ... in order, like torch.nn.ModuleList: holds
// modules (their parameters get the index in their names) and runs nothing.
class ModuleList : public Module {
 public:
  ModuleList() = default;
  explicit ModuleList(const std::vector<std::shared_ptr<Module>>& modules);
  void push_back(std::shared_ptr<Module> m);
  size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;  // checks the range
  std::vector<std::shared_ptr<Module>>::const_iterator begin() const { return modules_.begin(); }
  std::vector<std::shared_ptr<Module>>::const_iterator end() const { return modules_.end(); }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

// What Sequential::forward_features returns.
struct FeaturesAndOutput {
  std::vector<Tensor> features;  // the outputs of the tapped children, in the children's order
  Tensor output;                 // the last child's output; undefined when encode_only stopped early
};

// A ModuleList whose forward applies its children in order, like torch.nn.Sequential.
class Sequential : public ModuleList {
 public:
  Sequential() = default;
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& modules) : ModuleList(modules) {}
  Tensor forward(const Tensor& x) override;

  // CUT's ResnetGenerator.forward(input, layers, encode_only) on this Sequential:
  // runs the children in order and keeps the output of child i for every i in
  // `layers` (once, however often i is listed). With encode_only it stops
  // right after child layers.back() and leaves `output` undefined; -1 in
  // `layers` taps nothing but makes it run to the end (CUT appends
  // len(model), an index no child has), so `output` is then set. Empty
  // `layers`: a plain forward. An index outside [-1, size()) is an error
  // (CUT would ignore it).
  FeaturesAndOutput forward_features(const Tensor& x, const std::vector<int64_t>& layers, bool encode_only = false);
};

}  // namespace sg::nn
