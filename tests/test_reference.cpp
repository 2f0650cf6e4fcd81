// Cross-check of every op against PyTorch, without PyTorch: each
// tests/reference/<family>.safetensors file (written by scripts/make_reference.py,
// committed) holds cases with float64 inputs, the op's attributes, and what torch
// computed: the output, a random grad_output, and the gradient of every
// differentiable input. For each case we look the op up in a table (op name ->
// lambda building the stylegrad call from the inputs and attributes), run the
// forward and the backward with the stored grad_output, and compare.
//
// Tolerance: both sides compute in float64 (eps 2.2e-16). The cases are tiny
// (values of order 1, sums of at most a few hundred terms), so differences in
// summation order and in the libm of each side stay below ~1e-14; we accept
// |got - expected| <= 1e-12 + 1e-10 |expected|, a margin of ~100x over that
// noise and still ~1e6 below what a wrong formula does (a misplaced eps, a
// biased/unbiased variance, an off-by-one window all show up at 1e-5 or more).
#include <functional>
#include <map>
#include <set>

#include "tensor/error.h"
#include "tests/test_util.h"
#include "weights/json.h"
#include "weights/safetensors.h"

using namespace sg;
using namespace sg::test;

namespace {

constexpr double kRtol = 1e-10;
constexpr double kAtol = 1e-12;

std::string reference_path(const std::string& family) {
  return std::string(STYLEGRAD_SOURCE_DIR) + "/tests/reference/" + family + ".safetensors";
}

// A case's attributes (the JSON object stored in the file's metadata), read
// through typed getters that remember what was read: an attribute the script
// writes but the table never reads means the two sides disagree on a name,
// and fails the case just like a missing one.
class Attrs {
 public:
  Attrs(std::string case_name, const json::Value& object) : case_(std::move(case_name)), object_(object) {
    used_.insert("op");
  }

  int64_t integer(const std::string& key) { return to_integer(get(key), key); }
  double number(const std::string& key) {
    const json::Value& v = get(key);
    SG_CHECK(v.is_number(), where(key), " is not a number");
    return v.number;
  }
  bool flag(const std::string& key) {
    const json::Value& v = get(key);
    SG_CHECK(v.is_bool(), where(key), " is not true/false");
    return v.boolean;
  }
  std::string text(const std::string& key) {
    const json::Value& v = get(key);
    SG_CHECK(v.is_string(), where(key), " is not a string");
    return v.string;
  }
  std::vector<int64_t> integers(const std::string& key) {
    const json::Value& v = get(key);
    SG_CHECK(v.is_array(), where(key), " is not an array");
    std::vector<int64_t> out;
    for (const json::Value& e : v.array) out.push_back(to_integer(e, key));
    return out;
  }
  Shape shape(const std::string& key) { return Shape(integers(key)); }
  // Two integers [h, w], e.g. "stride": [2, 1].
  void pair(const std::string& key, int64_t& h, int64_t& w) {
    const std::vector<int64_t> v = integers(key);
    SG_CHECK(v.size() == 2, where(key), " must be [h, w]");
    h = v[0];
    w = v[1];
  }

  std::vector<std::string> unused() const {
    std::vector<std::string> out;
    for (const auto& member : object_.object)
      if (!used_.count(member.first)) out.push_back(member.first);
    return out;
  }

 private:
  std::string case_;
  const json::Value& object_;
  std::set<std::string> used_;

  std::string where(const std::string& key) const { return "case " + case_ + ": attribute \"" + key + "\""; }
  const json::Value& get(const std::string& key) {
    const json::Value* v = object_.find(key);
    SG_CHECK(v, where(key), " is missing");
    used_.insert(key);
    return *v;
  }
  int64_t to_integer(const json::Value& v, const std::string& key) const {
    const std::optional<int64_t> i = json::to_int64(v);
    SG_CHECK(i, where(key), " must hold integers");
    return *i;
  }
};

// A case's inputs, bounds-checked, remembering which were used (an input the
// table ignores is, like an unread attribute, a disagreement with the script).
class Inputs {
 public:
  explicit Inputs(TensorList list) : list_(std::move(list)), used_(list_.size(), false) {}
  const Tensor& operator[](size_t i) {
    SG_CHECK(i < list_.size(), "the op reads input ", i, " but the case has ", list_.size());
    used_[i] = true;
    return list_[i];
  }
  const TensorList& all() {
    used_.assign(list_.size(), true);
    return list_;
  }
  bool all_used() const { return std::find(used_.begin(), used_.end(), false) == used_.end(); }

 private:
  TensorList list_;
  std::vector<bool> used_;
};

// What an op produced: the output that grad_output flows into, plus other
// results compared by name (max's indices, batch_norm's running statistics).
struct OpResult {
  OpResult(Tensor out, NamedTensors more = {}) : output(std::move(out)), others(std::move(more)) {}  // NOLINT
  Tensor output;
  NamedTensors others;
};
using OpFn = std::function<OpResult(Inputs& in, Attrs& a)>;
using OpTable = std::map<std::string, OpFn>;

// ---------------- the ops that exist in the core engine ----------------

OpTable core_ops() {
  OpTable t;
  // elementwise unary
  t["neg"] = [](Inputs& in, Attrs&) { return neg(in[0]); };
  t["exp"] = [](Inputs& in, Attrs&) { return exp(in[0]); };
  t["log"] = [](Inputs& in, Attrs&) { return log(in[0]); };
  t["sqrt"] = [](Inputs& in, Attrs&) { return sqrt(in[0]); };
  t["rsqrt"] = [](Inputs& in, Attrs&) { return rsqrt(in[0]); };
  t["abs"] = [](Inputs& in, Attrs&) { return abs(in[0]); };
  t["sign"] = [](Inputs& in, Attrs&) { return sign(in[0]); };
  t["pow"] = [](Inputs& in, Attrs& a) { return pow(in[0], a.number("exponent")); };
  t["relu"] = [](Inputs& in, Attrs&) { return relu(in[0]); };
  t["leaky_relu"] = [](Inputs& in, Attrs& a) { return leaky_relu(in[0], a.number("negative_slope")); };
  t["tanh"] = [](Inputs& in, Attrs&) { return tanh(in[0]); };
  t["sigmoid"] = [](Inputs& in, Attrs&) { return sigmoid(in[0]); };
  t["softplus"] = [](Inputs& in, Attrs&) { return softplus(in[0]); };
  t["clamp"] = [](Inputs& in, Attrs& a) { return clamp(in[0], a.number("min"), a.number("max")); };
  t["add_scalar"] = [](Inputs& in, Attrs& a) { return add_scalar(in[0], a.number("scalar")); };
  t["mul_scalar"] = [](Inputs& in, Attrs& a) { return mul_scalar(in[0], a.number("scalar")); };
  // elementwise binary (broadcasting)
  t["add"] = [](Inputs& in, Attrs&) { return add(in[0], in[1]); };
  t["sub"] = [](Inputs& in, Attrs&) { return sub(in[0], in[1]); };
  t["mul"] = [](Inputs& in, Attrs&) { return mul(in[0], in[1]); };
  t["div"] = [](Inputs& in, Attrs&) { return div(in[0], in[1]); };
  t["maximum"] = [](Inputs& in, Attrs&) { return maximum(in[0], in[1]); };
  t["minimum"] = [](Inputs& in, Attrs&) { return minimum(in[0], in[1]); };
  // comparisons
  t["gt"] = [](Inputs& in, Attrs&) { return gt(in[0], in[1]); };
  t["gt_scalar"] = [](Inputs& in, Attrs& a) { return gt(in[0], a.number("scalar")); };
  t["lt"] = [](Inputs& in, Attrs&) { return lt(in[0], in[1]); };
  t["lt_scalar"] = [](Inputs& in, Attrs& a) { return lt(in[0], a.number("scalar")); };
  t["ge"] = [](Inputs& in, Attrs&) { return ge(in[0], in[1]); };
  t["ge_scalar"] = [](Inputs& in, Attrs& a) { return ge(in[0], a.number("scalar")); };
  t["le"] = [](Inputs& in, Attrs&) { return le(in[0], in[1]); };
  t["le_scalar"] = [](Inputs& in, Attrs& a) { return le(in[0], a.number("scalar")); };
  t["eq"] = [](Inputs& in, Attrs&) { return eq(in[0], in[1]); };
  // selection
  t["where"] = [](Inputs& in, Attrs&) { return where(in[0], in[1], in[2]); };
  t["masked_fill"] = [](Inputs& in, Attrs& a) { return masked_fill(in[0], in[1], a.number("value")); };
  t["gather"] = [](Inputs& in, Attrs& a) { return gather(in[0], a.integer("dim"), in[1]); };
  t["scatter_add"] = [](Inputs& in, Attrs& a) { return scatter_add(a.shape("shape"), a.integer("dim"), in[0], in[1]); };
  t["cat"] = [](Inputs& in, Attrs& a) { return cat(in.all(), a.integer("dim")); };
  t["stack"] = [](Inputs& in, Attrs& a) { return stack(in.all(), a.integer("dim")); };
  t["flip"] = [](Inputs& in, Attrs& a) { return flip(in[0], a.integers("dims")); };
  // reductions
  t["sum"] = [](Inputs& in, Attrs& a) { return sum(in[0], a.integers("dims"), a.flag("keepdim")); };
  t["mean"] = [](Inputs& in, Attrs& a) { return mean(in[0], a.integers("dims"), a.flag("keepdim")); };
  t["var"] = [](Inputs& in, Attrs& a) {
    return var(in[0], a.integers("dims"), a.integer("correction"), a.flag("keepdim"));
  };
  t["max_dim"] = [](Inputs& in, Attrs& a) {
    auto [values, indices] = max(in[0], a.integer("dim"), a.flag("keepdim"));
    return OpResult(values, {{"indices", indices}});
  };
  t["max_all"] = [](Inputs& in, Attrs&) { return max(in[0]); };
  t["sum_to"] = [](Inputs& in, Attrs& a) { return sum_to(in[0], a.shape("shape")); };
  // views
  t["reshape"] = [](Inputs& in, Attrs& a) { return reshape(in[0], a.shape("shape")); };
  t["permute"] = [](Inputs& in, Attrs& a) { return permute(in[0], a.shape("order")); };
  t["transpose"] = [](Inputs& in, Attrs& a) { return transpose(in[0], a.integer("dim0"), a.integer("dim1")); };
  t["narrow"] = [](Inputs& in, Attrs& a) {
    return narrow(in[0], a.integer("dim"), a.integer("start"), a.integer("length"));
  };
  t["expand"] = [](Inputs& in, Attrs& a) { return expand(in[0], a.shape("shape")); };
  t["unsqueeze"] = [](Inputs& in, Attrs& a) { return unsqueeze(in[0], a.integer("dim")); };
  t["squeeze"] = [](Inputs& in, Attrs& a) { return squeeze(in[0], a.integer("dim")); };
  t["contiguous"] = [](Inputs& in, Attrs&) { return contiguous(in[0]); };
  t["clone"] = [](Inputs& in, Attrs&) { return clone(in[0]); };
  t["to_dtype"] = [](Inputs& in, Attrs& a) {
    const std::string name = a.text("dtype");
    SG_CHECK(name == "float32" || name == "float64", "to_dtype: unexpected dtype ", name);
    return to_dtype(in[0], name == "float32" ? DType::f32 : DType::f64);
  };
  // linear algebra
  t["matmul"] = [](Inputs& in, Attrs&) { return matmul(in[0], in[1]); };
  t["bmm"] = [](Inputs& in, Attrs&) { return bmm(in[0], in[1]); };
  t["gram"] = [](Inputs& in, Attrs&) { return gram(in[0]); };
  t["linear"] = [](Inputs& in, Attrs& a) { return linear(in[0], in[1], a.flag("bias") ? in[2] : Tensor()); };
  return t;
}

// ---------------- convolution, pooling, padding, upsampling, norms, softmax, losses ----------------

Conv2dOptions conv_options(Attrs& a, bool transposed) {
  Conv2dOptions o;
  a.pair("stride", o.stride_h, o.stride_w);
  a.pair("padding", o.pad_h, o.pad_w);
  a.pair("dilation", o.dilation_h, o.dilation_w);
  o.groups = a.integer("groups");
  if (transposed) a.pair("output_padding", o.output_padding_h, o.output_padding_w);
  return o;
}

Pool2dOptions pool_options(Attrs& a, bool is_max) {
  Pool2dOptions o;
  a.pair("kernel", o.kernel_h, o.kernel_w);
  a.pair("stride", o.stride_h, o.stride_w);
  a.pair("padding", o.pad_h, o.pad_w);
  if (is_max)
    a.pair("dilation", o.dilation_h, o.dilation_w);
  else
    o.count_include_pad = a.flag("count_include_pad");
  o.ceil_mode = a.flag("ceil_mode");
  return o;
}

PadMode pad_mode(const std::string& name) {
  if (name == "zeros") return PadMode::zeros;
  if (name == "reflect") return PadMode::reflect;
  SG_CHECK(name == "replicate", "pad2d: unexpected mode ", name);
  return PadMode::replicate;
}

OpTable nn_ops() {
  OpTable t;
  // convolution
  t["conv2d"] = [](Inputs& in, Attrs& a) {
    const Conv2dOptions o = conv_options(a, false);
    return conv2d(in[0], in[1], a.flag("bias") ? in[2] : Tensor(), o);
  };
  t["conv_transpose2d"] = [](Inputs& in, Attrs& a) {
    const Conv2dOptions o = conv_options(a, true);
    return conv_transpose2d(in[0], in[1], a.flag("bias") ? in[2] : Tensor(), o);
  };
  t["conv2d_weight_grad"] = [](Inputs& in, Attrs& a) {
    const Conv2dOptions o = conv_options(a, false);
    return conv2d_weight_grad(in[0], in[1], a.shape("weight_shape"), o);
  };
  // pooling
  t["max_pool2d"] = [](Inputs& in, Attrs& a) { return max_pool2d(in[0], pool_options(a, true)); };
  t["max_pool2d_with_indices"] = [](Inputs& in, Attrs& a) {
    auto [values, indices] = max_pool2d_with_indices(in[0], pool_options(a, true));
    return OpResult(values, {{"indices", indices}});
  };
  t["avg_pool2d"] = [](Inputs& in, Attrs& a) { return avg_pool2d(in[0], pool_options(a, false)); };
  // padding: "pad" is [left, right, top, bottom]
  t["pad2d"] = [](Inputs& in, Attrs& a) {
    const std::vector<int64_t> p = a.integers("pad");
    SG_CHECK(p.size() == 4, "pad2d: attribute pad must be [left, right, top, bottom]");
    return pad2d(in[0], p[0], p[1], p[2], p[3], pad_mode(a.text("mode")), a.number("value"));
  };
  // upsampling: "size" is [out_h, out_w]
  t["upsample_nearest2d"] = [](Inputs& in, Attrs& a) {
    int64_t h = 0, w = 0;
    a.pair("size", h, w);
    return upsample_nearest2d(in[0], h, w);
  };
  t["upsample_bilinear2d"] = [](Inputs& in, Attrs& a) {
    int64_t h = 0, w = 0;
    a.pair("size", h, w);
    return upsample_bilinear2d(in[0], h, w, a.flag("align_corners"));
  };
  // normalization; inputs: x, [weight, bias], [running_mean, running_var]
  t["instance_norm"] = [](Inputs& in, Attrs& a) {
    const bool affine = a.flag("affine");
    return instance_norm(in[0], affine ? in[1] : Tensor(), affine ? in[2] : Tensor(), a.number("eps"));
  };
  t["batch_norm"] = [](Inputs& in, Attrs& a) {
    const bool affine = a.flag("affine"), running_stats = a.flag("running_stats");
    const size_t stats_at = affine ? 3 : 1;
    // Copies, updated in place in training mode and compared with torch's updated buffers.
    Tensor running_mean = running_stats ? in[stats_at].clone() : Tensor();
    Tensor running_var = running_stats ? in[stats_at + 1].clone() : Tensor();
    Tensor y = batch_norm(in[0], affine ? in[1] : Tensor(), affine ? in[2] : Tensor(), running_mean, running_var,
                          a.flag("training"), a.number("momentum"), a.number("eps"));
    if (!running_stats) return OpResult(y);
    return OpResult(y, {{"running_mean", running_mean}, {"running_var", running_var}});
  };
  // softmax family
  t["softmax"] = [](Inputs& in, Attrs& a) { return softmax(in[0], a.integer("dim")); };
  t["log_softmax"] = [](Inputs& in, Attrs& a) { return log_softmax(in[0], a.integer("dim")); };
  t["cross_entropy"] = [](Inputs& in, Attrs&) { return cross_entropy(in[0], in[1]); };
  // losses
  t["l1_loss"] = [](Inputs& in, Attrs&) { return l1_loss(in[0], in[1]); };
  t["mse_loss"] = [](Inputs& in, Attrs&) { return mse_loss(in[0], in[1]); };
  t["bce_with_logits"] = [](Inputs& in, Attrs&) { return bce_with_logits(in[0], in[1]); };
  return t;
}


const OpTable& op_table() {
  static const OpTable table = [] {
    OpTable t = core_ops();
    for (auto& entry : nn_ops()) t.insert(entry);
    return t;
  }();
  return table;
}

// ---------------- reading and running the cases ----------------

// Fails the current case and returns from the function; the family's other
// cases still run, so one broken op does not hide the state of the rest.
#define CASE_REQUIRE(cond, ...) \
  do {                          \
    if (!(cond)) {              \
      FAIL_CHECK(__VA_ARGS__);  \
      return;                   \
    }                           \
  } while (0)

// One case of a family file: its attributes and its tensors by role
// ("input0", "output", "grad_input1", "indices", ...).
struct ReferenceCase {
  std::string name;
  json::Value attrs;
  std::map<std::string, Tensor> tensors;
};

// The cases of reference/<family>.safetensors in file order. Throws (and so
// fails the test) if the file is missing or malformed.
std::vector<ReferenceCase> load_family(const std::string& family) {
  const std::string path = reference_path(family);
  const NamedTensors tensors = read_safetensors(path, DType::f64);
  const SafetensorsMetadata metadata = read_safetensors_metadata(path);
  std::vector<ReferenceCase> cases;
  std::map<std::string, size_t> index_of;
  for (const auto& [full_name, tensor] : tensors) {
    const size_t slash = full_name.find('/');
    SG_CHECK(slash != std::string::npos, path, ": tensor ", full_name, " is not named <case>/<role>");
    const std::string name = full_name.substr(0, slash);
    if (!index_of.count(name)) {
      const auto attrs = metadata.find(name);
      SG_CHECK(attrs != metadata.end(), path, ": case ", name, " has no attributes in __metadata__");
      index_of[name] = cases.size();
      cases.push_back({name, json::parse(attrs->second), {}});
      SG_CHECK(cases.back().attrs.is_object() && cases.back().attrs.find("op") &&
                   cases.back().attrs.find("op")->is_string(),
               path, ": case ", name, ": attributes must be an object with an \"op\" string");
    }
    cases[index_of[name]].tensors[full_name.substr(slash + 1)] = tensor;
  }
  for (const auto& entry : metadata)
    SG_CHECK(index_of.count(entry.first), path, ": __metadata__ names case ", entry.first, " but it has no tensors");
  return cases;
}

// The worst error seen in a family, for the summary line.
struct Worst {
  double abs_error = 0;       // max |got - expected|
  double tolerance_used = 0;  // max |got - expected| / (atol + rtol |expected|)
};

// Compares `got` with torch's `expected` (what = "output", "grad_input0", ...).
void compare(const std::string& what, const Tensor& got, const Tensor& expected, Worst& worst) {
  INFO("comparing ", what);
  CASE_REQUIRE(got.defined(), "undefined tensor");
  CHECK_MESSAGE(got.shape() == expected.shape(), "shape ", got.shape().str(), ", torch ", expected.shape().str());
  if (got.shape() != expected.shape()) return;
  const bool exact = !is_floating(expected.dtype());  // indices and masks must match exactly
  if (exact)
    CHECK_MESSAGE(got.dtype() == expected.dtype(), "dtype ", dtype_name(got.dtype()), ", torch ",
                  dtype_name(expected.dtype()));
  else
    CHECK_MESSAGE(is_floating(got.dtype()), "dtype ", dtype_name(got.dtype()), ", torch a float");
  const std::vector<double> g = got.to_vector(), e = expected.to_vector();
  double worst_ratio = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double diff = std::abs(g[i] - e[i]);
    double ratio = exact ? (g[i] == e[i] ? 0.0 : INFINITY) : diff / (kAtol + kRtol * std::abs(e[i]));
    if (std::isnan(ratio)) ratio = INFINITY;  // a NaN on either side is a mismatch
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      at = i;
    }
    if (!exact) worst.abs_error = std::max(worst.abs_error, diff);
  }
  worst.tolerance_used = std::max(worst.tolerance_used, worst_ratio);
  CHECK_MESSAGE(worst_ratio <= 1.0, "element ", at, ": got ", g[at], ", torch ", e[at], " (|diff| ",
                std::abs(g[at] - e[at]), ")");
}

void run_case(ReferenceCase& c, Worst& worst) {
  INFO("case ", c.name);
  const std::string op = c.attrs.find("op")->string;
  const auto fn = op_table().find(op);
  CASE_REQUIRE(fn != op_table().end(), "no table entry for op ", op);

  // Inputs input0, input1, ... as leaves; those torch differentiated require grad.
  TensorList inputs;
  std::set<std::string> compared;  // every stored tensor must be used
  for (size_t i = 0; c.tensors.count("input" + std::to_string(i)); ++i) {
    Tensor x = c.tensors["input" + std::to_string(i)];
    if (c.tensors.count("grad_input" + std::to_string(i))) x.requires_grad_();
    inputs.push_back(x);
    compared.insert("input" + std::to_string(i));
  }

  Inputs in(inputs);
  Attrs attrs(c.name, c.attrs);
  OpResult result(Tensor{});
  const std::string error = error_of([&] { result = fn->second(in, attrs); });
  // Checked first: a name the script and the table disagree on may be why the op threw.
  std::string unused;
  for (const std::string& key : attrs.unused()) unused += " " + key;
  CHECK_MESSAGE(unused.empty(), "attribute(s) never read by the table:", unused);
  CHECK_MESSAGE(in.all_used(), "the table ignores some of the case's inputs");
  CASE_REQUIRE(error.empty(), op, " threw: ", error);

  CASE_REQUIRE(c.tensors.count("output"), "torch stored no output");
  compare("output", result.output, c.tensors["output"], worst);
  compared.insert("output");
  for (const auto& [name, tensor] : result.others) {
    CASE_REQUIRE(c.tensors.count(name), "torch stored no ", name);
    compare(name, tensor, c.tensors[name], worst);
    compared.insert(name);
  }

  if (c.tensors.count("grad_output")) {
    const Tensor grad_output = c.tensors["grad_output"].to(result.output.dtype());
    compared.insert("grad_output");
    CASE_REQUIRE(result.output.requires_grad(), "the output does not require grad, but torch differentiated it");
    const std::string backward_error = error_of([&] { result.output.backward(grad_output); });
    CASE_REQUIRE(backward_error.empty(), op, " backward threw: ", backward_error);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string name = "grad_input" + std::to_string(i);
      if (!c.tensors.count(name)) continue;
      Tensor g = inputs[i].grad();
      if (!g.defined()) g = zeros_like(inputs[i]);  // no gradient flowed: it is zero
      compare(name, g, c.tensors[name], worst);
      compared.insert(name);
    }
  }
  for (const auto& entry : c.tensors)
    CHECK_MESSAGE(compared.count(entry.first), "stored tensor ", entry.first, " was not compared");
}

void run_family(const std::string& family) {
  INFO("reference file ", reference_path(family));
  std::vector<ReferenceCase> cases;
  const std::string error = error_of([&] { cases = load_family(family); });
  REQUIRE_MESSAGE(error.empty(), error);
  REQUIRE(!cases.empty());
  Worst worst;
  for (ReferenceCase& c : cases) run_case(c, worst);
  MESSAGE("reference ", family, ": ", cases.size(), " cases, largest |stylegrad - torch| ", worst.abs_error,
          ", largest fraction of the tolerance used ", worst.tolerance_used);
}

const std::vector<std::string> kCoreFamilies = {"elementwise", "index", "reduce", "view", "matmul"};
const std::vector<std::string> kNNFamilies = {"conv", "pool", "pad", "upsample", "norm", "softmax", "loss"};

}  // namespace

TEST_CASE("reference: elementwise matches torch") { run_family("elementwise"); }
TEST_CASE("reference: index matches torch") { run_family("index"); }
TEST_CASE("reference: reduce matches torch") { run_family("reduce"); }
TEST_CASE("reference: view matches torch") { run_family("view"); }
TEST_CASE("reference: matmul matches torch") { run_family("matmul"); }

TEST_CASE("reference: conv matches torch") { run_family("conv"); }
TEST_CASE("reference: pool matches torch") { run_family("pool"); }
TEST_CASE("reference: pad matches torch") { run_family("pad"); }
TEST_CASE("reference: upsample matches torch") { run_family("upsample"); }
TEST_CASE("reference: norm matches torch") { run_family("norm"); }
TEST_CASE("reference: softmax matches torch") { run_family("softmax"); }
TEST_CASE("reference: loss matches torch") { run_family("loss"); }

// The files of every family are committed and well-formed now, including those
// whose ops are not enabled above; and every table entry has a case.
TEST_CASE("reference: every family file is present and every table op has a case") {
  std::set<std::string> ops_with_cases;
  std::vector<std::string> families = kCoreFamilies;
  families.insert(families.end(), kNNFamilies.begin(), kNNFamilies.end());
  for (const std::string& family : families) {
    INFO("reference file ", reference_path(family));
    std::vector<ReferenceCase> cases;
    const std::string error = error_of([&] { cases = load_family(family); });
    CHECK_MESSAGE(error.empty(), error);
    CHECK(!cases.empty());
    for (const ReferenceCase& c : cases) ops_with_cases.insert(c.attrs.find("op")->string);
  }
  for (const auto& entry : op_table()) CHECK_MESSAGE(ops_with_cases.count(entry.first), "no case for op ", entry.first);
}
