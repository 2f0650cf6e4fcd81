#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("matmul: gradients") {
  for (const char* op : {"matmul", "bmm", "linear", "gram"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

TEST_CASE("matmul: values, transposed views and batches") {
  Tensor a = t64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = t64({1, 0, 0, 1, 1, 1}, {3, 2});
  check_close(matmul(a, b), t64({4, 5, 10, 11}, {2, 2}));
  check_close(matmul(b.t(), a.t()), t64({4, 10, 5, 11}, {2, 2}));
  Tensor batch = stack({a, a * 2.0}, 0);
  check_close(matmul(batch, b), stack({matmul(a, b), matmul(a, b) * 2.0}, 0));
  Generator g(1);
  Tensor x = randn({64, 96}, g, DType::f64), y = randn({96, 80}, g, DType::f64);
  check_close(matmul(x.to(DType::f32), y.to(DType::f32)), matmul(x, y), 1e-4, 1e-4);
}

TEST_CASE("gram: equals matmul(v, v^T), in batches, threaded, float32 and float64") {
  Generator g(2);
  Tensor v = randn({2, 3, 4}, g, DType::f64);
  check_close(gram(v), matmul(v, v.transpose(1, 2)));
  // Long rows: the kernel splits K over threads and sums the partial products.
  Tensor big = randn({1, 48, 20000}, g, DType::f64);
  check_close(gram(big), matmul(big, big.transpose(1, 2)), 1e-10, 1e-10);
  check_close(gram(big.to(DType::f32)), gram(big), 1e-3, 1e-4);
  Tensor empty_rows = zeros({3, 0}, DType::f64);
  check_close(gram(empty_rows), zeros({3, 3}, DType::f64));
}

TEST_CASE("matmul: errors") {
  CHECK(error_of([] { matmul(zeros({2, 3}), zeros({2, 3})); }) ==
        "matmul: shapes [2, 3] and [2, 3] cannot be multiplied (3 != 2)");
  CHECK(error_of([] { matmul(zeros({3}), zeros({3, 2})); }).find("matmul: expected inputs with at least 2 dims") == 0);
  CHECK(error_of([] { gram(zeros({3})); }) == "gram: expected an input [..., C, K] with at least 2 dims, got [3]");
}
