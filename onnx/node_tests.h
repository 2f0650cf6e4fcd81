// ONNX's backend node tests, run with stylegrad's ops. Each test is a
// directory holding model.onnx (usually a single node) and test_data_set_N/
// with input_K.pb and the expected output_K.pb, TensorProtos written by ONNX's
// reference implementation. Debian ships them in libonnx-testdata
// (/usr/share/libonnx-testdata/data/node); a suite nobody here wrote is a fair
// check of the ops. `stylegrad conformance` runs them and prints the totals.
#pragma once
#include <string>
#include <vector>

namespace sg::onnx {

// The outcome of one test, over all its data sets.
struct NodeTestOutcome {
  enum Kind { pass, fail, unsupported } kind = pass;
  std::string why;                  // the failure or the unsupported feature
  double max_abs = 0, max_rel = 0;  // worst errors over all outputs
};

// "max abs E, max rel R"
std::string format_errors(const NodeTestOutcome& o);

// The test directories dir/test_*, sorted by name.
std::vector<std::string> node_test_dirs(const std::string& dir);

// Runs the test in `dir` and compares like numpy.testing.assert_allclose, as
// ONNX's backend tests do: an element passes when |got - want| <= atol + rtol |want|;
// NaN matches NaN. Never throws: errors are failures, Unsupported is unsupported.
NodeTestOutcome run_node_test(const std::string& dir, double rtol, double atol);

}  // namespace sg::onnx
