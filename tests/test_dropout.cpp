#include "kernels/philox.h"
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

// The published known-answer vectors of Philox4x32-10 (Random123's kat_vectors).
TEST_CASE("philox: Random123's known answers for Philox4x32-10") {
  struct Kat {
    Philox4x32 counter;
    uint32_t key0, key1;
    Philox4x32 expected;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}}};
  for (const Kat& k : kats) {
    const Philox4x32 got = philox4x32_10(k.counter, k.key0, k.key1);
    for (int j = 0; j < 4; ++j) CHECK(got.v[j] == k.expected.v[j]);
  }
}

// Counter-based: element i's number is a function of (seed, i) alone, so a
// tensor's mask begins with a smaller tensor's mask of the same seed, and
// every device draws the same one.
TEST_CASE("dropout: element i's draw depends on the seed and i only, on every device") {
  Generator a(21), b(21);
  const std::vector<double> small = dropout(ones({1, 7}, DType::f64), 0.4, true, a).to_vector();
  const std::vector<double> large = dropout(ones({3, 333}, DType::f64), 0.4, true, b).to_vector();
  CHECK(std::vector<double>(large.begin(), large.begin() + 7) == small);
  for (int64_t n : {1, 4, 1001, 70001}) {  // sizes off the groups of four, and one large enough for threads
    CAPTURE(n);
    Generator on_cpu(n), on_emu(n);
    const Tensor cpu = dropout(ones({n}), 0.25, true, on_cpu);
    const Tensor emu = dropout(ones({n}).to(Device::cuda_emulated()), 0.25, true, on_emu);
    CHECK(emu.device() == Device::cuda_emulated());
    CHECK(emu.to(Device::cpu()).to_vector() == cpu.to_vector());
  }
  // and the backward on the device is the mask
  Generator c(5), d(5);
  Tensor leaf = ones({33}).to(Device::cuda_emulated());
  leaf.requires_grad_();
  sum(dropout(leaf, 0.5, true, c)).backward();
  CHECK(leaf.grad().to(Device::cpu()).to_vector() == dropout(ones({33}), 0.5, true, d).to_vector());
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
