#include "apps/loss_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "tensor/error.h"

namespace sg::cli {

std::string loss_plot_svg(const std::vector<Series>& series, const std::string& title) {
  const double W = 640, H = 400, left = 70, right = 130, top = 30, bottom = 40;
  const double pw = W - left - right, ph = H - top - bottom;
  size_t n = 0;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series) {
    n = std::max(n, s.values.size());
    for (double v : s.values)
      if (v > 0 && std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!(lo < INFINITY)) lo = 1, hi = 10;
  const double l0 = std::floor(std::log10(lo)), l1 = std::max(std::ceil(std::log10(hi)), l0 + 1);
  auto X = [&](size_t i) { return left + pw * (n > 1 ? double(i) / double(n - 1) : 0.0); };
  auto Y = [&](double v) { return top + ph * (1 - (std::log10(v) - l0) / (l1 - l0)); };

  static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
     << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n"
     << "<text x='" << left << "' y='18' font-size='14'>" << title << "</text>\n";
  for (double e = l0; e <= l1; ++e) {  // decade grid lines
    os << "<line x1='" << left << "' x2='" << left + pw << "' y1='" << Y(std::pow(10, e)) << "' y2='"
       << Y(std::pow(10, e)) << "' stroke='#ddd'/>\n<text x='" << left - 8 << "' y='" << Y(std::pow(10, e)) + 4
       << "' text-anchor='end'>1e" << int(e) << "</text>\n";
  }
  os << "<rect x='" << left << "' y='" << top << "' width='" << pw << "' height='" << ph
     << "' fill='none' stroke='#444'/>\n<text x='" << left + pw / 2 << "' y='" << H - 8
     << "' text-anchor='middle'>iteration (0 to " << (n ? n - 1 : 0) << ")</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const char* c = colors[k % 5];
    os << "<polyline fill='none' stroke='" << c << "' stroke-width='1.5' points='";
    for (size_t i = 0; i < series[k].values.size(); ++i) {
      const double v = series[k].values[i];
      if (v > 0 && std::isfinite(v)) os << X(i) << "," << Y(v) << " ";
    }
    os << "'/>\n<text x='" << left + pw + 10 << "' y='" << top + 16 + 18 * double(k) << "' fill='" << c << "'>"
       << series[k].name << "</text>\n";
  }
  os << "</svg>\n";
  return os.str();
}

}  // namespace sg::cli
