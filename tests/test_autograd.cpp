#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "ops/ops.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("autograd: backward accumulates into .grad of leaves") {
  Tensor x = t64({1, 2, 3}, {3});
  x.requires_grad_();
  Tensor y = sum(x * x);  // dy/dx = 2x
  y.backward();
  check_close(x.grad(), t64({2, 4, 6}, {3}));
  sum(x * 3.0).backward();  // accumulates: + 3
  check_close(x.grad(), t64({5, 7, 9}, {3}));
}

TEST_CASE("autograd: a tensor used twice gets both contributions") {
  Tensor x = t64({2}, {1});
  x.requires_grad_();
  Tensor y = x * x + x;  // 2x + 1 = 5
  y.backward(ones_like(y));
  check_close(x.grad(), t64({5}, {1}));
}

TEST_CASE("autograd: grad() returns gradients without touching .grad") {
  Tensor x = t64({1, 2}, {2}), w = t64({3, 4}, {2});
  x.requires_grad_();
  w.requires_grad_();
  Tensor y = sum(x * w);
  TensorList g = grad({y}, {w});
  check_close(g[0], t64({1, 2}, {2}));
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("autograd: grad() of an intermediate tensor") {
  Tensor x = t64({1, 2}, {2});
  x.requires_grad_();
  Tensor h = x * 2.0;
  Tensor y = sum(h * h);  // dy/dh = 2h = 4x
  check_close(grad({y}, {h})[0], t64({4, 8}, {2}));
}

TEST_CASE("autograd: second derivative through create_graph") {
  Tensor x = t64({0.5, -1.5}, {2});
  x.requires_grad_();
  Tensor y = sum(pow(x, 3.0));  // y' = 3x^2, y'' = 6x
  Tensor g = grad({y}, {x}, {}, false, /*create_graph=*/true)[0];
  check_close(g, t64({0.75, 6.75}, {2}));
  Tensor gg = grad({sum(g)}, {x})[0];
  check_close(gg, t64({3, -9}, {2}));
}

TEST_CASE("autograd: third derivative of tanh (output reused in backward)") {
  // tanh' = 1 - t^2, tanh'' = -2 t (1 - t^2), tanh''' = (6t^2 - 2)(1 - t^2)
  const double v = 0.3, t = std::tanh(v);
  Tensor x = t64({v}, {1});
  x.requires_grad_();
  Tensor g1 = grad({sum(tanh(x))}, {x}, {}, false, true)[0];
  Tensor g2 = grad({sum(g1)}, {x}, {}, false, true)[0];
  Tensor g3 = grad({sum(g2)}, {x})[0];
  CHECK(g1.item() == doctest::Approx(1 - t * t));
  CHECK(g2.item() == doctest::Approx(-2 * t * (1 - t * t)));
  CHECK(g3.item() == doctest::Approx((6 * t * t - 2) * (1 - t * t)));
}

TEST_CASE("autograd: gradient penalty (R1-style) through a small network") {
  // D(x) = sum(leaky_relu(x W)); penalty = |dD/dx|^2; d penalty / dW by autograd
  // equals the finite-difference derivative: that is what gradgradcheck checks.
  Generator gen(7);
  Tensor x = randn({2, 3}, gen, TensorOptions(DType::f64));
  Tensor w = randn({3, 4}, gen, TensorOptions(DType::f64));
  w.requires_grad_();
  TensorFn penalty = [&](const TensorList& in) {
    Tensor xi = x.detach();
    xi.requires_grad_();
    Tensor d = sum(leaky_relu(matmul(xi, in[0]), 0.2));
    Tensor gx = grad({d}, {xi}, {}, false, true)[0];
    return sum(gx * gx);
  };
  GradcheckResult r = gradcheck(penalty, {w});
  INFO(r.worst);
  CHECK(r.passed);
}

TEST_CASE("autograd: no_grad records nothing; detach cuts history") {
  Tensor x = t64({1}, {1});
  x.requires_grad_();
  {
    NoGradGuard ng;
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
  }
  Tensor z = (x * 2.0).detach();
  CHECK_FALSE(z.requires_grad());
  CHECK(z.is_leaf());
}

TEST_CASE("autograd: errors") {
  Tensor x = t64({1, 2}, {2});
  x.requires_grad_();
  Tensor y = x * x;
  CHECK(error_of([&] { y.backward(); }).find("only for scalar outputs") != std::string::npos);
  Tensor s = sum(y);
  s.backward();
  CHECK(error_of([&] { s.backward(); }).find("second time") != std::string::npos);
  Tensor u = t64({1}, {1});
  u.requires_grad_();
  CHECK(error_of([&] { grad({sum(x * 2.0)}, {u}); }).find("not used") != std::string::npos);
  CHECK(error_of([&] { x.add_(x); }).find("in-place") != std::string::npos);
}

TEST_CASE("autograd: retain_graph allows a second backward") {
  Tensor x = t64({3}, {1});
  x.requires_grad_();
  Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  check_close(x.grad(), t64({2 * std::exp(3.0)}, {1}));
}
