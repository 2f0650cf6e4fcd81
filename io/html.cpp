#include "io/html.h"

#include <filesystem>

#include "io/atomic_file.h"
#include "tensor/error.h"

namespace sg {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

HtmlPage::HtmlPage(std::string web_dir, std::string title, int refresh)
    : web_dir_(std::move(web_dir)), title_(std::move(title)), refresh_(refresh) {
  std::error_code ec;
  std::filesystem::create_directories(image_dir(), ec);
  SG_CHECK(!ec, "cannot create directory '", image_dir(), "': ", ec.message());
}

void HtmlPage::add_header(const std::string& text) { body_ += "    <h3>" + html_escape(text) + "</h3>\n"; }

void HtmlPage::add_images(const std::vector<std::string>& images, const std::vector<std::string>& texts,
                          const std::vector<std::string>& links, int width) {
  SG_CHECK(images.size() == texts.size() && images.size() == links.size(),
           "HtmlPage::add_images: ", images.size(), " images, ", texts.size(), " captions, ", links.size(), " links");
  std::string& b = body_;
  b += "    <table border=\"1\" style=\"table-layout: fixed;\">\n      <tr>\n";
  for (size_t i = 0; i < images.size(); ++i) {
    b += "        <td halign=\"center\" style=\"word-wrap: break-word;\" valign=\"top\">\n";
    b += "          <p>\n";
    b += "            <a href=\"" + html_escape("images/" + links[i]) + "\">\n";
    b += "              <img src=\"" + html_escape("images/" + images[i]) + "\" style=\"width:" +
         std::to_string(width) + "px\">\n";
    b += "            </a>\n            <br>\n";
    b += "            <p>" + html_escape(texts[i]) + "</p>\n";
    b += "          </p>\n        </td>\n";
  }
  b += "      </tr>\n    </table>\n";
}

std::string HtmlPage::render() const {
  std::string s = "<!DOCTYPE html>\n<html>\n  <head>\n    <title>" + html_escape(title_) + "</title>\n";
  if (refresh_ > 0) s += "    <meta content=\"" + std::to_string(refresh_) + "\" http-equiv=\"refresh\">\n";
  s += "  </head>\n  <body>\n" + body_ + "  </body>\n</html>";
  return s;
}

void HtmlPage::save() const { write_file_atomic(web_dir_ + "/index.html", render()); }

}  // namespace sg
