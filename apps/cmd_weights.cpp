// stylegrad convert IN OUT.safetensors  and  stylegrad weights-info FILE
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/output_plan.h"
#include "tensor/error.h"
#include "weights/load.h"

namespace sg::cli {

int cmd_convert(int argc, char** argv) {
  ArgParser p("stylegrad convert IN OUT.safetensors [--dtype float32|float64]",
              "Converts a PyTorch checkpoint (.pth/.pt, zip or legacy format) or a safetensors file\n"
              "to safetensors, stylegrad's own format. Only the tensors of the state_dict are kept.");
  p.option("dtype", "float32", "float32 or float64 for floating-point tensors");
  if (!p.parse(argc, argv)) return 0;
  SG_USAGE_CHECK(p.positionals().size() == 2, "expected IN and OUT.safetensors (see --help)");
  const std::string in = p.positionals()[0], out = p.positionals()[1];
  const std::string dt = p.get("dtype");
  SG_USAGE_CHECK(dt == "float32" || dt == "float64", "--dtype must be float32 or float64, got '", dt, "'");
  OutputPlan plan;
  plan.input(in, "IN");
  plan.output(out, "OUT", OutputPlan::Kind::file, {".safetensors"});
  plan.check();
  const WeightFormat fmt = detect_weight_format(in);
  NamedTensors tensors = load_weights(in, dt == "float64" ? DType::f64 : DType::f32);
  write_safetensors(out, tensors, {{"source", in}, {"source_format", weight_format_name(fmt)}});
  std::printf("wrote %s: %zu tensors from %s (%s)\n", out.c_str(), tensors.size(), in.c_str(), weight_format_name(fmt));
  return 0;
}

int cmd_weights_info(int argc, char** argv) {
  ArgParser p("stylegrad weights-info FILE",
              "Lists the tensors in a weight file (PyTorch .pth zip or legacy, or safetensors):\n"
              "name, dtype as loaded (floating point as float32), shape, and the total element count.");
  if (!p.parse(argc, argv)) return 0;
  SG_USAGE_CHECK(p.positionals().size() == 1, "expected one FILE (see --help)");
  const std::string path = p.positionals()[0];
  require_readable_file(path, "FILE");
  const WeightFormat fmt = detect_weight_format(path);
  // Floating-point tensors are shown as loaded (float32); integer and bool
  // tensors keep their type.
  NamedTensors tensors = load_weights(path, DType::f32);
  std::printf("%s: %s, %zu tensors\n", path.c_str(), weight_format_name(fmt), tensors.size());
  int64_t total = 0;
  size_t width = 4;
  for (const auto& [name, t] : tensors) width = std::max(width, name.size());
  for (const auto& [name, t] : tensors) {
    std::printf("  %-*s  %-8s %s\n", int(width), name.c_str(), dtype_name(t.dtype()), t.shape().str().c_str());
    total += t.numel();
  }
  std::printf("total: %lld elements\n", (long long)total);
  return 0;
}

}  // namespace sg::cli
