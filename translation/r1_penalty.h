// SinCUT's R1 gradient penalty (taesungp/contrastive-unpaired-translation,
// models/sincut_model.py: SinCUTModel.R1_loss), after Mescheder et al. 2018:
//
//     R1 = lambda_R1 / 2 * mean_n || d(sum D(x_real)) / d x_real[n] ||^2
//
// The gradient is taken with create_graph, so backward() on the penalty reaches
// D's parameters through D's backward pass (second derivatives of every op in D).
#pragma once
#include "tensor/tensor.h"

namespace sg::translation {

// grad_real = d real_pred.sum() / d real_img (create_graph, retain_graph);
// grad_real.pow(2).view(N, -1).sum(1).mean() * (lambda_R1 * 0.5).
// real_img must require grad and real_pred must depend on it (one error line if not).
Tensor r1_penalty(const Tensor& real_pred, const Tensor& real_img, double lambda_R1 = 1.0);

}  // namespace sg::translation
