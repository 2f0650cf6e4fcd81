#include "weights/load.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "tensor/error.h"
#include "weights/torch_checkpoint.h"

namespace sg {

WeightFormat detect_weight_format(const std::string& path) {
  std::error_code ec;
  SG_CHECK(std::filesystem::exists(path, ec), "cannot read weights '", path, "': no such file");
  SG_CHECK(!std::filesystem::is_directory(path, ec), "cannot read weights '", path, "': is a directory, not a file");
  std::ifstream f(path, std::ios::binary);
  SG_CHECK(f.good(), "cannot read weights '", path, "': ", std::strerror(errno));
  unsigned char head[9] = {};
  f.read(reinterpret_cast<char*>(head), sizeof head);
  const std::streamsize n = f.gcount();
  if (n >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return WeightFormat::torch_zip;
  if (n >= 2 && head[0] == 0x80 && head[1] == 0x02) return WeightFormat::torch_legacy;
  if (n >= 9 && head[8] == '{') return WeightFormat::safetensors;
  throw Error("cannot read weights '" + path +
              "': not a safetensors file nor a PyTorch checkpoint (torch.save zip or legacy format)");
}

const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::safetensors: return "safetensors";
    case WeightFormat::torch_zip: return "PyTorch zip (torch.save, torch >= 1.6)";
    case WeightFormat::torch_legacy: return "PyTorch legacy (torch.save, torch < 1.6)";
  }
  return "?";
}

NamedTensors load_weights(const std::string& path, DType float_dtype) {
  return detect_weight_format(path) == WeightFormat::safetensors ? read_safetensors(path, float_dtype)
                                                                 : load_torch_checkpoint(path, float_dtype);
}

StoredTensors list_weights(const std::string& path) {
  return detect_weight_format(path) == WeightFormat::safetensors ? list_safetensors(path) : list_torch_checkpoint(path);
}

std::string find_pretrained_weights(const std::string& name) {
  const char* file = name == "vgg19" ? "vgg19-dcbbb69f.pth" : name == "vgg16" ? "vgg16-397923af.pth" : nullptr;
  if (!file) return "";
  const char* env = std::getenv("STYLEGRAD_WEIGHTS_DIR");
  for (std::string dir : {std::string(env ? env : ""), std::string("weights/downloads")}) {
    if (dir.empty()) continue;
    const std::string path = dir + "/" + file;
    if (std::ifstream(path).good()) return path;
  }
  return "";
}

}  // namespace sg
