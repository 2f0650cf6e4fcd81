// Where a tensor's bytes live. Every op asks its inputs' device and calls the
// kernel for it; CUDA kernels are compiled only when nvcc is found
// (STYLEGRAD_WITH_CUDA), and an op without a CUDA kernel says so by name.
//
// cuda-emulated runs the CUDA kernel sources on the host, through the
// emulation of the launch model in kernels/cuda/emulation.h, in every build
// (no GPU, no nvcc needed). Its memory is host memory (the CPU allocator's),
// so it is a device for dispatch only: which kernels run, not where bytes live.
#pragma once
#include <cstdint>
#include <string>

namespace sg {

enum class DeviceType : uint8_t { cpu = 0, cuda = 1, cuda_emulated = 2 };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  bool is_cuda_emulated() const { return type == DeviceType::cuda_emulated; }
  std::string str() const {
    return is_cpu() ? "cpu" : is_cuda_emulated() ? "cuda-emulated" : "cuda:" + std::to_string(index);
  }
  static Device cpu() { return Device{DeviceType::cpu, 0}; }
  static Device cuda(int index = 0) { return Device{DeviceType::cuda, index}; }
  static Device cuda_emulated() { return Device{DeviceType::cuda_emulated, 0}; }
};

// Parses "cpu", "cuda", "cuda:1", "cuda-emulated"; throws on anything else.
Device parse_device(const std::string& s);

// True when this build has CUDA support and a device is present.
bool cuda_available();

// Why device d cannot be used here, as one line that names cuda-emulated as
// the way out ("device cuda:0: this build of stylegrad has no CUDA support
// ..."); empty when it can (cpu and cuda-emulated always can). The one place
// this message is written.
std::string device_unavailable_reason(Device d);
// Throws sg::Error with that reason, if any.
void check_device_available(Device d);

}  // namespace sg
