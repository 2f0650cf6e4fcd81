// Times every distinct convolution of resnet_9blocks at 256x256 (batch 1,
// float32), forward and both backward products, and instance norm, printing
// the minimum over repeats and GFLOP/s. The same list as
// bench/generator_torch.py --shapes. Built by hand (bench/generator_timing.sh shapes).
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "autograd/grad_mode.h"
#include "ops/ops.h"

namespace {

// Wall time, or with CPU_TIME=1 the process's CPU time (all threads): on a
// shared, throttled machine the CPU time of a single-threaded run
// (OMP_NUM_THREADS=1) is the steadier measure of a kernel.
double now_ms() {
  static const bool cpu = std::getenv("CPU_TIME") && std::getenv("CPU_TIME")[0] == '1';
  timespec t;
  clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double best_ms(const std::function<void()>& f, int repeats) {
  f();
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = now_ms();
    f();
    best = std::min(best, now_ms() - t0);
  }
  return best;
}

struct Shape4 {
  const char* name;
  int64_t C, H, O, k, stride;
  bool transposed;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace sg;
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 5;
  NoGradGuard no_grad;
  const Shape4 shapes[] = {
      {"7x7 3->64 (262^2 padded)", 3, 262, 64, 7, 1, false},
      {"3x3 s2 64->128 (256^2)", 64, 256, 128, 3, 2, false},
      {"3x3 s2 128->256 (128^2)", 128, 128, 256, 3, 2, false},
      {"3x3 256->256 (66^2 padded)", 256, 66, 256, 3, 1, false},
      {"convT 3x3 s2 256->128 (64^2)", 256, 64, 128, 3, 2, true},
      {"convT 3x3 s2 128->64 (128^2)", 128, 128, 64, 3, 2, true},
      {"7x7 64->3 (262^2 padded)", 64, 262, 3, 7, 1, false},
  };
  for (const Shape4& s : shapes) {
    Conv2dOptions o;
    o.stride_h = o.stride_w = s.stride;
    o.pad_h = o.pad_w = s.stride == 2 ? 1 : 0;
    if (s.transposed) o.output_padding_h = o.output_padding_w = 1;
    Tensor x = randn({1, s.C, s.H, s.H});
    // conv2d weight [O, C, k, k]; conv_transpose2d weight [C_in, C_out, k, k]
    Tensor w = randn(s.transposed ? Shape{s.C, s.O, s.k, s.k} : Shape{s.O, s.C, s.k, s.k});
    double fwd, dx, dw, flops;
    if (!s.transposed) {
      Tensor y = conv2d(x, w, Tensor(), o);
      flops = 2.0 * double(y.numel()) * double(s.C * s.k * s.k);
      Conv2dOptions back = o;  // dx: conv_transpose2d back to x's size
      back.output_padding_h = back.output_padding_w = (s.H + 2 * o.pad_h - s.k) % s.stride;
      fwd = best_ms([&] { conv2d(x, w, Tensor(), o); }, repeats);
      dx = best_ms([&] { conv_transpose2d(y, w, Tensor(), back); }, repeats);
      dw = best_ms([&] { conv2d_weight_grad(x, y, w.shape(), o); }, repeats);
    } else {
      Tensor y = conv_transpose2d(x, w, Tensor(), o);
      flops = 2.0 * double(x.numel()) * double(s.O * s.k * s.k);
      Conv2dOptions fo = o;
      fo.output_padding_h = fo.output_padding_w = 0;
      fwd = best_ms([&] { conv_transpose2d(x, w, Tensor(), o); }, repeats);
      dx = best_ms([&] { conv2d(y, w, Tensor(), fo); }, repeats);
      dw = best_ms([&] { conv2d_weight_grad(y, x, w.shape(), fo); }, repeats);
    }
    std::printf("%-32s fwd %7.2f ms %6.1f GF/s | dx %7.2f ms %6.1f GF/s | dw %7.2f ms %6.1f GF/s (%.2f GFLOP)\n",
                s.name, fwd, flops / fwd / 1e6, dx, flops / dx / 1e6, dw, flops / dw / 1e6, flops / 1e9);
  }
  const int64_t norms[][2] = {{64, 256}, {128, 128}, {256, 64}};
  for (const auto& cs : norms) {
    Tensor x = randn({1, cs[0], cs[1], cs[1]});
    const double mb = double(x.numel()) * 4 / 1e6;
    const double f = best_ms([&] { instance_norm(x, Tensor(), Tensor()); }, repeats);
    Tensor xg = x.detach().requires_grad_();
    Tensor g = ones(x.shape());
    double fb;
    {
      GradModeGuard on(true);
      fb = best_ms([&] { instance_norm(xg, Tensor(), Tensor()).backward(g); }, repeats);
    }
    std::printf("instance_norm %lldx%lld^2: fwd %6.2f ms (%.1f GB/s) fwd+bwd %6.2f ms\n", (long long)cs[0],
                (long long)cs[1], f, 2 * mb / f, fb);
  }
  const int64_t pads[][3] = {{3, 256, 3}, {256, 64, 1}, {64, 256, 3}};
  for (const auto& p : pads) {
    Tensor x = randn({1, p[0], p[1], p[1]});
    const double t = best_ms([&] { pad2d(x, p[2], p[2], p[2], p[2], PadMode::reflect); }, repeats);
    std::printf("reflection_pad %lldx%lld^2 pad %lld: %6.2f ms\n", (long long)p[0], (long long)p[1],
                (long long)p[2], t);
  }
}
