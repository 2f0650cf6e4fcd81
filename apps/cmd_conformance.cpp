// stylegrad conformance [DIR]: runs ONNX's backend node tests with stylegrad's
// ops (onnx/node_tests.h) and prints one line per test, then the totals.
#include <cstdio>
#include <filesystem>

#include "apps/cli.h"
#include "apps/commands.h"
#include "onnx/node_tests.h"
#include "tensor/error.h"

namespace fs = std::filesystem;

namespace sg::cli {

namespace {
const char* const kDefaultDir = "/usr/share/libonnx-testdata/data/node";
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
  for (const std::string& dir : onnx::node_test_dirs(root.string())) {
    const std::string name = fs::path(dir).filename().string();
    if (name.find(filter) == std::string::npos) continue;
    const onnx::NodeTestOutcome o = onnx::run_node_test(dir, rtol, atol);
    switch (o.kind) {
      case onnx::NodeTestOutcome::pass:
        ++passed;
        std::printf("%s: pass%s\n", name.c_str(), verbose ? (" (" + onnx::format_errors(o) + ")").c_str() : "");
        break;
      case onnx::NodeTestOutcome::fail:
        ++failed;
        std::printf("%s: FAIL (%s)\n", name.c_str(), o.why.empty() ? onnx::format_errors(o).c_str() : o.why.c_str());
        break;
      case onnx::NodeTestOutcome::unsupported:
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
