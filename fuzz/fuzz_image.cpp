// libFuzzer target: arbitrary bytes as an image file through the real reader
// (load_image opens a path, so the bytes go into an in-memory file,
// memfd_create, named by /proc/self/fd/N): stb's PNG, JPEG, BMP, GIF, PSD,
// TGA, HDR, PIC and PNM decoders behind the header-first size limits. Every
// pixel of a decoded image is read back, so that a wrong size shows up under
// AddressSanitizer. Any sg::Error is a correct answer; a crash, sanitizer
// report, hang or other exception is a bug. Run with `make fuzz`; seed it with
// real images for depth: build-fuzz/fuzz_image -max_total_time=60 CORPUS demo/images
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "io/image.h"
#include "tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("fuzz.image", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != ssize_t(size)) std::abort();
  try {
    const sg::Tensor image = sg::load_image(path);
    if (image.numel() <= (1 << 22)) {  // larger ones only measure memory
      double sum = 0;
      for (double v : image.to_vector()) sum += v;
      if (!(sum >= 0)) std::abort();  // pixels are in [0, 1]
    }
  } catch (const sg::Error&) {
  }
  return 0;
}
