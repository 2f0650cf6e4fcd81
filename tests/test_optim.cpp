// The optimizers against torch.optim step for step, on the Rosenbrock function
// (tests/reference/optim.txt, written by scripts/make_optim_reference.py).
#include "nn/optim.h"
#include "tests/optim_reference.h"

using namespace sg;
using namespace sg::test;

namespace {

void check_lbfgs(const std::string& name, nn::LBFGS::Options o) {
  auto ref = load_optim_reference();
  Tensor x = t64(kRosenbrockStart, {4});
  x.requires_grad_();
  nn::LBFGS opt({x}, o);
  std::vector<double> losses;
  auto closure = [&] {
    opt.zero_grad();
    Tensor loss = rosenbrock(x);
    loss.backward();
    losses.push_back(loss.item());
    return loss.item();
  };
  opt.step(closure);
  opt.step(closure);
  const auto& expected = ref[name + "_losses"];
  REQUIRE(losses.size() == expected.size());
  check_close(t64(losses, {int64_t(losses.size())}), t64(expected, {int64_t(expected.size())}), 1e-8, 1e-10);
  check_close(x.detach(), t64(ref[name + "_final"], {4}), 1e-8, 1e-10);
}

}  // namespace

TEST_CASE("optim: SGD matches torch.optim.SGD") {
  check_first_order<nn::SGD>("sgd", nn::SGD::Options{1e-3});
  check_first_order<nn::SGD>("sgd_momentum", nn::SGD::Options{1e-3, 0.9, 0.1, 0.01});
  nn::SGD::Options nesterov{1e-3, 0.9};
  nesterov.nesterov = true;
  check_first_order<nn::SGD>("sgd_nesterov", nesterov);
}

TEST_CASE("optim: Adam matches torch.optim.Adam") {
  check_first_order<nn::Adam>("adam", nn::Adam::Options{0.05});
  check_first_order<nn::Adam>("adam_wd", nn::Adam::Options{0.05, 0.8, 0.99, 1e-6, 0.1});
}

TEST_CASE("optim: LBFGS matches torch.optim.LBFGS, closure call by call") {
  nn::LBFGS::Options a;
  a.history_size = 5;
  check_lbfgs("lbfgs", a);
  nn::LBFGS::Options b;
  b.lr = 0.5;
  b.max_iter = 7;
  check_lbfgs("lbfgs_lr", b);
}

TEST_CASE("optim: bad parameters are refused") {
  Tensor x = t64({1}, {1});
  CHECK(error_of([&] { nn::SGD({x}, {}); }).find("every parameter must be a leaf tensor that requires grad") !=
        std::string::npos);
  x.requires_grad_();
  CHECK(error_of([&] { nn::Adam({x}, nn::Adam::Options{0.1, 1.5}); }).find("Adam: invalid") == 0);
}
