// stylegrad bench: times the workloads that matter (VGG-19 forward and
// backward for Gatys, single conv layers, CycleGAN's, pix2pix's and CUT's
// generators, a CycleGAN, a CUT and a SinCUT training iteration, memory-bound
// ops, dispatch overhead).
// bench/compare.py runs the same workloads in PyTorch and prints the ratios.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "apps/cli.h"
#include "apps/commands.h"
#include "autograd/grad_mode.h"
#include "autograd/profiler.h"
#include "kernels/cpu/simd.h"
#include "models/cyclegan_networks.h"
#include "models/vgg.h"
#include "nn/module.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "tensor/cpu_allocator.h"
#include "tensor/cuda_memory.h"
#include "translation/cut_model.h"
#include "translation/cycle_gan.h"
#include "translation/sincut_model.h"

namespace sg::cli {

namespace {

// One benchmark: `setup` builds inputs once, `run` is what is timed.
struct Workload {
  std::function<void()> run;
  double flops = 0;  // per run, 0 if not meaningful
  double bytes = 0;  // per run, memory traffic for bandwidth-bound workloads
};

// VGG-19 conv layers up to relu5_1: (name, in, out, spatial divisor).
struct ConvShape {
  const char* name;
  int64_t in, out, div;
};
const ConvShape kVGG19Convs[] = {{"conv1_1", 3, 64, 1},    {"conv1_2", 64, 64, 1},   {"conv2_1", 64, 128, 2},
                                 {"conv2_2", 128, 128, 2}, {"conv3_1", 128, 256, 4}, {"conv3_2", 256, 256, 4},
                                 {"conv3_3", 256, 256, 4}, {"conv3_4", 256, 256, 4}, {"conv4_1", 256, 512, 8},
                                 {"conv4_2", 512, 512, 8}, {"conv4_3", 512, 512, 8}, {"conv4_4", 512, 512, 8},
                                 {"conv5_1", 512, 512, 16}};

double conv_flops(int64_t in, int64_t out, int64_t h, int64_t w) { return 2.0 * double(in * out * 9 * h * w); }

// FLOPs of VGG-19 up to relu5_1 at size s (forward).
double vgg19_flops(int64_t s) {
  double f = 0;
  for (const auto& c : kVGG19Convs) f += conv_flops(c.in, c.out, s / c.div, s / c.div);
  return f;
}

// The machine's fp32 FMA peak: per thread, 12 independent chains of fused
// multiply-adds on the vectors the GEMM uses (kernels/cpu/simd.h: 16 floats
// with AVX-512, 8 with AVX2). Twelve chains cover the FMA latency (4-5 cycles)
// times the two FMA units of current x86 cores. The chains are twelve named
// variables rather than an array: GCC keeps those in registers, an array it
// may spill.
Workload fma_peak() {
  using namespace cpu::simd;
  const int64_t iters = 20'000'000;
  Workload w;
  w.flops = double(iters) * 12 * kLanes * 2 * omp_get_max_threads();  // chains x lanes x (mul + add)
  w.run = [iters] {
#pragma omp parallel
    {
#define SG_FMA_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define SG_FMA_INIT(i) Vec acc##i = vsplat(float(i));
#define SG_FMA_STEP(i)         \
  acc##i = vfma(acc##i, a, b); \
  opaque(acc##i);  // every FMA really executes
#define SG_FMA_STORE(i) vstore(lanes + i * kLanes, acc##i);
      SG_FMA_CHAINS(SG_FMA_INIT)
      const Vec a = vsplat(0.999999f), b = vsplat(1e-7f);
      for (int64_t it = 0; it < iters; ++it) {
        SG_FMA_CHAINS(SG_FMA_STEP)
      }
      float lanes[12 * kLanes];
      SG_FMA_CHAINS(SG_FMA_STORE)
      volatile float keep = lanes[0];
      (void)keep;
#undef SG_FMA_CHAINS
#undef SG_FMA_INIT
#undef SG_FMA_STEP
#undef SG_FMA_STORE
    }
  };
  return w;
}

// A line "Key:   123 kB" of /proc/self/status, in KiB (-1 if absent): VmRSS is
// the resident memory now, VmHWM its peak.
long long proc_status_kb(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.compare(0, key.size() + 1, key + ":") == 0) return std::stoll(line.substr(key.size() + 1));
  return -1;
}

// Lowers VmHWM to the current resident size (Linux: "5" into /proc/self/clear_refs).
bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return bool(clear);
}

// Inputs are made on the CPU (the same values on every device) and moved to `device`.
Workload make_workload(const std::string& name, int64_t size, Device device) {
  Generator gen(0);
  if (name == "fma-peak") {
    SG_USAGE_CHECK(device.is_cpu(), "--workload fma-peak measures the CPU: it takes no --device");
    return fma_peak();
  }
  if (name == "vgg19-fwd" || name == "vgg19-fwdbwd") {
    const bool backward = name == "vgg19-fwdbwd";
    manual_seed(0);
    auto vgg = std::make_shared<models::VGG>();
    vgg->requires_grad_(false);
    vgg->to(device);
    Tensor x = rand({1, 3, size, size}, gen).to(device);
    Workload w;
    w.flops = vgg19_flops(size) * (backward ? 2.0 : 1.0);  // backward to the input only: one conv per conv
    w.run = [vgg, x, backward] {
      if (!backward) {
        NoGradGuard ng;
        vgg->forward_taps(x, {"relu5_1"});
        return;
      }
      Tensor xi = x.detach();
      xi.requires_grad_();
      Tensor y = vgg->forward_taps(xi, {"relu5_1"}).at("relu5_1");
      sum(y).backward();
    };
    return w;
  }
  for (const auto& c : kVGG19Convs) {
    const std::string base = std::string("vgg19-") + c.name;
    if (name != base && name != base + "-bwd") continue;
    const bool backward = name != base;
    const int64_t s = size / c.div;
    Tensor x = randn({1, c.in, s, s}, gen).to(device), wt = (randn({c.out, c.in, 3, 3}, gen) * 0.05).to(device),
           b = randn({c.out}, gen).to(device);
    Conv2dOptions o;
    o.pad_h = o.pad_w = 1;
    Workload w;
    w.flops = conv_flops(c.in, c.out, s, s);
    if (!backward) {
      w.run = [x, wt, b, o] {
        NoGradGuard ng;
        relu(conv2d(x, wt, b, o));
      };
    } else {  // the gradient with respect to the input, as in Gatys
      Tensor g = randn({1, c.out, s, s}, gen).to(device);
      w.run = [x, wt, g, o] {
        NoGradGuard ng;
        conv_transpose2d(g, wt, Tensor(), o);
      };
    }
    return w;
  }
  // CycleGAN / pix2pix (models/cyclegan_networks.h, translation/cycle_gan.h) at size²,
  // their command lines' defaults: resnet_9blocks (ngf 64, instance norm, no
  // dropout), unet_256 (batch norm; eval mode and no dropout, so that both
  // sides compute the same thing), basic D (ndf 64).
  if (name == "resnet9-fwd" || name == "resnet9-fwdbwd" || name == "unet256-fwd") {
    const bool unet = name == "unet256-fwd", backward = name == "resnet9-fwdbwd";
    SG_CHECK(!unet || size % 256 == 0, "unet256-fwd: --size must be a multiple of 256 (8 halvings)");
    auto G = models::cyclegan::define_G(3, 3, 64, unet ? "unet_256" : "resnet_9blocks", unet ? "batch" : "instance",
                                        false, "normal", 0.02, gen);
    if (unet) G->eval();
    G->to(device);
    Tensor x = (rand({1, 3, size, size}, gen) * 2.0 - 1.0).to(device);
    Workload w;
    w.run = [G, x, backward] {
      if (!backward) {
        NoGradGuard ng;
        G->forward(x);
        return;
      }
      sum(G->forward(x)).backward();  // into G's parameters (their gradients accumulate, as torch's)
    };
    return w;
  }
  if (name == "cyclegan-iter") {  // one optimize_parameters: both G, both D, Adam; lsgan, pool 50, identity 0.5
    translation::CycleGANOptions o;
    auto model = std::make_shared<translation::CycleGANModel>(o, gen);
    model->to(device);
    Tensor A = (rand({1, 3, size, size}, gen) * 2.0 - 1.0).to(device), B = (rand({1, 3, size, size}, gen) * 2.0 - 1.0).to(device);
    Workload w;
    w.run = [model, A, B] {
      model->set_input(A, B);
      model->optimize_parameters();
    };
    return w;
  }
  // CUT (translation/cut_model.h) with --CUT_mode CUT's defaults: resnet_9blocks
  // (ngf 64, instance norm, anti-aliased down- and upsampling, xavier 0.02),
  // basic D, PatchSampleF mlp_sample 256, nce layers 0,4,8,12,16, 256 patches,
  // NCE on G(B) too (nce_idt), lsgan, Adam(2e-4, (0.5, 0.999)), batch 1.
  if (name == "cut-g-fwd") {
    auto G = models::cyclegan::define_G(3, 3, 64, "resnet_9blocks", "instance", false, "xavier", 0.02,
                                        /*no_antialias=*/false, /*no_antialias_up=*/false, gen);
    G->to(device);
    Tensor x = (rand({1, 3, size, size}, gen) * 2.0 - 1.0).to(device);
    Workload w;
    w.run = [G, x] {
      NoGradGuard ng;
      G->forward(x);
    };
    return w;
  }
  // One optimize_parameters of CUT at size², or of SinCUT with its defaults
  // (translation/sincut_model.h: StyleGAN2 G and D, ngf 10, ndf 8, nce layers
  // 0,2,4, one patch, lambda_NCE 4, R1 every D step, identity L1, nonsaturating,
  // Adam(0.002, (0, 0.99))) on a batch of 16 crops of size² (its default 64).
  // The first run, the warm-up, first does data_dependent_initialize on the same
  // batch (F's MLPs, optimizer_F), as the trainer does once on its first batch.
  if (name == "cut-iter" || name == "sincut-iter") {
    const bool sincut = name == "sincut-iter";
    // F's patch positions come from this generator at every iteration: it must outlive the model.
    auto model_gen = std::make_shared<Generator>(0);
    manual_seed(0);  // the StyleGAN2 networks draw from the default generator
    std::shared_ptr<translation::CUTModel> model;
    int64_t batch = 1;
    if (sincut) {
      SG_CHECK(size >= 8 && (size & (size - 1)) == 0,
               "sincut-iter: --size must be a power of two >= 8 (the StyleGAN2 networks are built for it)");
      translation::SinCUTOptions o = translation::sincut_options();
      o.crop_size = size;
      batch = o.batch_size;
      model = std::make_shared<translation::SinCUTModel>(o, *model_gen);
    } else {
      model = std::make_shared<translation::CUTModel>(translation::cut_options("CUT"), *model_gen);
    }
    model->to(device);
    Tensor A = (rand({batch, 3, size, size}, gen) * 2.0 - 1.0).to(device);
    Tensor B = (rand({batch, 3, size, size}, gen) * 2.0 - 1.0).to(device);
    auto initialized = std::make_shared<bool>(false);
    Workload w;
    w.run = [model, model_gen, A, B, initialized] {
      if (!*initialized) {
        model->data_dependent_initialize(A, B);
        *initialized = true;
      }
      model->set_input(A, B);
      model->optimize_parameters();
    };
    return w;
  }
  if (name == "add") {  // bandwidth: read 2, write 1
    Tensor a = randn({size, size}, gen).to(device), b = randn({size, size}, gen).to(device);
    Workload w;
    w.bytes = 3.0 * 4 * double(size * size);
    w.run = [a, b] { add(a, b); };
    return w;
  }
  if (name == "sum") {
    Tensor a = randn({size, size}, gen).to(device);
    Workload w;
    w.bytes = 4.0 * double(size * size);
    w.run = [a] { sum(a); };
    return w;
  }
  if (name == "small-ops") {  // 10 000 adds of 16 floats: the cost of dispatch
    Tensor a = randn({16}, gen).to(device), b = randn({16}, gen).to(device);
    Workload w;
    w.run = [a, b] {
      Tensor c = a;
      for (int i = 0; i < 10000; ++i) c = add(c, b);
    };
    return w;
  }
  throw Error("unknown workload '" + name +
              "' (fma-peak, vgg19-fwd, vgg19-fwdbwd, vgg19-conv1_1 ... vgg19-conv5_1 [-bwd], resnet9-fwd, "
              "resnet9-fwdbwd, cyclegan-iter, unet256-fwd, cut-g-fwd, cut-iter, sincut-iter, add, sum, small-ops)");
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  ArgParser p("stylegrad bench --workload NAME [--size N] [--threads T] [--repeat R]",
              "Times one workload: median and min wall time, GFLOP/s (or GB/s), peak memory.\n"
              "STYLEGRAD_PROFILE=1 also prints the time per op over the timed runs.\n"
              "Workloads: fma-peak, vgg19-fwd, vgg19-fwdbwd (to relu5_1, gradient to the input only),\n"
              "vgg19-conv1_1 ... vgg19-conv5_1 (one conv + ReLU; add -bwd for its input gradient),\n"
              "resnet9-fwd, resnet9-fwdbwd (CycleGAN's generator; backward into its parameters),\n"
              "cyclegan-iter (one CycleGAN training iteration: both G, both D, Adam), unet256-fwd (pix2pix's G),\n"
              "cut-g-fwd (CUT's anti-aliased resnet_9blocks G), cut-iter and sincut-iter (one CUT / SinCUT training\n"
              "iteration with their defaults; SinCUT: a batch of 16 crops of size x size, default 64; the warm-up\n"
              "run also does data_dependent_initialize),\n"
              "add and sum (memory bandwidth, size x size floats), small-ops (10 000 adds of 16 floats).");
  p.option("workload", "vgg19-fwd", "what to time");
  p.option("size", "0", "image side (256; sincut-iter: its crops, 64) or matrix side (add, sum: 256); 0: those");
  p.option("threads", "0", "OpenMP threads (0: all cores)");
  p.option("repeat", "5", "timed runs after one warm-up run");
  add_device_option(p);
  if (!p.parse(argc, argv)) return 0;
  const Device device = device_option(p);
  // A GPU runs behind the host: each timed run ends when its stream is done.
  const auto finish = [device] {
    if (device.is_cuda()) cuda_synchronize(device.index);
  };
  const int64_t threads = p.get_int("threads"), repeat = p.get_int("repeat");
  SG_CHECK(repeat > 0 && p.get_int("size") >= 0, "--repeat must be positive and --size >= 0");
  const int64_t size = p.get_int("size") > 0 ? p.get_int("size") : p.get("workload") == "sincut-iter" ? 64 : 256;
  if (threads > 0) omp_set_num_threads(int(threads));

  Workload w = make_workload(p.get("workload"), size, device);
  // Two peaks: the tensors' bytes (the allocator's count) and the growth of the
  // process's resident memory from here on, which bench/compare.py measures the
  // same way for PyTorch. The latter includes the warm-up run and what the
  // allocator keeps for reuse.
  const bool rss_ok = reset_peak_rss();
  const long long rss_before_kb = proc_status_kb("VmRSS");
  w.run();  // warm-up: first-touch page faults, caches
  finish();
  profiler::reset();  // STYLEGRAD_PROFILE=1: report the timed runs only
  reset_cpu_peak_bytes();
  if (device.is_cuda()) cuda_reset_peak(device.index);
  const size_t base = device.is_cuda() ? cuda_memory_stats(device.index).bytes_in_use : cpu_bytes_in_use();
  std::vector<double> ms;
  for (int64_t i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    w.run();
    finish();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2], best = ms.front();
  std::printf("workload: %s  size: %lld  threads: %d  repeat: %lld\n", p.get("workload").c_str(), (long long)size,
              omp_get_max_threads(), (long long)repeat);
  std::printf("median_ms %.3f  min_ms %.3f", median, best);
  if (w.flops > 0) std::printf("  gflops %.1f  best_gflops %.1f", w.flops / (median * 1e6), w.flops / (best * 1e6));
  if (w.bytes > 0) std::printf("  gbytes_per_s %.1f", w.bytes / (median * 1e6));
  const size_t peak = device.is_cuda() ? cuda_memory_stats(device.index).peak_bytes_in_use : cpu_peak_bytes();
  std::printf("  peak_mb %.1f", double(peak - base) / (1 << 20));
  const long long hwm_kb = proc_status_kb("VmHWM");
  if (rss_ok && rss_before_kb >= 0 && hwm_kb >= 0)
    std::printf("  rss_growth_mb %.1f", double(hwm_kb - rss_before_kb) / 1024);
  std::printf("\n");
  std::printf("median_ms: %.3f\n", median);
  return 0;
}

}  // namespace sg::cli
