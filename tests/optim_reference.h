// What the optimizer tests share: torch.optim's trajectories on the
// Rosenbrock function (tests/reference/optim.txt, written by
// scripts/make_optim_reference.py), and that function.
#pragma once
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace sg::test {

// name -> values, one line "name n v1 ... vn" each.
inline std::map<std::string, std::vector<double>> load_optim_reference() {
  std::map<std::string, std::vector<double>> out;
  std::ifstream f(STYLEGRAD_SOURCE_DIR "/tests/reference/optim.txt");
  REQUIRE_MESSAGE(f.good(), "missing tests/reference/optim.txt (run scripts/make_optim_reference.py)");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream is(line);
    std::string name;
    size_t n = 0;
    is >> name >> n;
    std::vector<double> v(n);
    for (double& x : v) is >> x;
    out[name] = v;
  }
  return out;
}

// Where every trajectory starts.
inline const std::vector<double> kRosenbrockStart = {-1.2, 1.0, 0.5, -0.3};

// sum_i (1 - x_i)^2 + 100 (x_{i+1} - x_i^2)^2 over 4 coordinates.
inline Tensor rosenbrock(const Tensor& x) {
  Tensor a = x.narrow(0, 0, 3), b = x.narrow(0, 1, 3);
  Tensor one_minus = 1.0 - a, diff = b - a * a;
  return sum(one_minus * one_minus) + 100.0 * sum(diff * diff);
}

// 15 steps of a first-order optimizer (Opt: SGD, Adam, AdamW) from
// kRosenbrockStart; the losses and the final point must equal torch's
// trajectory `name` (1e-10 relative).
template <class Opt, class Options>
void check_first_order(const std::string& name, Options o) {
  INFO(name);
  auto ref = load_optim_reference();
  Tensor x = t64(kRosenbrockStart, {4});
  x.requires_grad_();
  Opt opt({x}, o);
  std::vector<double> losses;
  for (int i = 0; i < 15; ++i) {
    opt.zero_grad();
    Tensor loss = rosenbrock(x);
    loss.backward();
    losses.push_back(loss.item());
    opt.step();
  }
  check_close(t64(losses, {15}), t64(ref[name + "_losses"], {15}), 1e-10, 1e-12);
  check_close(x.detach(), t64(ref[name + "_final"], {4}), 1e-10, 1e-12);
}

}  // namespace sg::test
