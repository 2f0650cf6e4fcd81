// One op on two devices: the CUDA kernels (run through cuda-emulated) against
// the CPU's, which are gradient-checked and cross-checked against PyTorch.
//
//   check_same_on_device(f, {x, w}, "conv2d 3x3 stride 2");
//
// runs f on the CPU inputs and on copies on cuda-emulated, and checks that the
// outputs agree, and the gradients of sum(output * r) with respect to every
// input that requires grad (r a fixed random tensor, so that every output
// element weighs differently). The backward runs on the device too: each
// backward is made of ops, which dispatch to the device's kernels.
//
// The device is cuda-emulated, or a real GPU when the suite is run with
// STYLEGRAD_TEST_DEVICE=cuda (or cuda:N) on a machine that has one: the same
// checks then run the kernels as nvcc compiled them.
#pragma once
#include <cstdlib>
#include <functional>
#include <string>

#include "tensor/device.h"
#include "test_util.h"

namespace sg::test {

inline Device device_under_test() {
  const char* env = std::getenv("STYLEGRAD_TEST_DEVICE");
  return env && *env ? parse_device(env) : Device::cuda_emulated();
}

// f's output, and the gradients of sum(output * r) into inputs that require grad.
struct DeviceRun {
  Tensor output;
  TensorList grads;
};

inline DeviceRun run_on(Device d, const std::function<Tensor(const TensorList&)>& f, const TensorList& inputs) {
  TensorList xs;
  for (const Tensor& x : inputs) {
    Tensor y = x.detach().to(d);
    if (x.requires_grad()) y.requires_grad_();
    xs.push_back(y);
  }
  DeviceRun run;
  run.output = f(xs);
  if (!run.output.requires_grad()) return run;
  Generator gen(7);
  const Tensor r = randn(run.output.shape(), gen, TensorOptions(run.output.dtype())).to(d);
  sum(run.output * r).backward();
  for (const Tensor& x : xs)
    if (x.requires_grad()) run.grads.push_back(x.grad());
  return run;
}

inline void check_same_on_device(const std::function<Tensor(const TensorList&)>& f, const TensorList& inputs,
                                 const std::string& what, double rtol = 1e-5, double atol = 1e-5,
                                 Device device = device_under_test()) {
  INFO(what);
  const DeviceRun want = run_on(Device::cpu(), f, inputs);
  const DeviceRun got = run_on(device, f, inputs);
  CHECK(got.output.device() == device);
  check_close(got.output.detach().to(Device::cpu()), want.output.detach(), rtol, atol);
  REQUIRE(got.grads.size() == want.grads.size());
  for (size_t i = 0; i < want.grads.size(); ++i) {
    INFO("gradient of input ", i);
    REQUIRE(got.grads[i].defined());
    CHECK(got.grads[i].device() == device);
    check_close(got.grads[i].to(Device::cpu()), want.grads[i], rtol, atol);
  }
}

}  // namespace sg::test
