#include "gradcheck/cases.h"

namespace sg::cases {

namespace {

// Options built by a setter, so each case says which fields it changes.
template <class Set>
Conv2dOptions conv_options(Set set) {
  Conv2dOptions o;
  set(o);
  return o;
}

// x, weight and (optionally) a bias of `bias_size`, all checked.
GradcheckCase conv_case(const char* op, const char* variant, Shape x, Shape w, int64_t bias_size,
                        Conv2dOptions o, Tensor (*f)(const Tensor&, const Tensor&, const Tensor&, const Conv2dOptions&)) {
  return {op, variant,
          [=](Generator& g) -> TensorList {
            return {input(g, x), input(g, w), bias_size > 0 ? input(g, {bias_size}) : Tensor()};
          },
          [=](const TensorList& t) { return f(t[0], t[1], t[2], o); }, true};
}

GradcheckCase weight_grad_case(const char* variant, Shape x, Shape grad_y, Shape w, Conv2dOptions o) {
  return {"conv2d_weight_grad", variant,
          [=](Generator& g) -> TensorList { return {input(g, x), input(g, grad_y)}; },
          [=](const TensorList& t) { return conv2d_weight_grad(t[0], t[1], w, o); }, true};
}

}  // namespace

std::vector<GradcheckCase> conv_cases() {
  const Conv2dOptions plain;
  const Conv2dOptions s2_p1_g2 = conv_options([](Conv2dOptions& o) {
    o.stride_h = o.stride_w = 2;
    o.pad_h = o.pad_w = 1;
    o.groups = 2;
  });
  const Conv2dOptions nonsquare_dil2 = conv_options([](Conv2dOptions& o) {
    o.stride_w = 2;
    o.pad_h = 1, o.pad_w = 2;
    o.dilation_h = 2;
  });
  const Conv2dOptions depthwise_s2_p1 = conv_options([](Conv2dOptions& o) {
    o.stride_h = o.stride_w = 2;
    o.pad_h = o.pad_w = 1;
    o.groups = 3;
  });
  const Conv2dOptions t_s2_p1_op1_g2 = conv_options([](Conv2dOptions& o) {
    o.stride_h = o.stride_w = 2;
    o.pad_h = o.pad_w = 1;
    o.output_padding_h = o.output_padding_w = 1;
    o.groups = 2;
  });
  const Conv2dOptions t_depthwise_s2_p1 = conv_options([](Conv2dOptions& o) {  // CUT's Upsample
    o.stride_h = o.stride_w = 2;
    o.pad_h = o.pad_w = 2;
    o.output_padding_h = o.output_padding_w = 1;
    o.groups = 3;
  });
  const Conv2dOptions t_nonsquare_dil2 = conv_options([](Conv2dOptions& o) {
    o.stride_h = 2;
    o.pad_w = 1;
    o.dilation_h = o.dilation_w = 2;
    o.output_padding_h = 1;
  });
  const Conv2dOptions all_s2_p1_d2_g2 = conv_options([](Conv2dOptions& o) {
    o.stride_h = o.stride_w = 2;
    o.pad_h = o.pad_w = 1;
    o.dilation_h = o.dilation_w = 2;
    o.groups = 2;
  });
  return {
      conv_case("conv2d", "3x3_bias", {2, 3, 5, 5}, {4, 3, 3, 3}, 4, plain, conv2d),
      // H = 6 makes stride 2 drop a row: the backward needs output_padding 1 in H, 0 in W
      conv_case("conv2d", "stride2_pad1_groups2_no_bias", {1, 4, 6, 5}, {6, 2, 3, 3}, 0, s2_p1_g2, conv2d),
      conv_case("conv2d", "nonsquare_dilation2_bias", {1, 2, 7, 6}, {3, 2, 2, 3}, 3, nonsquare_dil2, conv2d),
      conv_case("conv2d", "depthwise_stride2_pad1", {1, 3, 5, 4}, {3, 1, 3, 3}, 3, depthwise_s2_p1, conv2d),
      conv_case("conv2d", "pointwise_1x1_bias", {2, 3, 3, 4}, {2, 3, 1, 1}, 2, plain, conv2d),
      conv_case("conv_transpose2d", "3x3_bias", {2, 3, 4, 3}, {3, 2, 3, 3}, 2, plain, conv_transpose2d),
      conv_case("conv_transpose2d", "stride2_pad1_outpad1_groups2", {1, 4, 3, 2}, {4, 3, 3, 3}, 6, t_s2_p1_op1_g2,
                conv_transpose2d),
      conv_case("conv_transpose2d", "nonsquare_dilation2_outpad_no_bias", {1, 2, 3, 4}, {2, 3, 2, 3}, 0,
                t_nonsquare_dil2, conv_transpose2d),
      conv_case("conv_transpose2d", "depthwise_4x4_stride2", {1, 3, 3, 4}, {3, 1, 4, 4}, 3, t_depthwise_s2_p1,
                conv_transpose2d),
      conv_case("conv_transpose2d", "pointwise_1x1", {2, 3, 3, 2}, {3, 2, 1, 1}, 2, plain, conv_transpose2d),
      weight_grad_case("3x3", {2, 3, 5, 4}, {2, 4, 3, 2}, {4, 3, 3, 3}, plain),
      // H: (7 + 2 - 5) / 2 + 1 = 3, W: (6 + 2 - 3) / 2 + 1 = 3
      weight_grad_case("stride2_pad1_dilation2_groups2", {1, 4, 7, 6}, {1, 6, 3, 3}, {6, 2, 3, 2}, all_s2_p1_d2_g2),
      // H: (5 + 2 - 3) / 2 + 1 = 3, W: (4 + 2 - 3) / 2 + 1 = 2
      weight_grad_case("depthwise_stride2_pad1", {2, 3, 5, 4}, {2, 3, 3, 2}, {3, 1, 3, 3}, depthwise_s2_p1),
      weight_grad_case("pointwise_1x1", {2, 2, 3, 3}, {2, 3, 3, 3}, {3, 2, 1, 1}, plain),
  };
}

}  // namespace sg::cases
