// In-place writes and autograd: every Storage counts the in-place writes into
// it (its version), each backward reads its saved tensors through
// ctx.saved(i) / ctx.output(i), and reading one whose version changed since
// the forward is an error rather than a silently wrong gradient. Also the
// Winograd weight-transform cache, which keys on those versions.
#include <thread>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "kernels/cpu/winograd.h"
#include "nn/init.h"
#include "nn/layers.h"
#include "nn/optim.h"
#include "tensor/storage.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

uint64_t version_of(const Tensor& t) { return t.storage()->version(); }

Tensor leaf(const std::vector<double>& v, const Shape& s) {
  Tensor t = t64(v, s);
  t.requires_grad_();
  return t;
}

// The message of the error `f` throws; fails the test if it throws none.
template <class F>
std::string refusal_of(F&& f) {
  const std::string msg = error_of(f);
  REQUIRE_MESSAGE(!msg.empty(), "expected an error for a tensor modified in place");
  CHECK(msg.find("has been modified by an inplace operation") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);  // one line
  return msg;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

// ---------------- the version counter ----------------

TEST_CASE("inplace: every in-place write bumps the storage's version; views and detach share it") {
  Tensor t = zeros({2, 3}, TensorOptions(DType::f64));
  CHECK(version_of(t) == 0);
  t.fill_(1.0);
  CHECK(version_of(t) == 1);
  t.zero_();
  CHECK(version_of(t) == 2);
  t.copy_(ones({2, 3}, TensorOptions(DType::f64)));
  CHECK(version_of(t) == 3);
  t.add_(ones({2, 3}, TensorOptions(DType::f64)), 2.0);
  CHECK(version_of(t) == 4);
  t.mul_(3.0);
  CHECK(version_of(t) == 5);
  check_close(t, full({2, 3}, 9.0, TensorOptions(DType::f64)));

  // A write through a view, or through detach(), is a write into the same storage.
  Tensor row = t.narrow(0, 1, 1), d = t.detach(), r = t.reshape({6});
  row.fill_(0.0);
  CHECK(version_of(t) == 6);
  CHECK(version_of(d) == 6);
  CHECK(version_of(r) == 6);
  d.mul_(2.0);
  CHECK(version_of(row) == 7);
  // A copy is a new storage, with a count of its own.
  Tensor c = t.clone();
  CHECK(version_of(c) == 0);
  CHECK(version_of(t) == 7);
}

TEST_CASE("inplace: init, optimizer steps, load_state_dict and batch norm statistics bump versions") {
  manual_seed(0);
  nn::Linear lin(3, 2);
  const uint64_t w0 = version_of(lin.weight);
  CHECK(w0 > 0);  // initialised in place
  Generator gen(3);
  nn::init::normal_(lin.weight, 0.0, 1.0, gen);
  CHECK(version_of(lin.weight) == w0 + 1);

  sum(lin(ones({1, 3}))).backward();
  nn::SGD sgd(lin.parameters(), {0.1});
  const uint64_t before_step = version_of(lin.weight);
  sgd.step();
  CHECK(version_of(lin.weight) > before_step);

  const uint64_t before_load = version_of(lin.weight);
  lin.load_state_dict(lin.state_dict());
  CHECK(version_of(lin.weight) > before_load);

  nn::BatchNorm2d bn(2);
  const uint64_t mean0 = version_of(bn.running_mean), var0 = version_of(bn.running_var);
  bn(randn({2, 2, 3, 3}, gen));
  CHECK(version_of(bn.running_mean) > mean0);
  CHECK(version_of(bn.running_var) > var0);
}

TEST_CASE("inplace: storage ids are unique and increase, even where the allocator reuses memory") {
  uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    Tensor t = empty({16});  // freed at the end of each iteration: the same block comes back
    CHECK(t.storage()->id > last);
    last = t.storage()->id;
    CHECK(t.detach().storage()->id == last);
  }
}

// ---------------- refusals ----------------

TEST_CASE("inplace: the issue's example -- a saved input changed before backward is refused") {
  Tensor x = leaf({1, 2, 3}, {3}), w = leaf({3, 3, 3}, {3});
  Tensor y = x * w;
  {
    NoGradGuard ng;
    w.add_(full({3}, 10.0, TensorOptions(DType::f64)));
  }
  const std::string msg = refusal_of([&] { sum(y).backward(); });
  INFO(msg);
  CHECK(contains(msg, "mul's saved tensor"));
  CHECK(contains(msg, "Tensor[3] float64 cpu"));
  CHECK(contains(msg, "is at version 1; it was saved at version 0"));
  CHECK_FALSE(x.grad().defined());  // no wrong gradient (13 instead of 3) was accumulated
}

TEST_CASE("inplace: a saved output changed in place is refused (exp, relu)") {
  SUBCASE("exp") {
    Tensor x = leaf({0.5, -1.0}, {2});
    Tensor y = exp(x);
    {
      NoGradGuard ng;
      y.mul_(2.0);
    }
    const std::string msg = refusal_of([&] { sum(y).backward(); });
    CHECK(contains(msg, "exp's output 0"));
  }
  SUBCASE("relu, through a view of the output") {
    Tensor x = leaf({0.5, -1.0, 2.0}, {3});
    Tensor y = relu(x);
    Tensor z = y * 2.0;  // the backward of z runs first, then relu's reads y
    {
      NoGradGuard ng;
      y.narrow(0, 0, 1).fill_(7.0);
    }
    const std::string msg = refusal_of([&] { sum(z).backward(); });
    CHECK(contains(msg, "relu's output 0"));
  }
}

TEST_CASE("inplace: a change through a view of a saved tensor, or to the base of a saved view, is refused") {
  SUBCASE("view of a saved tensor") {
    Tensor x = leaf({1, 2, 3, 4}, {2, 2}), w = leaf({5, 6, 7, 8}, {2, 2});
    Tensor y = matmul(x, w);
    {
      NoGradGuard ng;
      w.narrow(0, 1, 1).mul_(2.0);  // only one row, but the storage is shared
    }
    CHECK(contains(refusal_of([&] { sum(y).backward(); }), "matmul's saved tensor"));
  }
  SUBCASE("base of a saved view") {
    Tensor x = leaf({1, 2, 3, 4}, {4}), w = leaf({5, 6, 7, 8}, {2, 2});
    Tensor y = x * w.reshape({4});  // mul saved the reshaped view
    {
      NoGradGuard ng;
      w.zero_();
    }
    CHECK(contains(refusal_of([&] { sum(y).backward(); }), "mul's saved tensor"));
  }
}

TEST_CASE("inplace: an optimizer step between a forward and its backward is refused (conv2d, Linear)") {
  SUBCASE("a frozen conv2d weight changed") {
    Generator gen(1);
    Tensor x = randn({1, 2, 5, 5}, gen, TensorOptions(DType::f64)), w = randn({3, 2, 3, 3}, gen, TensorOptions(DType::f64));
    x.requires_grad_();
    Tensor y = conv2d(x, w, Tensor(), Conv2dOptions());  // the input gradient needs w
    {
      NoGradGuard ng;
      w.add_(ones_like(w));
    }
    CHECK(contains(refusal_of([&] { sum(y).backward(); }), "conv2d's saved tensor 0"));
  }
  SUBCASE("a GAN loop in the wrong order: D stepped before G's loss went back through D") {
    manual_seed(2);
    nn::Linear G(3, 4), D(4, 1);
    nn::SGD opt_d(D.parameters(), {0.1});
    Generator gen(5);
    Tensor fake = tanh(G(randn({5, 3}, gen)));
    Tensor loss_g = mean(D(fake));
    sum(D(fake.detach())).backward();
    opt_d.step();  // changes D.weight, which loss_g's graph saved
    CHECK(contains(refusal_of([&] { loss_g.backward(); }), "matmul's saved tensor"));
  }
}

TEST_CASE("inplace: a second backward (retain_graph) after an in-place change is refused") {
  Tensor x = leaf({1, 2}, {2}), w = leaf({3, 4}, {2});
  Tensor y = sum(x * w);
  y.backward(Tensor(), /*retain_graph=*/true);
  check_close(x.grad(), t64({3, 4}, {2}));
  {
    NoGradGuard ng;
    w.add_(ones_like(w));
  }
  refusal_of([&] { y.backward(); });
}

TEST_CASE("inplace: a change between grad(create_graph) and the second derivative is refused") {
  Tensor x = leaf({0.1, 0.2}, {2}), w = leaf({0.3, 0.4}, {2});
  // g = w exp(x w); its derivative in x goes back through the product dv * w, which saved w
  Tensor g = grad({sum(exp(x * w))}, {x}, {}, false, /*create_graph=*/true)[0];
  check_close(g, t64({0.3 * std::exp(0.03), 0.4 * std::exp(0.08)}, {2}));
  {
    NoGradGuard ng;
    w.mul_(2.0);
  }
  refusal_of([&] { grad({sum(g)}, {x}); });
}

TEST_CASE("inplace: record refuses an output in its saved list (it would keep its own node alive)") {
  Tensor x = leaf({1}, {1});
  Tensor y = x.detach().clone();
  const std::string msg = error_of([&] {
    record("bad_op", {x}, {y}, {y}, [](BackwardContext&, const TensorList& g) -> TensorList { return {g[0]}; });
  });
  CHECK(contains(msg, "bad_op"));
  CHECK(contains(msg, "save_outputs"));
}

// ---------------- what must keep working ----------------

TEST_CASE("inplace: changing a tensor no backward saved is fine (y = x + w)") {
  Tensor x = leaf({1, 2}, {2}), w = leaf({3, 4}, {2});
  Tensor y = x + w;  // add's backward reads nothing
  {
    NoGradGuard ng;
    w.add_(ones_like(w));
  }
  sum(y * 3.0).backward();
  check_close(x.grad(), t64({3, 3}, {2}));
  check_close(w.grad(), t64({3, 3}, {2}));
  check_close(y, t64({4, 6}, {2}));  // computed before the change
}

TEST_CASE("inplace: the GAN pattern -- step G, then D on the saved fakes") {
  manual_seed(3);
  nn::Linear G(3, 4), D(4, 1);
  nn::SGD opt_g(G.parameters(), {0.1});
  Generator gen(7);
  Tensor fake = tanh(G(randn({5, 3}, gen)));
  const Tensor fake_before = fake.detach().clone();

  // G's step: its loss goes back through D into G, then G's weights change.
  mean(D(fake)).backward();
  const Tensor g_weight_before = G.weight.detach().clone();
  opt_g.step();
  CHECK(max(abs(G.weight.detach() - g_weight_before)).item() > 0);

  // D's step on the fakes made before G changed: D's graph saves nothing of G.
  D.zero_grad();
  mean(D(fake.detach())).backward();
  // d mean(fake W^T + b) / dW = the mean of fake's rows, / db = 1
  check_close(fake.detach(), fake_before);
  check_close(D.weight.grad(), mean(fake_before, {0}, /*keepdim=*/true));
  check_close(D.bias.grad(), ones({1}));
}

TEST_CASE("inplace: a forward under NoGradGuard, then a change, with nothing to backward") {
  Tensor x = leaf({1, 2}, {2}), w = leaf({3, 4}, {2});
  Tensor y;
  {
    NoGradGuard ng;
    y = exp(x * w);
    w.add_(ones_like(w));
    x.mul_(0.0);
  }
  CHECK_FALSE(y.requires_grad());
  check_close(y, t64({std::exp(3.0), std::exp(8.0)}, {2}));
}

TEST_CASE("inplace: a change after the backward is fine, and the next forward uses the new values") {
  Tensor x = leaf({1, 2}, {2}), w = leaf({3, 4}, {2});
  sum(x * w).backward();
  check_close(x.grad(), t64({3, 4}, {2}));
  {
    NoGradGuard ng;
    w.add_(full({2}, 10.0, TensorOptions(DType::f64)));
  }
  x.set_grad(Tensor());
  sum(x * w).backward();
  check_close(x.grad(), t64({13, 14}, {2}));
}

TEST_CASE("inplace: a tensor changed before the forward is saved at its new version") {
  Tensor x = leaf({1, 2}, {2}), w = leaf({3, 4}, {2});
  {
    NoGradGuard ng;
    w.mul_(2.0);  // version 1 when mul saves it
  }
  sum(x * w).backward();
  check_close(x.grad(), t64({6, 8}, {2}));
}

TEST_CASE("inplace: batch norm's running statistics, updated by a second forward, do not block the first backward") {
  manual_seed(4);
  nn::BatchNorm2d bn(2);
  Generator gen(9);
  Tensor x = randn({2, 2, 3, 3}, gen), v = randn({2, 2, 3, 3}, gen);
  x.requires_grad_();
  Tensor y1 = bn(x);
  Tensor y2 = bn(x * 2.0);  // updates running_mean and running_var in place
  CHECK(y2.requires_grad());
  sum(y1 * v).backward();
  const Tensor g1 = x.grad().detach().clone();
  x.set_grad(Tensor());
  sum(bn(x) * v).backward();  // the same function (training mode: batch statistics), a fresh graph
  check_close(g1, x.grad());
  CHECK(max(abs(g1)).item() > 1e-3);
}

// ---------------- the Winograd weight-transform cache ----------------

namespace {

// For one test: the fast path on (`always`, so that 16 channels take it), the
// cache empty with `budget` bytes; restores both after.
struct CacheSettings {
  size_t budget_before = cpu::winograd_cache_stats().budget_bytes;
  cpu::WinogradMode mode_before = cpu::winograd_mode();
  explicit CacheSettings(size_t budget) {
    cpu::set_winograd_mode(cpu::WinogradMode::always);
    cpu::clear_winograd_cache();
    cpu::set_winograd_cache_budget(budget);
  }
  ~CacheSettings() {
    cpu::clear_winograd_cache();
    cpu::set_winograd_cache_budget(budget_before);
    cpu::set_winograd_mode(mode_before);
  }
};

Conv2dOptions pad1() {
  Conv2dOptions o;
  o.pad_h = o.pad_w = 1;
  return o;
}

Tensor conv(const Tensor& x, const Tensor& w) { return conv2d(x, w, Tensor(), pad1()); }

double max_abs_diff(const Tensor& a, const Tensor& b) { return max(abs(a.detach() - b.detach())).item(); }

}  // namespace

TEST_CASE("inplace: winograd cache -- a second call hits and is identical; an in-place change is seen") {
  CacheSettings settings(size_t(64) << 20);
  Generator gen(11);
  Tensor x = randn({2, 16, 12, 12}, gen), w = randn({24, 16, 3, 3}, gen) * 0.1;
  const cpu::WinogradCacheStats s0 = cpu::winograd_cache_stats();

  const Tensor y1 = conv(x, w);  // transforms w and keeps U
  cpu::WinogradCacheStats s = cpu::winograd_cache_stats();
  CHECK(s.misses == s0.misses + 1);
  CHECK(s.entries == 1);
  CHECK(s.bytes >= size_t(36 * 24 * 16) * sizeof(float));
  const Tensor y2 = conv(x, w);
  CHECK(cpu::winograd_cache_stats().hits == s0.hits + 1);
  CHECK(max_abs_diff(y1, y2) == 0);

  // The input gradient's flipped kernels are another entry.
  const Tensor g = randn({2, 24, 12, 12}, gen);
  const Tensor gx1 = conv_transpose2d(g, w, Tensor(), pad1());
  const Tensor gx2 = conv_transpose2d(g, w, Tensor(), pad1());
  CHECK(cpu::winograd_cache_stats().entries == 2);
  CHECK(cpu::winograd_cache_stats().hits == s0.hits + 2);
  CHECK(max_abs_diff(gx1, gx2) == 0);

  {
    NoGradGuard ng;
    w.add_(ones_like(w) * 0.05);
  }
  const uint64_t misses_before = cpu::winograd_cache_stats().misses;
  const Tensor y3 = conv(x, w), gx3 = conv_transpose2d(g, w, Tensor(), pad1());
  s = cpu::winograd_cache_stats();
  CHECK(s.misses == misses_before + 2);  // both versions changed
  CHECK(s.entries == 2);                 // the old versions' entries were replaced
  CHECK(max_abs_diff(y3, y1) > 0.01);

  // A fresh computation (cache off) gives the same bits; the reference path agrees.
  cpu::set_winograd_cache_budget(0);
  CHECK(cpu::winograd_cache_stats().entries == 0);
  CHECK(max_abs_diff(y3, conv(x, w)) == 0);
  CHECK(max_abs_diff(gx3, conv_transpose2d(g, w, Tensor(), pad1())) == 0);
  cpu::set_winograd_mode(cpu::WinogradMode::off);
  check_close(y3, conv(x, w), 1e-4, 1e-4);
  check_close(gx3, conv_transpose2d(g, w, Tensor(), pad1()), 1e-4, 1e-4);
}

TEST_CASE("inplace: winograd cache -- weights that require grad are not kept; the input gradient's are") {
  CacheSettings settings(size_t(64) << 20);
  Generator gen(12);
  Tensor x = randn({1, 16, 8, 8}, gen), w = randn({16, 16, 3, 3}, gen) * 0.1;
  w.requires_grad_();
  conv(x, w);
  conv(x, w);
  CHECK(cpu::winograd_cache_stats().entries == 0);

  // Gatys: the image requires grad, the weight is frozen. Forward and input
  // gradient each transform the weight once, then come from the cache.
  Tensor frozen = w.detach().clone();
  x.requires_grad_();
  sum(conv(x, frozen)).backward();
  const Tensor gx = x.grad().detach().clone();
  const uint64_t hits = cpu::winograd_cache_stats().hits;
  x.set_grad(Tensor());
  sum(conv(x, frozen)).backward();
  CHECK(cpu::winograd_cache_stats().hits == hits + 2);
  CHECK(max_abs_diff(x.grad(), gx) == 0);
}

TEST_CASE("inplace: winograd cache -- bounded by its budget, without thrashing; freed weights' entries go") {
  CacheSettings settings(size_t(64) << 20);
  Generator gen(13);
  const Tensor x = randn({1, 16, 8, 8}, gen);
  conv(x, randn({16, 16, 3, 3}, gen));
  const size_t entry_bytes = cpu::winograd_cache_stats().bytes;
  REQUIRE(entry_bytes > 0);

  // Freed weights: each new entry drops the ones whose storage is gone.
  for (int i = 0; i < 20; ++i) conv(x, randn({16, 16, 3, 3}, gen));
  CHECK(cpu::winograd_cache_stats().entries <= 1);

  // Live weights beyond the budget, used in a cycle like a network's layers:
  // the first three stay and keep hitting, the others are computed each time.
  cpu::clear_winograd_cache();
  cpu::set_winograd_cache_budget(3 * entry_bytes);
  std::vector<Tensor> weights, first;
  for (int i = 0; i < 10; ++i) weights.push_back(randn({16, 16, 3, 3}, gen));
  for (int i = 0; i < 10; ++i) first.push_back(conv(x, weights[i]));
  for (int cycle = 0; cycle < 3; ++cycle) {
    const uint64_t hits = cpu::winograd_cache_stats().hits;
    for (int i = 0; i < 10; ++i) CHECK(max_abs_diff(conv(x, weights[i]), first[i]) == 0);
    const cpu::WinogradCacheStats s = cpu::winograd_cache_stats();
    CHECK(s.hits == hits + 3);
    CHECK(s.entries == 3);
    CHECK(s.bytes <= 3 * entry_bytes);
  }

  // Shrinking the budget evicts the least recently used; clear empties it.
  cpu::set_winograd_cache_budget(entry_bytes);
  CHECK(cpu::winograd_cache_stats().entries == 1);
  const uint64_t hits = cpu::winograd_cache_stats().hits;
  conv(x, weights[2]);  // the most recently used of the three
  CHECK(cpu::winograd_cache_stats().hits == hits + 1);
  cpu::clear_winograd_cache();
  CHECK(cpu::winograd_cache_stats().entries == 0);
  CHECK(cpu::winograd_cache_stats().bytes == 0);
}

TEST_CASE("inplace: winograd cache -- threads sharing frozen weights get the single-threaded results") {
  CacheSettings settings(size_t(64) << 20);
  Generator gen(14);
  const Tensor x = randn({1, 16, 8, 8}, gen);
  const std::vector<Tensor> weights = {randn({16, 16, 3, 3}, gen), randn({32, 16, 3, 3}, gen)};
  cpu::set_winograd_cache_budget(0);
  const std::vector<Tensor> expected = {conv(x, weights[0]), conv(x, weights[1])};
  cpu::set_winograd_cache_budget(size_t(64) << 20);

  std::vector<double> worst(4, -1.0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      double w = 0;
      for (int i = 0; i < 10; ++i) {
        const int k = (t + i) % 2;
        w = std::max(w, max_abs_diff(conv(x, weights[k]), expected[k]));
      }
      worst[t] = w;
    });
  for (auto& th : threads) th.join();
  for (double w : worst) CHECK(w == 0);
  CHECK(cpu::winograd_cache_stats().entries == 2);
}
