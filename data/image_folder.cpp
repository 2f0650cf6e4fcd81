#include "data/image_folder.h"

#include <algorithm>
#include <filesystem>

#include "tensor/error.h"

namespace sg::data {

namespace fs = std::filesystem;

bool is_image_file(const std::string& name) {
  static const char* const kExtensions[] = {".jpg", ".JPG", ".jpeg", ".JPEG", ".png", ".PNG", ".ppm",
                                            ".PPM", ".bmp", ".BMP", ".tif", ".TIF", ".tiff", ".TIFF"};
  for (const char* ext : kExtensions) {
    const std::string e = ext;
    if (name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

std::vector<std::string> make_dataset(const std::string& dir, int64_t max_dataset_size) {
  std::error_code ec;
  SG_CHECK(fs::is_directory(dir, ec), "'", dir, "' is not a valid directory");
  std::vector<std::string> images;
  // os.walk(dir) yields root = dir, then dir/sub, ...; os.path.join(root, fname).
  const std::string root = dir;
  auto join = [](const std::string& a, const std::string& b) {
    return a.empty() || a.back() == '/' ? a + b : a + "/" + b;
  };
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) continue;
    const std::string name = it->path().filename().string();
    if (!is_image_file(name)) continue;
    const std::string relative = fs::relative(it->path(), dir, ec).string();
    images.push_back(join(root, relative));
  }
  SG_CHECK(!ec, "cannot list '", dir, "': ", ec.message());
  std::sort(images.begin(), images.end());
  if (int64_t(images.size()) > max_dataset_size) images.resize(size_t(max_dataset_size));
  return images;
}

}  // namespace sg::data
