// CPU kernels for 2-d padding, on contiguous tensors seen as [planes, H, W]
// (every leading dim is a plane).
//
// The padding mode only decides which input pixel each output pixel copies,
// one axis at a time, so the kernels take that as a table per axis and stay
// the same for every mode (ops/pad.cpp builds the tables).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/kernel_args.h"

#include "tensor/tensor.h"

namespace sg::cpu {

// y[p, i, j] = x[p, rows[i], cols[j]], or `value` where rows[i] or cols[j] is -1.
void pad2d(const Tensor& x, const Tensor& y, const AxisSource& rows, const AxisSource& cols, double value);
// The adjoint (ignoring the constant): gx[p, rows[i], cols[j]] += gy[p, i, j],
// skipping -1 entries; gx is zeroed by the caller.
void pad2d_backward(const Tensor& gy, const Tensor& gx, const AxisSource& rows, const AxisSource& cols);

}  // namespace sg::cpu
