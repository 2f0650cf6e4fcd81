#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("view: gradients") {
  for (const char* op : {"reshape", "permute", "transpose", "narrow", "expand", "unsqueeze", "squeeze",
                         "contiguous", "clone"}) {
    SUBCASE(op) { check_gradients(op); }
  }
}

// A float32 round trip cannot be checked by fp64 finite differences (the
// rounding is larger than the step), so to_dtype's backward is checked exactly.
TEST_CASE("view: to_dtype passes gradients back in the source dtype") {
  Tensor x = t64({1, 2, 3}, {3});
  x.requires_grad_();
  Tensor y = sum(x.to(DType::f32) * x.to(DType::f32));
  CHECK(y.dtype() == DType::f32);
  y.backward();
  CHECK(x.grad().dtype() == DType::f64);
  check_close(x.grad(), t64({2, 4, 6}, {3}));
}
