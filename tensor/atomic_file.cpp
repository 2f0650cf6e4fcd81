#include "tensor/atomic_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "tensor/error.h"

namespace sg {

void write_file_atomic(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    SG_CHECK(f.good(), "cannot write '", path, "': cannot create a file in its directory");
    f.write(contents.data(), std::streamsize(contents.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw Error("cannot write '" + path + "': write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error("cannot write '" + path + "': rename failed");
  }
}

}  // namespace sg
