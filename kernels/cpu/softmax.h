// CPU kernel for softmax and log_softmax along one dim.
#pragma once
#include "kernels/kernel_args.h"
#include "tensor/tensor.h"

namespace sg::cpu {

// out = softmax(x) or log_softmax(x) along `dim`. x and out have the same shape
// and may have any strides. Each "row" (the elements that differ only in
// `dim`) is normalised on its own, and rows are split across OpenMP threads.
void softmax(const Tensor& x, int dim, const Tensor& out, SoftmaxKind kind);

}  // namespace sg::cpu
