#include "gradcheck/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/node.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg {

namespace {

// Fresh contiguous fp64 leaves, so that elements can be perturbed in place.
TensorList fresh_leaves(const TensorList& inputs) {
  TensorList out;
  for (const Tensor& t : inputs) {
    if (!t.defined() || !is_floating(t.dtype())) {
      out.push_back(t);
      continue;
    }
    SG_CHECK(t.dtype() == DType::f64, "gradcheck: float inputs must be float64, got ", dtype_name(t.dtype()));
    Tensor c = t.detach().clone();
    if (t.requires_grad()) c.requires_grad_();
    out.push_back(c);
  }
  return out;
}

double scalar_of(const TensorFn& f, const TensorList& xs, const Tensor& v) {
  Tensor y = f(xs).detach();
  SG_CHECK(y.shape() == v.shape(), "gradcheck: output shape changed between calls");
  return sum(y * v).item();
}

// A step of 0, nan or inf, or a nan tolerance, would make every comparison
// meaningless (and, before, pass): refuse them.
void check_options(const GradcheckOptions& o) {
  SG_CHECK(std::isfinite(o.eps) && o.eps > 0, "gradcheck: eps must be a positive finite number, got ", o.eps);
  SG_CHECK(std::isfinite(o.atol) && o.atol >= 0, "gradcheck: atol must be a finite number >= 0, got ", o.atol);
  SG_CHECK(std::isfinite(o.rtol) && o.rtol >= 0, "gradcheck: rtol must be a finite number >= 0, got ", o.rtol);
}

// The larger of two errors, where nan is the largest (it must show, not hide).
double worse(double a, double b) { return std::isnan(a) || std::isnan(b) ? std::nan("") : std::max(a, b); }

}  // namespace

GradcheckResult gradcheck(const TensorFn& f, const TensorList& inputs_in, const GradcheckOptions& o) {
  check_options(o);
  TensorList xs = fresh_leaves(inputs_in);
  Generator gen(o.seed);
  Tensor y = f(xs);
  SG_CHECK(y.defined() && y.dtype() == DType::f64, "gradcheck: the function must return a float64 tensor");
  Tensor v = randn(y.shape(), gen, TensorOptions(DType::f64));

  TensorList diff;
  std::vector<int> which;
  for (size_t i = 0; i < xs.size(); ++i)
    if (xs[i].defined() && xs[i].requires_grad()) {
      diff.push_back(xs[i]);
      which.push_back(int(i));
    }
  SG_CHECK(!diff.empty(), "gradcheck: no input requires grad");

  TensorList analytic(diff.size());
  if (y.requires_grad()) analytic = grad({sum(y * v)}, diff, {}, false, false, /*allow_unused=*/true);

  GradcheckResult r;
  for (size_t k = 0; k < diff.size(); ++k) {
    double* p = diff[k].data<double>();
    const std::vector<double> a =
        analytic[k].defined() ? analytic[k].to_vector() : std::vector<double>(size_t(diff[k].numel()), 0.0);
    for (int64_t j = 0; j < diff[k].numel(); ++j) {
      const double orig = p[j];
      p[j] = orig + o.eps;
      const double lp = scalar_of(f, xs, v);
      p[j] = orig - o.eps;
      const double lm = scalar_of(f, xs, v);
      p[j] = orig;
      const double numeric = (lp - lm) / (2 * o.eps);
      const double err = std::abs(a[j] - numeric);
      const double rel = err / std::max(std::abs(numeric), o.atol);
      r.checked++;
      // Written so that a nan error (or tolerance) fails: nan <= x is false.
      if (!(err <= o.atol + o.rtol * std::abs(numeric))) r.passed = false;
      if (!(err < r.max_abs_err) && !std::isnan(r.max_abs_err)) {
        r.max_abs_err = err;
        std::ostringstream os;
        os << "input " << which[k] << " element " << j << ": analytic " << a[j] << ", numeric " << numeric;
        r.worst = os.str();
      }
      r.max_rel_err = worse(r.max_rel_err, rel);
    }
  }
  return r;
}

GradcheckResult gradgradcheck(const TensorFn& f, const TensorList& inputs_in, const GradcheckOptions& o) {
  check_options(o);
  TensorList xs = fresh_leaves(inputs_in);
  Generator gen(o.seed + 1);
  const Tensor y0 = f(xs);
  // v (the grad_output) becomes an input too: the double backward must be
  // right with respect to it as well.
  Tensor v = randn(y0.shape(), gen, TensorOptions(DType::f64));
  v.requires_grad_();
  std::vector<int> diff_idx;
  TensorList us;
  for (size_t i = 0; i < xs.size(); ++i)
    if (xs[i].defined() && xs[i].requires_grad()) {
      diff_idx.push_back(int(i));
      us.push_back(randn(xs[i].shape(), gen, TensorOptions(DType::f64)));
    }
  const size_t n = xs.size();

  TensorFn second = [&](const TensorList& args) -> Tensor {
    TensorList inner(args.begin(), args.begin() + long(n));
    const Tensor& vv = args[n];
    Tensor y = f(inner);
    TensorList diff;
    for (int i : diff_idx) diff.push_back(inner[i]);
    Tensor total = zeros({}, TensorOptions(DType::f64));
    if (!y.requires_grad()) return total;
    TensorList gs = grad({sum(y * vv)}, diff, {}, true, /*create_graph=*/true, /*allow_unused=*/true);
    for (size_t k = 0; k < gs.size(); ++k)
      if (gs[k].defined()) total = total + sum(gs[k] * us[k]);
    return total;
  };
  TensorList args = xs;
  args.push_back(v);
  return gradcheck(second, args, o);
}

}  // namespace sg
