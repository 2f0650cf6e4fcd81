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
  // Parameters and buffers together, as torch's state_dict().
  NamedTensors state_dict() const;
  // Copies values in place (shapes must match). strict: every key of this
  // module must be present and no unknown key given. Errors name the key.
  void load_state_dict(const NamedTensors& state, bool strict = true);

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
    children_.emplace_back(name, m);
    return m;
  }
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  bool training_ = true;

 private:
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;
  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// Children named "0", "1", ... applied in order, like torch.nn.Sequential.
class Sequential : public Module {
 public:
  Sequential() = default;
  void push_back(std::shared_ptr<Module> m);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return children().size(); }
  std::shared_ptr<Module> operator[](size_t i) const { return children()[i].second; }
};

}  // namespace sg::nn
