// Reads PyTorch checkpoints (files written by torch.save) without Python.
//
// Two layouts exist:
//  * zip (torch >= 1.6, the default): a stored ZIP archive with
//    <dir>/data.pkl (the pickled object) and <dir>/data/<key> (the raw bytes
//    of each storage);
//  * legacy (older torch, or _use_new_zipfile_serialization=False; e.g.
//    torchvision's vgg16/vgg19 files): five pickles back to back -- a magic
//    number, a protocol version, system info, the object, the list of storage
//    keys -- then, per key in that order, a u64 element count and the bytes.
// Either way the object pickle describes each tensor as a call
// _rebuild_tensor_v2(storage, storage_offset, size, stride, ...) whose storage
// is a persistent id ('storage', torch.FloatStorage, key, location, numel).
// Tensors are views into storages: two tensors may share one storage, and a
// view may be non-contiguous. Loaded tensors keep that sharing.
//
// A checkpoint is untrusted input. The pickle VM (weights/pickle.h) allows only
// the globals a state_dict needs, and every size, offset and stride is checked
// against the bytes actually present: a bad file is one sg::Error line
// ("<file>: <what is wrong>"), never a crash or an out-of-bounds read.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tensor/tensor.h"
#include "weights/pickle.h"
#include "weights/stored_tensor.h"

namespace sg {


// The usual entry point: the state_dict in `path` (see find_state_dict), nested
// dicts flattened with '.', in file order. Floating-point storages (fp16, bf16,
// fp32, fp64) become `want` (f32 or f64); integer storages become i64 and bool
// storages b8. Key prefixes such as "module." are left as they are.
NamedTensors load_torch_checkpoint(const std::string& path, DType want = DType::f32);
// The same for a checkpoint already in memory; `name` is used in error messages.
NamedTensors load_torch_checkpoint_from_memory(const uint8_t* data, size_t size, DType want = DType::f32,
                                               const std::string& name = "<memory>");

// A checkpoint unpickled but not yet turned into tensors, for callers that
// want more than the state_dict (an 'epoch' entry, several models in one file).
// Each tensor's name, stored dtype and shape, from the pickle alone (no data
// is converted); views are checked as load_torch_checkpoint checks them.
StoredTensors list_torch_checkpoint(const std::string& path);

class TorchCheckpoint {
 public:
  static TorchCheckpoint open(const std::string& path);
  static TorchCheckpoint from_memory(const uint8_t* data, size_t size, const std::string& name = "<memory>");

  // The unpickled top-level object. Tensors in it are pickle calls; the
  // helpers below recognise and convert them.
  const pickle::Value& root() const { return *object_.root; }
  const std::string& name() const { return name_; }

  // The tensors of `dict` (a dict inside root()), nested dicts flattened with
  // '.', in file order. Every leaf must be a tensor.
  NamedTensors tensors(const pickle::Value& dict, DType want = DType::f32) const;
  // The same tensors' names, stored dtypes and shapes, converting nothing.
  StoredTensors stored_tensors(const pickle::Value& dict) const;

  TorchCheckpoint(TorchCheckpoint&&) = default;
  TorchCheckpoint& operator=(TorchCheckpoint&&) = default;

  // Where one storage's elements lie in the file.
  struct StorageData {
    std::string key;
    std::string type;     // "torch.FloatStorage"
    int64_t numel = 0;
    ByteSpan bytes;       // exactly numel * element size bytes, inside the file
  };
  // What a persistent id points at: `numel` elements from `offset` in a root
  // storage (legacy files may reference slices of a storage; zip files never do).
  struct StorageView {
    const StorageData* storage = nullptr;
    int64_t offset = 0;
    int64_t numel = 0;
  };

 private:
  TorchCheckpoint(std::string name, std::vector<uint8_t> bytes);
  void read_zip();
  void read_legacy();
  // Records the storage every persistent id names (data still to be found).
  void collect_storage_references();
  // A tensor's storage view, offset, size and stride, checked: every element
  // it reaches lies inside the storage, and it claims no more elements than
  // the storage holds.
  struct ParsedView {
    StorageView storage;
    int64_t offset = 0;
    Shape size;
    Strides stride;
  };
  ParsedView parse_view(const pickle::Value& call) const;
  Tensor make_tensor(const pickle::Value& call, DType want,
                     std::unordered_map<const StorageData*, Tensor>& converted) const;

  std::string name_;
  std::vector<uint8_t> bytes_;  // the whole file; StorageData::bytes point into it
  pickle::Unpickled object_;
  std::unordered_map<std::string, StorageData> storages_;            // by key
  std::unordered_map<const pickle::Value*, StorageView> references_;  // persistent id -> view
};

// The state_dict inside a checkpoint's top-level object: the object itself if
// it is a dict whose leaves (through nested dicts) are all tensors, else its
// 'state_dict', 'model' or 'params' entry if that is such a dict. Throws
// naming the first non-tensor leaf otherwise.
const pickle::Value& find_state_dict(const pickle::Value& root);

// True if `v` is a pickled tensor (a call of torch._utils._rebuild_tensor* or _rebuild_parameter*).
bool is_pickled_tensor(const pickle::Value& v);

// The "module.name" globals a checkpoint may reference; everything else is refused.
const std::set<std::string>& torch_checkpoint_allowed_globals();

}  // namespace sg
