#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("index: gradients") {
  for (const char* op : {"where", "masked_fill", "gather", "scatter_add", "cat", "stack", "flip"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

TEST_CASE("index: values") {
  Tensor x = t64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor idx = from_vector({2, 0, 1, 1}, {2, 2}, DType::i64);
  check_close(gather(x, 1, idx), t64({3, 1, 5, 5}, {2, 2}));
  check_close(scatter_add({2, 3}, 1, idx, t64({1, 2, 3, 4}, {2, 2})), t64({2, 0, 1, 0, 7, 0}, {2, 3}));
  check_close(cat({x, x.narrow(1, 0, 1)}, 1), t64({1, 2, 3, 1, 4, 5, 6, 4}, {2, 4}));
  CHECK(stack({x, x}, 1).shape() == Shape{2, 2, 3});
  Tensor mask = gt(x, 3.0);
  check_close(masked_fill(x, mask, 0), t64({1, 2, 3, 0, 0, 0}, {2, 3}));
  check_close(where(mask, x, t64({-1}, {1})), t64({-1, -1, -1, 4, 5, 6}, {2, 3}));
}

TEST_CASE("index: flip reverses each dim it names, on any view and dtype") {
  Tensor x = t64({1, 2, 3, 4, 5, 6}, {2, 3});
  check_close(flip(x, {1}), t64({3, 2, 1, 6, 5, 4}, {2, 3}));
  check_close(flip(x, {0}), t64({4, 5, 6, 1, 2, 3}, {2, 3}));
  check_close(flip(x, {-1, 0}), t64({6, 5, 4, 3, 2, 1}, {2, 3}));
  check_close(flip(x, {}), x);
  check_close(flip(x.t(), {1}), t64({4, 1, 5, 2, 6, 3}, {3, 2}));                // a transposed view
  check_close(flip(x.narrow(1, 1, 2), {0, 1}), t64({6, 5, 3, 2}, {2, 2}));      // an offset view
  check_close(flip(x.narrow(0, 0, 1).expand({3, 3}), {1}), t64({3, 2, 1, 3, 2, 1, 3, 2, 1}, {3, 3}));
  CHECK(flip(from_vector({1, 2, 3}, {3}, DType::i64), {0}).to_vector() == std::vector<double>{3, 2, 1});
  CHECK(flip(zeros({2, 0, 3}), {1}).shape() == Shape{2, 0, 3});
  // large enough to run threaded: flipping twice gives the input back
  Generator gen(5);
  Tensor big = randn({70, 40, 30}, gen, TensorOptions(DType::f32));
  CHECK(flip(flip(big, {0, 2}), {2, 0}).to_vector() == big.to_vector());
  CHECK(flip(big, {1}).narrow(1, 0, 1).to_vector() == big.narrow(1, 39, 1).to_vector());
}

TEST_CASE("index: errors") {
  Tensor x = zeros({2, 3}, DType::f64);
  CHECK(error_of([&] { gather(x, 1, from_vector({3}, {1, 1}, DType::i64)); }) ==
        "gather: index 3 out of range for a dim of size 3");
  CHECK(error_of([&] { gather(x, 1, from_vector({1}, {1}, DType::i64)); }).find("gather: index [1] and input [2, 3]") == 0);
  CHECK(error_of([&] { cat({x, zeros({3, 3}, DType::f64)}, 1); }).find("cat: tensor 1 has shape [3, 3]") == 0);
  CHECK(error_of([&] { where(x, x, x); }).find("where: condition must be bool") == 0);
  CHECK(error_of([&] { flip(x, {1, -1}); }) == "flip: dim 1 appears more than once in dims");
  CHECK(error_of([&] { flip(x, {2}); }).find("flip:") == 0);
}
