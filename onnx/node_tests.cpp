#include "onnx/node_tests.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "onnx/model.h"
#include "onnx/ops.h"
#include "tensor/error.h"

namespace fs = std::filesystem;

namespace sg::onnx {

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  SG_CHECK(in, "cannot open ", path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The files dir/prefix0.pb, dir/prefix1.pb, ... up to the first missing one.
std::vector<fs::path> numbered_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int k = 0;; ++k) {
    const fs::path p = dir / (prefix + std::to_string(k) + ".pb");
    if (!fs::exists(p)) return files;
    files.push_back(p);
  }
}

std::vector<fs::path> sorted_subdirs(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}


void compare(const Tensor& got, const Tensor& want, const std::string& name, double rtol, double atol,
             NodeTestOutcome& o) {
  if (got.dtype() != want.dtype() || got.shape() != want.shape()) {
    o.kind = NodeTestOutcome::fail;
    o.why = "output '" + name + "' is " + dtype_name(got.dtype()) + " " + got.shape().str() + ", expected " +
            dtype_name(want.dtype()) + " " + want.shape().str();
    return;
  }
  const std::vector<double> g = got.to_vector(), w = want.to_vector();
  const double inf = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < g.size(); ++i) {
    if (g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i]))) continue;  // also equal infinities
    const double err = std::isnan(g[i]) || std::isnan(w[i]) ? inf : std::abs(g[i] - w[i]);
    o.max_abs = std::max(o.max_abs, err);
    o.max_rel = std::max(o.max_rel, w[i] != 0 ? err / std::abs(w[i]) : inf);
    if (!(err <= atol + rtol * std::abs(w[i]))) o.kind = NodeTestOutcome::fail;
  }
}

}  // namespace

std::string format_errors(const NodeTestOutcome& o) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "max abs %.3g, max rel %.3g", o.max_abs, o.max_rel);
  return buf;
}

std::vector<std::string> node_test_dirs(const std::string& dir) {
  std::vector<std::string> out;
  for (const fs::path& p : sorted_subdirs(dir, "test_")) out.push_back(p.string());
  return out;
}

NodeTestOutcome run_node_test(const std::string& dir_name, double rtol, double atol) {
  const fs::path dir(dir_name);
  NodeTestOutcome o;
  try {
    const Model model = parse_model(read_file(dir / "model.onnx"));
    require_tensor_values(model);  // before reading data that may be sequences
    const std::vector<fs::path> data_sets = sorted_subdirs(dir, "test_data_set_");
    SG_CHECK(!data_sets.empty(), "no test_data_set_* in ", dir.string());
    for (const fs::path& set : data_sets) {
      std::vector<Tensor> inputs, expected;
      for (const fs::path& p : numbered_files(set, "input_")) inputs.push_back(parse_tensor(read_file(p)));
      for (const fs::path& p : numbered_files(set, "output_")) expected.push_back(parse_tensor(read_file(p)));
      const std::vector<Tensor> outputs = run_model(model, inputs);
      SG_CHECK(outputs.size() == expected.size(), "the model has ", outputs.size(), " outputs, the data set ",
               expected.size());
      for (size_t k = 0; k < outputs.size() && o.why.empty(); ++k)
        compare(outputs[k], expected[k], model.outputs[k].name, rtol, atol, o);
    }
  } catch (const Unsupported& e) {
    return {NodeTestOutcome::unsupported, e.what()};
  } catch (const std::exception& e) {
    return {NodeTestOutcome::fail, std::string("error: ") + e.what()};
  }
  return o;
}


}  // namespace sg::onnx
