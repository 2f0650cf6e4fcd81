#include "autograd/profiler.h"
#include "ops/ops.h"
#include "tests/test_util.h"

using namespace sg;

namespace {
// Turns the profiler on for one test and leaves it as it found it.
struct ProfilerOn {
  bool was = profiler::enabled();
  ProfilerOn() {
    profiler::set_enabled(true);
    profiler::reset();
  }
  ~ProfilerOn() {
    profiler::reset();
    profiler::set_enabled(was);
  }
};
}  // namespace

TEST_CASE("profiler: counts each op and each backward node, self time excludes nested ops") {
  ProfilerOn on;
  Tensor x = randn({1, 2, 6, 6}, DType::f64), w = randn({3, 2, 3, 3}, DType::f64);
  x.requires_grad_();
  Conv2dOptions o;
  o.pad_h = o.pad_w = 1;
  Tensor loss = sum(relu(conv2d(x, w, Tensor(), o)));
  loss.backward();

  CHECK(profiler::stat("conv2d").calls == 1);
  CHECK(profiler::stat("relu").calls >= 1);
  CHECK(profiler::stat("sum").calls == 1);
  // conv2d's backward (needs only dx: w does not require grad) is one conv_transpose2d
  const profiler::Stat back = profiler::stat("conv2d backward");
  CHECK(back.calls == 1);
  CHECK(profiler::stat("conv_transpose2d").calls == 1);
  CHECK(profiler::stat("conv2d_weight_grad").calls == 0);
  // the backward node's total includes the conv_transpose2d it ran, its self time does not
  CHECK(back.total_ms >= profiler::stat("conv_transpose2d").total_ms);
  CHECK(back.self_ms <= back.total_ms - profiler::stat("conv_transpose2d").total_ms + 1e-9);
  CHECK(profiler::stat("never ran").calls == 0);

  profiler::reset();
  CHECK(profiler::stat("conv2d").calls == 0);
}

TEST_CASE("profiler: off, nothing is recorded") {
  const bool was = profiler::enabled();
  profiler::set_enabled(false);
  profiler::reset();
  sum(ones({4}) + ones({4}));
  CHECK(profiler::stat("add").calls == 0);
  CHECK(profiler::stat("sum").calls == 0);
  profiler::set_enabled(was);
}
