// io/html.h: the official util/html.py page layout, written atomically.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/html.h"
#include "test_util.h"

using namespace sg;
using sg::test::TempDir;

namespace {
std::string read_all(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
size_t count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("html: a results page as util/html.py lays it out") {
  TempDir dir;
  const std::string web_dir = dir.file("web");
  HtmlPage page(web_dir, "Experiment = horse2zebra, Phase = test, Epoch = latest");
  CHECK(std::filesystem::is_directory(web_dir + "/images"));
  CHECK(page.image_dir() == web_dir + "/images");
  page.add_header("n02381460_1000");
  page.add_images({"n02381460_1000_real.png", "n02381460_1000_fake.png"}, {"real", "fake"},
                  {"n02381460_1000_real.png", "n02381460_1000_fake.png"}, 256);
  page.add_header("a<b&c");
  page.add_images({"x.png"}, {"x"}, {"x.png"}, 256);
  page.save();
  const std::string html = read_all(web_dir + "/index.html");
  CHECK(html.rfind("<!DOCTYPE html>\n<html>\n  <head>\n", 0) == 0);
  CHECK(html.find("<title>Experiment = horse2zebra, Phase = test, Epoch = latest</title>") != std::string::npos);
  CHECK(html.find("refresh") == std::string::npos);
  CHECK(html.find("<h3>n02381460_1000</h3>") < html.find("images/n02381460_1000_real.png"));
  CHECK(html.find("<h3>a&lt;b&amp;c</h3>") != std::string::npos);
  CHECK(count(html, "<table border=\"1\" style=\"table-layout: fixed;\">") == 2);
  CHECK(count(html, "<td halign=\"center\" style=\"word-wrap: break-word;\" valign=\"top\">") == 3);
  CHECK(html.find("<a href=\"images/n02381460_1000_fake.png\">\n              <img src=\"images/n02381460_1000_fake.png\" "
                  "style=\"width:256px\">") != std::string::npos);
  CHECK(html.find("<p>real</p>") < html.find("<p>fake</p>"));
  const std::string end = "  </body>\n</html>";
  CHECK(html.substr(html.size() - end.size()) == end);
  // Nothing but index.html and images/ (no temporary file left behind).
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(web_dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"images", "index.html"});
}

TEST_CASE("html: training pages refresh themselves") {
  TempDir dir;
  HtmlPage page(dir.file("web"), "Experiment name = maps", 5);
  page.save();
  const std::string html = read_all(dir.file("web/index.html"));
  CHECK(html.find("<meta content=\"5\" http-equiv=\"refresh\">") < html.find("</head>"));
}
