// Loss curves as a standalone SVG (log-scale y axis), so a run can be looked at
// in any browser without plotting libraries.
#pragma once
#include <string>
#include <vector>

namespace sg::cli {

struct Series {
  std::string name;
  std::vector<double> values;  // one per iteration
};

std::string loss_plot_svg(const std::vector<Series>& series, const std::string& title);

// Writes `contents` to `path` through a temporary file in the same directory and
// a rename, so that a reader never sees a half-written file.
void write_file_atomic(const std::string& path, const std::string& contents);

}  // namespace sg::cli
