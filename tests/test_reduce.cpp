#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("reduce: gradients") {
  for (const char* op : {"sum", "mean", "var", "max", "sum_to"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

TEST_CASE("reduce: values") {
  Tensor x = arange(0, 24, 1, DType::f64).reshape({2, 3, 4});
  check_close(sum(x, {0, 2}), t64({0 + 1 + 2 + 3 + 12 + 13 + 14 + 15, 92, 124}, {3}));
  CHECK(sum(x, {1}, true).shape() == Shape{2, 1, 4});
  CHECK(mean(x).item() == doctest::Approx(11.5));
  CHECK(var(t64({1, 2, 3, 4}, {4})).item() == doctest::Approx(5.0 / 3.0));
  CHECK(var(t64({1, 2, 3, 4}, {4}), {}, 0).item() == doctest::Approx(1.25));
  auto [v, i] = max(t64({1, 5, 2, 7, 0, 3}, {2, 3}), 1);
  check_close(v, t64({5, 7}, {2}));
  CHECK(i.to_vector() == std::vector<double>{1, 0});
  CHECK(max(t64({1, 5, 2, 7, 0, 3}, {2, 3})).item() == 7.0);
}

TEST_CASE("reduce: large float32 sums are accurate (double accumulation) and threaded") {
  Tensor x = ones({1000, 1000});
  CHECK(sum(x).item() == 1e6);
  check_close(sum(x, {0}), full({1000}, 1000.0));
  check_close(mean(x.t(), {1}), ones({1000}));
}

TEST_CASE("reduce: errors") {
  CHECK(error_of([] { sum(zeros({2, 3}), {2}); }).find("sum: dim 2 out of range") == 0);
  CHECK(error_of([] { var(zeros({1}), {}); }).find("var:") == 0);
}
