// What the tests of `stylegrad train` (CycleGAN, pix2pix, CUT, SinCUT) share:
// the tiny images they train on, and reading the files a run writes
// (loss_log.txt, train_opt.txt).
#pragma once
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "io/image.h"
#include "test_util.h"

namespace sg::test {

inline std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Vertical stripes (kind 0) or soft round blobs (kind 1), varied by `seed`,
// saved as an 8-bit PNG at `path` (its folder created).
inline void write_image(const std::string& path, int64_t h, int64_t w, int kind, int seed = 0) {
  std::vector<double> v;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        double value;
        if (kind == 0) {
          value = ((x + seed) / 4) % 2 ? 0.9 - 0.2 * double(c) / 2 : 0.1;
        } else {
          const double dx = double(x % 16) - 8 + seed, dy = double(y % 16) - 8;
          value = std::exp(-(dx * dx + dy * dy) / 20.0) * (0.5 + 0.25 * double(c));
        }
        v.push_back(std::round(value * 255) / 255);
      }
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  save_image(from_vector(v, {3, h, w}, TensorOptions(DType::f32)), path);
}

// n stripes images in <root>/trainA and n blobs images in <root>/trainB, 40x40.
inline void write_unaligned(const TempDir& dir, const std::string& root, int n = 4) {
  for (int i = 0; i < n; ++i) {
    write_image(dir.file(root + "/trainA/a" + std::to_string(i) + ".png"), 40, 40, 0, i);
    write_image(dir.file(root + "/trainB/b" + std::to_string(i) + ".png"), 40, 40, 1, i);
  }
}

struct LogLine {
  int64_t epoch = 0, iters = 0;
  std::vector<std::pair<std::string, double>> losses;
  std::string losses_text;  // the part after "data: D) "
  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& [name, value] : losses) n.push_back(name);
    return n;
  }
};

// loss_log.txt's loss lines; every other line must be a header.
inline std::vector<LogLine> read_loss_log(const std::string& path) {
  std::vector<LogLine> lines;
  std::istringstream in(read_all(path));
  std::string line;
  const std::regex header(R"(^================ Training Loss \(.+\) ================$)");
  const std::regex entry(R"(^\(epoch: (\d+), iters: (\d+), time: \d+\.\d{3}, data: \d+\.\d{3}\) ((?:\w+: -?\d+\.\d{3} )+)$)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, header)) continue;
    INFO("loss_log line: '", line, "'");
    REQUIRE(std::regex_match(line, m, entry));
    LogLine l;
    l.epoch = std::stoll(m[1]);
    l.iters = std::stoll(m[2]);
    l.losses_text = m[3];
    std::istringstream parts(l.losses_text);
    std::string name, value;
    while (parts >> name >> value) l.losses.push_back({name.substr(0, name.size() - 1), std::stod(value)});
    lines.push_back(l);
  }
  return lines;
}

// A line of train_opt.txt: the name right-aligned in 25, the value left-aligned
// in 30, and "\t[default: D]" when the value is not the default.
inline bool has_option(const std::string& text, const std::string& name, const std::string& value,
                       const std::string& default_value = "") {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%25s: %-30s", name.c_str(), value.c_str());
  std::string line = buf;
  if (!default_value.empty()) line += "\t[default: " + default_value + "]";
  return text.find(line + "\n") != std::string::npos;
}

}  // namespace sg::test
