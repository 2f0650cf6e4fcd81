// cuda-emulated conv: the implicit-GEMM convolution kernels and gram
// (kernels/cuda/conv.cuh) against the CPU kernels through the tables, on small
// odd shapes (sizes that are not multiples of the 64 x 64 x 16 tile, strides,
// padding, dilation, groups, with and without bias), and the ops end to end,
// forward, backward and a gradient of a gradient, on the device.
#include <cmath>

#include "autograd/node.h"
#include "device_check.h"
#include "kernels/cuda/gemm.cuh"
#include "kernels/kernel_table.h"
#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

TensorOptions on_emulated_options() {
  TensorOptions o(DType::f32);
  o.device = Device::cuda_emulated();
  return o;
}
Tensor on_emulated(const Tensor& t) { return t.defined() ? t.to(Device::cuda_emulated()) : Tensor(); }
Tensor on_cpu(const Tensor& t) { return t.to(Device::cpu()); }

const KernelTable& emulated() { return *cuda_emulated_kernel_table(); }
const KernelTable& host() { return *cpu_kernel_table(); }

// The emulated GEMMs on the TF32 tensor-core path while it lives.
struct Tf32Math {
  cuda_emulated_kernels::GemmMath before = cuda_emulated_kernels::gemm_math();
  Tf32Math() { cuda_emulated_kernels::gemm_math() = cuda_emulated_kernels::GemmMath::tf32; }
  ~Tf32Math() { cuda_emulated_kernels::gemm_math() = before; }
};

// t rounded to TF32 (10 mantissa bits, to nearest, ties away from zero), as float64:
// x = m 2^e with 0.5 <= |m| < 1 keeps 11 significant bits, steps of 2^(e - 11).
Tensor tf32_rounded(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  for (double& x : v) {
    int e = 0;
    std::frexp(x, &e);
    x = x == 0 ? 0 : std::ldexp(std::round(std::ldexp(x, 11 - e)), e - 11);
  }
  return from_vector(v, t.shape(), TensorOptions(DType::f64));
}

// The largest |a - b|.
double max_difference(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

struct ConvCase {
  const char* what;
  int64_t N, C, H, W, O, kh, kw;
  int64_t stride = 1, pad = 0, dilation = 1, groups = 1;
  bool bias = false;
};

ConvParams params_of(const ConvCase& c) {
  ConvParams p;
  p.stride_h = p.stride_w = c.stride;
  p.pad_h = p.pad_w = c.pad;
  p.dilation_h = p.dilation_w = c.dilation;
  p.groups = c.groups;
  return p;
}

Shape columns_shape(const ConvCase& c) {
  const int64_t OH = (c.H + 2 * c.pad - c.dilation * (c.kh - 1) - 1) / c.stride + 1;
  const int64_t OW = (c.W + 2 * c.pad - c.dilation * (c.kw - 1) - 1) / c.stride + 1;
  return {c.N, c.O, OH, OW};
}

const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {"1x1", 2, 3, 5, 7, 5, 1, 1, 1, 0, 1, 1, true},
      {"3x3 padding 1", 2, 5, 9, 7, 6, 3, 3, 1, 1, 1, 1, false},
      {"4x4 stride 2 padding 1", 1, 3, 10, 9, 7, 4, 4, 2, 1, 1, 1, true},
      {"7x7 padding 3", 1, 3, 8, 11, 4, 7, 7, 1, 3, 1, 1, true},
      {"3x3 dilation 2 padding 2", 2, 4, 9, 8, 3, 3, 3, 1, 2, 2, 1, false},
      {"3x3 stride 2 groups 2 (an image row conv2d's floor drops)", 2, 6, 8, 7, 4, 3, 3, 2, 1, 1, 2, true},
      {"1x3 stride 3, no padding (phases no tap reaches)", 1, 2, 7, 11, 3, 1, 3, 3, 0, 1, 1, false},
      {"3x3 stride 2 dilation 2 (taps of one parity)", 2, 3, 9, 10, 2, 3, 3, 2, 1, 2, 1, true},
      {"5x5 stride 3 dilation 2 padding 2", 1, 2, 12, 11, 3, 5, 5, 3, 2, 2, 1, false},
      // more than one 64 x 64 tile of output in both directions, K not a multiple of 16
      {"3x3 with 67 outputs, 2 tiles of each", 2, 8, 6, 7, 67, 3, 3, 1, 1, 1, 1, true},
  };
  return cases;
}

}  // namespace

TEST_CASE("cuda-emulated conv: conv2d against the CPU kernel") {
  for (const ConvCase& c : conv_cases()) {
    INFO(std::string(c.what));
    const Tensor x = hashed_input({c.N, c.C, c.H, c.W}, 21), w = hashed_input({c.O, c.C / c.groups, c.kh, c.kw}, 22);
    const Tensor b = c.bias ? hashed_input({c.O}, 23) : Tensor();
    const Shape ys = columns_shape(c);
    const Tensor want = empty(ys), got = empty(ys, on_emulated_options());
    host().conv2d(x, w, b, want, params_of(c));
    emulated().conv2d(on_emulated(x), on_emulated(w), on_emulated(b), got, params_of(c));
    check_close(on_cpu(got), want, 1e-4, 1e-4);
  }
}

TEST_CASE("cuda-emulated conv: conv_transpose2d (the gather) against the CPU kernel") {
  for (const ConvCase& c : conv_cases()) {
    INFO(std::string(c.what));
    const Shape ys = columns_shape(c);
    const Tensor y = hashed_input(ys, 24), w = hashed_input({c.O, c.C / c.groups, c.kh, c.kw}, 25);
    const Tensor b = c.bias ? hashed_input({c.C}, 26) : Tensor();
    const Shape xs{c.N, c.C, c.H, c.W};
    const Tensor want = empty(xs), got = empty(xs, on_emulated_options());
    host().conv_transpose2d(y, w, b, want, params_of(c));
    emulated().conv_transpose2d(on_emulated(y), on_emulated(w), on_emulated(b), got, params_of(c));
    check_close(on_cpu(got), want, 1e-4, 1e-4);
  }
}

TEST_CASE("cuda-emulated conv: conv2d_weight_grad against the CPU kernel, K split or not, deterministic") {
  std::vector<ConvCase> cases = conv_cases();
  // N*OH*OW of 512 and 1152: K split in 2 and 4 parts, the last part shorter in the second
  cases.push_back({"3x3 padding 1, K split in 2", 2, 2, 16, 16, 3, 3, 3, 1, 1, 1, 1, false});
  cases.push_back({"3x3 padding 1 groups 2, K split in 4", 2, 4, 24, 24, 2, 3, 3, 1, 1, 1, 2, false});
  for (const ConvCase& c : cases) {
    INFO(std::string(c.what));
    const Shape ys = columns_shape(c);
    const Tensor x = hashed_input({c.N, c.C, c.H, c.W}, 27), y = hashed_input(ys, 28);
    const Shape ws{c.O, c.C / c.groups, c.kh, c.kw};
    const Tensor want = empty(ws), got = empty(ws, on_emulated_options()), again = empty(ws, on_emulated_options());
    host().conv2d_weight_grad(x, y, want, params_of(c));
    emulated().conv2d_weight_grad(on_emulated(x), on_emulated(y), got, params_of(c));
    check_close(on_cpu(got), want, 1e-4, 1e-4);
    emulated().conv2d_weight_grad(on_emulated(x), on_emulated(y), again, params_of(c));
    check_identical(on_cpu(again), on_cpu(got), "a second run, bit for bit");
  }
}

TEST_CASE("cuda-emulated conv: the kernels say what they do not take") {
  const ConvCase& c = conv_cases()[1];
  const Tensor x = on_emulated(hashed_input({c.N, c.C, c.H, c.W}, 21));
  const Tensor w = on_emulated(hashed_input({c.O, c.C, c.kh, c.kw}, 22));
  const Tensor y = empty(columns_shape(c), on_emulated_options());
  CHECK(error_of([&] { emulated().conv2d(x, w, Tensor(), empty({c.N, c.O, 3, 3}, on_emulated_options()), params_of(c)); })
            .find("conv2d: columns " + Shape{c.N, c.O, 3, 3}.str() + " are not the conv2d output of image") != std::string::npos);
  CHECK(error_of([&] { emulated().conv2d(x, w.transpose(2, 3), Tensor(), y, params_of(c)); })
            .find("conv2d: the cuda-emulated kernel takes contiguous tensors") != std::string::npos);
  CHECK(error_of([&] { emulated().conv2d(on_emulated(hashed_input({c.N, c.C, c.H, c.W}, 21, DType::f64)), w, Tensor(), y,
                                         params_of(c)); })
            .find("conv2d: the cuda-emulated kernel takes float32, not float64") != std::string::npos);
}

TEST_CASE("cuda-emulated conv: gram against the CPU kernel") {
  for (const Shape& s : {Shape{2, 5, 37}, Shape{70, 20}, Shape{3, 1, 1, 17}}) {
    INFO(s.str());
    const Tensor v = hashed_input(s, 29);
    Shape os = s;
    os[os.size() - 1] = s[s.size() - 2];
    const Tensor want = empty(os), got = empty(os, on_emulated_options());
    host().gram(v, want);
    emulated().gram(on_emulated(v), got);
    check_close(on_cpu(got), want, 1e-5, 1e-5);
  }
}

TEST_CASE("cuda-emulated conv: conv2d forward and backward on the device (all three kernels)") {
  struct OpCase {
    const char* what;
    Shape x, w;
    Conv2dOptions o;
    bool bias;
  };
  Conv2dOptions pad1;
  pad1.pad_h = pad1.pad_w = 1;
  Conv2dOptions down;  // the CycleGAN discriminator's 4x4 stride 2, here with groups 2
  down.stride_h = down.stride_w = 2, down.pad_h = down.pad_w = 1, down.groups = 2;
  Conv2dOptions dilated;
  dilated.dilation_h = dilated.dilation_w = 2, dilated.pad_h = dilated.pad_w = 2;
  for (const OpCase& c : {OpCase{"3x3 padding 1, bias", {2, 3, 7, 6}, {5, 3, 3, 3}, pad1, true},
                          OpCase{"4x4 stride 2 groups 2, bias", {1, 4, 9, 8}, {6, 2, 4, 4}, down, true},
                          OpCase{"3x3 dilation 2, no bias", {2, 2, 8, 7}, {3, 2, 3, 3}, dilated, false}}) {
    Tensor x = hashed_input(c.x, 31), w = hashed_input(c.w, 32), b = hashed_input({c.w[0]}, 33);
    x.requires_grad_(), w.requires_grad_(), b.requires_grad_();
    const Conv2dOptions o = c.o;
    if (c.bias)
      check_same_on_device([o](const TensorList& t) { return conv2d(t[0], t[1], t[2], o); }, {x, w, b}, c.what, 1e-4,
                           1e-4);
    else
      check_same_on_device([o](const TensorList& t) { return conv2d(t[0], t[1], Tensor(), o); }, {x, w}, c.what, 1e-4,
                           1e-4);
  }
}

TEST_CASE("cuda-emulated conv: conv_transpose2d stride 2, output_padding 1 (CycleGAN's upsampling), forward and backward") {
  Conv2dOptions up;
  up.stride_h = up.stride_w = 2, up.pad_h = up.pad_w = 1, up.output_padding_h = up.output_padding_w = 1;
  Tensor x = hashed_input({2, 4, 5, 6}, 34), w = hashed_input({4, 3, 3, 3}, 35), b = hashed_input({3}, 36);
  x.requires_grad_(), w.requires_grad_(), b.requires_grad_();
  check_same_on_device([up](const TensorList& t) { return conv_transpose2d(t[0], t[1], t[2], up); }, {x, w, b},
                       "conv_transpose2d 3x3 stride 2 output_padding 1", 1e-4, 1e-4);
  Conv2dOptions grouped = up;
  grouped.groups = 2;
  Tensor wg = hashed_input({4, 1, 3, 3}, 37);
  wg.requires_grad_();
  check_same_on_device([grouped](const TensorList& t) { return conv_transpose2d(t[0], t[1], Tensor(), grouped); },
                       {x, wg}, "conv_transpose2d groups 2", 1e-4, 1e-4);
}

TEST_CASE("cuda-emulated conv: a gradient of a gradient (an R1 penalty's shape) on the device") {
  // g = d/dx sum(conv2d(x, w)^2), with create_graph; then the gradients of
  // sum(g * r) into x and w run every kernel's backward, on the device.
  Conv2dOptions o;
  o.stride_h = o.stride_w = 2, o.pad_h = o.pad_w = 1;
  Tensor x = hashed_input({1, 2, 7, 6}, 38), w = hashed_input({3, 2, 3, 3}, 39);
  x.requires_grad_(), w.requires_grad_();
  check_same_on_device(
      [o](const TensorList& t) {
        const Tensor y = conv2d(t[0], t[1], Tensor(), o);
        return grad({sum(y * y)}, {t[0]}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
      },
      {x, w}, "grad of grad", 1e-4, 1e-4);
}

TEST_CASE("cuda-emulated conv: the TF32 tensor-core GEMM (its twin) against the CPU on TF32-rounded inputs") {
  // exact products (11-bit by 11-bit significands fit in float32), float32
  // sums: within rounding of the float64 product of the rounded inputs, and
  // visibly off the product of the unrounded ones (so the rounding happened).
  CHECK(tf32_rounded(t64({1 + 1.0 / 2048, -(1 + 3.0 / 2048), 1 + 1.0 / 4096, 0}, {4})).to_vector() ==
        std::vector<double>{1 + 1.0 / 1024, -(1 + 4.0 / 2048), 1, 0});  // ties away from zero
  Tf32Math tf32;
  struct Case {
    int64_t M, N, K;
  };
  for (const Case& c : {Case{1, 1, 1}, Case{65, 63, 17}, Case{130, 70, 33}, Case{3, 129, 64}}) {
    INFO("M ", c.M, " N ", c.N, " K ", c.K);
    const Tensor a = hashed_input({c.M, c.K}, 40), b = hashed_input({c.K, c.N}, 41);
    const Tensor want = empty({c.M, c.N}, TensorOptions(DType::f64)), plain = empty({c.M, c.N});
    host().matmul(tf32_rounded(a), tf32_rounded(b), want);
    host().matmul(a, b, plain);
    const Tensor got = empty({c.M, c.N}, on_emulated_options());
    emulated().matmul(on_emulated(a), on_emulated(b), got);
    check_close(on_cpu(got).to(DType::f64), want, 1e-5, 1e-5);
    if (c.K > 1) CHECK(max_difference(on_cpu(got), plain) > 1e-4);
    // column-major operands read through the same tiles
    emulated().matmul(on_emulated(a.t().contiguous()).t(), on_emulated(b.t().contiguous()).t(), got);
    check_close(on_cpu(got).to(DType::f64), want, 1e-5, 1e-5);
  }
  // the convolutions share the path: a grouped, strided one with bias (added in float32, unrounded)
  const ConvCase& c = conv_cases()[5];  // 3x3 stride 2 groups 2
  const Shape xs{c.N, c.C, c.H, c.W}, ws{c.O, c.C / c.groups, c.kh, c.kw}, ys = columns_shape(c);
  const Tensor x = hashed_input(xs, 42), w = hashed_input(ws, 43), y = hashed_input(ys, 44), b = hashed_input({c.O}, 45);
  const Tensor bc = hashed_input({c.C}, 46);
  const ConvParams p = params_of(c);
  const TensorOptions f64(DType::f64);
  Tensor want = empty(ys, f64), got = empty(ys, on_emulated_options());
  host().conv2d(tf32_rounded(x), tf32_rounded(w), b.to(DType::f64), want, p);
  emulated().conv2d(on_emulated(x), on_emulated(w), on_emulated(b), got, p);
  check_close(on_cpu(got).to(DType::f64), want, 1e-5, 1e-5);
  want = empty(xs, f64), got = empty(xs, on_emulated_options());
  host().conv_transpose2d(tf32_rounded(y), tf32_rounded(w), bc.to(DType::f64), want, p);
  emulated().conv_transpose2d(on_emulated(y), on_emulated(w), on_emulated(bc), got, p);
  check_close(on_cpu(got).to(DType::f64), want, 1e-5, 1e-5);
  want = empty(ws, f64), got = empty(ws, on_emulated_options());
  host().conv2d_weight_grad(tf32_rounded(x), tf32_rounded(y), want, p);
  emulated().conv2d_weight_grad(on_emulated(x), on_emulated(y), got, p);
  check_close(on_cpu(got).to(DType::f64), want, 1e-5, 1e-5);
}
