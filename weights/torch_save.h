// Writes a state_dict as torch.save does (the zip format of torch >= 1.6), so
// that PyTorch -- and the official CycleGAN/CUT code, which calls torch.load --
// reads stylegrad's weights as they are: torch.load(path, weights_only=True)
// gives an OrderedDict of name -> tensor.
//
// The file is a ZIP archive, every entry stored (not compressed):
//   archive/data.pkl   the pickled OrderedDict (protocol 2); each tensor is the
//                      call torch._utils._rebuild_tensor_v2(storage, offset,
//                      size, stride, requires_grad=False, OrderedDict()) whose
//                      storage is the persistent id
//                      ('storage', torch.FloatStorage, '<k>', 'cpu', numel)
//   archive/data/<k>   storage k's bytes, little-endian, 64-byte aligned in the
//                      file as torch aligns them (so that it could map them)
//   archive/version    "3"
// weights/torch_checkpoint.h reads the same layout back.
#pragma once
#include <string>

#include "tensor/tensor.h"

namespace sg {

// Tensors of any layout and device are written contiguous, one storage each:
// float32, float64, int64 and bool (torch.FloatStorage, DoubleStorage,
// LongStorage, BoolStorage). Written atomically (io/atomic_file.h).
void save_torch_state_dict(const std::string& path, const NamedTensors& state);

// The same bytes, in memory (for tests and fuzzing).
std::string torch_state_dict_bytes(const NamedTensors& state);

}  // namespace sg
