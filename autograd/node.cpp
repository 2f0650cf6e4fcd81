#include "autograd/node.h"

#include "autograd/grad_mode.h"
#include "kernels/kernel_table.h"
#include "tensor/error.h"
#include "tensor/storage.h"

namespace sg {

namespace {

thread_local bool g_grad_mode = true;

SavedTensor save(const Tensor& t) { return {t, t.defined() ? t.storage()->version() : 0}; }

// The saved tensor, after checking that nothing wrote into its storage since
// it was saved. `what` and `i` say which one, for the error.
const Tensor& unchanged(const std::string& op, const SavedTensor& s, const char* what, int i) {
  if (s.tensor.defined()) {
    const uint64_t now = s.tensor.storage()->version();
    SG_CHECK(now == s.version,
             "one of the tensors needed for gradient computation has been modified by an inplace operation: ", op,
             "'s ", what, " ", i, ", ", s.tensor.str(), ", is at version ", now, "; it was saved at version ",
             s.version, " (an in-place write, e.g. an optimizer step, came between the forward and this backward; "
             "clone() the tensor before changing it, or run the forward again)");
  }
  return s.tensor;
}

}  // namespace

bool grad_mode_enabled() { return g_grad_mode; }
void set_grad_mode(bool enabled) { g_grad_mode = enabled; }

const Tensor& BackwardContext::saved(int i) const {
  SG_CHECK(i >= 0 && i < int(node->saved_.size()), node->name_, ": backward asked for saved tensor ", i, " of ",
           node->saved_.size(), " (list it in record's `saved`)");
  return unchanged(node->name_, node->saved_[i], "saved tensor", i);
}

Tensor BackwardContext::output(int i) const {
  SG_CHECK(i >= 0 && i < int(node->saved_outputs_.size()) && node->saved_outputs_[i].tensor.defined(), node->name_,
           ": backward asked for output ", i, " which was not saved (pass save_outputs=true to record)");
  // Same data, but with this node as grad_fn: differentiating through it again
  // follows the graph back into this op's inputs.
  Tensor t = unchanged(node->name_, node->saved_outputs_[i], "output", i).detach();
  TensorImpl* impl = t.impl();
  impl->requires_grad = true;
  impl->grad_fn = node->shared_from_this();
  impl->output_nr = i;
  return t;
}

bool BackwardContext::needs_grad(int i) const { return node->next_[i].node != nullptr; }

TensorList Node::apply(const TensorList& grads) {
  SG_CHECK(!released_, name_,
           ": trying to backward through the graph a second time; pass retain_graph=true the first time");
  BackwardContext ctx{this};
  TensorList out = fn_(ctx, grads);
  SG_CHECK(out.size() == next_.size(), name_, ": backward returned ", out.size(), " gradients for ",
           next_.size(), " inputs");
  return out;
}

void Node::release() {
  fn_ = nullptr;  // frees everything the backward lambda captured
  saved_.clear();
  saved_outputs_.clear();
  released_ = true;
}

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf)
    : Node("AccumulateGrad", {}, nullptr), leaf_(std::move(leaf)) {
  outputs_.push_back({leaf_->shape, leaf_->dtype, leaf_->storage ? leaf_->storage->device : Device{}});
}

TensorList AccumulateGrad::apply(const TensorList& grads) {
  const Tensor& g = grads[0];
  Tensor& acc = leaf_->grad;
  if (!acc.defined()) {
    // With create_graph, keep g's history. Otherwise a fresh tensor, not an
    // alias of g: later accumulations must not modify a tensor the caller may hold.
    if (grad_mode_enabled()) {
      acc = g;
    } else {
      acc = empty_like(g);
      kernel_for(g.device(), &KernelTable::copy, "AccumulateGrad")(g, acc);
    }
  } else if (grad_mode_enabled()) {
    acc = sum_of_gradients(acc, g);
  } else {
    SG_CHECK(acc.shape() == g.shape() && acc.dtype() == g.dtype() && acc.device() == g.device(),
             "AccumulateGrad: .grad is ", acc.str(), " but the new gradient is ", g.str());
    kernel_for(acc.device(), &KernelTable::binary, "AccumulateGrad")(Binary::add, acc, g, acc);  // in place: each element reads and writes itself only
    acc.storage()->bump_version();
  }
  return {};
}

Tensor sum_of_gradients(const Tensor& a, const Tensor& b) {
  SG_CHECK(a.shape() == b.shape() && a.dtype() == b.dtype() && a.device() == b.device(),
           "autograd: cannot add gradients ", a.str(), " and ", b.str());
  Tensor out = empty_like(a);
  kernel_for(a.device(), &KernelTable::binary, "add")(Binary::add, a, b, out);
  // d(a + b)/da = d(a + b)/db = 1: the incoming gradient flows to both unchanged.
  if (any_requires_grad({a, b}))
    record("add", {a, b}, {out}, /*saved=*/{},
           [](BackwardContext&, const TensorList& g) -> TensorList { return {g[0], g[0]}; });
  return out;
}

bool any_requires_grad(const TensorList& inputs) {
  if (!grad_mode_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl->grad_accumulator = acc;
  }
  return {acc, 0};
}

void record(const char* name, const TensorList& inputs, const TensorList& outputs, const TensorList& saved,
            BackwardFn fn, bool save_outputs) {
  std::vector<Edge> next;
  next.reserve(inputs.size());
  for (const auto& t : inputs) next.push_back(gradient_edge(t));
  auto node = std::make_shared<Node>(name, std::move(next), std::move(fn));
  node->saved_.reserve(saved.size());
  for (const Tensor& t : saved) {
    // An output kept with its grad_fn (this node) would keep the node alive forever.
    for (const Tensor& out : outputs)
      SG_CHECK(!t.defined() || t.impl() != out.impl(), name,
               ": an output is in record's `saved` list; save outputs with save_outputs=true");
    node->saved_.push_back(save(t));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    node->outputs_.push_back({out.shape(), out.dtype(), out.device()});
    if (save_outputs) node->saved_outputs_.push_back(save(out.detach()));
    if (!is_floating(out.dtype())) continue;  // indices carry no gradient
    TensorImpl* impl = out.impl();
    impl->requires_grad = true;
    impl->grad_fn = node;
    impl->output_nr = int(i);
  }
}

}  // namespace sg
