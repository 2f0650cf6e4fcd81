// Whole networks on the CUDA kernels (cuda-emulated here, a GPU with
// STYLEGRAD_TEST_DEVICE=cuda): VGG-19's features as Gatys uses them (forward
// to the taps, Gram and content losses, backward into the image) and CycleGAN's
// ResNet generator and CUT's anti-aliased one (forward, backward into every
// parameter), each against the same network on the CPU.
//
// The networks are narrow (few channels) and the images small, because every
// CUDA thread is a fiber under emulation; the layers, their order and every
// kernel they reach are the full networks'.
#include "device_check.h"
#include "models/cyclegan_networks.h"
#include "models/vgg.h"

using namespace sg;
using namespace sg::test;

namespace {

// The same network, with the same weights, on `device`.
template <class M>
std::shared_ptr<M> copy_on(const M& net, const std::shared_ptr<M>& fresh, Device device) {
  fresh->load_state_dict(net.state_dict());
  fresh->to(device);
  return fresh;
}

void check_parameter_grads(const nn::Module& on_device, const nn::Module& on_cpu, double rtol, double atol) {
  const nn::NamedTensors got = on_device.named_parameters(), want = on_cpu.named_parameters();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("gradient of ", want[i].first);
    REQUIRE(got[i].second.grad().defined());
    CHECK(got[i].second.grad().device() == device_under_test());
    check_close(got[i].second.grad().to(Device::cpu()), want[i].second.grad(), rtol, atol);
  }
}

}  // namespace

TEST_CASE("cuda-emulated models: VGG-19 features, Gram and content losses, gradient into the image") {
  models::VGGOptions o;
  o.width_divisor = 16;  // 4 ... 32 channels: VGG-19's 16 convolutions and 4 pools, narrow
  Generator gen(3);
  models::VGG cpu_net(o);
  cpu_net.init_torchvision(gen);
  auto device_net = copy_on(cpu_net, std::make_shared<models::VGG>(o), device_under_test());

  const std::vector<std::string> taps = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"};
  auto run = [&](models::VGG& net, Device d) {
    Tensor image = (hashed_input({1, 3, 32, 32}, 21) * 0.5 + 0.5).to(d);
    image.requires_grad_();
    std::map<std::string, Tensor> f = net.forward_taps(image, taps);
    Tensor loss = mse_loss(f["relu4_2"], zeros_like(f["relu4_2"]));
    for (const std::string& t : taps) {
      if (t == "relu4_2") continue;
      const Tensor v = f[t].reshape({f[t].size(1), -1});
      loss = loss + mean(gram(v) * gram(v));
    }
    loss.backward();
    return std::make_pair(f, image.grad());
  };
  auto [want, want_grad] = run(cpu_net, Device::cpu());
  auto [got, got_grad] = run(*device_net, device_under_test());
  for (const std::string& t : taps) {
    INFO("tap ", t);
    check_close(got[t].detach().to(Device::cpu()), want[t].detach(), 1e-4, 1e-5);
  }
  INFO("gradient of the image");
  CHECK(got_grad.device() == device_under_test());
  check_close(got_grad.to(Device::cpu()), want_grad, 1e-3, 1e-6);
}

TEST_CASE("cuda-emulated models: CycleGAN's and CUT's ResNet generators, forward and backward into every parameter") {
  for (const bool cut : {false, true}) {
    INFO((cut ? "CUT (anti-aliased)" : "CycleGAN"));
    Generator gen(5);
    auto make = [&](Generator& g) {
      return cut ? models::cyclegan::define_G(3, 3, 4, "resnet_9blocks", "instance", false, "xavier", 0.02, false, false, g)
                 : models::cyclegan::define_G(3, 3, 4, "resnet_9blocks", "instance", false, "normal", 0.02, g);
    };
    std::shared_ptr<nn::Module> cpu_net = make(gen);
    Generator other(6);
    std::shared_ptr<nn::Module> device_net = make(other);
    device_net->load_state_dict(cpu_net->state_dict());
    device_net->to(device_under_test());

    const Tensor x = hashed_input({1, 3, 32, 32}, 22);
    const Tensor target = hashed_input({1, 3, 32, 32}, 23);
    auto step = [&](nn::Module& net, Device d) {
      const Tensor y = net.forward(x.to(d));
      l1_loss(y, target.to(d)).backward();
      return y.detach().to(Device::cpu());
    };
    const Tensor want = step(*cpu_net, Device::cpu());
    const Tensor got = step(*device_net, device_under_test());
    check_close(got, want, 1e-4, 1e-5);
    check_parameter_grads(*device_net, *cpu_net, 1e-3, 1e-5);
  }
}
