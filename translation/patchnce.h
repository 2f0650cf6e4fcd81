// The patch-wise contrastive loss of CUT (Park, Efros, Zhang, Zhu, "Contrastive
// Learning for Unpaired Image-to-Image Translation", ECCV 2020;
// taesungp/contrastive-unpaired-translation, models/patchnce.py: PatchNCELoss).
//
// For a query patch feature z (the output's, at one position), its positive z+
// (the input's feature at the same position) and N negatives z1-, ..., zN-
// (the input's features at the other sampled positions), all of unit length:
//
//   loss(z) = -log [ exp(z.z+ / T) / (exp(z.z+ / T) + sum_n exp(z.zn- / T)) ]
//
// the cross-entropy of softmax((z.z+, z.z1-, ..., z.zN-) / T) against class 0.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace sg::translation {

class PatchNCELoss {
 public:
  // batch_size: the images the rows of feat_q come from (the official reads
  // opt.batch_size); nce_T: the temperature T (--nce_T 0.07);
  // all_negatives_from_minibatch (--nce_includes_all_negatives_from_minibatch,
  // SinCUT): the negatives of a patch are the other patches of every image of
  // the minibatch, not only of its own.
  explicit PatchNCELoss(int64_t batch_size = 1, double nce_T = 0.07, bool all_negatives_from_minibatch = false);

  // feat_q, feat_k: [batch_size * P, C], image b's P patches in rows b*P ...
  // (PatchSampleF's layout); row i of feat_k is row i's positive. feat_k is
  // detached: only the query side is trained. Returns the loss of every query
  // patch, [batch_size * P] (reduction 'none'; CUT takes the mean).
  Tensor operator()(const Tensor& feat_q, const Tensor& feat_k) const;

  const int64_t batch_size;
  const double nce_T;
  const bool all_negatives_from_minibatch;
};

}  // namespace sg::translation
