// NumPy's .npy format (version 1.0): a magic string, a small Python-dict
// header with dtype and shape, then the raw little-endian data. Any numpy
// reads it with np.load(path).
#pragma once
#include <string>

#include "tensor/tensor.h"

namespace sg {

// Writes a float32/float64/int64/bool tensor (any layout) as .npy, through a
// temporary file and a rename.
void write_npy(const std::string& path, const Tensor& t);
// Reads a .npy written by write_npy or numpy (C order; f4, f8, i8, b1). The
// header is untrusted: everything is checked against the file size.
Tensor read_npy(const std::string& path);

}  // namespace sg
