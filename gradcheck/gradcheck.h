// Gradient checks in fp64 against central finite differences.
//
// gradcheck(f, inputs): with L = <f(inputs), v> for a fixed random v, compares
// dL/dx from backward() with (L(x + eps) - L(x - eps)) / (2 eps) for every
// element of every float input that requires grad.
//
// gradgradcheck(f, inputs): the same check applied to the function
// (inputs, v) -> <grad(L, inputs, create_graph=true), u>, i.e. it checks that
// the backward pass is itself correctly differentiable (R1 / WGAN-GP penalties).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sg {

class Generator;
using TensorList = std::vector<Tensor>;
using TensorFn = std::function<Tensor(const TensorList&)>;

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;  // an element passes if |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
  uint64_t seed = 1234;
};

struct GradcheckResult {
  double max_abs_err = 0;  // max |analytic - numeric|
  double max_rel_err = 0;  // max |analytic - numeric| / max(|numeric|, atol)
  bool passed = true;
  int64_t checked = 0;     // number of input elements compared
  std::string worst;       // where the worst element is, for the failure message
};

GradcheckResult gradcheck(const TensorFn& f, const TensorList& inputs, const GradcheckOptions& o = {});
GradcheckResult gradgradcheck(const TensorFn& f, const TensorList& inputs, const GradcheckOptions& o = {});

// One registered check: `stylegrad gradcheck` runs all of them, each tests/test_<family>.cpp
// those of its ops (check_gradients in tests/test_util.h).
struct GradcheckCase {
  std::string op;       // the op's name, as given on the command line
  std::string variant;  // what this case exercises, e.g. "stride2_pad1_groups2"
  std::function<TensorList(Generator&)> make_inputs;  // fp64; those to check have requires_grad
  TensorFn fn;
  bool second_order = false;  // also run gradgradcheck
};

// Every case of every op family (gradcheck/*_cases.cpp).
const std::vector<GradcheckCase>& all_gradcheck_cases();

}  // namespace sg
