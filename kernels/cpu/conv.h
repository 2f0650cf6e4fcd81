// CPU convolution kernels: im2col + GEMM, and GEMM + col2im for the transpose.
//
// The three kernels all look at one convolution from conv2d's side:
//
//   image   [N, C, H, W]         conv2d's input,  conv_transpose2d's output
//   columns [N, O, OH, OW]       conv2d's output, conv_transpose2d's input
//   weight  [O, C/groups, kh, kw]
//
// im2col copies, for one image and one group, every kernel window into a column
// of a [C/groups * kh * kw, OH * OW] matrix; then
//   conv2d             columns = weight (as [O/groups, C/groups*kh*kw]) x im2col(image)
//   conv_transpose2d   image   = col2im(weight^T x columns)       (the adjoint of conv2d in x)
//   conv2d_weight_grad weight  = sum over n of columns x im2col(image)^T
// col2im is the adjoint of im2col: it adds every column entry back onto the
// pixel it was copied from. (conv.cpp builds the im2col matrix a band of
// output rows at a time, which keeps it small.)
//
// Every tensor must be contiguous and allocated by the caller with the right
// shape (ops/conv.cpp checks the shapes; these kernels trust them).
#pragma once
#include <cstdint>

#include "kernels/kernel_args.h"

#include "tensor/tensor.h"

namespace sg::cpu {

// columns = conv2d(image, weight) + bias (bias [O] or undefined).
void conv2d(const Tensor& image, const Tensor& weight, const Tensor& bias, const Tensor& columns,
            const ConvParams& p);
// image = conv_transpose2d(columns, weight) + bias (bias [C] or undefined).
void conv_transpose2d(const Tensor& columns, const Tensor& weight, const Tensor& bias, const Tensor& image,
                      const ConvParams& p);
// grad_weight = d/dweight of sum(conv2d(image, weight) * columns).
void conv2d_weight_grad(const Tensor& image, const Tensor& columns, const Tensor& grad_weight,
                        const ConvParams& p);

}  // namespace sg::cpu
