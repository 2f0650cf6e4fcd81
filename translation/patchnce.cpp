#include "translation/patchnce.h"

#include "ops/ops.h"
#include "tensor/error.h"

namespace sg::translation {

PatchNCELoss::PatchNCELoss(int64_t batch_size, double nce_T, bool all_negatives_from_minibatch)
    : batch_size(batch_size), nce_T(nce_T), all_negatives_from_minibatch(all_negatives_from_minibatch) {
  SG_CHECK(batch_size > 0, "PatchNCELoss: batch_size must be positive, got ", batch_size);
  SG_CHECK(nce_T > 0, "PatchNCELoss: nce_T must be positive, got ", nce_T);
}

Tensor PatchNCELoss::operator()(const Tensor& feat_q, const Tensor& feat_k_in) const {
  SG_CHECK(feat_q.defined() && feat_k_in.defined() && feat_q.dim() == 2 && feat_q.shape() == feat_k_in.shape(),
           "PatchNCELoss: feat_q and feat_k must both be [num_patches, dim], got ",
           feat_q.defined() ? feat_q.shape().str() : "undefined", " and ",
           feat_k_in.defined() ? feat_k_in.shape().str() : "undefined");
  const int64_t num_patches = feat_q.size(0), dim = feat_q.size(1);
  SG_CHECK(num_patches % batch_size == 0, "PatchNCELoss: ", num_patches, " patches do not split into ", batch_size,
           " images");
  const Tensor feat_k = feat_k_in.detach();

  // l_pos[i] = q_i . k_i, the positive logit of each patch: [N, 1].
  const Tensor l_pos = reshape(bmm(reshape(feat_q, {num_patches, 1, dim}), reshape(feat_k, {num_patches, dim, 1})),
                               {num_patches, 1});

  // l_neg = q k^T within each group (one image, or the whole minibatch):
  // [groups, P, P], P patches per group; entry (i, j) is q_i . k_j. The
  // diagonal (j = i) is the positive again: it is filled with -10 (exp(-10),
  // almost no weight) rather than removed, as the official code does.
  const int64_t groups = all_negatives_from_minibatch ? 1 : batch_size;
  const int64_t P = num_patches / groups;
  const Tensor q = reshape(feat_q, {groups, P, dim}), k = reshape(feat_k, {groups, P, dim});
  TensorOptions like_q(feat_q.dtype());
  like_q.device = feat_q.device();
  const Tensor positions = arange(0, double(P), 1.0, like_q);  // 0 .. P-1, exact in any float type
  const Tensor diagonal = unsqueeze(eq(reshape(positions, {P, 1}), reshape(positions, {1, P})), 0);  // [1, P, P]
  const Tensor l_neg = reshape(masked_fill(bmm(q, transpose(k, 1, 2)), diagonal, -10.0), {num_patches, P});

  // logits (z.z+, z.z1-, ..., z.zP-) / T per row; cross-entropy against class 0
  // is -log_softmax(logits)[:, 0].
  const Tensor logits = cat({l_pos, l_neg}, 1) / nce_T;
  return neg(reshape(narrow(log_softmax(logits, 1), 1, 0, 1), {num_patches}));
}

}  // namespace sg::translation
