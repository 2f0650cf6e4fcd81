#include <cmath>
#include <functional>
#include <utility>

#include "autograd/node.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("norm: gradients (first and second order)") {
  for (const char* op : {"instance_norm", "batch_norm"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

TEST_CASE("instance_norm: each (n, c) plane gets mean 0 and variance 1") {
  Generator gen(1);
  Tensor x = randn({2, 3, 5, 4}, gen, DType::f64) * 3.0 + 2.0;
  Tensor y = instance_norm(x, Tensor(), Tensor());
  check_close(mean(y, {2, 3}), zeros({2, 3}, DType::f64), 0, 1e-12);
  // biased variance of y = v / (v + eps) for a plane of variance v: 1 up to eps
  check_close(var(y, {2, 3}, /*correction=*/0), ones({2, 3}, DType::f64), 1e-5, 0);
}

TEST_CASE("instance_norm: hand-computed values, affine weight and bias") {
  // Plane [1, 2, 3, 4]: mean 2.5, biased variance 1.25.
  Tensor x = t64({1, 2, 3, 4, 4, 4, 6, 6}, {1, 2, 4});
  const double s0 = 1 / std::sqrt(1.25 + 1e-5), s1 = 1 / std::sqrt(1.0 + 1e-5);  // plane 1: mean 5, var 1
  check_close(instance_norm(x, Tensor(), Tensor()),
              t64({-1.5 * s0, -0.5 * s0, 0.5 * s0, 1.5 * s0, -s1, -s1, s1, s1}, {1, 2, 4}));
  Tensor w = t64({2, -1}, {2}), b = t64({10, 0}, {2});
  check_close(instance_norm(x, w, b),
              t64({10 - 3 * s0, 10 - s0, 10 + s0, 10 + 3 * s0, s1, s1, -s1, -s1}, {1, 2, 4}));
}

TEST_CASE("instance_norm: float32 agrees with float64 on a large input") {
  Generator gen(2);
  Tensor x = randn({2, 8, 64, 64}, gen, DType::f64) * 10.0 + 5.0;
  check_close(instance_norm(x.to(DType::f32), Tensor(), Tensor()), instance_norm(x, Tensor(), Tensor()), 1e-4, 1e-4);
}

// Both norms' backward takes the fused kernel when only a gradient is wanted
// and the composed formula when create_graph is set (gradcheck runs that
// one): the two must agree, and the fused one must match finite differences
// of the forward.
TEST_CASE("norm: the fused backward agrees with the composed one and with finite differences") {
  Generator gen(3);
  using Norm = std::function<Tensor(const Tensor&)>;
  const std::pair<const char*, Norm> norms[] = {
      {"instance_norm", [](const Tensor& x) { return instance_norm(x, Tensor(), Tensor()); }},
      {"batch_norm", [](const Tensor& x) { return batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true); }}};
  for (const auto& [name, norm] : norms) {
    for (DType dtype : {DType::f64, DType::f32}) {
      for (const Shape& shape : {Shape{2, 1, 3, 5}, Shape{2, 3, 7, 9}, Shape{3, 5, 11}, Shape{1, 2, 33, 17}}) {
        CAPTURE(name);
        CAPTURE(shape.str());
        CAPTURE(dtype_name(dtype));
        Tensor x = (randn(shape, gen, dtype) * 4.0 + 30.0).requires_grad_();  // a large mean: no cancellation
        Tensor g = randn(shape, gen, dtype);
        const Tensor fused = grad({sum(norm(x) * g)}, {x})[0];
        const Tensor composed = grad({sum(norm(x) * g)}, {x}, {}, false, /*create_graph=*/true)[0];
        const double tol = dtype == DType::f64 ? 1e-10 : 2e-4;
        check_close(fused, composed.detach(), tol, tol);
        if (dtype == DType::f64) {  // <dx, v> against the central difference along v
          Tensor v = randn(shape, gen, dtype);
          const double h = 1e-6;
          auto loss = [&](const Tensor& at) { return sum(norm(at) * g).item(); };
          const double fd = (loss(x.detach() + v * h) - loss(x.detach() - v * h)) / (2 * h);
          CHECK(sum(fused * v).item() == doctest::Approx(fd).epsilon(1e-6));
        }
      }
    }
  }
}

TEST_CASE("batch_norm: training normalises with batch statistics and updates running stats") {
  // Channel 0 holds 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3);
  // channel 1 holds 2, 4, 6, 8 (mean 5, biased var 5, unbiased 20/3).
  Tensor x = t64({1, 2, 2, 4, 3, 6, 4, 8}, {4, 2});
  Tensor running_mean = zeros({2}, DType::f64), running_var = ones({2}, DType::f64);
  Tensor y = batch_norm(x, Tensor(), Tensor(), running_mean, running_var, true, 0.1);
  const double s0 = 1 / std::sqrt(1.25 + 1e-5), s1 = 1 / std::sqrt(5 + 1e-5);
  check_close(y, t64({-1.5 * s0, -3 * s1, -0.5 * s0, -1 * s1, 0.5 * s0, 1 * s1, 1.5 * s0, 3 * s1}, {4, 2}));
  // running = 0.9 * running + 0.1 * batch statistic (unbiased variance)
  check_close(running_mean, t64({0.1 * 2.5, 0.1 * 5}, {2}), 1e-12, 0);
  check_close(running_var, t64({0.9 + 0.1 * 5.0 / 3.0, 0.9 + 0.1 * 20.0 / 3.0}, {2}), 1e-12, 0);
  CHECK(running_mean.to_vector()[0] == doctest::Approx(0.25));
  CHECK(running_var.to_vector()[0] == doctest::Approx(1.0666666667));
  // A second step moves them again from where they are.
  batch_norm(x, Tensor(), Tensor(), running_mean, running_var, true, 0.1);
  check_close(running_mean, t64({0.9 * 0.25 + 0.25, 0.9 * 0.5 + 0.5}, {2}), 1e-12, 0);
}

// The kernel keeps (mean, 1 / std); the running variance is recovered from
// 1 / std as rstd^-2 - eps, which float32 must still do to its precision.
TEST_CASE("batch_norm: float32 agrees with float64, running statistics included") {
  Generator gen(5);
  const Tensor x = randn({4, 6, 9, 7}, gen, DType::f64) * t64({1, 2, 0.01, 5, 1e-3, 1}, {1, 6, 1, 1}) + 3.0;
  Tensor m64 = zeros({6}, DType::f64), v64 = ones({6}, DType::f64), m32 = zeros({6}), v32 = ones({6});
  const Tensor y64 = batch_norm(x, Tensor(), Tensor(), m64, v64, true, 0.5);
  const Tensor y32 = batch_norm(x.to(DType::f32), Tensor(), Tensor(), m32, v32, true, 0.5);
  check_close(y32, y64, 1e-4, 1e-4);
  check_close(m32, m64, 1e-6, 1e-6);
  check_close(v32, v64, 1e-5, 1e-7);
}

TEST_CASE("batch_norm: statistics over batch and spatial dims; affine") {
  Generator gen(4);
  Tensor x = randn({3, 2, 4, 5}, gen, DType::f64) * 2.0 - 1.0;
  Tensor w = t64({3, 0.5}, {2}), b = t64({-1, 2}, {2});
  Tensor y = batch_norm(x, w, b, Tensor(), Tensor(), true);
  check_close(mean(y, {0, 2, 3}), b, 0, 1e-12);
  check_close(var(y, {0, 2, 3}, 0), w * w, 1e-4, 0);
}

TEST_CASE("batch_norm: evaluation uses the running statistics and leaves them alone") {
  Tensor x = t64({1, 2, 3, 4}, {2, 2});
  Tensor rm = t64({1, -1}, {2}), rv = t64({4, 0.25}, {2});
  Tensor w = t64({2, 1}, {2}), b = t64({0, 1}, {2});
  Tensor y = batch_norm(x, w, b, rm, rv, false);
  auto norm = [](double v, double m, double var) { return (v - m) / std::sqrt(var + 1e-5); };
  check_close(y, t64({2 * norm(1, 1, 4), norm(2, -1, 0.25) + 1, 2 * norm(3, 1, 4), norm(4, -1, 0.25) + 1}, {2, 2}));
  check_close(rm, t64({1, -1}, {2}), 0, 0);
  check_close(rv, t64({4, 0.25}, {2}), 0, 0);
}

TEST_CASE("norm: errors name the op") {
  Tensor x = zeros({2, 3, 4, 4}, DType::f64);
  CHECK(error_of([] { instance_norm(zeros({2, 3}, DType::f64), Tensor(), Tensor()); })
            .find("instance_norm: expected input [N, C, spatial...], got shape [2, 3]") == 0);
  CHECK(error_of([] { instance_norm(zeros({2, 3, 1, 1}, DType::f64), Tensor(), Tensor()); })
            .find("instance_norm: expected more than 1 spatial element") == 0);
  CHECK(error_of([&] { instance_norm(x, zeros({4}, DType::f64), Tensor()); }) ==
        "instance_norm: weight must have shape [3] (the channels of input [2, 3, 4, 4]), got [4]");
  CHECK(error_of([&] { batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false); })
            .find("batch_norm: evaluation mode (training = false) needs running_mean") == 0);
  CHECK(error_of([] { batch_norm(zeros({1, 3}, DType::f64), Tensor(), Tensor(), Tensor(), Tensor(), true); })
            .find("batch_norm: expected more than 1 value per channel when training") == 0);
  CHECK(error_of([&] { batch_norm(x, Tensor(), Tensor(), zeros({3}, DType::f64), Tensor(), true); })
            .find("batch_norm: running_mean and running_var must be both defined") == 0);
  CHECK(error_of([&] { batch_norm(x, Tensor(), zeros({3}), Tensor(), Tensor(), true); })
            .find("batch_norm: dtype mismatch") == 0);
}
