// Every differentiable op of the engine, as free functions on Tensors.
// Each family lives in ops/<family>.cpp (forward + backward formula), its
// CPU kernel in kernels/cpu/<family>.cpp, its gradcheck cases in
// gradcheck/<family>_cases.cpp and its tests in tests/test_<family>.cpp.
//
// Backward formulas are written with these same ops, so with create_graph the
// backward pass is itself recorded and can be differentiated again.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace sg {

class Generator;

// ---- elementwise unary (ops/elementwise.cpp) ----
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);  // not differentiable (zero gradient)
Tensor pow(const Tensor& x, double p);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor softplus(const Tensor& x);  // log(1 + exp(x)), computed stably
Tensor clamp(const Tensor& x, double lo, double hi);
Tensor add_scalar(const Tensor& x, double s);
Tensor mul_scalar(const Tensor& x, double s);

// ---- elementwise binary with broadcasting (ops/elementwise.cpp) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // gradient goes to the larger (ties: a)
Tensor minimum(const Tensor& a, const Tensor& b);  // gradient goes to the smaller (ties: a)

// ---- comparisons -> bool masks (ops/elementwise.cpp; not differentiable) ----
Tensor gt(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, double s);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, double s);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, double s);
Tensor le(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, double s);
Tensor eq(const Tensor& a, const Tensor& b);

// ---- selection (ops/index.cpp) ----
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);  // cond is bool
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
// out[i][j][k] = x[i][index[i][j][k]][k] for dim == 1 (torch.gather)
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// zeros(shape) with out[i][index[i][j][k]][k] += src[i][j][k] (dim == 1); adjoint of gather
Tensor scatter_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
// x reversed along each of dims: out[..., i, ...] = x[..., n-1-i, ...] (torch.flip; a copy)
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);

// ---- reductions (ops/reduce.cpp). An empty dims list reduces everything. ----
Tensor sum(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
// correction = 1 is the unbiased estimate (torch default), 0 the biased one
Tensor var(const Tensor& x, std::vector<int64_t> dims = {}, int64_t correction = 1, bool keepdim = false);
// values and int64 indices of the maximum along dim (torch.max(x, dim))
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // maximum of all elements
// Sums `x` down to `shape` (the adjoint of broadcasting / expand).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- views (ops/view.cpp) ----
Tensor reshape(const Tensor& x, const Shape& shape);  // one entry may be -1
Tensor permute(const Tensor& x, const Shape& order);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor expand(const Tensor& x, const Shape& shape);  // -1 keeps a size
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
Tensor to_dtype(const Tensor& x, DType t);  // differentiable between float types

// ---- linear algebra (ops/matmul.cpp) ----
Tensor matmul(const Tensor& a, const Tensor& b);  // 2-D x 2-D, or batched with broadcast batch dims
Tensor bmm(const Tensor& a, const Tensor& b);     // [B,n,k] x [B,k,m]
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());  // x W^T + b
// v v^T over the last two dims: [..., C, K] -> [..., C, C]. The Gram matrix of
// the style loss (style/gatys.h); one triangle computed, one product backward.
Tensor gram(const Tensor& v);

// ---- convolution (ops/conv.cpp). Weight layouts follow torch. ----
struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  int64_t output_padding_h = 0, output_padding_w = 0;  // conv_transpose2d only
};
// x [N,C,H,W], weight [O, C/groups, kh, kw], bias [O] or undefined
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o);
// x [N,C,H,W], weight [C, O/groups, kh, kw], bias [O] or undefined
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o);
// The gradient of conv2d with respect to its weight: d/dW of sum(conv2d(x, W) * grad_y).
// An op of its own so that conv2d's backward stays differentiable.
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad_y, const Shape& weight_shape,
                          const Conv2dOptions& o);

// ---- pooling (ops/pool.cpp) ----
struct Pool2dOptions {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;  // torch: stride defaults to kernel size
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;  // max_pool2d only
  bool ceil_mode = false;
  bool count_include_pad = true;  // avg_pool2d only
};
Tensor max_pool2d(const Tensor& x, const Pool2dOptions& o);
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const Pool2dOptions& o);
Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& o);

// ---- padding (ops/pad.cpp): pads the last two dims by (left, right, top, bottom) ----
enum class PadMode { zeros, reflect, replicate };
Tensor pad2d(const Tensor& x, int64_t left, int64_t right, int64_t top, int64_t bottom,
             PadMode mode = PadMode::zeros, double value = 0.0);

// ---- upsampling (ops/upsample.cpp) on [N,C,H,W] ----
Tensor upsample_nearest2d(const Tensor& x, int64_t out_h, int64_t out_w);
Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners);

// ---- normalization (ops/norm.cpp) ----
// x [N,C,...]; weight/bias [C] or undefined. Statistics over the spatial dims per (n, c).
Tensor instance_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);
// training: batch statistics, and running_mean/var (if defined) are updated in place with
// `momentum` (torch's convention, unbiased variance for the running estimate).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean,
                  Tensor running_var, bool training, double momentum = 0.1, double eps = 1e-5);

// ---- softmax family (ops/softmax.cpp) ----
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// logits [N,C] (or [N,C,d...]), target int64 [N] (or [N,d...]); mean over elements.
// Every target must be a class index in [0, C) (there is no ignore_index).
Tensor cross_entropy(const Tensor& logits, const Tensor& target);

// ---- dropout (ops/dropout.cpp) ----
// training: zeros each element with probability p (the mask is drawn from `gen`) and scales
// the rest by 1/(1-p). Identity when !training or p == 0; p must be in [0, 1].
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

// ---- losses (ops/loss.cpp); all return the mean over elements ----
Tensor l1_loss(const Tensor& x, const Tensor& target);
Tensor mse_loss(const Tensor& x, const Tensor& target);
Tensor bce_with_logits(const Tensor& logits, const Tensor& target);  // stable for any logit

}  // namespace sg
