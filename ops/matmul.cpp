// matmul: C = A B, batched over leading dims with broadcasting.
// Backward: dA = dC B^T, dB = A^T dC (summed over broadcast batch dims), which
// are matmuls again, so higher orders work.
//
// gram: G = V V^T. It is matmul(V, V^T), but knowing that both operands are V
// saves half the work each way. Forward: G is symmetric, so the kernel (a
// SYRK) computes one triangle. Backward: V appears twice, so
//   dV = dG V + (V^T dG)^T = (dG + dG^T) V
// one product where matmul's backward would make two and add them.
#include "kernels/kernel_table.h"
#include "ops/op_util.h"

namespace sg {

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  SG_PROFILE("matmul");
  require_defined("matmul", a_in, "first input");
  require_defined("matmul", b_in, "second input");
  require_same("matmul", a_in, b_in);
  require_float("matmul", a_in);
  SG_CHECK(a_in.dim() >= 2 && b_in.dim() >= 2, "matmul: expected inputs with at least 2 dims, got ",
           a_in.shape().str(), " and ", b_in.shape().str());
  const int64_t M = a_in.size(-2), K = a_in.size(-1), N = b_in.size(-1);
  SG_CHECK(b_in.size(-2) == K, "matmul: shapes ", a_in.shape().str(), " and ", b_in.shape().str(),
           " cannot be multiplied (", K, " != ", b_in.size(-2), ")");

  // Broadcast the batch dims.
  Shape ba, bb;
  for (int i = 0; i < a_in.dim() - 2; ++i) ba.push_back(a_in.size(i));
  for (int i = 0; i < b_in.dim() - 2; ++i) bb.push_back(b_in.size(i));
  const Shape batch = broadcast_shapes(ba, bb, "matmul");
  Shape sa = batch, sb = batch, so = batch;
  sa.push_back(M), sa.push_back(K);
  sb.push_back(K), sb.push_back(N);
  so.push_back(M), so.push_back(N);

  // Each matrix needs a unit stride in one of its two dims for the GEMM.
  auto gemm_ready = [](const Tensor& t) {
    return (t.stride(-1) == 1 || t.stride(-2) == 1) ? t.detach() : t.detach().contiguous();
  };
  const Tensor a = gemm_ready(a_in).expand(sa), b = gemm_ready(b_in).expand(sb);
  Tensor out = empty(so, options_like(a_in));
  kernel_for(a.device(), &KernelTable::matmul, "matmul")(a, b, out);

  if (any_requires_grad({a_in, b_in})) {
    // dA needs only B and dB only A: each is kept only if the other's gradient is wanted.
    const Shape a_shape = a_in.shape(), b_shape = b_in.shape();
    record("matmul", {a_in, b_in}, {out}, {keep_if(a_in.requires_grad(), b_in), keep_if(b_in.requires_grad(), a_in)},
           [a_shape, b_shape](BackwardContext& ctx, const TensorList& g) -> TensorList {
             return {ctx.needs_grad(0) ? sum_to(matmul(g[0], transpose(ctx.saved(0), -1, -2)), a_shape) : Tensor(),
                     ctx.needs_grad(1) ? sum_to(matmul(transpose(ctx.saved(1), -1, -2), g[0]), b_shape) : Tensor()};
           });
  }
  return out;
}

Tensor gram(const Tensor& v) {
  SG_PROFILE("gram");
  require_defined("gram", v, "input");
  require_float("gram", v);
  SG_CHECK(v.dim() >= 2, "gram: expected an input [..., C, K] with at least 2 dims, got ", v.shape().str());
  Shape out_shape = v.shape();
  out_shape[out_shape.size() - 1] = v.size(-2);
  const Tensor vc = v.detach().contiguous();
  Tensor out = empty(out_shape, options_like(v));
  kernel_for(vc.device(), &KernelTable::gram, "gram")(vc, out);
  if (any_requires_grad({v}))
    record("gram", {v}, {out}, {v}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {matmul(g[0] + transpose(g[0], -1, -2), ctx.saved(0))};
    });
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  SG_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0), "bmm: expected [B,n,k] and [B,k,m], got ",
           a.shape().str(), " and ", b.shape().str());
  return matmul(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  require_defined("linear", weight, "weight");
  SG_CHECK(weight.dim() == 2 && x.size(-1) == weight.size(1), "linear: input ", x.shape().str(),
           " does not match weight ", weight.shape().str(), " (expected last dim ", weight.size(1), ")");
  Tensor y = matmul(x, transpose(weight, 0, 1));
  return bias.defined() ? y + bias : y;
}

}  // namespace sg
