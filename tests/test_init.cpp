// torch.nn.init against PyTorch (tests/reference/init.txt, written by
// scripts/make_init_reference.py): fans, gains and every std/bound exactly,
// the drawn values statistically, orthogonal_ to torch's own result.
#include <fstream>
#include <sstream>

#include "nn/init.h"
#include "nn/layers.h"
#include "tests/test_util.h"

using namespace sg;
using namespace sg::test;
namespace init = sg::nn::init;

namespace {

// tests/reference/init.txt, one whitespace-separated fact a line.
std::vector<std::vector<std::string>> load_init_reference(const std::string& kind) {
  std::ifstream f(STYLEGRAD_SOURCE_DIR "/tests/reference/init.txt");
  REQUIRE_MESSAGE(f.good(), "missing tests/reference/init.txt (run scripts/make_init_reference.py)");
  std::vector<std::vector<std::string>> out;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream is(line);
    std::vector<std::string> fields;
    for (std::string w; is >> w;) fields.push_back(w);
    if (!fields.empty() && fields[0] == kind) out.push_back(fields);
  }
  REQUIRE_MESSAGE(!out.empty(), "tests/reference/init.txt has no '", kind, "' lines");
  return out;
}

Shape parse_shape(const std::string& s) {  // "8x3x3x3"
  Shape shape;
  std::istringstream is(s);
  for (std::string d; std::getline(is, d, 'x');) shape.push_back(std::stoll(d));
  return shape;
}

double num(const std::string& s) { return std::stod(s); }  // exact: torch wrote 17 digits (repr)

struct Moments {
  double mean = 0, std = 0, max_abs = 0;
};

Moments moments_of(const Tensor& t) {
  const std::vector<double> v = t.to_vector();
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= double(v.size());
  for (double x : v) {
    m.std += (x - m.mean) * (x - m.mean);
    m.max_abs = std::max(m.max_abs, std::abs(x));
  }
  m.std = std::sqrt(m.std / double(v.size() - 1));
  return m;
}

// Draws of N(0, std^2) (or U(-bound, bound), std = bound / sqrt(3)) over n
// elements: the sample mean is within 5 standard errors of 0, the sample std
// within 1% (about 7 standard errors at the sizes used; a wrong fan, gain or
// sqrt(3) is 15% off or more), and uniform draws fill [-bound, bound].
void check_draws(const Tensor& t, double spread, bool uniform) {
  const double std = uniform ? spread / std::sqrt(3.0) : spread;
  const Moments m = moments_of(t);
  INFO("mean ", m.mean, " std ", m.std, " max |x| ", m.max_abs, " expected std ", std);
  CHECK(std::abs(m.mean) < 5 * std / std::sqrt(double(t.numel())));
  CHECK(std::abs(m.std / std - 1) < 0.01);
  if (uniform) {
    const double rounding = t.dtype() == DType::f32 ? 1e-7 : 1e-16;  // of the bound, in t's dtype
    CHECK(m.max_abs <= spread * (1 + rounding));
    CHECK(m.max_abs > 0.999 * spread);
  }
}

// max |A - B| over all elements.
double max_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) d = std::max(d, std::abs(x[i] - y[i]));
  return d;
}

}  // namespace

TEST_CASE("init: fan_in and fan_out as torch computes them") {
  for (const auto& f : load_init_reference("fan")) {
    INFO(f[1]);
    const Tensor w = empty(parse_shape(f[1]));
    CHECK(init::fan_in(w) == std::stoll(f[2]));
    CHECK(init::fan_out(w) == std::stoll(f[3]));
  }
  CHECK(error_of([] { init::fan_in(empty({5})); }) == "init: fan_in needs a weight with at least 2 dims, got [5]");
}

TEST_CASE("init: calculate_gain equals torch's for every nonlinearity") {
  for (const auto& f : load_init_reference("gain")) {
    INFO(f[1], " ", f[2]);
    const std::optional<double> param = f[2] == "none" ? std::nullopt : std::optional<double>(num(f[2]));
    CHECK(init::calculate_gain(f[1], param) == num(f[3]));
  }
  CHECK(error_of([] { init::calculate_gain("gelu"); }).find("calculate_gain: unsupported nonlinearity 'gelu'") == 0);
}

TEST_CASE("init: kaiming and xavier use torch's std and bound exactly, and draw with them") {
  const std::vector<std::string> kinds = {"kaiming_normal_", "kaiming_uniform_", "xavier_normal_", "xavier_uniform_"};
  int drawn = 0;
  for (const std::string& kind : kinds) {
    for (const auto& f : load_init_reference(kind)) {
      const Shape shape = parse_shape(f[1]);
      const bool kaiming = kind[0] == 'k', uniform = kind.find("uniform") != std::string::npos;
      const double torch_spread = num(f.back());
      const Tensor probe = empty(shape);
      double spread = 0;
      if (kaiming)
        spread = uniform ? init::kaiming_uniform_bound(probe, num(f[2]), f[3], f[4])
                         : init::kaiming_normal_std(probe, num(f[2]), f[3], f[4]);
      else
        spread = uniform ? init::xavier_uniform_bound(probe, num(f[2])) : init::xavier_normal_std(probe, num(f[2]));
      INFO(kind, " ", f[1], " ", f[2], kaiming ? " " + f[3] + " " + f[4] : "");
      CHECK(spread == torch_spread);

      if (probe.numel() < 100000) continue;
      // The large shape: the function itself draws with that spread (float32 and float64).
      Generator gen(uint64_t(100 + drawn));
      Tensor w = empty(shape, drawn % 2 ? DType::f64 : DType::f32);
      if (kind == "kaiming_normal_") init::kaiming_normal_(w, num(f[2]), f[3], f[4], gen);
      if (kind == "kaiming_uniform_") init::kaiming_uniform_(w, num(f[2]), f[3], f[4], gen);
      if (kind == "xavier_normal_") init::xavier_normal_(w, num(f[2]), gen);
      if (kind == "xavier_uniform_") init::xavier_uniform_(w, num(f[2]), gen);
      check_draws(w, torch_spread, uniform);
      ++drawn;
    }
  }
  CHECK(drawn == 6 + 6 + 3 + 3);

  Tensor w = empty({4, 3});
  CHECK(error_of([&] { init::kaiming_normal_(w, 0, "fan_mid"); }) ==
        "kaiming_normal_: mode 'fan_mid' not supported (expected fan_in or fan_out)");
  CHECK(init::kaiming_normal_std(w, 0, "FAN_OUT", "relu") == init::kaiming_normal_std(w, 0, "fan_out", "relu"));
  Tensor none = empty({0, 3});
  init::kaiming_uniform_(none);  // torch leaves an empty tensor alone
}

TEST_CASE("init: uniform_, normal_, constant_ and the layers' default initialisation") {
  Generator gen(7);
  Tensor t = empty({400, 500});
  init::uniform_(t, -0.5, 2.5, gen);
  Moments m = moments_of(t);
  const double uniform_std = 3.0 / std::sqrt(12.0);
  CHECK(std::abs(m.mean - 1.0) < 5 * uniform_std / std::sqrt(2e5));
  CHECK(std::abs(m.std / uniform_std - 1) < 0.01);
  const std::vector<double> v = t.to_vector();
  CHECK(*std::min_element(v.begin(), v.end()) >= -0.5);
  CHECK(*std::max_element(v.begin(), v.end()) < 2.5);
  init::normal_(t, 3.0, 0.25, gen);
  m = moments_of(t);
  CHECK(std::abs(m.mean - 3.0) < 5 * 0.25 / std::sqrt(2e5));
  CHECK(std::abs(m.std / 0.25 - 1) < 0.01);
  init::constant_(t, 0.125);
  m = moments_of(t);
  CHECK(m.mean == 0.125);
  CHECK(m.std == 0);

  // nn::Conv2d's weight and bias bounds are torch's (1/sqrt(fan_in); torch's weight bound
  // is computed as sqrt(3) gain / sqrt(fan_in) and may differ in the last bits).
  for (const auto& f : load_init_reference("default_conv2d")) {
    INFO("Conv2d(", f[1], ", ", f[2], ", ", f[3], ")");
    manual_seed(3);
    nn::Conv2d conv(std::stoll(f[1]), std::stoll(f[2]), std::stoll(f[3]));
    const double weight_bound = num(f[4]), bias_bound = num(f[5]);
    const Moments mw = moments_of(conv.weight), mb = moments_of(conv.bias);
    CHECK(mw.max_abs <= weight_bound * (1 + 1e-15));
    CHECK(mw.max_abs > 0.999 * weight_bound);
    CHECK(std::abs(mw.std / (weight_bound / std::sqrt(3.0)) - 1) < 0.03);
    CHECK(mb.max_abs <= bias_bound);
    CHECK(mb.max_abs > 0.9 * bias_bound);
  }
}

TEST_CASE("init: orthogonal_from_normal gives torch's orthogonal_ result for torch's drawn matrix") {
  for (const auto& f : load_init_reference("orthogonal_")) {
    INFO(f[1], " gain ", f[2]);
    const Shape shape = parse_shape(f[1]);
    const int64_t rows = shape[0], cols = empty(shape).numel() / rows;
    const double gain = num(f[2]);
    const size_t n = std::stoul(f[3]);
    REQUIRE(f.size() == 4 + n + 1 + n);
    std::vector<double> mv, wv;
    for (size_t i = 0; i < n; ++i) mv.push_back(num(f[4 + i]));
    for (size_t i = 0; i < n; ++i) wv.push_back(num(f[5 + n + i]));
    const Tensor m = t64(mv, {rows, cols}), torch_w = t64(wv, {rows, cols});
    const Tensor w = init::orthogonal_from_normal(m, gain);
    CHECK(max_diff(w, torch_w) < 1e-12);

    // The sign convention on this known matrix: with A = M (or M^T when wide) and
    // Q = W / gain (or its transpose), R = Q^T A is upper triangular with a positive diagonal.
    const bool wide = rows < cols;
    const Tensor a = wide ? m.t() : m, q = (wide ? w.t() : w) / gain;
    const std::vector<double> r = matmul(q.t(), a).to_vector();
    const int64_t k = wide ? rows : cols;
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) {
        const double rij = r[size_t(i * k + j)];
        if (i == j) CHECK(rij > 0);
        if (i > j) CHECK(std::abs(rij) < 1e-12);
      }
  }
}

TEST_CASE("init: orthogonal_ gives W W^T = gain^2 I (wide) or W^T W = gain^2 I (tall)") {
  struct Case {
    Shape shape;
    double gain;
    DType dtype;
  };
  for (const Case& c : {Case{{40, 10}, 1.0, DType::f32}, Case{{10, 40}, 1.0, DType::f32},
                        Case{{8, 4, 3, 3}, 0.5, DType::f32}, Case{{64, 2, 2, 2}, 2.0, DType::f64},
                        Case{{12, 12}, 0.02, DType::f64}, Case{{6, 30}, 1.0, DType::f64}}) {
    INFO(c.shape.str(), " gain ", c.gain, " ", dtype_name(c.dtype));
    Generator gen(11);
    Tensor w = empty(c.shape, c.dtype);
    init::orthogonal_(w, c.gain, gen);
    const int64_t rows = c.shape[0], cols = w.numel() / rows;
    const Tensor w2 = w.to(DType::f64).reshape({rows, cols});
    const Tensor gram = rows <= cols ? matmul(w2, w2.t()) : matmul(w2.t(), w2);
    const int64_t k = std::min(rows, cols);
    std::vector<double> eye(size_t(k * k), 0.0);
    for (int64_t i = 0; i < k; ++i) eye[size_t(i * k + i)] = c.gain * c.gain;
    CHECK(max_diff(gram, t64(eye, {k, k})) < 1e-5 * std::max(1.0, c.gain * c.gain));
  }
  Tensor v = empty({5});
  CHECK(error_of([&] { init::orthogonal_(v); }) == "orthogonal_: needs a tensor with at least 2 dims, got [5]");
}
