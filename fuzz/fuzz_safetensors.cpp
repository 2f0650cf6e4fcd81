// libFuzzer target: arbitrary bytes as a .safetensors file through the real
// reader (read_safetensors opens a path, so the bytes go into an in-memory
// file, memfd_create, named by /proc/self/fd/N), then every element of every
// tensor read back so that a wrongly accepted offset shows up under
// AddressSanitizer. Any sg::Error is a correct answer; a crash, sanitizer
// report, hang or other exception is a bug. Run with `make fuzz`.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tensor/error.h"
#include "weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("fuzz.safetensors", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != ssize_t(size)) std::abort();
  try {
    for (const auto& [name, tensor] : sg::read_safetensors(path, sg::DType::f64))
      if (tensor.numel() <= (1 << 16)) (void)tensor.to_vector();
    sg::read_safetensors_metadata(path);
    (void)sg::list_safetensors(path);
  } catch (const sg::Error&) {
  }
  return 0;
}
