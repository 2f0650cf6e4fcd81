// cuda-emulated image ops: the CUDA kernels for instance and batch norm, pad2d, max/avg
// pooling and upsampling (kernels/cuda/{norm,pad,pool,upsample}.cuh), run
// through the cuda-emulated table against the CPU kernels on odd sizes, every
// pad mode, strided/padded/dilated/ceil_mode windows and non-integer scales;
// then the ops end to end, forward and backward, with check_same_on_device.
#include <cmath>
#include <limits>

#include "device_check.h"
#include "ops/ops.h"
#include "kernels/kernel_table.h"
#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

TensorOptions emu_options(DType dt = DType::f32) {
  TensorOptions o(dt);
  o.device = Device::cuda_emulated();
  return o;
}
Tensor on_emu(const Tensor& t) { return t.to(Device::cuda_emulated()); }
Tensor on_cpu(const Tensor& t) { return t.to(Device::cpu()); }
const KernelTable& emu() { return *cuda_emulated_kernel_table(); }
const KernelTable& cpu_table() { return *cpu_kernel_table(); }

// The source table of one padded axis, as ops/pad.cpp builds it.
AxisSource axis_source(int64_t size, int64_t before, int64_t after, PadMode mode) {
  AxisSource s;
  for (int64_t i = 0; i < before + size + after; ++i) {
    int64_t at = i - before;
    if (at < 0 || at >= size) {
      if (mode == PadMode::zeros) at = -1;
      else if (mode == PadMode::reflect) at = at < 0 ? -at : 2 * (size - 1) - at;
      else at = at < 0 ? 0 : size - 1;
    }
    s.push_back(at);
  }
  return s;
}

const char* mode_name(PadMode m) { return m == PadMode::zeros ? "zeros" : m == PadMode::reflect ? "reflect" : "replicate"; }

PoolAxis rows_of(const Pool2dOptions& o) { return {o.kernel_h, o.stride_h, o.pad_h, o.dilation_h}; }
PoolAxis cols_of(const Pool2dOptions& o) { return {o.kernel_w, o.stride_w, o.pad_w, o.dilation_w}; }

Pool2dOptions pool(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                   bool ceil_mode, bool count_include_pad = true) {
  Pool2dOptions o;
  o.kernel_h = kh, o.kernel_w = kw, o.stride_h = sh, o.stride_w = sw, o.pad_h = ph, o.pad_w = pw;
  o.dilation_h = dh, o.dilation_w = dw, o.ceil_mode = ceil_mode, o.count_include_pad = count_include_pad;
  return o;
}

std::string pool_name(const Pool2dOptions& o) {
  return "kernel " + std::to_string(o.kernel_h) + "x" + std::to_string(o.kernel_w) + " stride " +
         std::to_string(o.stride_h) + "x" + std::to_string(o.stride_w) + " pad " + std::to_string(o.pad_h) + "x" +
         std::to_string(o.pad_w) + " dilation " + std::to_string(o.dilation_h) + "x" + std::to_string(o.dilation_w) +
         (o.ceil_mode ? " ceil" : "") + (o.count_include_pad ? "" : " exclude-pad");
}

// x with ties (values on a coarse grid), and some NaN and -inf entries.
Tensor pool_input(const Shape& s, uint32_t seed) {
  std::vector<double> v = mul_scalar(hashed_input(s, seed), 3.0).to_vector();
  for (double& e : v) e = std::round(e);
  v[5] = std::numeric_limits<double>::quiet_NaN();
  v[v.size() - 9] = -std::numeric_limits<double>::infinity();
  v[40] = std::numeric_limits<double>::quiet_NaN();
  return from_vector(v, s);
}

}  // namespace

TEST_CASE("cuda-emulated image ops: normalize and its backward against the CPU kernels") {
  struct Case {
    int64_t outer, channels, inner;  // instance norm: outer 1; batch norm: outer N
    double shift;  // a large mean over a small spread is where a careless variance loses digits
  };
  // 3001 and 4096: blocks of 384 and 512 threads, several elements each; 40000: the largest block, 1024 threads;
  // outer > 1: a channel's elements in runs of `inner`, down to runs of one (batch norm of [N, C])
  for (const Case& c : {Case{1, 6, 35, 0.0}, Case{1, 5, 3001, 0.0}, Case{1, 3, 4096, 50.0}, Case{1, 2, 1, 0.0},
                        Case{1, 4, 17, 1.0}, Case{1, 2, 40000, -3.0}, Case{3, 4, 35, 2.0}, Case{5, 3, 1, 0.0},
                        Case{2, 7, 1500, -1.0}}) {
    INFO("outer ", c.outer, " channels ", c.channels, " inner ", c.inner, " shift ", c.shift);
    const Shape s{c.outer, c.channels, c.inner};
    const Tensor x = add_scalar(mul_scalar(hashed_input(s, 21), 0.5), c.shift);
    const Tensor g = hashed_input(s, 22);
    const Tensor y = empty(s), stats = empty({c.channels, 2});
    const Tensor ey = empty(s, emu_options()), estats = empty({c.channels, 2}, emu_options());
    cpu_table().normalize(x, y, stats, 1e-5);
    emu().normalize(on_emu(x), ey, estats, 1e-5);
    check_close(on_cpu(estats), stats, 1e-6, 1e-6);
    check_close(on_cpu(ey), y, 1e-5, 1e-5);
    // the backward from the same (CPU) stats, so that only the kernel differs
    const Tensor dx = empty(s), edx = empty(s, emu_options());
    cpu_table().normalize_backward(x, stats, g, dx);
    emu().normalize_backward(on_emu(x), on_emu(stats), on_emu(g), edx);
    check_close(on_cpu(edx), dx, 1e-5, 1e-5);
  }
  const Tensor x64 = on_emu(hashed_input({1, 2, 8}, 23, DType::f64));
  CHECK(error_of([&] { emu().normalize(x64, empty_like(x64), empty({2, 2}, emu_options(DType::f64)), 1e-5); })
            .find("normalize: the cuda-emulated kernel takes float32, not float64") != std::string::npos);
  const Tensor x2d = on_emu(hashed_input({2, 8}, 23));
  CHECK(error_of([&] { emu().normalize(x2d, empty_like(x2d), empty({2, 2}, emu_options()), 1e-5); })
            .find("normalize: expected a contiguous [outer, C, inner] input") != std::string::npos);
}

TEST_CASE("cuda-emulated image ops: pad2d and its adjoint, every mode, asymmetric pads") {
  struct Pads {
    int64_t left, right, top, bottom;
  };
  for (const Shape& shape : {Shape{2, 3, 7, 5}, Shape{3, 4, 6}}) {
    const int64_t H = shape[shape.size() - 2], W = shape[shape.size() - 1];
    const Tensor x = hashed_input(shape, 24);
    for (PadMode mode : {PadMode::zeros, PadMode::reflect, PadMode::replicate})
      for (const Pads& p : {Pads{2, 1, 3, 0}, Pads{0, 4, 1, 3}, Pads{1, 1, 1, 1}, Pads{6, 0, 0, 7}}) {
        if (mode == PadMode::reflect && p.left == 6) continue;  // reflect pads must be smaller than the axis
        INFO(std::string(mode_name(mode)), " pads ", p.left, " ", p.right, " ", p.top, " ", p.bottom, " of ", shape.str());
        const AxisSource rows = axis_source(H, p.top, p.bottom, mode), cols = axis_source(W, p.left, p.right, mode);
        Shape out = shape;
        out[out.size() - 2] += p.top + p.bottom;
        out[out.size() - 1] += p.left + p.right;
        const Tensor y = empty(out), ey = empty(out, emu_options());
        cpu_table().pad2d(x, y, rows, cols, 0.25);
        emu().pad2d(on_emu(x), ey, rows, cols, 0.25);
        check_identical(on_cpu(ey), y, "pad2d");
        // several outputs land on one input (reflect, replicate): the adjoint sums them
        const Tensor gy = hashed_input(out, 25);
        const Tensor gx = zeros(shape), egx = zeros(shape, emu_options());
        cpu_table().pad2d_backward(gy, gx, rows, cols);
        emu().pad2d_backward(on_emu(gy), egx, rows, cols);
        check_identical(on_cpu(egx), gx, "pad2d_backward");
      }
  }
  const Tensor x = on_emu(hashed_input({1, 2, 3}, 26));
  CHECK(error_of([&] { emu().pad2d(x, empty({1, 2, 4}, emu_options()), {0, 1}, {0, 1, 2, 3}, 0.0); })
            .find("pad2d: source position 3 outside an axis of 3") != std::string::npos);
}

TEST_CASE("cuda-emulated image ops: max_pool2d values and indices (ties, NaN, -inf, stride, pad, dilation, ceil)") {
  const Tensor x = pool_input({2, 3, 9, 7}, 27);
  for (const Pool2dOptions& o :
       {pool(2, 2, 2, 2, 0, 0, 1, 1, false), pool(3, 3, 2, 2, 1, 1, 1, 1, false), pool(3, 2, 2, 1, 1, 1, 1, 1, true),
        pool(3, 3, 1, 2, 1, 0, 2, 3, false), pool(2, 3, 3, 2, 1, 1, 2, 1, true), pool(2, 2, 2, 2, 0, 0, 1, 1, true),
        pool(4, 1, 3, 1, 2, 0, 1, 1, true)}) {
    INFO(pool_name(o));
    const Shape out = max_pool2d(x, o).shape();
    const Tensor y = empty(out), idx = empty(out, TensorOptions(DType::i64));
    const Tensor ey = empty(out, emu_options()), eidx = empty(out, emu_options(DType::i64));
    cpu_table().max_pool2d(x, y, idx, rows_of(o), cols_of(o));
    emu().max_pool2d(on_emu(x), ey, eidx, rows_of(o), cols_of(o));
    check_identical(on_cpu(ey), y, "values");
    check_identical(on_cpu(eidx), idx, "indices");
    // either output alone
    const Tensor ey_only = empty(out, emu_options()), eidx_only = empty(out, emu_options(DType::i64));
    emu().max_pool2d(on_emu(x), ey_only, Tensor(), rows_of(o), cols_of(o));
    emu().max_pool2d(on_emu(x), Tensor(), eidx_only, rows_of(o), cols_of(o));
    check_identical(on_cpu(ey_only), y, "values alone");
    check_identical(on_cpu(eidx_only), idx, "indices alone");
  }
  // the kernels take what the CPU's take: contiguous planes
  const Tensor xt = on_emu(x).transpose(2, 3);
  CHECK(error_of([&] { emu().max_pool2d(xt, empty({2, 3, 3, 4}, emu_options()), Tensor(), {}, {}); })
            .find("max_pool2d: [2, 3, 7, 9] is not a contiguous [N, C, H, W]") != std::string::npos);
}

TEST_CASE("cuda-emulated image ops: avg_pool2d and its adjoint (count_include_pad both ways, ceil_mode)") {
  const Tensor x = hashed_input({2, 3, 9, 7}, 28);
  for (bool include : {true, false})
    for (const Pool2dOptions& o :
         {pool(2, 2, 2, 2, 0, 0, 1, 1, false, include), pool(3, 3, 2, 2, 1, 1, 1, 1, false, include),
          pool(3, 2, 2, 1, 1, 1, 1, 1, true, include), pool(4, 3, 3, 2, 2, 1, 1, 1, true, include),
          pool(3, 3, 1, 1, 1, 0, 1, 1, false, include), pool(5, 2, 2, 3, 2, 1, 1, 1, true, include)}) {
      INFO(pool_name(o));
      const Shape out = avg_pool2d(x, o).shape();
      const Tensor y = empty(out), ey = empty(out, emu_options());
      cpu_table().avg_pool2d(x, y, rows_of(o), cols_of(o), include);
      emu().avg_pool2d(on_emu(x), ey, rows_of(o), cols_of(o), include);
      check_identical(on_cpu(ey), y, "avg_pool2d");
      const Tensor gy = hashed_input(out, 29);
      const Tensor gx = zeros(x.shape()), egx = zeros(x.shape(), emu_options());
      cpu_table().avg_pool2d_backward(gy, gx, rows_of(o), cols_of(o), include);
      emu().avg_pool2d_backward(on_emu(gy), egx, rows_of(o), cols_of(o), include);
      check_identical(on_cpu(egx), gx, "avg_pool2d_backward");
    }
}

TEST_CASE("cuda-emulated image ops: nearest and bilinear resampling and their adjoints, non-integer scales") {
  struct Sizes {
    int64_t H, W, OH, OW;
  };
  for (const Sizes& s : {Sizes{7, 5, 11, 13}, Sizes{7, 5, 14, 10}, Sizes{7, 5, 3, 4}, Sizes{1, 5, 4, 1},
                         Sizes{6, 9, 17, 7}}) {
    INFO(s.H, "x", s.W, " -> ", s.OH, "x", s.OW);
    const Tensor x = hashed_input({2, 3, s.H, s.W}, 30), gy = hashed_input({2, 3, s.OH, s.OW}, 31);
    const Shape out{2, 3, s.OH, s.OW};
    {
      const Tensor y = empty(out), ey = empty(out, emu_options());
      cpu_table().upsample_nearest2d(x, y);
      emu().upsample_nearest2d(on_emu(x), ey);
      check_identical(on_cpu(ey), y, "nearest");
      const Tensor gx = zeros(x.shape()), egx = zeros(x.shape(), emu_options());
      cpu_table().upsample_nearest2d_backward(gy, gx);
      emu().upsample_nearest2d_backward(on_emu(gy), egx);
      check_identical(on_cpu(egx), gx, "nearest backward");
    }
    for (bool align : {false, true}) {
      INFO("align_corners ", align);
      const Tensor y = empty(out), ey = empty(out, emu_options());
      cpu_table().upsample_bilinear2d(x, y, align);
      emu().upsample_bilinear2d(on_emu(x), ey, align);
      check_close(on_cpu(ey), y, 1e-6, 1e-7);  // the same weights; only contraction into FMAs may differ
      const Tensor gx = zeros(x.shape()), egx = zeros(x.shape(), emu_options());
      cpu_table().upsample_bilinear2d_backward(gy, gx, align);
      emu().upsample_bilinear2d_backward(on_emu(gy), egx, align);
      check_close(on_cpu(egx), gx, 1e-6, 1e-7);
    }
  }
}

// ---- the ops end to end: forward and backward on the device ----

TEST_CASE("cuda-emulated image ops: instance_norm end to end, with weight and bias, non-contiguous input") {
  Tensor x = hashed_input({2, 3, 5, 7}, 32), w = hashed_input({3}, 33), b = hashed_input({3}, 34);
  for (Tensor* t : {&x, &w, &b}) t->requires_grad_();
  check_same_on_device(  // transposed: [2, 3, 7, 5], not contiguous
      [](const TensorList& in) { return instance_norm(in[0].transpose(2, 3), in[1], in[2], 1e-5); }, {x, w, b},
      "instance_norm affine");
  Tensor plain = hashed_input({2, 3, 7, 5}, 35);
  plain.requires_grad_();
  check_same_on_device([](const TensorList& in) { return instance_norm(in[0], Tensor(), Tensor(), 1e-5); }, {plain},
                       "instance_norm");
}

TEST_CASE("cuda-emulated image ops: batch_norm end to end, training and evaluation, with running statistics") {
  Tensor x = hashed_input({3, 4, 5, 6}, 37), w = hashed_input({4}, 38), b = hashed_input({4}, 39);
  for (Tensor* t : {&x, &w, &b}) t->requires_grad_();
  check_same_on_device(  // transposed: [3, 4, 6, 5], not contiguous
      [](const TensorList& in) {
        return batch_norm(in[0].transpose(2, 3), in[1], in[2], Tensor(), Tensor(), true, 0.1, 1e-5);
      },
      {x, w, b}, "batch_norm training");
  Tensor flat = hashed_input({6, 3}, 40);  // [N, C]: runs of one element per channel
  flat.requires_grad_();
  check_same_on_device(
      [](const TensorList& in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5); },
      {flat}, "batch_norm [N, C]");
  // the running statistics are updated on the device as on the CPU
  const Tensor input = hashed_input({3, 4, 5, 6}, 41);
  Tensor mean_cpu = zeros({4}), var_cpu = ones({4});
  Tensor mean_emu = on_emu(mean_cpu), var_emu = on_emu(var_cpu);
  const Tensor y_cpu = batch_norm(input, Tensor(), Tensor(), mean_cpu, var_cpu, true, 0.1, 1e-5);
  const Tensor y_emu = batch_norm(on_emu(input), Tensor(), Tensor(), mean_emu, var_emu, true, 0.1, 1e-5);
  check_close(on_cpu(y_emu), y_cpu, 1e-5, 1e-5);
  check_close(on_cpu(mean_emu), mean_cpu, 1e-6, 1e-6);
  check_close(on_cpu(var_emu), var_cpu, 1e-6, 1e-6);
  check_close(on_cpu(batch_norm(on_emu(input), Tensor(), Tensor(), mean_emu, var_emu, false, 0.1, 1e-5)),
              batch_norm(input, Tensor(), Tensor(), mean_cpu, var_cpu, false, 0.1, 1e-5), 1e-5, 1e-5);
}

TEST_CASE("cuda-emulated image ops: pad2d end to end, every mode") {
  Tensor x = hashed_input({2, 3, 7, 5}, 36);
  x.requires_grad_();
  for (PadMode mode : {PadMode::zeros, PadMode::reflect, PadMode::replicate}) {
    check_same_on_device([mode](const TensorList& in) { return pad2d(in[0], 3, 1, 2, 4, mode, 0.5); }, {x},
                         mode_name(mode));
    check_same_on_device(  // a transposed input: the op makes it contiguous first
        [mode](const TensorList& in) { return pad2d(in[0].transpose(2, 3), 0, 2, 4, 1, mode, 0.0); }, {x},
        std::string(mode_name(mode)) + " transposed");
  }
}

TEST_CASE("cuda-emulated image ops: avg_pool2d and upsampling end to end; max_pool2d forward") {
  Tensor x = hashed_input({2, 3, 9, 7}, 37);
  x.requires_grad_();
  for (bool include : {true, false}) {
    const Pool2dOptions o = pool(3, 2, 2, 1, 1, 1, 1, 1, true, include);
    check_same_on_device([o](const TensorList& in) { return avg_pool2d(in[0], o); }, {x}, pool_name(o));
  }
  check_same_on_device([](const TensorList& in) { return upsample_nearest2d(in[0], 13, 11); }, {x}, "nearest");
  for (bool align : {false, true})
    check_same_on_device(
        [align](const TensorList& in) { return upsample_bilinear2d(in[0].transpose(2, 3), 20, 10, align); }, {x},
        align ? "bilinear align_corners, transposed input" : "bilinear, transposed input");
  // max_pool2d's backward is a scatter_add (ops/pool.cpp): the forward alone here,
  // the indices through the table above
  const Tensor xp = pool_input({2, 3, 9, 7}, 38);
  const Pool2dOptions o = pool(3, 3, 2, 2, 1, 1, 2, 1, true);
  check_same_on_device([o](const TensorList& in) { return max_pool2d(in[0], o); }, {xp}, pool_name(o));
  const auto [values, indices] = max_pool2d_with_indices(on_emu(xp), o);
  const auto [want_values, want_indices] = max_pool2d_with_indices(xp, o);
  CHECK(values.device() == Device::cuda_emulated());
  check_identical(on_cpu(indices), want_indices, "max_pool2d_with_indices");
}
