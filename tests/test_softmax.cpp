#include <cmath>

#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("softmax: gradients (first and second order)") {
  for (const char* op : {"softmax", "log_softmax", "cross_entropy"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

TEST_CASE("softmax: values of [1, 2, 3]") {
  // softmax_i = e^i / (e + e^2 + e^3); log_softmax_i = i - log(e + e^2 + e^3)
  const double log_z = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  Tensor x = t64({1, 2, 3}, {3});
  check_close(softmax(x, 0), t64({std::exp(1 - log_z), std::exp(2 - log_z), std::exp(3 - log_z)}, {3}));
  check_close(softmax(x, 0), t64({0.09003057317038046, 0.24472847105479767, 0.6652409557748219}, {3}));
  check_close(log_softmax(x, 0), t64({1 - log_z, 2 - log_z, 3 - log_z}, {3}));
}

TEST_CASE("softmax: any dim and any strides; rows sum to 1") {
  Generator gen(3);
  Tensor x = randn({4, 5, 6}, gen, DType::f64);
  for (int dim = 0; dim < 3; ++dim) {
    CAPTURE(dim);
    Tensor y = softmax(x, dim);
    check_close(sum(y, {dim}), ones(sum(x, {dim}).shape(), DType::f64));
    check_close(log_softmax(x, dim), log(y));
    // Shifting a row by a constant changes nothing.
    check_close(softmax(x + 100.0, dim), y);
  }
  // A transposed (non-contiguous) input gives the transpose of the contiguous result.
  Tensor m = randn({3, 7}, gen, DType::f64);
  check_close(softmax(m.t(), 1), softmax(m, 0).t().contiguous());
  check_close(log_softmax(m.t(), 0), log_softmax(m, 1).t().contiguous());
}

TEST_CASE("softmax: the fused kernel matches the formula built from ops") {
  // Channel-dim shapes take the kernel's grouped-rows path (70 lanes: groups of 32, 32, 6).
  Generator gen(7);
  for (Shape s : {Shape{2, 3, 70}, Shape{3, 40, 5, 7}, Shape{50, 33}}) {
    CAPTURE(s.str());
    Tensor x = randn(s, gen, DType::f64) * 4.0;
    Tensor shifted = x - max(x, 1, /*keepdim=*/true).first;
    Tensor e = exp(shifted);
    check_close(softmax(x, 1), e / sum(e, {1}, true), 1e-12, 1e-15);
    check_close(log_softmax(x, 1), shifted - log(sum(e, {1}, true)), 1e-12, 1e-12);
  }
}

TEST_CASE("softmax: huge logits stay finite") {
  Tensor x = from_vector({1000, 0, -1000, 1000}, {4});  // float32
  Tensor y = softmax(x, 0);
  check_close(y, from_vector({0.5, 0, 0, 0.5}, {4}));
  Tensor ly = log_softmax(x, 0);
  check_close(ly, from_vector({-std::log(2.0), -1000 - std::log(2.0), -2000 - std::log(2.0), -std::log(2.0)}, {4}));
  for (double v : ly.to_vector()) CHECK(std::isfinite(v));
  // cross_entropy of a confidently right (and wrong) prediction.
  Tensor labels = from_vector({0, 1}, {2}, DType::i64);
  CHECK(cross_entropy(from_vector({1000, -1000, 1000, -1000}, {2, 2}), labels).item() == doctest::Approx(1000.0));
}

TEST_CASE("softmax: float32 agrees with float64 on a large input (threaded rows)") {
  Generator gen(11);
  Tensor x = randn({64, 1000}, gen, DType::f64) * 30.0;
  check_close(softmax(x.to(DType::f32), 1), softmax(x, 1), 1e-4, 1e-6);
  check_close(log_softmax(x.to(DType::f32), 1), log_softmax(x, 1), 1e-5, 1e-3);
  check_close(softmax(x.to(DType::f32), 0), softmax(x, 0), 1e-4, 1e-6);
}

TEST_CASE("cross_entropy: known values and gradient") {
  // Row 0: -log softmax([1, 2, 3])[2]; row 1: uniform over 3 classes, -log(1/3).
  Tensor logits = t64({1, 2, 3, 1, 1, 1}, {2, 3});
  logits.requires_grad_();
  Tensor target = from_vector({2, 0}, {2}, DType::i64);
  const double row0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  Tensor loss = cross_entropy(logits, target);
  CHECK(loss.item() == doctest::Approx((row0 + std::log(3.0)) / 2).epsilon(1e-12));
  CHECK(loss.item() == doctest::Approx(0.7531091266).epsilon(1e-9));
  // d loss / d logits = (softmax - one_hot(target)) / N
  loss.backward();
  Tensor p = softmax(logits.detach(), 1);
  Tensor one_hot = t64({0, 0, 1, 1, 0, 0}, {2, 3});
  check_close(logits.grad(), (p - one_hot) / 2.0);
}

TEST_CASE("cross_entropy: per-pixel targets equal the flattened [N*H*W, C] problem") {
  Generator gen(5);
  Tensor logits = randn({2, 4, 3, 3}, gen, DType::f64);
  std::vector<double> labels;
  for (int i = 0; i < 18; ++i) labels.push_back(i % 4);
  Tensor target = from_vector(labels, {2, 3, 3}, DType::i64);
  Tensor flat_logits = logits.permute({0, 2, 3, 1}).reshape({18, 4});
  Tensor flat_target = target.reshape({18});
  CHECK(cross_entropy(logits, target).item() == doctest::Approx(cross_entropy(flat_logits, flat_target).item()));
}

TEST_CASE("softmax: errors name the op") {
  Tensor x = zeros({2, 3}, DType::f64);
  CHECK(error_of([&] { softmax(x, 2); }).find("softmax: dim 2 out of range") == 0);
  CHECK(error_of([&] { log_softmax(x, -3); }).find("log_softmax: dim -3 out of range") == 0);
  CHECK(error_of([&] { softmax(from_vector({1}, {1}, DType::i64), 0); }).find("softmax: expected a float tensor") == 0);
  CHECK(error_of([&] { cross_entropy(x, from_vector({0, 3}, {2}, DType::i64)); }) ==
        "cross_entropy: target 3 at element 1 is not a class index in [0, 3)");
  CHECK(error_of([&] { cross_entropy(x, from_vector({-1, 0}, {2}, DType::i64)); }).find("cross_entropy: target -1") == 0);
  CHECK(error_of([&] { cross_entropy(x, from_vector({0, 1}, {2}, DType::f64)); }).find("cross_entropy: target must be int64") == 0);
  CHECK(error_of([&] { cross_entropy(x, from_vector({0, 1, 2}, {3}, DType::i64)); })
            .find("cross_entropy: target [3] does not match logits [2, 3]") == 0);
  CHECK(error_of([&] { cross_entropy(zeros({3}, DType::f64), from_vector({0}, {}, DType::i64)); })
            .find("cross_entropy: expected logits [N, C]") == 0);
}
