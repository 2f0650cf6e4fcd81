// ONNX nodes run with stylegrad ops, for `stylegrad conformance`.
//
// Each ONNX op_type maps to a function that reads the node's attributes, checks
// that stylegrad offers what the node asks for, and calls ops/ops.h. Anything
// stylegrad does not offer (an integer Add, a cubic Resize, a 3-D Conv) throws
// onnx::Unsupported with the reason, never an approximation.
//
// onnx/ops.cpp maps the elementwise, reduction, shape and matmul ops;
// onnx/nn_ops.cpp maps convolution, pooling, padding, resizing, norms,
// softmax, dropout and the cross-entropy loss.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "tensor/tensor.h"
#include "onnx/model.h"

namespace sg::onnx {

// What a mapping sees: the node, the model's opset and the node's inputs.
struct OpCall {
  const Node& node;
  int64_t opset;
  const std::vector<Tensor>& inputs;  // undefined where an optional input is omitted

  bool has(size_t i) const { return i < inputs.size() && inputs[i].defined(); }
  const Tensor& in(size_t i) const;   // throws if input i is missing
  const Tensor& in_float(size_t i) const;  // ... or not float32/float64 (Unsupported)
  [[noreturn]] void unsupported(const std::string& why) const;  // throws "<op_type>: why"
};

using OpFn = std::vector<Tensor> (*)(const OpCall&);
using OpTable = std::map<std::string, OpFn>;

// Every op_type stylegrad can run.
const OpTable& op_table();
// Adds the mappings of onnx/nn_ops.cpp.
void add_nn_ops(OpTable& table);

// Throws Unsupported unless every input and output of the model is a tensor
// (not a sequence, map or optional); worth checking before reading test data.
void require_tensor_values(const Model& model);

// Runs the model's nodes in order on `inputs` (one per model input) and returns
// the model's outputs.
std::vector<Tensor> run_model(const Model& model, const std::vector<Tensor>& inputs);

// ---- helpers shared by the two mapping files ----

// The values of an int64 tensor (shapes, axes, pads given as inputs).
std::vector<int64_t> int_values(const OpCall& call, size_t i);
// Axes from the attribute `axes` (older opsets) or input i (newer ones); empty if neither.
std::vector<int64_t> axes_of(const OpCall& call, size_t input_index);
// `dim` wrapped into [0, ndim) for an op that takes negative axes.
int64_t wrap_axis(const OpCall& call, int64_t dim, int64_t ndim);

}  // namespace sg::onnx
