// `stylegrad weights-info` through the real binary: stored dtypes (not the
// converted float32), and self-overlapping views refused by name, exit 1.
#include <string>

#include "tests/test_util.h"

using namespace sg::test;

namespace {
const std::string kCheckpoints = std::string(STYLEGRAD_SOURCE_DIR) + "/tests/data/checkpoints/";

std::string row(const std::string& out, const std::string& name) {
  const size_t at = out.find("  " + name + " ");
  if (at == std::string::npos) return "";
  return out.substr(at, out.find('\n', at) - at);
}
}  // namespace

TEST_CASE("weights-info: shows each tensor's dtype as stored in the file") {
  for (const char* file : {"tensors_zip.pt", "tensors_legacy.pt"}) {
    INFO(file);
    std::string out;
    REQUIRE(run_command(std::string(STYLEGRAD_BINARY) + " weights-info " + kCheckpoints + file, &out) == 0);
    CHECK(row(out, "float16").find(" float16 ") != std::string::npos);
    CHECK(row(out, "bfloat16").find(" bfloat16 ") != std::string::npos);
    CHECK(row(out, "float64").find(" float64 ") != std::string::npos);
    CHECK(row(out, "int32").find(" int32 ") != std::string::npos);
    CHECK(row(out, "uint8").find(" uint8 ") != std::string::npos);
    CHECK(row(out, "conv.weight").find(" float32 ") != std::string::npos);
    CHECK(out.find("total: 76 elements") != std::string::npos);
  }
}

TEST_CASE("weights-info: a stride-0 view claiming 10^12 elements is refused by name, not listed") {
  std::string out;
  CHECK(run_command(std::string(STYLEGRAD_BINARY) + " weights-info " + kCheckpoints + "view_stride0_huge.pt", &out) == 1);
  CHECK(out.find("stylegrad weights-info: error: ") == 0);
  CHECK(out.find("tensor 'w': view (offset 0, size [1000000, 1000000], stride [0, 0]) claims 1000000000000 elements") !=
        std::string::npos);
  CHECK(out.find("total:") == std::string::npos);
}
