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
              "name, dtype as stored in the file (float16, bfloat16, float32, float64, int64, int32, bool, ...),\n"
              "shape, and the total element count. Only headers are read; every tensor's view and byte\n"
              "range is checked as loading checks it.");
  if (!p.parse(argc, argv)) return 0;
  SG_USAGE_CHECK(p.positionals().size() == 1, "expected one FILE (see --help)");
  const std::string path = p.positionals()[0];
  require_readable_file(path, "FILE");
  const WeightFormat fmt = detect_weight_format(path);
  const StoredTensors tensors = list_weights(path);
  std::printf("%s: %s, %zu tensors\n", path.c_str(), weight_format_name(fmt), tensors.size());
  int64_t total = 0;
  size_t width = 4;
  for (const StoredTensor& t : tensors) width = std::max(width, t.name.size());
  for (const StoredTensor& t : tensors) {
    std::printf("  %-*s  %-8s %s\n", int(width), t.name.c_str(), t.dtype.c_str(), t.shape.str().c_str());
    if (total >= 0 && __builtin_add_overflow(total, t.shape.numel(), &total)) total = -1;  // each fits; the sum may not
  }
  if (total >= 0)
    std::printf("total: %lld elements\n", (long long)total);
  else
    std::printf("total: more than 2^63 elements\n");
  return 0;
}

}  // namespace sg::cli
