#include "translation/r1_penalty.h"

#include "autograd/node.h"
#include "ops/ops.h"
#include "tensor/error.h"

namespace sg::translation {

Tensor r1_penalty(const Tensor& real_pred, const Tensor& real_img, double lambda_R1) {
  SG_CHECK(real_img.defined() && real_img.requires_grad(),
           "r1_penalty: the real images must require grad (real_B.requires_grad_() before D's forward)");
  SG_CHECK(real_pred.defined() && real_pred.requires_grad(),
           "r1_penalty: the discriminator's prediction does not depend on anything that requires grad");
  SG_CHECK(real_img.dim() >= 1 && real_img.size(0) > 0, "r1_penalty: real images ", real_img.str(), " have no batch");
  const Tensor grad_real = grad({sum(real_pred)}, {real_img}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  const Tensor per_sample = sum(pow(grad_real, 2.0).reshape({grad_real.size(0), -1}), {1});
  return mean(per_sample) * (lambda_R1 * 0.5);
}

}  // namespace sg::translation
