#include "tensor/storage.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("tensor: creation, dtypes and seeded randomness") {
  Tensor z = zeros({2, 3});
  CHECK(z.dtype() == DType::f32);
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.numel() == 6);
  CHECK(z.is_contiguous());
  CHECK(sum(ones({4}, DType::f64)).item() == 4.0);
  check_close(arange(0, 5), t64({0, 1, 2, 3, 4}, {5}).to(DType::f32));
  Generator g1(5), g2(5);
  check_close(randn({10}, g1), randn({10}, g2), 0, 0);
  Generator g3(6);
  CHECK(randn({10}, g3).to_vector() != randn({10}, g1).to_vector());
  // rand in [0, 1), randn roughly standard
  Generator g(1);
  std::vector<double> u = rand({10000}, g).to_vector(), n = randn({10000}, g, DType::f64).to_vector();
  double mu = 0, m2 = 0;
  for (double v : n) mu += v / n.size();
  for (double v : n) m2 += (v - mu) * (v - mu) / n.size();
  CHECK(*std::min_element(u.begin(), u.end()) >= 0.0);
  CHECK(*std::max_element(u.begin(), u.end()) < 1.0);
  CHECK(std::abs(mu) < 0.05);
  CHECK(std::abs(m2 - 1) < 0.05);
}

TEST_CASE("tensor: views share storage; contiguous copies") {
  Tensor x = arange(0, 24, 1, DType::f64).reshape({2, 3, 4});
  Tensor p = x.permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK_FALSE(p.is_contiguous());
  CHECK(p.storage().get() == x.storage().get());
  Tensor c = p.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.storage().get() != x.storage().get());
  // element [k, i, j] of p is x[i, j, k]
  CHECK(c.to_vector()[1 * 6 + 1 * 3 + 2] == 1 * 12 + 2 * 4 + 1);
  Tensor n = x.narrow(2, 1, 2);
  check_close(n.select(0, 1).select(0, 2), t64({21, 22}, {2}));
  Tensor e = t64({1, 2}, {2, 1}).expand({2, 3});
  CHECK(e.stride(1) == 0);
  check_close(e.contiguous(), t64({1, 1, 1, 2, 2, 2}, {2, 3}));
  check_close(x.flatten(1), x.reshape({2, 12}));
}

TEST_CASE("tensor: dtype conversion and in-place updates") {
  Tensor x = t64({1.5, -2.25}, {2});
  check_close(x.to(DType::f32).to(DType::f64), x);
  CHECK(x.to(DType::i64).to_vector() == std::vector<double>{1, -2});
  Tensor y = zeros({2}, DType::f64);
  y.copy_(x).add_(x, 2.0).mul_(2.0);
  check_close(y, t64({9, -13.5}, {2}));
  y.fill_(7);
  check_close(y, t64({7, 7}, {2}));
}

TEST_CASE("tensor: errors for bad shapes and devices") {
  CHECK(error_of([] { zeros({2, 3}).reshape({4, 2}); }) == "reshape: cannot reshape [2, 3] (6 elements) into [4, 2]");
  CHECK(error_of([] { zeros({2, 3}).narrow(1, 2, 2); }).find("narrow: range [2, 4) out of bounds") == 0);
  CHECK(error_of([] { zeros({2, 3}).permute({0, 0}); }).find("permute:") == 0);
  CHECK(error_of([] { zeros({2, 3}).expand({3, 3}); }).find("expand: cannot expand [2, 3] to [3, 3]") == 0);
  CHECK(error_of([] { zeros({2}).item(); }).find("item:") == 0);
  CHECK(error_of([] { parse_device("tpu"); }).find("unknown device 'tpu'") == 0);
  if (!cuda_available()) {
    TensorOptions o;
    o.device = Device::cuda(0);
    CHECK_FALSE(error_of([&] { zeros({2}, o); }).empty());
  }
}

TEST_CASE("tensor: large strided copies run threaded and match") {
  Generator g(2);
  Tensor x = randn({300, 200}, g, DType::f64);
  Tensor xt = x.t().contiguous().t();  // same values, column-major layout
  check_close(xt.contiguous(), x, 0, 0);
}
