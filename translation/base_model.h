// What CycleGAN and pix2pix share from models/base_model.py.
#pragma once
#include <initializer_list>

namespace sg::nn {
class Module;
}

namespace sg::translation {

// BaseModel.set_requires_grad(nets, requires_grad): turns every parameter of
// `nets` on or off, so that G's step computes no gradients for D.
void set_requires_grad(std::initializer_list<nn::Module*> nets, bool requires_grad);

}  // namespace sg::translation
