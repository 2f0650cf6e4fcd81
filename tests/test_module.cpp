// The Module API against torch.nn.Module: named_modules, state_dict keys and
// apply order on a nested model (tests/reference/module.txt, written by
// scripts/make_init_reference.py), ModuleList, feature taps, to(dtype/device).
#include <fstream>
#include <map>
#include <sstream>

#include "nn/layers.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

// torch's Net in scripts/make_init_reference.py, layer for layer.
class Net : public nn::Module {
 public:
  Net() {
    stem = register_module("stem", std::make_shared<nn::Conv2d>(3, 4, 3));
    act = register_module("act", std::make_shared<nn::ReLU>());
    blocks = register_module("blocks", std::make_shared<nn::ModuleList>());
    blocks->push_back(std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Conv2d>(4, 4, 3, 1, 1), std::make_shared<nn::InstanceNorm2d>(4, true),
        std::make_shared<nn::ReLU>()}));
    blocks->push_back(std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Conv2d>(4, 4, 3, 1, 1, false), std::make_shared<nn::BatchNorm2d>(4),
        std::make_shared<nn::LeakyReLU>(0.2)}));
    head = register_module("head", std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Pad2d>(1, PadMode::reflect), std::make_shared<nn::Conv2d>(4, 3, 3), act,
        std::make_shared<nn::Tanh>()}));
    gain = register_parameter("gain", ones({3}));
    step = register_buffer("step", zeros({}));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = act->forward(stem->forward(x));
    for (const auto& block : *blocks) h = block->forward(h);
    return head->forward(h) * gain.reshape({1, 3, 1, 1});
  }
  std::shared_ptr<nn::Conv2d> stem;
  std::shared_ptr<nn::ReLU> act;
  std::shared_ptr<nn::ModuleList> blocks;
  std::shared_ptr<nn::Sequential> head;
  Tensor gain, step;
};

// The torch class a module stands for (Sequential before ModuleList: it derives from it).
std::string torch_class(nn::Module* m) {
  if (dynamic_cast<Net*>(m)) return "Net";
  if (dynamic_cast<nn::Conv2d*>(m)) return "Conv2d";
  if (dynamic_cast<nn::ReLU*>(m)) return "ReLU";
  if (dynamic_cast<nn::Sequential*>(m)) return "Sequential";
  if (dynamic_cast<nn::ModuleList*>(m)) return "ModuleList";
  if (dynamic_cast<nn::InstanceNorm2d*>(m)) return "InstanceNorm2d";
  if (dynamic_cast<nn::BatchNorm2d*>(m)) return "BatchNorm2d";
  if (dynamic_cast<nn::LeakyReLU*>(m)) return "LeakyReLU";
  if (auto* p = dynamic_cast<nn::Pad2d*>(m); p && p->mode == PadMode::reflect) return "ReflectionPad2d";
  if (dynamic_cast<nn::Tanh*>(m)) return "Tanh";
  return "?";
}

// tests/reference/module.txt: lines `KIND "NAME" [CLASS]`, grouped by kind.
std::map<std::string, std::vector<std::string>> load_module_reference() {
  std::ifstream f(STYLEGRAD_SOURCE_DIR "/tests/reference/module.txt");
  REQUIRE_MESSAGE(f.good(), "missing tests/reference/module.txt (run scripts/make_init_reference.py)");
  std::map<std::string, std::vector<std::string>> out;
  std::string line;
  while (std::getline(f, line)) {
    const size_t q0 = line.find('"'), q1 = line.find('"', q0 + 1);
    REQUIRE(q1 != std::string::npos);
    std::string entry = line.substr(q0 + 1, q1 - q0 - 1);
    if (q1 + 1 < line.size()) entry += " " + line.substr(q1 + 2);  // the class
    out[line.substr(0, q0 - 1)].push_back(entry);
  }
  return out;
}

// One line per entry, so that a failed CHECK prints both lists.
std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

}  // namespace

TEST_CASE("module: named_modules, state_dict keys and apply order match torch on a nested model") {
  auto ref = load_module_reference();
  REQUIRE(ref["module"].size() == 16);
  Net net;

  std::vector<std::string> modules;
  std::map<nn::Module*, std::string> name_of;
  for (const auto& [name, m] : net.named_modules()) {
    modules.push_back(name + " " + torch_class(m));
    name_of[m] = name;
  }
  CHECK(joined(modules) == joined(ref["module"]));  // the shared ReLU is listed once, as "act"

  std::vector<std::string> keys;
  for (const auto& [name, t] : net.state_dict()) keys.push_back(name);
  CHECK(joined(keys) == joined(ref["state"]));

  std::vector<std::string> visited;
  net.apply([&](nn::Module& m) { visited.push_back(name_of.at(&m)); });
  CHECK(joined(visited) == joined(ref["apply"]));  // children first, then the module; the shared ReLU twice

  std::vector<std::string> children;
  for (const auto& [name, c] : net.named_children()) children.push_back(name);
  CHECK(joined(children) == joined({"stem", "act", "blocks", "head"}));
  CHECK(net.blocks->named_modules()[2].first == "0.0");  // names are relative to the module asked
}

TEST_CASE("module: ModuleList holds, indexes and iterates its modules; it has no forward") {
  nn::ModuleList list;
  auto a = std::make_shared<nn::Linear>(2, 3), b = std::make_shared<nn::Linear>(3, 1, false);
  list.push_back(a);
  list.push_back(b);
  CHECK(list.size() == 2);
  CHECK(list[0] == a);
  CHECK(list[1] == b);
  std::vector<nn::Module*> seen;
  for (const auto& m : list) seen.push_back(m.get());
  CHECK(seen == std::vector<nn::Module*>{a.get(), b.get()});
  std::vector<std::string> keys;
  for (const auto& [name, t] : list.state_dict()) keys.push_back(name);
  CHECK(joined(keys) == joined({"0.weight", "0.bias", "1.weight"}));
  CHECK(error_of([&] { list[2]; }) == "ModuleList: index 2 out of range (size 2)");
  CHECK(error_of([&] { list.forward(zeros({1, 2})); }) == "this module does not take a single tensor input");
  CHECK(error_of([&] { list.push_back(nullptr); }) == "register_module: module '2' is null");
}

namespace {

// y = a x + b, counting its calls, so that a test sees which children ran.
class Affine : public nn::Module {
 public:
  Affine(double a, double b, int* calls) : a(a), b(b), calls(calls) {}
  Tensor forward(const Tensor& x) override {
    ++*calls;
    return x * a + b;
  }
  double a, b;
  int* calls;
};

}  // namespace

TEST_CASE("module: Sequential::forward_features taps children as CUT's ResnetGenerator.forward does") {
  int calls = 0;
  nn::Sequential seq({std::make_shared<Affine>(2, 0, &calls), std::make_shared<Affine>(1, 3, &calls),
                      std::make_shared<Affine>(-1, 0, &calls), std::make_shared<Affine>(0.5, 1, &calls)});
  const Tensor x = t64({1, -2}, {2});
  // by hand: child 0 -> [2, -4], 1 -> [5, -1], 2 -> [-5, 1], 3 -> [-1.5, 1.5]
  const Tensor f0 = t64({2, -4}, {2}), f1 = t64({5, -1}, {2}), f2 = t64({-5, 1}, {2}), out = t64({-1.5, 1.5}, {2});
  auto run = [&](const std::vector<int64_t>& layers, bool encode_only) {
    calls = 0;
    return seq.forward_features(x, layers, encode_only);
  };

  auto r = run({0, 2}, false);  // the output of each listed child, and the network's output
  REQUIRE(r.features.size() == 2);
  check_close(r.features[0], f0, 0, 0);
  check_close(r.features[1], f2, 0, 0);
  check_close(r.output, out, 0, 0);
  CHECK(calls == 4);

  r = run({0, 2}, true);  // encode_only: stops after child 2
  CHECK(r.features.size() == 2);
  CHECK_FALSE(r.output.defined());
  CHECK(calls == 3);

  r = run({2, 0}, true);  // the stop is layers.back(), not the largest index; taps in the children's order
  REQUIRE(r.features.size() == 1);
  check_close(r.features[0], f0, 0, 0);
  CHECK(calls == 1);

  r = run({1, -1}, true);  // -1: no early stop, so the output comes back too; -1 itself taps nothing
  REQUIRE(r.features.size() == 1);
  check_close(r.features[0], f1, 0, 0);
  check_close(r.output, out, 0, 0);
  CHECK(calls == 4);

  r = run({3, 3}, false);  // listed twice, tapped once
  REQUIRE(r.features.size() == 1);
  check_close(r.features[0], out, 0, 0);

  r = run({}, true);  // no layers: a plain forward
  CHECK(r.features.empty());
  check_close(r.output, out, 0, 0);

  CHECK(error_of([&] { run({4}, false); }) ==
        "Sequential::forward_features: layer 4 out of range (4 children; -1 means the end)");
  CHECK(error_of([&] { run({-2}, true); }).find("layer -2 out of range") != std::string::npos);

  // Taps are part of the graph: a loss on a feature reaches the input.
  Tensor xg = t64({1, -2}, {2});
  xg.requires_grad_();
  sum(seq.forward_features(xg, {1}, true).features[0]).backward();
  check_close(xg.grad(), t64({2, 2}, {2}), 0, 0);
}

TEST_CASE("module: to(float64) converts in place: handles, requires_grad, grads and keys stay; gradcheck in fp64") {
  manual_seed(5);
  Net net;
  std::vector<std::string> keys_before;
  for (const auto& [name, t] : net.state_dict()) keys_before.push_back(name);
  const Tensor weight = net.stem->weight;                     // a handle taken before the conversion
  auto block1 = std::dynamic_pointer_cast<nn::Sequential>((*net.blocks)[1]);
  const Tensor running_mean = std::dynamic_pointer_cast<nn::BatchNorm2d>((*block1)[1])->running_mean;  // a buffer
  const std::vector<double> weight_f32 = weight.to_vector();
  Tensor x = randn({1, 3, 6, 6});
  sum(net.forward(x)).backward();  // gives every parameter a float32 .grad
  REQUIRE(weight.grad().defined());

  net.to(DType::f64);
  CHECK(weight.dtype() == DType::f64);
  CHECK(weight.impl() == net.stem->weight.impl());
  CHECK(weight.to_vector() == weight_f32);  // float32 -> float64 is exact
  CHECK(running_mean.dtype() == DType::f64);
  CHECK(weight.grad().dtype() == DType::f64);
  std::vector<std::string> keys_after;
  for (const auto& [name, t] : net.state_dict()) {
    keys_after.push_back(name);
    const bool is_count = name == "blocks.1.1.num_batches_tracked";
    INFO(name);
    CHECK(t.dtype() == (is_count ? DType::i64 : DType::f64));  // integer buffers keep their type
  }
  CHECK(joined(keys_after) == joined(keys_before));
  for (const auto& [name, p] : net.named_parameters()) CHECK(p.requires_grad());
  for (const auto& [name, b] : net.named_buffers()) CHECK_FALSE(b.requires_grad());

  // The whole model now runs in float64, so its input gradient can be gradient-checked.
  Tensor x64 = randn({1, 3, 6, 6}, TensorOptions(DType::f64));
  x64.requires_grad_();
  GradcheckResult r = gradcheck([&](const TensorList& in) { return net.forward(in[0]); }, {x64});
  INFO(r.worst);
  CHECK(r.passed);
  CHECK(r.checked == 108);

  net.to(DType::f32);  // and back: the values are the original ones
  CHECK(weight.dtype() == DType::f32);
  CHECK(weight.to_vector() == weight_f32);
  CHECK(net.forward(x).dtype() == DType::f32);
  CHECK(error_of([&] { net.to(DType::i64); }) == "Module::to: expected float32 or float64, got int64");
}

TEST_CASE("module: to(device): cpu is a no-op; cuda moves and comes back, or is one clear error") {
  Net net;
  const Tensor weight = net.stem->weight;
  const void* data = weight.raw_data();
  net.to(Device::cpu());
  CHECK(weight.raw_data() == data);
  const std::vector<double> values = weight.to_vector();
  if (!cuda_available()) {
    CHECK(error_of([&] { net.to(Device::cuda(0)); }) == device_unavailable_reason(Device::cuda(0)));
#ifndef STYLEGRAD_WITH_CUDA
    CHECK(device_unavailable_reason(Device::cuda(0)) ==
          "device cuda:0: this build of stylegrad has no CUDA support (nvcc was not found, or -DSTYLEGRAD_CUDA=OFF); "
          "device cuda-emulated runs the CUDA kernels on the CPU");
#else
    CHECK(device_unavailable_reason(Device::cuda(0)).find("device cuda:0: no CUDA GPU is usable (") == 0);
#endif
    CHECK(device_unavailable_reason(Device::cuda(0)).find("; device cuda-emulated runs the CUDA kernels on the CPU") !=
          std::string::npos);
    CHECK(weight.device() == Device::cpu());  // unchanged
  } else {
    net.to(Device::cuda(0));
    for (const auto& [name, t] : net.state_dict()) CHECK(t.device() == Device::cuda(0));
    CHECK(weight.device() == Device::cuda(0));
    CHECK(weight.requires_grad());
    net.to(Device::cpu());
    CHECK(weight.to_vector() == values);
  }
}

TEST_CASE("module: load_state_dict refuses integer tensors for float weights; integer buffers still load") {
  nn::BatchNorm2d bn(2);
  auto state_with = [&](const std::string& key, const Tensor& value) {
    NamedTensors state;
    for (const auto& [name, t] : bn.state_dict()) state.emplace_back(name, name == key ? value : t.detach().clone());
    return state;
  };
  // An int64 (or int32, widened by the readers) or bool tensor where the model has a float parameter or buffer.
  CHECK(error_of([&] { bn.load_state_dict(state_with("weight", full({2}, 3.0, TensorOptions(DType::i64)))); }) ==
        "load_state_dict: 'weight' is int64 in the file but the model expects a floating-point tensor (float32)");
  CHECK(error_of([&] { bn.load_state_dict(state_with("running_var", full({2}, 1.0, TensorOptions(DType::b8)))); }) ==
        "load_state_dict: 'running_var' is bool in the file but the model expects a floating-point tensor (float32)");
  // The integer buffer num_batches_tracked loads from an int64 tensor, and float64 weights into float32 convert.
  bn.load_state_dict(state_with("num_batches_tracked", full({}, 7.0, TensorOptions(DType::i64))));
  bn.load_state_dict(state_with("bias", full({2}, 0.5, TensorOptions(DType::f64))));
  for (const auto& [name, t] : bn.state_dict()) {
    if (name == "num_batches_tracked") CHECK((t.dtype() == DType::i64 && t.item() == 7));
    if (name == "bias") CHECK(t.to_vector() == std::vector<double>{0.5, 0.5});
  }
}

// BatchNorm2d keeps the count it last wrote instead of reading the buffer
// back each training forward; a write from elsewhere must still count.
TEST_CASE("module: BatchNorm2d's num_batches_tracked counts training forwards, after any load or move") {
  nn::BatchNorm2d bn(2);
  const Tensor x = hashed_input({3, 2, 4, 4}, 1);
  auto count = [&] { return bn.num_batches_tracked.item(); };
  for (int i = 0; i < 3; ++i) bn.forward(x);
  CHECK(count() == 3);
  bn.eval();
  bn.forward(x);
  CHECK(count() == 3);  // evaluation does not count
  bn.train();
  bn.num_batches_tracked.fill_(10);  // written elsewhere
  bn.forward(x);
  CHECK(count() == 11);
  NamedTensors state;
  for (const auto& [name, t] : bn.state_dict())
    state.emplace_back(name,
                       name == "num_batches_tracked" ? full({}, 20.0, TensorOptions(DType::i64)) : t.detach().clone());
  bn.load_state_dict(state);
  bn.forward(x);
  CHECK(count() == 21);
  bn.to(Device::cuda_emulated());  // another storage
  bn.forward(x.to(Device::cuda_emulated()));
  CHECK(count() == 22);
}
