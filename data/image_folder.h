// Image folders as the official CycleGAN/pix2pix code lists them
// (data/image_folder.py): every file under a directory, recursively, whose
// name ends with one of IMG_EXTENSIONS (case-sensitive, as str.endswith), in
// the order the datasets use: sorted by full path.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace sg::data {

// .jpg .JPG .jpeg .JPEG .png .PNG .ppm .PPM .bmp .BMP .tif .TIF .tiff .TIFF
// (stylegrad decodes PNG, JPEG, BMP and PPM; a .tif is listed, as officially,
// and fails to decode with its name).
bool is_image_file(const std::string& name);

// make_dataset(dir, max_dataset_size) followed by sorted(): the paths
// ("dir/sub/x.png", joined as os.path.join does), sorted bytewise, the first
// max_dataset_size of them (the official code keeps the first of os.walk's
// order, which depends on the file system, and sorts those; this is the
// deterministic reading of it, and the same without the limit). A missing directory is one error line:
// "'<dir>' is not a valid directory".
std::vector<std::string> make_dataset(const std::string& dir,
                                      int64_t max_dataset_size = std::numeric_limits<int64_t>::max());

}  // namespace sg::data
