#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("dropout: gradients (first and second order)") { check_gradients("dropout"); }

TEST_CASE("dropout: keeps about 1 - p of the elements and scales them by 1 / (1 - p)") {
  Generator gen(123);
  const double p = 0.3;
  Tensor y = dropout(ones({100000}), p, true, gen);
  int64_t kept = 0;
  for (double v : y.to_vector()) {
    if (v != 0) {
      ++kept;
      CHECK(v == doctest::Approx(1 / (1 - p)));
    }
  }
  // The kept fraction has a standard deviation of sqrt(0.3 * 0.7 / 1e5) = 0.0015.
  CHECK(double(kept) / 100000 == doctest::Approx(1 - p).epsilon(0.01));
  CHECK(mean(y).item() == doctest::Approx(1.0).epsilon(0.02));  // the expectation is preserved
}

TEST_CASE("dropout: the seed decides the mask; the gradient is the mask") {
  Generator a(9), b(9), c(10);
  Tensor x = ones({64}, DType::f64);
  Tensor ya = dropout(x, 0.5, true, a), yb = dropout(x, 0.5, true, b), yc = dropout(x, 0.5, true, c);
  CHECK(ya.to_vector() == yb.to_vector());
  CHECK(ya.to_vector() != yc.to_vector());
  // float32 draws the same mask as float64
  Generator d(9);
  check_close(dropout(ones({64}), 0.5, true, d), ya);

  Tensor leaf = ones({64}, DType::f64);
  leaf.requires_grad_();
  Generator e(9);
  sum(dropout(leaf, 0.5, true, e)).backward();
  check_close(leaf.grad(), ya);
}

TEST_CASE("dropout: identity in evaluation or with p = 0; zeros with p = 1") {
  Generator gen(1);
  Tensor x = t64({1, -2, 3, 4}, {4});
  check_close(dropout(x, 0.5, false, gen), x);
  check_close(dropout(x, 0.0, true, gen), x);
  check_close(dropout(x, 1.0, true, gen), zeros({4}, DType::f64));
}

TEST_CASE("dropout: errors name the op") {
  Generator gen(1);
  CHECK(error_of([&] { dropout(ones({2}), 1.5, true, gen); }) == "dropout: probability p must be in [0, 1], got 1.5");
  CHECK(error_of([&] { dropout(ones({2}), -0.1, false, gen); }).find("dropout: probability p") == 0);
}
