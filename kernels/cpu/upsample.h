// CPU resampling kernels on contiguous [N, C, H, W] tensors, from x's H x W to
// y's OH x OW (any sizes: they shrink as well as grow). Each (n, c) plane is
// independent, so threads split the planes.
#pragma once
#include "tensor/tensor.h"

namespace sg::cpu {

// torch's 'nearest': y[oh, ow] = x[floor(oh * H / OH), floor(ow * W / OW)].
void upsample_nearest2d(const Tensor& x, const Tensor& y);
// Its adjoint: gx (zeroed by the caller) [source of (oh, ow)] += gy[oh, ow].
void upsample_nearest2d_backward(const Tensor& gy, const Tensor& gx);

// Bilinear interpolation between the 4 input pixels around each output's
// source point (torch's 'bilinear'; see source_point in upsample.cpp).
void upsample_bilinear2d(const Tensor& x, const Tensor& y, bool align_corners);
// Its adjoint: each gy is split over the same 4 pixels with the same weights.
void upsample_bilinear2d_backward(const Tensor& gy, const Tensor& gx, bool align_corners);

}  // namespace sg::cpu
