// Helpers shared by the tests.
#pragma once
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <string>
#include <vector>

#include "gradcheck/gradcheck.h"
#include "ops/ops.h"
#include "tensor/random.h"
#include "weights/json.h"

namespace sg::test {

// Runs every registered gradcheck case of `op` (and gradgradcheck where the
// case asks for it); fails with the worst element on a mismatch.
inline void check_gradients(const std::string& op) {
  int n = 0;
  for (const auto& c : all_gradcheck_cases()) {
    if (c.op != op) continue;
    ++n;
    for (int order = 1; order <= (c.second_order ? 2 : 1); ++order) {
      Generator gen(42);
      TensorList inputs = c.make_inputs(gen);
      GradcheckResult r = order == 1 ? gradcheck(c.fn, inputs) : gradgradcheck(c.fn, inputs);
      INFO(op, " / ", c.variant, " order ", order, ": ", r.worst);
      CHECK(r.passed);
      CHECK(r.checked > 0);
    }
  }
  INFO("op ", op, " has no registered gradcheck case");
  CHECK(n > 0);
}

// The inputs of scripts/make_cyclegan_reference.py and
// make_cyclegan_step_reference.py (hashed_input there), so that no input has to
// be stored: element i is murmur3's finaliser of i (mixed with the seed),
// scaled to k / 2^23 - 1 in [-1, 1), exact in float32.
inline Tensor hashed_input(const Shape& shape, uint32_t seed, DType dtype = DType::f32) {
  std::vector<double> v(size_t(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t h = uint32_t(i) + seed * 0x9E3779B9u;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    v[i] = double(h >> 8) / 8388608.0 - 1.0;
  }
  return from_vector(v, shape, TensorOptions(dtype));
}

// Every element bit for bit, and the same shape and dtype (resumed training,
// state round trips).
inline void check_identical(const Tensor& got, const Tensor& want, const std::string& what) {
  INFO(what);
  REQUIRE(got.shape() == want.shape());
  REQUIRE(got.dtype() == want.dtype());
  const std::vector<double> g = got.to_vector(), w = want.to_vector();
  size_t differing = 0;
  for (size_t i = 0; i < g.size(); ++i) differing += std::memcmp(&g[i], &w[i], sizeof(double)) != 0;
  CHECK(differing == 0);
}

inline void check_identical(const NamedTensors& got, const NamedTensors& want, const std::string& what) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].first == want[i].first);
    check_identical(got[i].second, want[i].second, what + " " + want[i].first);
  }
}

// The same JSON value, numbers bit for bit, objects regardless of key order.
inline bool json_identical(const json::Value& a, const json::Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case json::Value::Kind::null: return true;
    case json::Value::Kind::boolean: return a.boolean == b.boolean;
    case json::Value::Kind::number: return std::memcmp(&a.number, &b.number, sizeof(double)) == 0;
    case json::Value::Kind::string: return a.string == b.string;
    case json::Value::Kind::array:
      if (a.array.size() != b.array.size()) return false;
      for (size_t i = 0; i < a.array.size(); ++i)
        if (!json_identical(a.array[i], b.array[i])) return false;
      return true;
    case json::Value::Kind::object:
      if (a.object.size() != b.object.size()) return false;
      for (const auto& [k, v] : a.object)
        if (!b.find(k) || !json_identical(v, *b.find(k))) return false;
      return true;
  }
  return false;
}

// Element-wise closeness with a combined tolerance, reporting the worst element.
inline void check_close(const Tensor& actual, const Tensor& expected, double rtol = 1e-5, double atol = 1e-6) {
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_vector(), e = expected.to_vector();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double excess = std::abs(a[i] - e[i]) - (atol + rtol * std::abs(e[i]));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  INFO("worst element ", at, ": got ", (a.empty() ? 0 : a[at]), ", expected ", (e.empty() ? 0 : e[at]));
  CHECK(worst == 0);
}

inline Tensor t64(const std::vector<double>& v, const Shape& s) { return from_vector(v, s, TensorOptions(DType::f64)); }

// Runs `f` and returns the message of the sg::Error it throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// A fresh directory for one test case, removed with everything in it.
// (ctest runs test cases as parallel processes, hence the unique name.)
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "stylegrad-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
  // The names in it, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

// Runs a shell command; returns its exit status, its stdout and stderr in *out.
inline int run_command(const std::string& cmd, std::string* out) {
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(pipe);
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe)) *out += buf;
  return WEXITSTATUS(pclose(pipe));
}

// Runs `stylegrad ARGS` with `dir` as its working directory, `prefix` first in
// the same shell (an environment setting, a ulimit). STYLEGRAD_WEIGHTS_DIR is
// dir, so that no pretrained weights are found but those the test put there.
// Returns the exit status; stdout and stderr in *out.
inline int stylegrad_in(const TempDir& dir, const std::string& args, std::string* out, const std::string& prefix = "") {
  const std::string d = dir.path.string();
  return run_command("cd " + d + " && " + prefix + "STYLEGRAD_WEIGHTS_DIR=" + d + " " + STYLEGRAD_BINARY + " " + args,
                     out);
}

}  // namespace sg::test
