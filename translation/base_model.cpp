#include "translation/base_model.h"

#include "nn/module.h"

namespace sg::translation {

void set_requires_grad(std::initializer_list<nn::Module*> nets, bool requires_grad) {
  for (nn::Module* net : nets)
    if (net) net->requires_grad_(requires_grad);
}

}  // namespace sg::translation
