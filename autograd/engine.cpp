// The backward pass: a topological walk over the graph from the outputs.
//
// 1. Collect every Node reachable from the outputs and count, for each, how
//    many edges point into it (its dependencies).
// 2. Seed the outputs' gradient buffers, then run nodes whose dependencies are
//    all done (Kahn's algorithm); each adds its input gradients into the
//    buffers of the nodes behind it.
// 3. AccumulateGrad nodes add into leaf.grad (backward) or, for grad(), the
//    requested gradients are captured instead and nothing is accumulated.
#include <unordered_map>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/profiler.h"
#include "tensor/error.h"

namespace sg {

namespace {

struct Buffer {
  TensorList grads;
  int deps = 0;
};

void add_into(Tensor& slot, const Tensor& g) { slot = slot.defined() ? sum_of_gradients(slot, g) : g; }

TensorList run_engine(const TensorList& outputs, const TensorList& grad_outputs,
                      const std::vector<Edge>* capture_edges, bool retain_graph, bool create_graph,
                      const char* who) {
  SG_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), who, ": got ",
           grad_outputs.size(), " grad_outputs for ", outputs.size(), " outputs");
  GradModeGuard mode(create_graph);

  // Roots.
  std::vector<Edge> roots;
  TensorList root_grads;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    SG_CHECK(out.defined() && out.requires_grad(), who, ": output ", i,
             " does not require grad and has no grad_fn");
    Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!g.defined()) {
      SG_CHECK(out.numel() == 1, who, ": grad can be implicitly created only for scalar outputs, got ",
               out.shape().str());
      g = ones_like(out);
    }
    SG_CHECK(g.shape() == out.shape(), who, ": grad_output shape ", g.shape().str(),
             " does not match output shape ", out.shape().str());
    SG_CHECK(g.device() == out.device(), who, ": grad_output is on ", g.device().str(), ", output ", i, " on ",
             out.device().str());
    roots.push_back(gradient_edge(out));
    root_grads.push_back(g);
  }

  // 1. Reachable nodes in post-order (children first), and dependency counts.
  std::unordered_map<Node*, Buffer> buffers;
  std::vector<Node*> post_order;
  {
    std::unordered_set<Node*> seen;
    std::vector<std::pair<Node*, size_t>> stack;
    for (const Edge& r : roots) {
      if (!seen.insert(r.node.get()).second) continue;
      stack.push_back({r.node.get(), 0});
      while (!stack.empty()) {
        auto& [n, next_i] = stack.back();
        if (next_i < n->next_edges().size()) {
          Node* child = n->next_edges()[next_i++].node.get();
          if (!child) continue;
          buffers[child].deps++;
          if (seen.insert(child).second) stack.push_back({child, 0});
        } else {
          post_order.push_back(n);
          stack.pop_back();
        }
      }
    }
  }

  // For grad(): run only the nodes that lead to a requested input.
  std::unordered_set<Node*> needed;
  std::unordered_map<Node*, std::vector<int>> capture_at;  // node -> indices into capture_edges
  if (capture_edges) {
    for (size_t i = 0; i < capture_edges->size(); ++i) {
      Node* n = (*capture_edges)[i].node.get();
      if (n) capture_at[n].push_back(int(i));
    }
    for (Node* n : post_order) {
      bool need = false;
      for (const Edge& e : n->next_edges())
        if (e.node && (needed.count(e.node.get()) || capture_at.count(e.node.get()))) need = true;
      if (need) needed.insert(n);
    }
  }
  TensorList captured(capture_edges ? capture_edges->size() : 0);

  // 2. Seed the roots.
  for (size_t i = 0; i < roots.size(); ++i) {
    Buffer& b = buffers[roots[i].node.get()];
    if (b.grads.empty()) b.grads.resize(roots[i].node->num_outputs());
    add_into(b.grads[roots[i].input_nr], root_grads[i]);
  }
  std::vector<Node*> ready;
  for (const Edge& r : roots)
    if (buffers[r.node.get()].deps == 0) ready.push_back(r.node.get());
  std::unordered_set<Node*> queued(ready.begin(), ready.end());

  // 3. Kahn's walk.
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    TensorList grads = std::move(buffers[n].grads);
    buffers.erase(n);
    grads.resize(n->num_outputs());

    if (capture_edges) {
      auto it = capture_at.find(n);
      if (it != capture_at.end())
        for (int ci : it->second) captured[ci] = grads[(*capture_edges)[ci].input_nr];
      if (!needed.count(n)) {
        if (!retain_graph) n->release();
        // Still release the dependency counts of the nodes behind it.
        for (const Edge& e : n->next_edges()) {
          if (!e.node) continue;
          Buffer& b = buffers[e.node.get()];
          if (--b.deps == 0 && queued.insert(e.node.get()).second) ready.push_back(e.node.get());
        }
        continue;
      }
    }

    TensorList input_grads;
    if (!n->is_accumulate_grad() || !capture_edges) {
      bool any = false;
      for (int i = 0; i < n->num_outputs(); ++i) {
        if (grads[i].defined()) {
          any = true;
        } else {
          const OutputMeta& m = n->output_meta(i);
          TensorOptions o(m.dtype);
          o.device = m.device;
          grads[i] = zeros(m.shape, o);
        }
      }
      if (any) {
        profiler::Scope scope(n->name().c_str(), " backward");
        input_grads = n->apply(grads);
      }
      if (!retain_graph) n->release();
    }

    const auto& next = n->next_edges();
    for (size_t i = 0; i < next.size(); ++i) {
      const Edge& e = next[i];
      if (!e.node) continue;
      Buffer& b = buffers[e.node.get()];
      if (i < input_grads.size() && input_grads[i].defined()) {
        if (b.grads.empty()) b.grads.resize(e.node->num_outputs());
        const OutputMeta& m = e.node->output_meta(e.input_nr);
        SG_CHECK(input_grads[i].shape() == m.shape, n->name(), ": backward produced gradient of shape ",
                 input_grads[i].shape().str(), " for input ", i, " of shape ", m.shape.str());
        add_into(b.grads[e.input_nr], input_grads[i]);
      }
      if (--b.deps == 0 && queued.insert(e.node.get()).second) ready.push_back(e.node.get());
    }
  }
  return captured;
}

}  // namespace

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool create_graph, bool allow_unused) {
  std::vector<Edge> edges;
  for (size_t i = 0; i < inputs.size(); ++i) {
    SG_CHECK(inputs[i].defined() && inputs[i].requires_grad(), "grad: input ", i,
             " does not require grad");
    edges.push_back(gradient_edge(inputs[i]));
  }
  TensorList result = run_engine(outputs, grad_outputs, &edges, retain_graph || create_graph,
                                 create_graph, "grad");
  for (size_t i = 0; i < result.size(); ++i) {
    if (result[i].defined()) continue;
    SG_CHECK(allow_unused, "grad: input ", i,
             " was not used to compute the outputs (pass allow_unused=true to get an undefined gradient)");
  }
  return result;
}

void Tensor::backward(const Tensor& g, bool retain_graph, bool create_graph) const {
  sg::backward({*this}, {g}, retain_graph, create_graph);
}

void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph,
              bool create_graph) {
  run_engine(outputs, grad_outputs, nullptr, retain_graph || create_graph, create_graph, "backward");
}

}  // namespace sg
