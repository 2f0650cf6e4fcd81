// The HTML pages of the official CycleGAN/pix2pix code (util/html.py, which
// renders with dominate): a title, then per image an <h3> header and a
// one-row table of images, each linking to itself, with its caption below.
// Training pages refresh themselves every `refresh` seconds. Image paths are
// relative to the page: images/<file>. save() writes <web_dir>/index.html
// atomically (io/atomic_file.h).
#pragma once
#include <string>
#include <vector>

namespace sg {

class HtmlPage {
 public:
  // Creates web_dir and web_dir/images (as html.HTML does).
  HtmlPage(std::string web_dir, std::string title, int refresh = 0);
  const std::string& web_dir() const { return web_dir_; }
  std::string image_dir() const { return web_dir_ + "/images"; }
  void add_header(const std::string& text);
  // One table row: images[i] (a file name in images/) captioned texts[i], linking to links[i].
  void add_images(const std::vector<std::string>& images, const std::vector<std::string>& texts,
                  const std::vector<std::string>& links, int width = 400);
  std::string render() const;
  void save() const;

 private:
  std::string web_dir_, title_;
  int refresh_ = 0;
  std::string body_;
};

// &, <, > and " escaped for text and attribute values.
std::string html_escape(const std::string& s);

}  // namespace sg
