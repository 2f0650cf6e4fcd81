// cuda-emulated, the elementwise group: the CUDA kernels of the unary,
// compare, where, max_along, softmax, gather, scatter_add and flip entries
// (kernels/cuda/{elementwise,reduce,softmax,index}.cuh), run through the
// cuda-emulated table against the CPU table on odd sizes, non-contiguous
// views and the special values (NaN, signed zeros, infinities) whose handling
// the CPU kernels define; then the ops built on them end to end, forward and
// backward on the device (check_same_on_device).
#include <omp.h>

#include <cmath>
#include <limits>

#include "device_check.h"
#include "kernels/kernel_table.h"
#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

const KernelTable& emulated() { return *cuda_emulated_kernel_table(); }
const KernelTable& host() { return *cpu_kernel_table(); }

Tensor on_emulated(const Tensor& t) { return t.to(Device::cuda_emulated()); }
Tensor on_cpu(const Tensor& t) { return t.to(Device::cpu()); }

TensorOptions emulated_options(DType dt = DType::f32) {
  TensorOptions o(dt);
  o.device = Device::cuda_emulated();
  return o;
}

// got == want elementwise within tolerance, NaN where want has NaN (and only
// there), infinities equal, and the sign of zero kept: check_close alone
// would let a NaN through.
void check_same_values(const Tensor& got, const Tensor& want, double rtol = 1e-6, double atol = 1e-7) {
  REQUIRE(got.shape() == want.shape());
  REQUIRE(got.dtype() == want.dtype());
  const std::vector<double> g = on_cpu(got).to_vector(), w = want.to_vector();
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    bool ok;
    if (std::isnan(w[i]) || std::isnan(g[i])) ok = std::isnan(w[i]) && std::isnan(g[i]);
    else if (std::isinf(w[i]) || std::isinf(g[i])) ok = g[i] == w[i];
    else if (w[i] == 0 && g[i] == 0) ok = std::signbit(w[i]) == std::signbit(g[i]);
    else ok = std::abs(g[i] - w[i]) <= atol + rtol * std::abs(w[i]);
    if (!ok && bad++ == 0) first = i;
  }
  INFO("first differing element ", first, ": got ", (g.empty() ? 0 : g[first]), ", expected ",
       (w.empty() ? 0 : w[first]));
  CHECK(bad == 0);
}

// hashed values in [-3, 3) with the special ones sprinkled in.
Tensor with_specials(const Shape& shape, uint32_t seed) {
  std::vector<double> v = mul_scalar(hashed_input(shape, seed), 3.0).to_vector();
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const double specials[] = {nan, 0.0, -0.0, inf, -inf, 100.0, -100.0, 2.0, -2.0, 0.5};
  for (size_t i = 0; i < v.size(); i += 7) v[i] = specials[(i / 7) % 10];
  return from_vector(v, shape);
}

// Test data of dtype dt: with the special values as float32/float64, small
// integers -3..2 as int64 (so that ties happen), about half true as bool.
Tensor input_of(DType dt, const Shape& shape, uint32_t seed) {
  if (dt == DType::f32 || dt == DType::f64) return with_specials(shape, seed).to(dt);
  const Tensor h = hashed_input(shape, seed);
  if (dt == DType::b8) return gt(h, 0.0);
  std::vector<double> v = h.to_vector();
  for (double& e : v) e = std::floor(e * 3);
  return from_vector(v, shape, TensorOptions(DType::i64));
}

// Blocks on at least 4 OS threads, whatever the machine or OMP_NUM_THREADS say,
// so that blocks really run at the same time.
struct FourOmpThreads {
  int before = omp_get_max_threads();
  FourOmpThreads() { omp_set_num_threads(4); }
  ~FourOmpThreads() { omp_set_num_threads(before); }
};

}  // namespace

// ---------------- the kernels against the CPU's, through the tables ----------------

TEST_CASE("cuda-emulated elementwise: every unary map, special values, strided input and output") {
  struct Case {
    Unary op;
    double a, b;
  };
  const Case cases[] = {{Unary::neg, 0, 0},       {Unary::exp, 0, 0},         {Unary::log, 0, 0},
                        {Unary::sqrt, 0, 0},      {Unary::rsqrt, 0, 0},       {Unary::abs, 0, 0},
                        {Unary::sign, 0, 0},      {Unary::relu, 0, 0},        {Unary::tanh, 0, 0},
                        {Unary::sigmoid, 0, 0},   {Unary::softplus, 0, 0},    {Unary::pow, 2, 0},
                        {Unary::pow, 3, 0},       {Unary::pow, 0.5, 0},       {Unary::pow, -1.5, 0},
                        {Unary::leaky_relu, 0.2, 0}, {Unary::leaky_slope, 0.2, 0}, {Unary::clamp, -0.3, 0.5},
                        {Unary::inside, -0.3, 0.5}, {Unary::positive, 0, 0},  {Unary::add_scalar, 1.5, 0},
                        {Unary::mul_scalar, -2, 0}};
  const Tensor base = with_specials({37, 9}, 1);
  const Tensor x = base.t();  // [9, 37], strides (1, 9)
  const Tensor ex = on_emulated(base).t();
  for (const Case& c : cases) {
    INFO("unary op ", int(c.op), " a ", c.a, " b ", c.b);
    const Tensor want = empty({9, 37});
    host().unary(c.op, x, want, c.a, c.b);
    // into a narrowed, transposed view of a larger output
    const Tensor out_base = zeros({40, 12}, emulated_options());
    const Tensor got = out_base.narrow(0, 2, 37).narrow(1, 1, 9).t();
    emulated().unary(c.op, ex, got, c.a, c.b);
    check_same_values(got, want);
    check_same_values(on_cpu(out_base).narrow(0, 0, 2), zeros({2, 12}));  // nothing written outside the view
  }
  // a broadcast (expand()ed) input, as the ops pass them
  const Tensor row = with_specials({1, 13}, 2);
  const Tensor want = empty({5, 13}), got = empty({5, 13}, emulated_options());
  host().unary(Unary::softplus, row.expand({5, 13}), want, 0, 0);
  emulated().unary(Unary::softplus, on_emulated(row).expand({5, 13}), got, 0, 0);
  check_same_values(got, want);
}

TEST_CASE("cuda-emulated elementwise: compare for every dtype, broadcast and strided") {
  for (DType dt : {DType::f32, DType::f64, DType::i64, DType::b8}) {
    const Tensor a = input_of(dt, {6, 11}, 3), b = input_of(dt, {11}, 4);
    const Tensor at = a.t();  // [11, 6], not contiguous
    const Shape s{11, 6};
    const Tensor bcol = b.reshape({11, 1}).expand(s);
    for (Compare op : {Compare::gt, Compare::lt, Compare::ge, Compare::le, Compare::eq}) {
      INFO(dtype_name(dt), " compare op ", int(op));
      const Tensor want = empty(s, TensorOptions(DType::b8)), got = empty(s, emulated_options(DType::b8));
      host().compare(op, at, bcol, want);
      emulated().compare(op, on_emulated(a).t(), on_emulated(b).reshape({11, 1}).expand(s), got);
      check_identical(on_cpu(got), want, "compare");
    }
  }
  CHECK(error_of([] {
          emulated().compare(Compare::gt, empty({2}, emulated_options()), empty({2}, emulated_options(DType::f64)),
                             empty({2}, emulated_options(DType::b8)));
        }).find("compare: inputs of different dtypes (float32 and float64)") != std::string::npos);
}

TEST_CASE("cuda-emulated elementwise: where for every dtype, broadcast condition, strided inputs") {
  const Tensor c = gt(hashed_input({7, 1, 5}, 5), 0.0);  // bool [7, 1, 5], broadcast along dim 1
  const Shape s{7, 3, 5};
  for (DType dt : {DType::f32, DType::f64, DType::i64, DType::b8}) {
    INFO(dtype_name(dt));
    const Tensor a = input_of(dt, {5, 3, 7}, 6), b = input_of(dt, {3, 1}, 7);
    const Tensor want = empty(s, TensorOptions(dt)), got = empty(s, emulated_options(dt));
    host().where(c.expand(s), a.permute({2, 1, 0}), b.expand(s), want);
    emulated().where(on_emulated(c).expand(s), on_emulated(a).permute({2, 1, 0}), on_emulated(b).expand(s), got);
    check_identical(on_cpu(got), want, "where");
  }
  CHECK(error_of([&] {
          emulated().where(on_emulated(c.to(DType::f32)).expand(s), empty(s, emulated_options()),
                           empty(s, emulated_options()), empty(s, emulated_options()));
        }).find("where: condition must be bool, not float32") != std::string::npos);
}

TEST_CASE("cuda-emulated elementwise: max_along, ties (first wins), NaN rows, long rows, strided input") {
  // values quantised to quarters so that ties are common, a NaN in some rows
  std::vector<double> v = hashed_input({5, 37, 3}, 8).to_vector();
  for (double& e : v) e = std::round(e * 4) / 4;
  v[13] = v[200] = v[201] = std::numeric_limits<double>::quiet_NaN();
  const Tensor base = from_vector(v, {5, 37, 3});
  const Tensor x = base.permute({1, 2, 0});  // [37, 3, 5], not contiguous
  const Tensor ex = on_emulated(base).permute({1, 2, 0});
  for (int dim = 0; dim < 3; ++dim) {
    INFO("dim ", dim);
    Shape k = x.shape();
    k[dim] = 1;
    const Tensor wv = empty(k), wi = empty(k, TensorOptions(DType::i64));
    const Tensor gv = empty(k, emulated_options()), gi = empty(k, emulated_options(DType::i64));
    host().max_along(x, dim, wv, wi);
    emulated().max_along(ex, dim, gv, gi);
    check_same_values(gv, wv, 0, 0);
    check_identical(on_cpu(gi), wi, "indices");
  }
  // a row longer than a block (256 threads): the maximum appears at several
  // places, the first in a later thread's stride than some others
  std::vector<double> row(1000, 0.0);
  row[777] = row[300] = row[301] = row[999] = 5.0;
  const Tensor r = from_vector(row, {2, 500});  // max along dim 0 of the [1000]-long reshaped view
  for (int pass = 0; pass < 2; ++pass) {
    const Tensor xr = pass == 0 ? r.reshape({1000, 1}) : r.reshape({1000, 1}).expand({1000, 3});
    const Shape k{1, xr.size(1)};
    const Tensor wv = empty(k), wi = empty(k, TensorOptions(DType::i64));
    const Tensor gv = empty(k, emulated_options()), gi = empty(k, emulated_options(DType::i64));
    host().max_along(xr, 0, wv, wi);
    emulated().max_along(on_emulated(r).reshape({1000, 1}).expand(xr.shape()), 0, gv, gi);
    check_identical(on_cpu(gv), wv, "long row values");
    check_identical(on_cpu(gi), wi, "long row indices");
    CHECK(on_cpu(gi).to_vector()[0] == 300);
  }
  // many outputs along a strided dim: the thread-per-output kernel
  std::vector<double> w = hashed_input({4, 7, 300}, 18).to_vector();
  for (double& e : w) e = std::round(e * 2) / 2;
  w[5] = w[305] = std::numeric_limits<double>::quiet_NaN();
  const Tensor many = from_vector(w, {4, 7, 300});
  for (const Tensor& xm : {many, many.narrow(2, 1, 299)}) {
    Shape k = xm.shape();
    k[1] = 1;
    const Tensor wv = empty(k), wi = empty(k, TensorOptions(DType::i64));
    const Tensor gv = empty(k, emulated_options()), gi = empty(k, emulated_options(DType::i64));
    host().max_along(xm, 1, wv, wi);
    emulated().max_along(on_emulated(many).narrow(2, 300 - xm.size(2), xm.size(2)), 1, gv, gi);
    check_same_values(gv, wv, 0, 0);
    check_identical(on_cpu(gi), wi, "indices, thread per output");
  }
  const Tensor x64 = on_emulated(x.to(DType::f64));
  CHECK(error_of([&] {
          emulated().max_along(x64, 0, empty({1, 3, 5}, emulated_options(DType::f64)),
                               empty({1, 3, 5}, emulated_options(DType::i64)));
        }).find("max: the cuda-emulated kernel takes float32, not float64") != std::string::npos);
}

TEST_CASE("cuda-emulated elementwise: softmax and log_softmax along every dim, strided, stable, NaN rows") {
  std::vector<double> v = mul_scalar(hashed_input({6, 37, 5}, 9), 4.0).to_vector();
  v[10] = 1000.0;  // exp would overflow without the max
  v[11] = -1000.0;
  v[40] = -std::numeric_limits<double>::infinity();
  v[333] = std::numeric_limits<double>::quiet_NaN();
  const Tensor base = from_vector(v, {6, 37, 5});
  const Tensor x = base.permute({2, 0, 1});  // [5, 6, 37], not contiguous
  const Tensor ex = on_emulated(base).permute({2, 0, 1});
  for (SoftmaxKind kind : {SoftmaxKind::softmax, SoftmaxKind::log_softmax}) {
    for (int dim = 0; dim < 3; ++dim) {
      INFO("kind ", int(kind), " dim ", dim);
      const Tensor want = empty(x.shape());
      host().softmax(x, dim, want, kind);
      // a transposed output
      const Tensor got = empty({37, 6, 5}, emulated_options()).permute({2, 1, 0});
      emulated().softmax(ex, dim, got, kind);
      check_same_values(got, want, 2e-6, 1e-7);
    }
    // many strided rows (softmax over the channels): the thread-per-row kernel
    std::vector<double> w = mul_scalar(hashed_input({4, 7, 300}, 19), 5.0).to_vector();
    w[3] = 1000.0;
    w[903] = std::numeric_limits<double>::quiet_NaN();
    w[1200] = -std::numeric_limits<double>::infinity();
    const Tensor many = from_vector(w, {4, 7, 300});
    const Tensor want_many = empty({4, 7, 300});
    host().softmax(many, 1, want_many, kind);
    const Tensor got_many = empty({300, 7, 4}, emulated_options()).permute({2, 1, 0});
    emulated().softmax(on_emulated(many), 1, got_many, kind);
    check_same_values(got_many, want_many, 2e-6, 1e-6);  // log_softmax: (x - m) - log(s) cancels
    // a row longer than a block, and a 0-d tensor
    const Tensor lx = mul_scalar(hashed_input({3, 1001}, 10), 10.0);
    const Tensor want = empty({3, 1001}), got = empty({3, 1001}, emulated_options());
    host().softmax(lx, 1, want, kind);
    emulated().softmax(on_emulated(lx), 1, got, kind);
    check_same_values(got, want, 2e-5, 1e-7);
    const Tensor s = scalar_tensor(0.7), ws = empty({}), gs = empty({}, emulated_options());
    host().softmax(s, 0, ws, kind);
    emulated().softmax(on_emulated(s), 0, gs, kind);
    check_same_values(gs, ws);
  }
  CHECK(error_of([&] {
          emulated().softmax(on_emulated(x.to(DType::f64)), 0, empty(x.shape(), emulated_options(DType::f64)),
                             SoftmaxKind::softmax);
        }).find("softmax: the cuda-emulated kernel takes float32, not float64") != std::string::npos);
}

TEST_CASE("cuda-emulated elementwise: gather and scatter_add along every dim, strided, repeated indices") {
  const Tensor xbase = hashed_input({4, 7, 5}, 11);
  const Tensor x = xbase.permute({2, 0, 1});  // [5, 4, 7], not contiguous
  const Tensor ex = on_emulated(xbase).permute({2, 0, 1});
  for (int dim = 0; dim < 3; ++dim) {
    INFO("dim ", dim);
    // an index smaller than x in the other dims, larger along dim, with repeats
    Shape is{4, 3, 6};
    is[dim] = 9;
    std::vector<double> iv(size_t(is.numel()));
    for (size_t i = 0; i < iv.size(); ++i) iv[i] = double((i * 7 + 3) % size_t(x.size(dim)));
    const Tensor idx_base = from_vector(iv, Shape{is[2], is[1], is[0]}, TensorOptions(DType::i64));
    const Tensor idx = idx_base.permute({2, 1, 0});  // [is...], not contiguous
    const Tensor eidx = on_emulated(idx_base).permute({2, 1, 0});
    const Tensor want = empty(is), got = empty(is, emulated_options());
    host().gather(x, dim, idx, want);
    emulated().gather(ex, dim, eidx, got);
    check_identical(on_cpu(got), want, "gather");
    // scatter_add: its adjoint, into a zeroed x-shaped output
    const Tensor src = hashed_input(is, 12);
    const Tensor wout = zeros(x.shape()), gout = zeros(x.shape(), emulated_options());
    host().scatter_add(wout, dim, idx, src);
    emulated().scatter_add(gout, dim, eidx, on_emulated(src));
    check_close(on_cpu(gout), wout, 1e-5, 1e-6);  // atomics add in any order
  }
  {
    // many source elements onto two output elements, from blocks on several
    // OS threads: the sums are exact integers in float32, so an update lost by
    // a non-atomic add would show (when blocks do overlap in time, which a
    // loaded 2-core machine gives rarely; the emulation's own atomics test in
    // test_cuda_emulated.cpp covers atomicAdd under contention)
    FourOmpThreads parallel;
    const int64_t n = 40000;
    const Tensor src = ones({1, n});
    std::vector<double> iv(static_cast<size_t>(n));
    for (size_t i = 0; i < iv.size(); ++i) iv[i] = double(i % 2);
    const Tensor idx = from_vector(iv, {1, n}, TensorOptions(DType::i64));
    const Tensor gout = zeros({1, 2}, emulated_options());
    emulated().scatter_add(gout, 1, on_emulated(idx), on_emulated(src));
    CHECK(on_cpu(gout).to_vector() == std::vector<double>{double(n / 2), double(n / 2)});
  }
  // an index out of range is the CPU's error, for either sign
  for (double bad : {7.0, -1.0}) {
    const Tensor i = on_emulated(from_vector({0, bad, 2}, {1, 3}, TensorOptions(DType::i64)));
    const std::string want_msg = "index " + std::to_string(int64_t(bad)) + " out of range for a dim of size 7";
    CHECK(error_of([&] { emulated().gather(on_emulated(hashed_input({1, 7}, 14)), 1, i, empty({1, 3}, emulated_options())); }) ==
          "gather: " + want_msg);
    CHECK(error_of([&] { emulated().scatter_add(zeros({1, 7}, emulated_options()), 1, i, on_emulated(hashed_input({1, 3}, 15))); }) ==
          "scatter_add: " + want_msg);
  }
  CHECK(error_of([&] {
          emulated().gather(on_emulated(hashed_input({1, 7}, 14)), 1, on_emulated(zeros({1, 3})),
                            empty({1, 3}, emulated_options()));
        }) == "gather: index must be int64, not float32");
}

TEST_CASE("cuda-emulated elementwise: flip of every dtype along any dims, strided") {
  for (DType dt : {DType::f32, DType::f64, DType::i64, DType::b8}) {
    const Tensor base = input_of(dt, {3, 6, 5}, 16);
    const Tensor x = base.permute({1, 2, 0});  // [6, 5, 3]
    for (const std::vector<int>& dims : std::vector<std::vector<int>>{{}, {0}, {2}, {0, 1}, {2, 0, 1}}) {
      INFO(dtype_name(dt), " dims ", dims.size());
      const Tensor want = empty(x.shape(), TensorOptions(dt)), got = empty(x.shape(), emulated_options(dt));
      host().flip(x, dims, want);
      emulated().flip(on_emulated(base).permute({1, 2, 0}), dims, got);
      check_identical(on_cpu(got), want, "flip");
    }
  }
}

TEST_CASE("cuda-emulated elementwise: float64 is refused by the float32 kernels, int64 data by gather, by name") {
  const Tensor x = on_emulated(hashed_input({3, 4}, 17).to(DType::f64));
  const Tensor out = empty({3, 4}, emulated_options(DType::f64));
  CHECK(error_of([&] { emulated().unary(Unary::exp, x, out, 0, 0); }) ==
        "unary: the cuda-emulated kernel takes float32, not float64");
  CHECK(error_of([&] { sg::exp(x); }) == "unary: the cuda-emulated kernel takes float32, not float64");
  CHECK(error_of([&] { emulated().scatter_add(out, 0, on_emulated(zeros({3, 4}, DType::i64)), x); }) ==
        "scatter_add: the cuda-emulated kernel takes float32, not float64");
  // gather takes float data only, as on the CPU (whose message differs: it also takes float64)
  const Tensor i = on_emulated(zeros({3, 4}, DType::i64));
  CHECK(error_of([&] { emulated().gather(i, 0, i, empty({3, 4}, emulated_options(DType::i64))); }) ==
        "gather: the cuda-emulated kernel takes float32, not int64");
  CHECK(error_of([&] { host().gather(zeros({3, 4}, DType::i64), 0, zeros({3, 4}, DType::i64), zeros({3, 4}, DType::i64)); }) ==
        "gather: expected a float32 or float64 tensor, got int64");
}

// ---------------- the ops end to end, forward and backward on the device ----------------

TEST_CASE("cuda-emulated elementwise: end to end, unary activations and maps, forward and backward") {
  Tensor x = mul_scalar(hashed_input({5, 13}, 20), 3.0);
  Tensor pos = add_scalar(abs(hashed_input({4, 9}, 21)), 0.1);
  x.requires_grad_();
  pos.requires_grad_();
  using F = std::function<Tensor(const TensorList&)>;
  const std::pair<const char*, F> on_x[] = {
      {"relu", [](const TensorList& t) { return relu(t[0]); }},
      {"tanh", [](const TensorList& t) { return tanh(t[0]); }},
      {"sigmoid", [](const TensorList& t) { return sigmoid(t[0]); }},
      {"softplus", [](const TensorList& t) { return softplus(t[0]); }},
      {"leaky_relu", [](const TensorList& t) { return leaky_relu(t[0], 0.2); }},
      {"clamp", [](const TensorList& t) { return clamp(t[0], -1.0, 0.5); }},
      {"pow 3", [](const TensorList& t) { return pow(t[0], 3.0); }},
      {"pow 2", [](const TensorList& t) { return pow(t[0], 2.0); }},
      {"abs", [](const TensorList& t) { return abs(t[0]); }},
      {"neg, add and mul by scalars", [](const TensorList& t) { return mul_scalar(add_scalar(-t[0], 0.5), 1.5); }},
      {"exp", [](const TensorList& t) { return exp(t[0]); }},
      {"relu of a transposed view", [](const TensorList& t) { return relu(t[0].t()); }},
  };
  for (const auto& [name, f] : on_x) check_same_on_device(f, {x}, name);
  const std::pair<const char*, F> on_pos[] = {
      {"log", [](const TensorList& t) { return log(t[0]); }},
      {"sqrt", [](const TensorList& t) { return sqrt(t[0]); }},
      {"rsqrt", [](const TensorList& t) { return rsqrt(t[0]); }},
      {"pow 0.5", [](const TensorList& t) { return pow(t[0], 0.5); }},
  };
  for (const auto& [name, f] : on_pos) check_same_on_device(f, {pos}, name);
}

TEST_CASE("cuda-emulated elementwise: end to end, maximum, minimum, where and comparisons, forward and backward") {
  Tensor a = hashed_input({4, 7}, 22), b = hashed_input({7}, 23);
  a.requires_grad_();
  b.requires_grad_();
  check_same_on_device([](const TensorList& t) { return maximum(t[0], t[1]); }, {a, b}, "maximum");
  check_same_on_device([](const TensorList& t) { return minimum(t[0], t[1]); }, {a, b}, "minimum");
  check_same_on_device([](const TensorList& t) { return where(gt(t[0], t[1]), t[0] * t[0], t[1]); }, {a, b},
                       "where(a > b, a * a, b)");
  check_same_on_device([](const TensorList& t) { return where(le(t[0], 0.1), t[0], mul_scalar(t[0], 3.0)); }, {a},
                       "where with a scalar comparison");
  // the bool results themselves, on the device
  const Tensor ea = on_emulated(a.detach()), eb = on_emulated(b.detach());
  const Tensor m = ge(ea, eb);
  CHECK(m.device() == Device::cuda_emulated());
  check_identical(on_cpu(m), ge(a.detach(), b.detach()), "ge");
  check_identical(on_cpu(eq(ea, ea)), eq(a.detach(), a.detach()), "eq");
}

TEST_CASE("cuda-emulated elementwise: end to end, gather, scatter_add, flip and max(dim), forward and backward") {
  Tensor x = hashed_input({3, 8, 5}, 24);
  x.requires_grad_();
  std::vector<double> iv(3 * 4 * 5);
  for (size_t i = 0; i < iv.size(); ++i) iv[i] = double((i * 5 + 1) % 8);
  const Tensor idx = from_vector(iv, {3, 4, 5}, TensorOptions(DType::i64));
  check_same_on_device([](const TensorList& t) { return gather(t[0], 1, t[1]); }, {x, idx}, "gather dim 1");
  Tensor src = hashed_input({3, 4, 5}, 25);
  src.requires_grad_();
  check_same_on_device([](const TensorList& t) { return scatter_add({3, 8, 5}, 1, t[1], t[0]); }, {src, idx},
                       "scatter_add dim 1");
  check_same_on_device([](const TensorList& t) { return flip(t[0], {0, 2}); }, {x}, "flip dims 0, 2");
  check_same_on_device([](const TensorList& t) { return flip(t[0].permute({2, 0, 1}), {-1}); }, {x},
                       "flip of a permuted view");
  for (int64_t dim : {0, 1, -1})
    check_same_on_device([dim](const TensorList& t) { return max(t[0], dim).first; }, {x},
                         "max along dim " + std::to_string(dim));
  check_same_on_device([](const TensorList& t) { return max(t[0]); }, {x}, "max of all");
  const auto [values, indices] = max(on_emulated(x.detach()), 1);
  CHECK(indices.device() == Device::cuda_emulated());
  check_identical(on_cpu(indices), max(x.detach(), 1).second, "max indices");
}

TEST_CASE("cuda-emulated elementwise: end to end, softmax, log_softmax, cross_entropy and the losses, forward and backward") {
  Tensor x = mul_scalar(hashed_input({4, 6, 3}, 26), 3.0);
  x.requires_grad_();
  for (int64_t dim : {0, 1, -1}) {
    check_same_on_device([dim](const TensorList& t) { return softmax(t[0], dim); }, {x},
                         "softmax dim " + std::to_string(dim));
    check_same_on_device([dim](const TensorList& t) { return log_softmax(t[0], dim); }, {x},
                         "log_softmax dim " + std::to_string(dim));
  }
  Tensor logits = mul_scalar(hashed_input({5, 7}, 27), 2.0);
  logits.requires_grad_();
  const Tensor target = from_vector({0, 6, 3, 3, 1}, {5}, TensorOptions(DType::i64));
  check_same_on_device([](const TensorList& t) { return cross_entropy(t[0], t[1]); }, {logits, target},
                       "cross_entropy [N, C]");
  const Tensor target2 = from_vector({2, 0, 1, 2, 2, 1}, {2, 3}, TensorOptions(DType::i64));
  check_same_on_device([](const TensorList& t) { return cross_entropy(t[0], t[1]); }, {x.narrow(0, 0, 2), target2},
                       "cross_entropy [N, C, d]");

  Tensor y = hashed_input({3, 11}, 28), target_y = hashed_input({3, 11}, 29);
  Tensor prob = mul_scalar(add_scalar(hashed_input({3, 11}, 30), 1.0), 0.5);  // in [0, 1)
  y.requires_grad_();
  target_y.requires_grad_();
  check_same_on_device([](const TensorList& t) { return l1_loss(t[0], t[1]); }, {y, target_y}, "l1_loss");
  check_same_on_device([](const TensorList& t) { return mse_loss(t[0], t[1]); }, {y, target_y}, "mse_loss");
  check_same_on_device([](const TensorList& t) { return bce_with_logits(t[0], t[1]); }, {y, prob},
                       "bce_with_logits");
}
