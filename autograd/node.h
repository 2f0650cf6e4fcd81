// The autograd graph. Each recorded op makes one Node that knows
//   - which Nodes produced its inputs (edges), to walk the graph backwards,
//   - a backward function mapping d(loss)/d(outputs) to d(loss)/d(inputs),
//   - the tensors that backward reads, saved with their storage's version.
// Leaves that require grad get an AccumulateGrad node (see engine.cpp).
//
// Adding an op: compute the forward with a kernel, then record it, naming
// what the backward reads. The backward gets those tensors back through
// ctx.saved(i) (and its outputs through ctx.output(i)), never by capturing
// them in the lambda: reading them checks that no in-place write (an
// optimizer step, w.add_) changed them since the forward, which would make
// the gradient silently wrong. Shapes, options and scalars may be captured.
//
//   if (any_requires_grad({a, b}))
//     record("mul", {a, b}, {y}, /*saved=*/{a, b}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
//       const Tensor &a = ctx.saved(0), &b = ctx.saved(1);
//       return {sum_to(g[0] * b, a.shape()), sum_to(g[0] * a, b.shape())};
//     });
//
//   if (any_requires_grad({x}))
//     record("tanh", {x}, {y}, /*saved=*/{}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
//       Tensor y = ctx.output(0);
//       return {g[0] * (1.0 - y * y)};
//     }, /*save_outputs=*/true);
//
// The backward uses ordinary ops, so it is differentiable again: a saved
// input keeps its history (only outputs are saved detached, to avoid cycles).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sg {

using TensorList = std::vector<Tensor>;

struct Edge {
  std::shared_ptr<Node> node;  // null: that input needs no gradient
  int input_nr = 0;            // which output of `node` the input was
};

class Node;
struct BackwardContext {
  Node* node;
  // The i-th tensor of record()'s `saved` list, as it was given (with its
  // history, so the backward is differentiable through it; undefined if an
  // undefined tensor was saved). Throws if its storage was written in place
  // since record().
  const Tensor& saved(int i) const;
  // The op's i-th output, re-attached to this node so that a backward that
  // uses it (tanh, exp, softmax) is differentiable when create_graph is set.
  // Version-checked like saved().
  Tensor output(int i) const;
  // Whether input i needs a gradient; a backward may skip the work if not.
  bool needs_grad(int i) const;
};

using BackwardFn = std::function<TensorList(BackwardContext&, const TensorList&)>;

// A tensor a backward will read, and its storage's version when it was saved.
struct SavedTensor {
  Tensor tensor;
  uint64_t version = 0;
};

struct OutputMeta {
  Shape shape;
  DType dtype;
  Device device;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node(std::string name, std::vector<Edge> next, BackwardFn fn)
      : name_(std::move(name)), next_(std::move(next)), fn_(std::move(fn)) {}
  virtual ~Node() = default;

  const std::string& name() const { return name_; }
  const std::vector<Edge>& next_edges() const { return next_; }
  int num_outputs() const { return int(outputs_.size()); }
  const OutputMeta& output_meta(int i) const { return outputs_[i]; }

  // grads[i] is d(loss)/d(output i) (undefined ones are filled with zeros).
  // Returns one gradient per input (undefined where none is needed).
  virtual TensorList apply(const TensorList& grads);
  // Drops saved tensors once backward has run (unless retain_graph).
  virtual void release();
  virtual bool is_accumulate_grad() const { return false; }

 protected:
  friend struct BackwardContext;
  friend void record(const char*, const TensorList&, const TensorList&, const TensorList&, BackwardFn, bool);
  std::string name_;
  std::vector<Edge> next_;
  BackwardFn fn_;
  std::vector<OutputMeta> outputs_;
  std::vector<SavedTensor> saved_;          // as given, with their history
  std::vector<SavedTensor> saved_outputs_;  // detached (no grad_fn), to avoid cycles
  bool released_ = false;
};

// A leaf's sink: adds incoming gradients to leaf.grad.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
  TensorList apply(const TensorList& grads) override;
  void release() override {}
  bool is_accumulate_grad() const override { return true; }
  const std::shared_ptr<TensorImpl>& leaf() const { return leaf_; }

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

// True when grad mode is on and any defined input requires grad.
bool any_requires_grad(const TensorList& inputs);
// The edge a gradient for `t` flows into (its grad_fn, or its leaf accumulator).
Edge gradient_edge(const Tensor& t);
// Records an op: makes its Node, marks `outputs` as produced by it. Call only
// when any_requires_grad(inputs). `saved` lists every tensor the backward reads
// other than the outputs (inputs, indices, masks; undefined entries are allowed,
// for tensors kept only when some gradient is wanted): ctx.saved(i) returns
// them. save_outputs keeps the outputs for ctx.output(). Both are checked
// against in-place writes when the backward reads them.
void record(const char* name, const TensorList& inputs, const TensorList& outputs, const TensorList& saved,
            BackwardFn fn, bool save_outputs = false);

// a + b for two gradients of the same tensor (same shape, dtype, device), as the
// engine and AccumulateGrad sum them; recorded when grad mode is on (create_graph).
// The autograd layer's own add: ops/ sits above this layer.
Tensor sum_of_gradients(const Tensor& a, const Tensor& b);

// ---- the engine (engine.cpp) ----
// Like torch.autograd.grad: returns d(sum_k <outputs_k, grad_outputs_k>)/d(inputs_i).
// An input the outputs do not depend on is an error, unless allow_unused:
// then its gradient is an undefined Tensor (as in torch).
TensorList grad(const TensorList& outputs, const TensorList& inputs,
                const TensorList& grad_outputs = {}, bool retain_graph = false,
                bool create_graph = false, bool allow_unused = false);
// Like Tensor.backward for several roots at once.
void backward(const TensorList& outputs, const TensorList& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

}  // namespace sg
