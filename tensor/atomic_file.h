// Writing a file so that a reader never sees it half-written and a failure
// never destroys what was there: write a temporary file in the same
// directory, then rename it over the target (atomic on POSIX file systems).
#pragma once
#include <string>

namespace sg {
void write_file_atomic(const std::string& path, const std::string& contents);
}  // namespace sg
