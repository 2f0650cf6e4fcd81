// ONNX -> stylegrad for the elementwise, comparison, reduction, shape and
// matmul ops, and the graph runner. Semantics follow onnx/docs/Operators.md;
// where an op changed between opsets (an attribute became an input), both
// forms are read.
#include "onnx/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/ops.h"

namespace sg::onnx {

// ---------------- OpCall and shared helpers ----------------

const Tensor& OpCall::in(size_t i) const {
  SG_CHECK(has(i), node.op_type, ": input ", i, " is missing");
  return inputs[i];
}

const Tensor& OpCall::in_float(size_t i) const {
  const Tensor& t = in(i);
  if (!is_floating(t.dtype()))
    unsupported("input " + std::to_string(i) + (t.dtype() == DType::b8 ? " is bool" : " is an integer tensor") +
                "; stylegrad's arithmetic is float32/float64 only");
  return t;
}

void OpCall::unsupported(const std::string& why) const { throw Unsupported(node.op_type + ": " + why); }

std::vector<int64_t> int_values(const OpCall& call, size_t i) {
  const Tensor& t = call.in(i);
  SG_CHECK(t.dtype() == DType::i64, call.node.op_type, ": input ", i, " must be an integer tensor, got ",
           dtype_name(t.dtype()));
  std::vector<int64_t> out;
  for (double v : t.to_vector()) out.push_back(int64_t(v));
  return out;
}

std::vector<int64_t> axes_of(const OpCall& call, size_t input_index) {
  if (call.node.find("axes")) return call.node.get_ints("axes", {});
  if (call.has(input_index)) return int_values(call, input_index);
  return {};
}

int64_t wrap_axis(const OpCall& call, int64_t dim, int64_t ndim) {
  SG_CHECK(dim >= -ndim && dim < ndim, call.node.op_type, ": axis ", dim, " is out of range for ", ndim, " dims");
  return dim < 0 ? dim + ndim : dim;
}

namespace {

// Every dim of x when `axes` is empty (ONNX's "reduce over all"), else the
// axes wrapped to non-negative and sorted.
std::vector<int64_t> reduce_dims(const OpCall& call, const Tensor& x, std::vector<int64_t> axes) {
  if (axes.empty())
    for (int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
  for (int64_t& a : axes) a = wrap_axis(call, a, x.dim());
  std::sort(axes.begin(), axes.end());
  return axes;
}

// Removes the (kept, size-1) dims `dims`, highest first so the others stay put.
Tensor squeeze_dims(Tensor x, const std::vector<int64_t>& dims) {
  for (auto d = dims.rbegin(); d != dims.rend(); ++d) x = squeeze(x, *d);
  return x;
}

// Maximum over several dims: stylegrad's max reduces one dim at a time.
Tensor max_over(Tensor x, const std::vector<int64_t>& dims, bool keepdims) {
  for (int64_t d : dims) x = max(x, d, /*keepdim=*/true).first;
  return keepdims ? x : squeeze_dims(x, dims);
}

std::vector<Tensor> one(Tensor t) { return {std::move(t)}; }

// ---------------- elementwise ----------------

template <Tensor (*F)(const Tensor&)>
std::vector<Tensor> unary(const OpCall& c) {
  return one(F(c.in_float(0)));
}

std::vector<Tensor> reciprocal(const OpCall& c) { return one(1.0 / c.in_float(0)); }
std::vector<Tensor> identity(const OpCall& c) { return one(c.in(0)); }

std::vector<Tensor> leaky_relu_op(const OpCall& c) {
  return one(leaky_relu(c.in_float(0), c.node.get_float("alpha", 0.01f)));
}

template <Tensor (*F)(const Tensor&, const Tensor&)>
std::vector<Tensor> binary(const OpCall& c) {
  return one(F(c.in_float(0), c.in_float(1)));
}

// Max, Min, Sum, Mean take any number of inputs, broadcast together.
template <Tensor (*F)(const Tensor&, const Tensor&), bool Average = false>
std::vector<Tensor> variadic(const OpCall& c) {
  Tensor acc = c.in_float(0);
  for (size_t i = 1; i < c.inputs.size(); ++i) acc = F(acc, c.in_float(i));
  if (Average) acc = acc / double(c.inputs.size());
  return one(acc);
}

// x ** y. A one-element exponent is stylegrad's pow; a tensor exponent is
// exp(y log x), which is exact in meaning only for x >= 0.
std::vector<Tensor> pow_op(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  const Tensor& y = c.in(1);
  if (y.numel() == 1) return one(pow(x, y.item()));
  if (!is_floating(y.dtype()) && y.dtype() != DType::i64) c.unsupported("exponent of type bool");
  for (double v : x.to_vector())
    if (v < 0) c.unsupported("negative base with a tensor exponent (stylegrad's pow takes a scalar exponent)");
  const Tensor yf = to_dtype(y, x.dtype());
  const Tensor powered = exp(yf * log(x));  // 0 ** y: exp(-inf) = 0 for y > 0, inf for y < 0
  return one(where(eq(yf, zeros({}, x.dtype())), ones({}, x.dtype()), powered));  // x ** 0 = 1, also 0 ** 0
}

std::vector<Tensor> clip(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  const double inf = std::numeric_limits<double>::infinity();
  double lo = -inf, hi = inf;
  if (c.opset < 11) {  // bounds were attributes until opset 11, inputs since
    lo = c.node.get_float("min", -std::numeric_limits<float>::max());
    hi = c.node.get_float("max", std::numeric_limits<float>::max());
  } else {
    if (c.has(1)) lo = c.in(1).item();
    if (c.has(2)) hi = c.in(2).item();
  }
  return one(clamp(x, std::min(lo, hi), hi));  // min > max gives max everywhere, as numpy.clip does
}

std::vector<Tensor> cast(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  const int64_t to = c.node.get_int("to", 0);
  if (to == int64_t(DataType::float32)) return one(to_dtype(x, DType::f32));
  if (to == int64_t(DataType::float64)) return one(to_dtype(x, DType::f64));
  c.unsupported(std::string("cast to ") + data_type_name(int32_t(to)) + " (stylegrad casts between float32 and float64)");
}

// ---------------- comparisons and selection ----------------

std::vector<Tensor> greater(const OpCall& c) { return one(gt(c.in(0), c.in(1))); }
std::vector<Tensor> less(const OpCall& c) { return one(lt(c.in(0), c.in(1))); }
std::vector<Tensor> equal(const OpCall& c) { return one(eq(c.in(0), c.in(1))); }
std::vector<Tensor> greater_equal(const OpCall& c) { return one(ge(c.in(0), c.in(1))); }
std::vector<Tensor> less_equal(const OpCall& c) { return one(le(c.in(0), c.in(1))); }

std::vector<Tensor> where_op(const OpCall& c) { return one(where(c.in(0), c.in(1), c.in(2))); }

// Negative indices count from the end of `dim_size`; stylegrad's gather wants them in range.
Tensor wrapped_indices(const OpCall& c, const Tensor& index, int64_t dim_size) {
  std::vector<double> v = to_dtype(index, DType::i64).to_vector();
  for (double& i : v) {
    SG_CHECK(i >= -double(dim_size) && i < double(dim_size), c.node.op_type, ": index ", i,
             " is out of range for a dim of size ", dim_size);
    if (i < 0) i += double(dim_size);
  }
  return from_vector(v, index.shape(), DType::i64);
}

// GatherElements is torch.gather.
std::vector<Tensor> gather_elements(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  const int64_t axis = wrap_axis(c, c.node.get_int("axis", 0), x.dim());
  return one(gather(x, axis, wrapped_indices(c, c.in(1), x.size(axis))));
}

// Gather picks whole slices: out = x[..., indices, ...] along axis, so its shape is
// x.shape[:axis] + indices.shape + x.shape[axis+1:]. With torch.gather that is a
// gather of the flattened indices, broadcast over the other dims.
std::vector<Tensor> gather_op(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  const int64_t axis = wrap_axis(c, c.node.get_int("axis", 0), x.dim());
  const Tensor indices = wrapped_indices(c, c.in(1), x.size(axis));
  Shape along = Shape::filled(x.dim(), 1), index_shape = x.shape(), out_shape;
  along[axis] = index_shape[axis] = indices.numel();
  Tensor picked = gather(x, axis, expand(reshape(indices, along), index_shape).contiguous());
  for (int64_t d = 0; d < axis; ++d) out_shape.push_back(x.size(d));
  for (int64_t s : indices.shape()) out_shape.push_back(s);
  for (int64_t d = axis + 1; d < x.dim(); ++d) out_shape.push_back(x.size(d));
  return one(reshape(picked, out_shape));
}

// ---------------- reductions ----------------

// The axes and keepdims of a Reduce* node. ReduceSum reads axes from input 1
// since opset 13 (the others since opset 18); an empty list reduces all dims,
// unless noop_with_empty_axes asks for the input unchanged.
struct Reduction {
  std::vector<int64_t> dims;
  bool keepdims = true;
  bool noop = false;
};

Reduction reduction_of(const OpCall& c, const Tensor& x) {
  Reduction r;
  const std::vector<int64_t> axes = axes_of(c, 1);
  r.keepdims = c.node.get_int("keepdims", 1) != 0;
  r.noop = axes.empty() && c.node.get_int("noop_with_empty_axes", 0) != 0;
  r.dims = reduce_dims(c, x, axes);
  return r;
}

enum class Reduce { sum, mean, max, min, sum_square, l1, l2, log_sum, log_sum_exp };

template <Reduce R>
std::vector<Tensor> reduce(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  const Reduction r = reduction_of(c, x);
  if (r.noop) return one(x);
  const std::vector<int64_t>& d = r.dims;
  const bool keep = r.keepdims;
  switch (R) {
    case Reduce::sum: return one(sum(x, d, keep));
    case Reduce::mean: return one(mean(x, d, keep));
    case Reduce::max: return one(max_over(x, d, keep));
    case Reduce::min: return one(neg(max_over(neg(x), d, keep)));
    case Reduce::sum_square: return one(sum(x * x, d, keep));
    case Reduce::l1: return one(sum(abs(x), d, keep));
    case Reduce::l2: return one(sqrt(sum(x * x, d, keep)));
    case Reduce::log_sum: return one(log(sum(x, d, keep)));
    case Reduce::log_sum_exp: {  // log sum exp(x) = m + log sum exp(x - m), m the max: no overflow
      const Tensor m = max_over(x, d, true);
      const Tensor y = m + log(sum(exp(x - m), d, true));
      return one(keep ? y : squeeze_dims(y, d));
    }
  }
  return {};
}

// ArgMax / ArgMin: the int64 index of the extreme along one axis. stylegrad's
// max returns the first of equal maxima; the last one (select_last_index) is
// the first one of x reversed, counted from the other end.
template <bool Min>
std::vector<Tensor> arg_extreme(const OpCall& c) {
  const Tensor x = Min ? neg(c.in_float(0)) : c.in_float(0);
  const int64_t axis = wrap_axis(c, c.node.get_int("axis", 0), x.dim());
  const bool keep = c.node.get_int("keepdims", 1) != 0;
  if (c.node.get_int("select_last_index", 0) == 0) return one(max(x, axis, keep).second);
  const Tensor from_end = max(flip(x, {axis}), axis, keep).second;
  std::vector<double> index = from_end.to_vector();
  for (double& i : index) i = double(x.size(axis) - 1) - i;
  return one(from_vector(index, from_end.shape(), DType::i64));
}

std::vector<Tensor> global_average_pool(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  std::vector<int64_t> spatial;
  for (int64_t d = 2; d < x.dim(); ++d) spatial.push_back(d);
  return one(mean(x, spatial, true));
}

std::vector<Tensor> global_max_pool(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  std::vector<int64_t> spatial;
  for (int64_t d = 2; d < x.dim(); ++d) spatial.push_back(d);
  return one(max_over(x, spatial, true));
}

// ---------------- shapes ----------------

// Reshape: a 0 copies the input's size at that position (unless allowzero), -1 is inferred.
std::vector<Tensor> reshape_op(const OpCall& c) {
  const Tensor& x = c.in(0);
  std::vector<int64_t> shape = c.opset < 5 ? c.node.get_ints("shape", {}) : int_values(c, 1);
  if (c.node.get_int("allowzero", 0) == 0)
    for (size_t i = 0; i < shape.size(); ++i)
      if (shape[i] == 0) {
        SG_CHECK(int64_t(i) < x.dim(), "Reshape: a 0 at position ", i, " but the input has ", x.dim(), " dims");
        shape[i] = x.size(int64_t(i));
      }
  return one(reshape(x, Shape(shape)));
}

// Flatten to 2-D: the dims before `axis`, and the rest.
std::vector<Tensor> flatten_op(const OpCall& c) {
  const Tensor& x = c.in(0);
  int64_t axis = c.node.get_int("axis", 1);
  SG_CHECK(axis >= -x.dim() && axis <= x.dim(), "Flatten: axis ", axis, " is out of range for ", x.dim(), " dims");
  if (axis < 0) axis += x.dim();
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.size(d);
  return one(reshape(x, {outer, -1}));
}

std::vector<Tensor> squeeze_op(const OpCall& c) {
  const Tensor& x = c.in(0);
  std::vector<int64_t> dims = axes_of(c, 1);
  if (dims.empty())  // no axes: every dim of size 1
    for (int64_t d = 0; d < x.dim(); ++d)
      if (x.size(d) == 1) dims.push_back(d);
  return one(squeeze_dims(x, reduce_dims(c, x, dims)));
}

// Unsqueeze: the axes name positions in the output, so insert them in increasing order.
std::vector<Tensor> unsqueeze_op(const OpCall& c) {
  Tensor x = c.in(0);
  std::vector<int64_t> axes = axes_of(c, 1);
  const int64_t out_dims = x.dim() + int64_t(axes.size());
  for (int64_t& a : axes) a = wrap_axis(c, a, out_dims);
  std::sort(axes.begin(), axes.end());
  for (int64_t a : axes) x = unsqueeze(x, a);
  return one(x);
}

std::vector<Tensor> transpose_op(const OpCall& c) {
  const Tensor& x = c.in(0);
  std::vector<int64_t> reversed;
  for (int64_t d = x.dim() - 1; d >= 0; --d) reversed.push_back(d);
  return one(permute(x, Shape(c.node.get_ints("perm", reversed))));
}

std::vector<Tensor> concat(const OpCall& c) {
  std::vector<Tensor> xs;
  for (size_t i = 0; i < c.inputs.size(); ++i) xs.push_back(c.in(i));
  return one(cat(xs, c.node.get_int("axis", 0)));
}

// Expand broadcasts both ways: the output shape is broadcast(input shape, shape).
std::vector<Tensor> expand_op(const OpCall& c) {
  const Tensor& x = c.in(0);
  const Shape shape = broadcast_shapes(x.shape(), Shape(int_values(c, 1)), "Expand");
  return one(expand(x, shape));
}

// Slice with steps of 1 is narrow; starts and ends are clamped to the dim, as ONNX says.
std::vector<Tensor> slice(const OpCall& c) {
  Tensor x = c.in(0);
  const bool inputs = c.opset >= 10;  // starts/ends/axes/steps became inputs in opset 10
  const std::vector<int64_t> starts = inputs ? int_values(c, 1) : c.node.get_ints("starts", {});
  const std::vector<int64_t> ends = inputs ? int_values(c, 2) : c.node.get_ints("ends", {});
  std::vector<int64_t> axes = inputs ? (c.has(3) ? int_values(c, 3) : std::vector<int64_t>{})
                                     : c.node.get_ints("axes", {});
  const std::vector<int64_t> steps = inputs && c.has(4) ? int_values(c, 4) : std::vector<int64_t>{};
  SG_CHECK(starts.size() == ends.size(), "Slice: ", starts.size(), " starts but ", ends.size(), " ends");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  SG_CHECK(axes.size() == starts.size() && (steps.empty() || steps.size() == starts.size()), "Slice: ",
           axes.size(), " axes and ", steps.size(), " steps for ", starts.size(), " starts");
  for (size_t i = 0; i < axes.size(); ++i) {
    if (!steps.empty() && steps[i] != 1)
      c.unsupported("step " + std::to_string(steps[i]) + " (stylegrad's narrow takes contiguous ranges)");
    const int64_t axis = wrap_axis(c, axes[i], x.dim()), n = x.size(axis);
    auto clamp_index = [n](int64_t v) { return std::min(std::max(v < 0 ? v + n : v, int64_t(0)), n); };
    const int64_t start = clamp_index(starts[i]), end = clamp_index(ends[i]);
    x = narrow(x, axis, start, std::max<int64_t>(end - start, 0));
  }
  return one(x);
}

// Split into the given sizes along axis, or into equal parts, one per output.
std::vector<Tensor> split(const OpCall& c) {
  const Tensor& x = c.in(0);
  const int64_t axis = wrap_axis(c, c.node.get_int("axis", 0), x.dim());
  std::vector<int64_t> sizes = c.opset >= 13 ? (c.has(1) ? int_values(c, 1) : std::vector<int64_t>{})
                                             : c.node.get_ints("split", {});
  const int64_t parts = int64_t(c.node.outputs.size());
  if (sizes.empty()) {
    SG_CHECK(parts > 0 && x.size(axis) % parts == 0, "Split: dim of size ", x.size(axis), " into ", parts,
             " equal parts");
    sizes.assign(size_t(parts), x.size(axis) / parts);
  }
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(x, axis, at, s));
    at += s;
  }
  SG_CHECK(at == x.size(axis), "Split: sizes add up to ", at, ", the dim has ", x.size(axis));
  return out;
}

// Shape: the dims [start, end) of the input's shape as int64 (start/end since
// opset 15, negative counting from the end, clamped to the rank).
std::vector<Tensor> shape_op(const OpCall& c) {
  const Tensor& x = c.in(0);
  const int64_t r = x.dim();
  auto clamp_dim = [r](int64_t d) { return std::min(std::max(d < 0 ? d + r : d, int64_t(0)), r); };
  const int64_t start = clamp_dim(c.node.get_int("start", 0)), end = clamp_dim(c.node.get_int("end", r));
  std::vector<double> dims;
  for (int64_t d = start; d < end; ++d) dims.push_back(double(x.size(d)));
  return one(from_vector(dims, {int64_t(dims.size())}, DType::i64));
}

// Constant: a tensor attribute, or a scalar/list one of the value_* attributes.
std::vector<Tensor> constant(const OpCall& c) {
  const Node& n = c.node;
  if (const Attribute* a = n.find("value")) return one(a->t);
  if (n.find("value_float")) return one(scalar_tensor(n.get_float("value_float", 0), DType::f32));
  if (n.find("value_int")) return one(scalar_tensor(double(n.get_int("value_int", 0)), DType::i64));
  if (const Attribute* a = n.find("value_floats"))
    return one(from_vector(std::vector<double>(a->fs.begin(), a->fs.end()), {int64_t(a->fs.size())}, DType::f32));
  if (const Attribute* a = n.find("value_ints"))
    return one(from_vector(std::vector<double>(a->is.begin(), a->is.end()), {int64_t(a->is.size())}, DType::i64));
  c.unsupported("only value, value_float(s) and value_int(s) constants");
}

// ---------------- matrix products ----------------

// MatMul is numpy.matmul: a 1-D operand gets a dim of size 1 for the product,
// removed afterwards.
std::vector<Tensor> matmul_op(const OpCall& c) {
  Tensor a = c.in_float(0), b = c.in_float(1);
  const bool vec_a = a.dim() == 1, vec_b = b.dim() == 1;
  if (vec_a) a = unsqueeze(a, 0);
  if (vec_b) b = unsqueeze(b, 1);
  Tensor y = matmul(a, b);
  if (vec_b) y = squeeze(y, -1);
  if (vec_a) y = squeeze(y, vec_b ? -1 : -2);
  return one(y);
}

// Gemm: alpha * A' B' + beta * C, with A' = A or A^T (transA), B' likewise.
std::vector<Tensor> gemm(const OpCall& c) {
  Tensor a = c.in_float(0), b = c.in_float(1);
  if (c.node.get_int("transA", 0)) a = a.t();
  if (c.node.get_int("transB", 0)) b = b.t();
  Tensor y = matmul(a, b) * double(c.node.get_float("alpha", 1.0f));
  if (c.has(2)) y = y + c.in_float(2) * double(c.node.get_float("beta", 1.0f));
  return one(y);
}

}  // namespace

// ---------------- the table ----------------

const OpTable& op_table() {
  static const OpTable table = [] {
    OpTable t = {
        {"Abs", unary<abs>},
        {"Neg", unary<neg>},
        {"Exp", unary<exp>},
        {"Log", unary<log>},
        {"Sqrt", unary<sqrt>},
        {"Sign", unary<sign>},
        {"Relu", unary<relu>},
        {"Tanh", unary<tanh>},
        {"Sigmoid", unary<sigmoid>},
        {"Softplus", unary<softplus>},
        {"Reciprocal", reciprocal},
        {"LeakyRelu", leaky_relu_op},
        {"Identity", identity},
        {"Add", binary<add>},
        {"Sub", binary<sub>},
        {"Mul", binary<mul>},
        {"Div", binary<div>},
        {"Pow", pow_op},
        {"Max", variadic<maximum>},
        {"Min", variadic<minimum>},
        {"Sum", variadic<add>},
        {"Mean", variadic<add, true>},
        {"Clip", clip},
        {"Cast", cast},
        {"Greater", greater},
        {"Less", less},
        {"Equal", equal},
        {"GreaterOrEqual", greater_equal},
        {"LessOrEqual", less_equal},
        {"Where", where_op},
        {"Gather", gather_op},
        {"GatherElements", gather_elements},
        {"ReduceSum", reduce<Reduce::sum>},
        {"ReduceMean", reduce<Reduce::mean>},
        {"ReduceMax", reduce<Reduce::max>},
        {"ReduceMin", reduce<Reduce::min>},
        {"ReduceSumSquare", reduce<Reduce::sum_square>},
        {"ReduceL1", reduce<Reduce::l1>},
        {"ReduceL2", reduce<Reduce::l2>},
        {"ReduceLogSum", reduce<Reduce::log_sum>},
        {"ReduceLogSumExp", reduce<Reduce::log_sum_exp>},
        {"ArgMax", arg_extreme<false>},
        {"ArgMin", arg_extreme<true>},
        {"GlobalAveragePool", global_average_pool},
        {"GlobalMaxPool", global_max_pool},
        {"Reshape", reshape_op},
        {"Flatten", flatten_op},
        {"Squeeze", squeeze_op},
        {"Unsqueeze", unsqueeze_op},
        {"Transpose", transpose_op},
        {"Concat", concat},
        {"Expand", expand_op},
        {"Slice", slice},
        {"Split", split},
        {"Shape", shape_op},
        {"Constant", constant},
        {"MatMul", matmul_op},
        {"Gemm", gemm},
    };
    add_nn_ops(t);
    return t;
  }();
  return table;
}

// ---------------- the graph runner ----------------

void require_tensor_values(const Model& model) {
  for (const auto* values : {&model.inputs, &model.outputs})
    for (const Value& v : *values)
      if (v.kind != "tensor")
        throw Unsupported((v.kind.empty() ? std::string("untyped") : v.kind) + " value '" + v.name +
                          "' (stylegrad runs tensors)");
}

std::vector<Tensor> run_model(const Model& model, const std::vector<Tensor>& inputs) {
  require_tensor_values(model);
  SG_CHECK(inputs.size() == model.inputs.size(), "the model takes ", model.inputs.size(), " inputs, got ",
           inputs.size());

  std::map<std::string, Tensor> values(model.initializers.begin(), model.initializers.end());
  for (size_t i = 0; i < inputs.size(); ++i) values[model.inputs[i].name] = inputs[i];

  const OpTable& table = op_table();
  for (const Node& node : model.nodes) {
    if (!node.domain.empty() && node.domain != "ai.onnx")
      throw Unsupported(node.op_type + ": an op of domain " + node.domain);
    SG_CHECK(model.opset > 0, node.op_type, ": the model imports no version of the default operator set");
    const auto op = table.find(node.op_type);
    if (op == table.end()) throw Unsupported(node.op_type + ": no such op in stylegrad");
    std::vector<Tensor> args;
    for (const std::string& name : node.inputs) {
      if (name.empty()) {  // an omitted optional input
        args.emplace_back();
        continue;
      }
      const auto v = values.find(name);
      SG_CHECK(v != values.end(), node.op_type, ": input '", name, "' is not computed before this node");
      args.push_back(v->second);
    }
    const OpCall call{node, model.opset, args};
    const std::vector<Tensor> results = op->second(call);
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      if (node.outputs[k].empty()) continue;
      if (k >= results.size() || !results[k].defined()) call.unsupported("output " + std::to_string(k));
      values[node.outputs[k]] = results[k];
    }
  }

  std::vector<Tensor> outputs;
  for (const Value& v : model.outputs) {
    const auto it = values.find(v.name);
    SG_CHECK(it != values.end(), "no node computes the model output '", v.name, "'");
    outputs.push_back(it->second);
  }
  return outputs;
}

}  // namespace sg::onnx
