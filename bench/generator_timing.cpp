// Times CycleGAN's resnet_9blocks generator (ngf 64, instance norm, no dropout)
// at 256x256, batch 1: forward without gradients, and forward + backward to
// every parameter. Prints the minimum over repeats; run with STYLEGRAD_PROFILE=1
// for the time per op. Built by hand (see bench/generator_timing.sh);
// bench/generator_torch.py times the same network in PyTorch.
#include <sys/resource.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>

#include "autograd/grad_mode.h"
#include "autograd/profiler.h"
#include "models/cyclegan_networks.h"
#include "ops/ops.h"

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 5;
  const int64_t size = argc > 2 ? std::atoi(argv[2]) : 256;
  auto net = sg::models::cyclegan::define_G(3, 3, 64, "resnet_9blocks", "instance", false);
  sg::Tensor x = sg::randn({1, 3, size, size});
  // Wall time, or with CPU_TIME=1 the process's CPU time (see bench/conv_shapes_timing.cpp).
  const bool cpu_time = std::getenv("CPU_TIME") && std::getenv("CPU_TIME")[0] == '1';
  auto now = [cpu_time] {
    timespec t;
    clock_gettime(cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
  };
  auto ms = [](double a, double b) { return b - a; };
  double best_fwd = 1e30, best_fb = 1e30;
  for (int r = 0; r <= repeats; ++r) {  // run 0 is the warm-up
    if (r == 1) sg::profiler::reset();
    auto t0 = now();
    {
      sg::NoGradGuard no_grad;
      sg::Tensor y = net->forward(x);
    }
    auto t1 = now();
    net->zero_grad();
    sg::Tensor loss = sg::sum(net->forward(x));
    loss.backward();
    auto t2 = now();
    if (r > 0) best_fwd = std::min(best_fwd, ms(t0, t1)), best_fb = std::min(best_fb, ms(t1, t2));
  }
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  std::printf("resnet_9blocks %lldx%lld: forward %.1f ms, forward+backward %.1f ms (min of %d), max RSS %.0f MB\n",
              (long long)size, (long long)size, best_fwd, best_fb, repeats, u.ru_maxrss / 1024.0);
}
