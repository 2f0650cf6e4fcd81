// ONNX -> stylegrad for convolution, pooling, padding, resizing, normalization,
// softmax, dropout and the cross-entropy loss.
//
// stylegrad's ops follow torch, so most of this file translates ONNX's
// conventions into torch's: ONNX pads may differ at the two ends of an axis
// (torch's may not), ONNX names output pixels by coordinate-transformation
// modes (torch by align_corners), ONNX's pool stride defaults to 1 (torch's to
// the kernel size). A 1-D Conv or pool runs as 2-D with a height of 1; 3-D is
// unsupported (stylegrad's images are 2-D).
#include <algorithm>
#include <cmath>
#include <limits>

#include "onnx/ops.h"
#include "ops/ops.h"
#include "tensor/random.h"

namespace sg::onnx {

namespace {

std::vector<Tensor> one(Tensor t) { return {std::move(t)}; }

// ---------------- spatial attributes ----------------

// The number of spatial dims of x [N, C, ...]: 1 or 2.
int spatial_dims(const OpCall& c, const Tensor& x) {
  if (x.dim() == 5) c.unsupported("3-D input " + x.shape().str() + " (stylegrad's convolutions and pools are 2-D)");
  SG_CHECK(x.dim() == 3 || x.dim() == 4, c.node.op_type, ": expected a [N, C, W] or [N, C, H, W] input, got ",
           x.shape().str());
  return int(x.dim()) - 2;
}

// A 1-D tensor [N, C, W] (or weight [O, I, k]) as 2-D [N, C, 1, W], and back.
Tensor to_2d(const Tensor& x, int spatial) { return spatial == 1 ? unsqueeze(x, 2) : x; }
Tensor from_2d(const Tensor& y, int spatial) { return spatial == 1 ? squeeze(y, 2) : y; }

// A per-axis attribute (strides, dilations, kernel_shape, output_padding) for 2
// axes: `spatial` values from the node, or `fallback` for each, each at least
// `least`; a 1-D node's height gets `lift`.
std::vector<int64_t> per_axis(const OpCall& c, const char* attr, int spatial, int64_t fallback, int64_t lift,
                              int64_t least = 1) {
  std::vector<int64_t> v = c.node.get_ints(attr, std::vector<int64_t>(size_t(spatial), fallback));
  SG_CHECK(v.size() == size_t(spatial), c.node.op_type, ": attribute '", attr, "' has ", v.size(),
           " values for ", spatial, " spatial dims");
  for (int64_t x : v) SG_CHECK(x >= least, c.node.op_type, ": attribute '", attr, "' has a value below ", least);
  if (spatial == 1) v.insert(v.begin(), lift);
  return v;
}

// Padding at the start (top, left) and end (bottom, right) of the two axes.
struct Pads {
  int64_t begin[2] = {0, 0}, end[2] = {0, 0};
  bool symmetric() const { return begin[0] == end[0] && begin[1] == end[1]; }
};

// The explicit `pads` attribute, [x1_begin, x2_begin, ..., x1_end, x2_end, ...].
Pads explicit_pads(const OpCall& c, int spatial) {
  const std::vector<int64_t> p = c.node.get_ints("pads", std::vector<int64_t>(size_t(2 * spatial), 0));
  SG_CHECK(p.size() == size_t(2 * spatial), c.node.op_type, ": 'pads' has ", p.size(), " values for ", spatial,
           " spatial dims");
  Pads pads;
  for (int i = 0; i < spatial; ++i) {
    const int axis = i + 2 - spatial;  // a 1-D node pads the width
    SG_CHECK(p[i] >= 0 && p[i + spatial] >= 0, c.node.op_type, ": negative pads are not supported");
    pads.begin[axis] = p[i];
    pads.end[axis] = p[i + spatial];
  }
  return pads;
}

// Conv and pools: explicit pads, or auto_pad. SAME_* pads so that the output
// size is ceil(input / stride), the odd pixel at the end (UPPER) or start (LOWER).
Pads forward_pads(const OpCall& c, int spatial, const Tensor& x2d, const std::vector<int64_t>& kernel,
                  const std::vector<int64_t>& stride, const std::vector<int64_t>& dilation) {
  const std::string mode = c.node.get_string("auto_pad", "NOTSET");
  if (mode == "NOTSET") return explicit_pads(c, spatial);
  Pads pads;
  if (mode == "VALID") return pads;
  SG_CHECK(mode == "SAME_UPPER" || mode == "SAME_LOWER", c.node.op_type, ": unknown auto_pad '", mode, "'");
  for (int a = 0; a < 2; ++a) {
    const int64_t in = x2d.size(2 + a), out = (in + stride[a] - 1) / stride[a];
    const int64_t total = std::max<int64_t>(0, (out - 1) * stride[a] + (kernel[a] - 1) * dilation[a] + 1 - in);
    pads.begin[a] = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
    pads.end[a] = total - pads.begin[a];
  }
  return pads;
}

// pad2d's argument order: left, right, top, bottom.
Tensor pad_explicitly(const Tensor& x2d, const Pads& p, double value) {
  return pad2d(x2d, p.begin[1], p.end[1], p.begin[0], p.end[0], PadMode::zeros, value);
}

// ---------------- Conv, ConvTranspose ----------------

std::vector<Tensor> conv(const OpCall& c) {
  const int spatial = spatial_dims(c, c.in_float(0));
  Tensor x = to_2d(c.in_float(0), spatial);
  const Tensor w = to_2d(c.in_float(1), spatial);
  const std::vector<int64_t> kernel = {w.size(2), w.size(3)};
  SG_CHECK(!c.node.find("kernel_shape") || per_axis(c, "kernel_shape", spatial, 1, 1) == kernel,
           "Conv: kernel_shape differs from the weight's ", w.shape().str());
  const std::vector<int64_t> stride = per_axis(c, "strides", spatial, 1, 1);
  const std::vector<int64_t> dilation = per_axis(c, "dilations", spatial, 1, 1);
  const Pads pads = forward_pads(c, spatial, x, kernel, stride, dilation);

  Conv2dOptions o;
  o.stride_h = stride[0], o.stride_w = stride[1];
  o.dilation_h = dilation[0], o.dilation_w = dilation[1];
  o.groups = c.node.get_int("group", 1);
  SG_CHECK(o.groups >= 1, c.node.op_type, ": group ", o.groups);
  if (pads.symmetric()) {
    o.pad_h = pads.begin[0], o.pad_w = pads.begin[1];
  } else {  // conv2d pads both ends alike: pad the input first
    x = pad_explicitly(x, pads, 0.0);
  }
  const Tensor bias = c.has(2) ? c.in_float(2) : Tensor();
  return one(from_2d(conv2d(x, w, bias, o), spatial));
}

// ConvTranspose. Its full output (no padding) along an axis has
// F = stride (in - 1) + dilation (k - 1) + 1 pixels; pads crop that from both
// ends, output_padding adds pixels at the end. Given output_shape (or auto_pad),
// the pads are derived from it. conv_transpose2d crops both ends alike, so the
// smaller crop is done by it and the rest by narrow.
std::vector<Tensor> conv_transpose(const OpCall& c) {
  const int spatial = spatial_dims(c, c.in_float(0));
  const Tensor x = to_2d(c.in_float(0), spatial);
  const Tensor w = to_2d(c.in_float(1), spatial);  // [C, O/group, kh, kw]
  const std::vector<int64_t> kernel = {w.size(2), w.size(3)};
  const std::vector<int64_t> stride = per_axis(c, "strides", spatial, 1, 1);
  const std::vector<int64_t> dilation = per_axis(c, "dilations", spatial, 1, 1);
  std::vector<int64_t> extra = per_axis(c, "output_padding", spatial, 0, 0, /*least=*/0);
  const std::string auto_pad = c.node.get_string("auto_pad", "NOTSET");

  Pads pads = explicit_pads(c, spatial);
  std::vector<int64_t> wanted = c.node.get_ints("output_shape", {});  // spatial sizes
  if (wanted.size() > size_t(spatial)) wanted.erase(wanted.begin(), wanted.end() - spatial);
  if (wanted.empty() && (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER"))
    for (int i = 0; i < spatial; ++i) wanted.push_back(c.in(0).size(2 + i) * stride[i + 2 - spatial]);
  if (!wanted.empty()) {
    SG_CHECK(wanted.size() == size_t(spatial), "ConvTranspose: output_shape has ", wanted.size(), " values for ",
             spatial, " spatial dims");
    if (spatial == 1) wanted.insert(wanted.begin(), 1);
    for (int a = 0; a < 2; ++a) {
      const int64_t full = stride[a] * (x.size(2 + a) - 1) + dilation[a] * (kernel[a] - 1) + 1;
      const int64_t total = full + extra[a] - wanted[a];
      if (total < 0) {  // larger than the full output: the rest is output padding at the end
        extra[a] -= total;
        pads.begin[a] = pads.end[a] = 0;
      } else {
        pads.begin[a] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        pads.end[a] = total - pads.begin[a];
      }
    }
  }

  Conv2dOptions o;
  o.stride_h = stride[0], o.stride_w = stride[1];
  o.dilation_h = dilation[0], o.dilation_w = dilation[1];
  o.groups = c.node.get_int("group", 1);
  SG_CHECK(o.groups >= 1, c.node.op_type, ": group ", o.groups);
  o.pad_h = std::min(pads.begin[0], pads.end[0]), o.pad_w = std::min(pads.begin[1], pads.end[1]);
  o.output_padding_h = extra[0], o.output_padding_w = extra[1];
  const Tensor bias = c.has(2) ? c.in_float(2) : Tensor();
  Tensor y = conv_transpose2d(x, w, bias, o);
  const int64_t pad_hw[2] = {o.pad_h, o.pad_w};
  for (int a = 0; a < 2; ++a) {
    const int64_t from_start = pads.begin[a] - pad_hw[a], from_end = pads.end[a] - pad_hw[a];
    y = narrow(y, 2 + a, from_start, y.size(2 + a) - from_start - from_end);
  }
  return one(from_2d(y, spatial));
}

// ---------------- MaxPool, AveragePool ----------------

// Whether torch-style pooling can take these pads itself: equal at both ends
// and at most half the kernel (torch's rule). Otherwise the input is padded first.
bool pool_takes_pads(const Pads& p, const std::vector<int64_t>& kernel) {
  return p.symmetric() && p.begin[0] <= kernel[0] / 2 && p.begin[1] <= kernel[1] / 2;
}

struct PoolSetup {
  int spatial;
  Tensor x;  // 2-D, padded beforehand unless `o` holds the pads
  Pool2dOptions o;
  Pads pads;
  bool prepadded;
};

// dilations are MaxPool's only (AveragePool has them from opset 19).
PoolSetup pool_setup(const OpCall& c, bool with_dilations) {
  PoolSetup s;
  s.spatial = spatial_dims(c, c.in_float(0));
  s.x = to_2d(c.in_float(0), s.spatial);
  SG_CHECK(c.node.find("kernel_shape"), c.node.op_type, ": the kernel_shape attribute is required");
  const std::vector<int64_t> kernel = per_axis(c, "kernel_shape", s.spatial, 1, 1);
  const std::vector<int64_t> stride = per_axis(c, "strides", s.spatial, 1, 1);  // ONNX: default 1, not the kernel
  const std::vector<int64_t> dilation = with_dilations ? per_axis(c, "dilations", s.spatial, 1, 1)
                                                       : std::vector<int64_t>{1, 1};
  s.pads = forward_pads(c, s.spatial, s.x, kernel, stride, dilation);
  s.o.kernel_h = kernel[0], s.o.kernel_w = kernel[1];
  s.o.stride_h = stride[0], s.o.stride_w = stride[1];
  s.o.dilation_h = dilation[0], s.o.dilation_w = dilation[1];
  s.o.ceil_mode = c.node.get_int("ceil_mode", 0) != 0;
  s.prepadded = !pool_takes_pads(s.pads, kernel);
  if (!s.prepadded) s.o.pad_h = s.pads.begin[0], s.o.pad_w = s.pads.begin[1];
  return s;
}

// MaxPool; its optional second output holds the argmax as an index into the
// whole input tensor: ((n C + c) H + h) W + w, or with storage_order 1
// (column-major) ((n C + c) W + w) H + h. stylegrad's indices count within one
// [H, W] plane, row-major.
std::vector<Tensor> max_pool(const OpCall& c) {
  PoolSetup s = pool_setup(c, true);
  const double inf = std::numeric_limits<double>::infinity();
  if (s.prepadded) s.x = pad_explicitly(s.x, s.pads, -inf);  // -inf never wins a max
  const bool want_indices = c.node.outputs.size() > 1 && !c.node.outputs[1].empty();
  if (!want_indices) return one(from_2d(max_pool2d(s.x, s.o), s.spatial));
  if (s.prepadded) c.unsupported("the Indices output with pads that stylegrad's max_pool2d does not take");

  auto [values, plane_index] = max_pool2d_with_indices(s.x, s.o);
  const int64_t H = s.x.size(2), W = s.x.size(3), plane = H * W;
  const bool column_major = c.node.get_int("storage_order", 0) != 0;
  std::vector<double> index = plane_index.to_vector();
  const int64_t per_plane = values.size(2) * values.size(3);
  for (size_t i = 0; i < index.size(); ++i) {
    const int64_t p = int64_t(i) / per_plane, at = int64_t(index[i]);  // p = n * C + c
    const int64_t h = at / W, w = at % W;
    index[i] = double(p * plane + (column_major ? w * H + h : at));
  }
  Tensor indices = from_vector(index, values.shape(), DType::i64);
  return {from_2d(values, s.spatial), from_2d(indices, s.spatial)};
}

// AveragePool. count_include_pad = 0 (ONNX's default) divides by the pixels
// inside the input only; when the input had to be padded beforehand that is
// avg(padded x) / avg(padded ones): the zeros add nothing to the sum, and the
// second average counts the real pixels of each window.
std::vector<Tensor> average_pool(const OpCall& c) {
  PoolSetup s = pool_setup(c, false);
  const bool include_pad = c.node.get_int("count_include_pad", 0) != 0;
  s.o.count_include_pad = include_pad;
  if (!s.prepadded) return one(from_2d(avg_pool2d(s.x, s.o), s.spatial));
  const Tensor sums = avg_pool2d(pad_explicitly(s.x, s.pads, 0.0), s.o);
  if (include_pad) return one(from_2d(sums, s.spatial));
  const Tensor real = avg_pool2d(pad_explicitly(ones_like(s.x), s.pads, 0.0), s.o);
  return one(from_2d(sums / real, s.spatial));
}

// ---------------- Pad ----------------

// Pad (constant, reflect, edge) of the last two dims: stylegrad's pad2d. It is
// a float op; integer tensors (ONNX's edge and reflect tests pad int32) go
// through float64 and back, which is exact below 2^53 (padding moves values,
// it computes none).
std::vector<Tensor> pad(const OpCall& c) {
  const Tensor& input = c.in(0);
  if (input.dtype() == DType::b8) c.unsupported("bool input");
  const Tensor x = is_floating(input.dtype()) ? input : to_dtype(input, DType::f64);
  const int64_t r = x.dim();
  const std::vector<int64_t> pads = c.opset < 11 ? c.node.get_ints("pads", {}) : int_values(c, 1);
  double value = c.opset < 11 ? c.node.get_float("value", 0.0f) : 0.0;
  if (c.opset >= 11 && c.has(2)) value = c.in(2).item();
  SG_CHECK(int64_t(pads.size()) == 2 * r, "Pad: ", pads.size(), " pads for ", r, " dims");
  if (r < 2) c.unsupported("a " + std::to_string(r) + "-d input (stylegrad's pad2d pads the last two dims)");
  for (int64_t d = 0; d < r; ++d) {
    if (pads[d] < 0 || pads[d + r] < 0) c.unsupported("negative pads (cropping)");
    if (d < r - 2 && (pads[d] || pads[d + r]))
      c.unsupported("padding dim " + std::to_string(d) + " (stylegrad's pad2d pads the last two dims)");
  }
  const std::string mode = c.node.get_string("mode", "constant");
  PadMode m = PadMode::zeros;
  if (mode == "reflect") m = PadMode::reflect;
  else if (mode == "edge") m = PadMode::replicate;
  else if (mode != "constant") c.unsupported("mode '" + mode + "'");
  const Tensor y = pad2d(x, pads[r - 1], pads[2 * r - 1], pads[r - 2], pads[2 * r - 2], m, value);
  return one(to_dtype(y, input.dtype()));
}

// ---------------- Resize, Upsample ----------------

// ONNX says where each output pixel reads from with a coordinate transformation
// (and, for nearest, a rounding rule); stylegrad's upsampling reads where torch
// does. Rather than trust that two descriptions agree, the source coordinate of
// every output pixel is computed both ways and compared; a Resize runs only
// when they agree on both axes.

// ONNX's source coordinate of output pixel `dst` along an axis. Its output
// length here is in * scale unrounded, as in ONNX's reference implementation
// (it matters for align_corners when in * scale is not a whole number).
double onnx_source(const std::string& mode, int64_t dst, double scale, int64_t in) {
  const double out = double(in) * scale;
  if (mode == "half_pixel") return (dst + 0.5) / scale - 0.5;
  if (mode == "pytorch_half_pixel") return out > 1 ? (dst + 0.5) / scale - 0.5 : 0.0;
  if (mode == "align_corners") return out > 1 ? dst * double(in - 1) / (out - 1) : 0.0;
  if (mode == "asymmetric") return dst / scale;
  return (dst + 0.5) / scale;  // tf_half_pixel_for_nn
}

int64_t onnx_nearest(const std::string& rounding, double x) {
  const double fl = std::floor(x);
  if (rounding == "floor") return int64_t(fl);
  if (rounding == "ceil") return int64_t(std::ceil(x));
  if (x - fl == 0.5) return int64_t(rounding == "round_prefer_ceil" ? fl + 1 : fl);
  return int64_t(std::round(x));
}

// Whether ONNX and stylegrad read the same pixels along one axis.
bool same_nearest(const std::string& mode, const std::string& rounding, double scale, int64_t in, int64_t out) {
  for (int64_t dst = 0; dst < out; ++dst) {
    const int64_t onnx = std::clamp<int64_t>(onnx_nearest(rounding, onnx_source(mode, dst, scale, in)), 0, in - 1);
    const int64_t torch = std::min<int64_t>(int64_t(std::floor(dst * double(in) / double(out))), in - 1);
    if (onnx != torch) return false;
  }
  return true;
}

// Linear interpolation beyond the first or last pixel repeats it (ONNX's
// reference pads the edges; torch clamps), so coordinates are compared clamped.
bool same_linear(const std::string& mode, bool align_corners, double scale, int64_t in, int64_t out) {
  for (int64_t dst = 0; dst < out; ++dst) {
    const double onnx = std::clamp(onnx_source(mode, dst, scale, in), 0.0, double(in - 1));
    const double torch = align_corners ? (out > 1 ? dst * double(in - 1) / double(out - 1) : 0.0)
                                       : (dst + 0.5) * double(in) / double(out) - 0.5;
    if (std::abs(onnx - std::clamp(torch, 0.0, double(in - 1))) > 1e-5) return false;
  }
  return true;
}

// The shared part of Resize and Upsample, on x [N, C, H, W] with the scales or
// sizes of all four dims (exactly one of them non-empty).
Tensor resize(const OpCall& c, const Tensor& x, const std::vector<double>& scales, const std::vector<int64_t>& sizes,
              const std::string& mode, const std::string& coordinates, const std::string& rounding) {
  if (x.dim() != 4) c.unsupported("a " + std::to_string(x.dim()) + "-d input (stylegrad resizes [N, C, H, W])");
  int64_t out[2];
  double scale[2];
  for (int a = 0; a < 2; ++a) {
    const int64_t in = x.size(2 + a);
    if (!sizes.empty()) {
      SG_CHECK(sizes.size() == 4, c.node.op_type, ": ", sizes.size(), " sizes for a 4-d input");
      if (sizes[0] != x.size(0) || sizes[1] != x.size(1)) c.unsupported("resizing the batch or channel dim");
      out[a] = sizes[2 + a];
      scale[a] = double(out[a]) / double(in);
    } else {
      SG_CHECK(scales.size() == 4, c.node.op_type, ": ", scales.size(), " scales for a 4-d input");
      if (scales[0] != 1 || scales[1] != 1) c.unsupported("resizing the batch or channel dim");
      scale[a] = scales[2 + a];
      SG_CHECK(std::isfinite(scale[a]) && scale[a] > 0, c.node.op_type, ": scale ", scale[a]);
      out[a] = int64_t(std::floor(double(in) * scale[a]));
    }
    SG_CHECK(out[a] > 0, c.node.op_type, ": output size ", out[a]);
  }
  const std::string where = " (mode " + mode + ", coordinate_transformation_mode " + coordinates +
                            (mode == "nearest" ? ", nearest_mode " + rounding : std::string()) + ")";
  if (mode == "nearest") {
    for (int a = 0; a < 2; ++a)
      if (!same_nearest(coordinates, rounding, scale[a], x.size(2 + a), out[a]))
        c.unsupported("picks other pixels than stylegrad's nearest upsampling, floor(dst * in / out)" + where);
    return upsample_nearest2d(x, out[0], out[1]);
  }
  if (mode == "linear") {
    for (bool align_corners : {false, true}) {
      bool same = true;
      for (int a = 0; a < 2; ++a) same = same && same_linear(coordinates, align_corners, scale[a], x.size(2 + a), out[a]);
      if (same) return upsample_bilinear2d(x, out[0], out[1], align_corners);
    }
    c.unsupported("samples other points than stylegrad's bilinear upsampling with either align_corners" + where);
  }
  c.unsupported("mode '" + mode + "' (stylegrad upsamples nearest and bilinear)");
}

std::vector<double> float_values(const Tensor& t) { return t.to_vector(); }

std::vector<Tensor> resize_op(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  const std::string coordinates = c.opset < 11 ? "asymmetric" : c.node.get_string("coordinate_transformation_mode", "half_pixel");
  if (coordinates == "tf_crop_and_resize") c.unsupported("coordinate_transformation_mode tf_crop_and_resize");
  // Inputs: opset 10 (X, scales); from opset 11 (X, roi, scales, sizes), unused ones empty.
  const size_t scales_at = c.opset < 11 ? 1 : 2;
  const std::vector<double> scales = c.has(scales_at) ? float_values(c.in(scales_at)) : std::vector<double>{};
  const std::vector<int64_t> sizes = c.opset >= 11 && c.has(3) && c.in(3).numel() > 0 ? int_values(c, 3)
                                                                                        : std::vector<int64_t>{};
  const std::string rounding = c.opset < 11 ? "floor" : c.node.get_string("nearest_mode", "round_prefer_floor");
  return one(resize(c, x, sizes.empty() ? scales : std::vector<double>{}, sizes, c.node.get_string("mode", "nearest"),
                    coordinates, rounding));
}

// Upsample (deprecated in opset 10) is Resize with asymmetric coordinates and
// nearest rounding down; its scales are an attribute up to opset 8, an input after.
std::vector<Tensor> upsample(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  std::vector<double> scales;
  if (c.opset < 9) {
    const Attribute* a = c.node.find("scales");
    SG_CHECK(a, "Upsample: the scales attribute is required");
    scales.assign(a->fs.begin(), a->fs.end());
  } else {
    scales = float_values(c.in(1));
  }
  return one(resize(c, x, scales, {}, c.node.get_string("mode", "nearest"), "asymmetric", "floor"));
}

// ---------------- normalization ----------------

std::vector<Tensor> instance_normalization(const OpCall& c) {
  return one(instance_norm(c.in_float(0), c.in_float(1), c.in_float(2), c.node.get_float("epsilon", 1e-5f)));
}

// BatchNormalization. In training mode (opset 14+) it also returns the updated
// running statistics, with ONNX's conventions: running = momentum * running +
// (1 - momentum) * batch, and the biased batch variance.
std::vector<Tensor> batch_normalization(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  const Tensor &scale = c.in_float(1), &bias = c.in_float(2), &mean_in = c.in_float(3), &var_in = c.in_float(4);
  const double eps = c.node.get_float("epsilon", 1e-5f);
  const bool training = c.opset >= 14 && c.node.get_int("training_mode", 0) != 0;
  if (c.opset < 9 && c.node.get_int("spatial", 1) == 0) c.unsupported("spatial = 0 (statistics per pixel)");
  if (!training) return one(batch_norm(x, scale, bias, mean_in, var_in, false, 0.1, eps));

  const double momentum = c.node.get_float("momentum", 0.9f);
  std::vector<int64_t> not_channels = {0};
  for (int64_t d = 2; d < x.dim(); ++d) not_channels.push_back(d);
  const Tensor batch_mean = mean(x, not_channels), batch_var = var(x, not_channels, /*correction=*/0);
  const Tensor y = batch_norm(x, scale, bias, Tensor(), Tensor(), true, 0.1, eps);
  return {y, mean_in * momentum + batch_mean * (1 - momentum), var_in * momentum + batch_var * (1 - momentum)};
}

// ---------------- softmax, dropout, loss ----------------

// Softmax / LogSoftmax. Before opset 13 the input is seen as 2-D, [dims before
// axis, dims from axis on], and normalized over the second; since 13 over `axis`.
template <bool Log>
std::vector<Tensor> softmax_op(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  auto f = [](const Tensor& t, int64_t dim) { return Log ? log_softmax(t, dim) : softmax(t, dim); };
  if (c.opset >= 13) return one(f(x, c.node.get_int("axis", -1)));
  const int64_t axis = wrap_axis(c, c.node.get_int("axis", 1), x.dim());
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.size(d);
  return one(reshape(f(reshape(x, {outer, -1}), 1), x.shape()));
}

// Dropout as inference runs it: the identity, with a mask of all true. In
// training mode that holds only for ratio 0; any other ratio draws a random
// mask, which no generator here can reproduce.
std::vector<Tensor> dropout_op(const OpCall& c) {
  const Tensor& x = c.in_float(0);
  double ratio = c.opset < 12 ? c.node.get_float("ratio", 0.5f) : 0.5;
  bool training = false;  // before opset 12 the runtime's mode decides; the tests run inference
  if (c.opset >= 12) {
    if (c.has(1)) ratio = c.in(1).item();
    if (c.has(2)) training = c.in(2).item() != 0;
  }
  if (training && ratio != 0) c.unsupported("training mode with ratio > 0 (a random mask)");
  Generator gen(0);
  return {dropout(x, ratio, training, gen), ones(x.shape(), DType::b8)};
}

// SoftmaxCrossEntropyLoss: stylegrad's cross_entropy is the unweighted mean
// over all elements, so that is what runs; log_prob is the second output.
std::vector<Tensor> softmax_cross_entropy(const OpCall& c) {
  const Tensor& scores = c.in_float(0);
  const Tensor& labels = c.in(1);
  if (c.has(2)) c.unsupported("class weights (stylegrad's cross_entropy is unweighted)");
  if (c.node.find("ignore_index")) c.unsupported("ignore_index (stylegrad's cross_entropy counts every label)");
  const std::string reduction = c.node.get_string("reduction", "mean");
  if (reduction != "mean") c.unsupported("reduction '" + reduction + "' (stylegrad's cross_entropy is the mean)");
  return {cross_entropy(scores, labels), log_softmax(scores, 1)};
}

}  // namespace

void add_nn_ops(OpTable& t) {
  t["Conv"] = conv;
  t["ConvTranspose"] = conv_transpose;
  t["MaxPool"] = max_pool;
  t["AveragePool"] = average_pool;
  t["Pad"] = pad;
  t["Resize"] = resize_op;
  t["Upsample"] = upsample;
  t["InstanceNormalization"] = instance_normalization;
  t["BatchNormalization"] = batch_normalization;
  t["Softmax"] = softmax_op<false>;
  t["LogSoftmax"] = softmax_op<true>;
  t["Dropout"] = dropout_op;
  t["SoftmaxCrossEntropyLoss"] = softmax_cross_entropy;
}


}  // namespace sg::onnx
