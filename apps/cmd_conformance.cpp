// stylegrad conformance [DIR]: runs ONNX's backend node tests with stylegrad's
// ops. Each test is a directory holding model.onnx (usually a single node) and
// test_data_set_N/ with input_K.pb and the expected output_K.pb, TensorProtos
// written by ONNX's reference implementation. Debian ships them in
// libonnx-testdata; a suite nobody here wrote is a fair check of the ops.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include "apps/cli.h"
#include "apps/commands.h"
#include "onnx/ops.h"
#include "tensor/error.h"
#include "onnx/model.h"

namespace fs = std::filesystem;

namespace sg::cli {

namespace {

const char* const kDefaultDir = "/usr/share/libonnx-testdata/data/node";

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

// The outcome of one test, over all its data sets.
struct Outcome {
  enum Kind { pass, fail, unsupported } kind = pass;
  std::string why;                    // the failure or the unsupported feature
  double max_abs = 0, max_rel = 0;    // worst errors over all outputs
};

std::string format_errors(const Outcome& o) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "max abs %.3g, max rel %.3g", o.max_abs, o.max_rel);
  return buf;
}

// Compares like numpy.testing.assert_allclose, as ONNX's backend tests do: an
// element passes when |got - want| <= atol + rtol |want|; NaN matches NaN.
void compare(const Tensor& got, const Tensor& want, const std::string& name, double rtol, double atol,
             Outcome& o) {
  if (got.dtype() != want.dtype() || got.shape() != want.shape()) {
    o.kind = Outcome::fail;
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
    if (!(err <= atol + rtol * std::abs(w[i]))) o.kind = Outcome::fail;
  }
}

Outcome run_test(const fs::path& dir, double rtol, double atol) {
  Outcome o;
  try {
    const onnx::Model model = onnx::parse_model(read_file(dir / "model.onnx"));
    onnx::require_tensor_values(model);  // before reading data that may be sequences
    const std::vector<fs::path> data_sets = sorted_subdirs(dir, "test_data_set_");
    SG_CHECK(!data_sets.empty(), "no test_data_set_* in ", dir.string());
    for (const fs::path& set : data_sets) {
      std::vector<Tensor> inputs, expected;
      for (const fs::path& p : numbered_files(set, "input_")) inputs.push_back(onnx::parse_tensor(read_file(p)));
      for (const fs::path& p : numbered_files(set, "output_")) expected.push_back(onnx::parse_tensor(read_file(p)));
      const std::vector<Tensor> outputs = onnx::run_model(model, inputs);
      SG_CHECK(outputs.size() == expected.size(), "the model has ", outputs.size(), " outputs, the data set ",
               expected.size());
      for (size_t k = 0; k < outputs.size() && o.why.empty(); ++k)
        compare(outputs[k], expected[k], model.outputs[k].name, rtol, atol, o);
    }
  } catch (const onnx::Unsupported& e) {
    return {Outcome::unsupported, e.what()};
  } catch (const std::exception& e) {
    return {Outcome::fail, std::string("error: ") + e.what()};
  }
  return o;
}

}  // namespace

int cmd_conformance(int argc, char** argv) {
  ArgParser p("stylegrad conformance [DIR] [options]",
              "Runs ONNX's backend node tests (DIR/test_*/, default " + std::string(kDefaultDir) +
                  ") with stylegrad's ops.\nPrints pass, FAIL (with the errors) or unsupported (with the "
                  "reason) per test, then the totals.\nExits 1 if any test failed.");
  p.option("filter", "", "run only the tests whose name contains this");
  p.option("rtol", "1e-3", "relative tolerance, as in ONNX's backend tests");
  p.option("atol", "1e-7", "absolute tolerance, as in ONNX's backend tests");
  p.flag("verbose", "also print the errors of passing tests");
  if (!p.parse(argc, argv)) return 0;
  SG_CHECK(p.positionals().size() <= 1, "expected at most one DIR, got ", p.positionals().size());
  const fs::path root = p.positionals().empty() ? fs::path(kDefaultDir) : fs::path(p.positionals()[0]);
  SG_CHECK(fs::is_directory(root), "no ONNX node tests at ", root.string(),
           ": install them with `sudo apt-get install libonnx-testdata` (or `make conformance`)");

  const std::string filter = p.get("filter");
  const double rtol = p.get_double("rtol"), atol = p.get_double("atol");
  const bool verbose = p.has("verbose");
  int passed = 0, failed = 0, unsupported = 0;
  for (const fs::path& dir : sorted_subdirs(root, "test_")) {
    const std::string name = dir.filename().string();
    if (name.find(filter) == std::string::npos) continue;
    const Outcome o = run_test(dir, rtol, atol);
    switch (o.kind) {
      case Outcome::pass:
        ++passed;
        std::printf("%s: pass%s\n", name.c_str(), verbose ? (" (" + format_errors(o) + ")").c_str() : "");
        break;
      case Outcome::fail:
        ++failed;
        std::printf("%s: FAIL (%s)\n", name.c_str(), o.why.empty() ? format_errors(o).c_str() : o.why.c_str());
        break;
      case Outcome::unsupported:
        ++unsupported;
        std::printf("%s: unsupported (%s)\n", name.c_str(), o.why.c_str());
        break;
    }
    std::fflush(stdout);
  }
  std::printf("%d passed, %d failed, %d unsupported\n", passed, failed, unsupported);
  return failed ? 1 : 0;
}

}  // namespace sg::cli
