// Loss curves as a standalone SVG (log-scale y axis), so a run can be looked at
// in any browser without plotting libraries.
#pragma once
#include <string>
#include <vector>

#include "io/atomic_file.h"  // write_file_atomic, used with the plot

namespace sg::cli {

struct Series {
  std::string name;
  std::vector<double> values;  // one per iteration
};

std::string loss_plot_svg(const std::vector<Series>& series, const std::string& title);

}  // namespace sg::cli
