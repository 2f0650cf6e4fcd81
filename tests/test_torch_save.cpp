// save_torch_state_dict (weights/torch_save.h): read back by stylegrad's own
// checkpoint reader, and -- where Debian's python3-torch is installed -- by
// torch.load(weights_only=True) itself.
#include <fstream>
#include <sstream>

#include "tests/test_util.h"
#include "weights/torch_checkpoint.h"
#include "weights/torch_save.h"

using namespace sg;
using namespace sg::test;

namespace {

NamedTensors sample_state() {
  Generator g(3);
  NamedTensors s;
  s.emplace_back("model.1.weight", randn({2, 3, 3, 3}, g));
  s.emplace_back("model.1.bias", randn({2}, g));
  s.emplace_back("transposed", randn({3, 4}, g).transpose(0, 1));  // a non-contiguous view
  s.emplace_back("float64", randn({5}, g, DType::f64));
  s.emplace_back("bn.num_batches_tracked", full({}, 70000, DType::i64));  // 0-d, needs BININT
  s.emplace_back("big", full({2}, double(int64_t(1) << 40), DType::i64));
  s.emplace_back("mask", from_vector({1, 0, 1}, {3}, DType::b8));
  return s;
}

}  // namespace

TEST_CASE("torch_save: a state_dict reads back with the same names, shapes, dtypes and values") {
  TempDir dir;
  const NamedTensors state = sample_state();
  save_torch_state_dict(dir.file("net.pth"), state);
  const NamedTensors back = load_torch_checkpoint(dir.file("net.pth"), DType::f64);
  REQUIRE(back.size() == state.size());
  for (size_t i = 0; i < state.size(); ++i) {
    INFO(state[i].first);
    CHECK(back[i].first == state[i].first);
    CHECK(back[i].second.shape() == state[i].second.shape());
    const bool is_float = is_floating(state[i].second.dtype());
    CHECK(back[i].second.dtype() == (is_float ? DType::f64 : state[i].second.dtype()));
    CHECK(back[i].second.to_vector() == state[i].second.to_vector());  // exact: f32 widens exactly
  }
}

TEST_CASE("torch_save: an existing file is replaced only by a complete one") {
  TempDir dir;
  const std::string path = dir.file("net.pth");
  { std::ofstream(path) << "old"; }
  CHECK(error_of([&] { save_torch_state_dict(path, {{"x", Tensor()}}); }).find("undefined tensor") != std::string::npos);
  std::ifstream in(path);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(contents == "old");
  CHECK(dir.entries() == std::vector<std::string>{"net.pth"});
}

TEST_CASE("torch_save: torch.load(weights_only=True) reads it (skipped without python3-torch)") {
  std::string probe;
  if (run_command("/usr/bin/python3 -c 'import torch' 2>/dev/null", &probe) != 0) {
    MESSAGE("skipped: Debian's python3-torch is not installed");
    return;
  }
  TempDir dir;
  const NamedTensors state = sample_state();
  save_torch_state_dict(dir.file("net.pth"), state);
  // torch prints each entry: name, dtype, shape and the sum of its values (float64).
  const std::string script =
      "import sys, torch\n"
      "sd = torch.load(sys.argv[1], weights_only=True)\n"
      "assert type(sd).__name__ == 'OrderedDict', type(sd)\n"
      "for k, v in sd.items():\n"
      "    print(k, str(v.dtype).replace('torch.', ''), list(v.shape), repr(float(v.double().sum())))\n";
  { std::ofstream(dir.file("check.py")) << script; }
  std::string out;
  REQUIRE(run_command("/usr/bin/python3 " + dir.file("check.py") + " " + dir.file("net.pth"), &out) == 0);
  std::string expected;
  for (const auto& [name, t] : state) {
    std::string shape = "[";
    for (int i = 0; i < t.dim(); ++i) shape += (i ? ", " : "") + std::to_string(t.size(i));
    shape += "]";
    expected += name + " " + dtype_name(t.dtype()) + " " + shape + "\n";
  }
  // Names, dtypes and shapes exactly; values through the sums (python's repr is
  // the shortest round-trip form, so compare numerically).
  std::istringstream got(out), want(expected);
  std::string got_line, want_line;
  size_t i = 0;
  while (std::getline(want, want_line)) {
    REQUIRE(std::getline(got, got_line));
    const size_t cut = got_line.rfind(' ');
    CHECK(got_line.substr(0, cut) + "\n" == want_line + "\n");
    double sum = 0;
    for (double v : state[i].second.to_vector()) sum += v;
    CHECK(std::stod(got_line.substr(cut + 1)) == doctest::Approx(sum).epsilon(1e-12));
    ++i;
  }
}
