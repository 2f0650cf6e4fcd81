// Element types. fp32 is the working type, fp64 is for gradient checks,
// i64 holds indices (argmax, class labels), b8 holds masks (where/masked_fill).
// fp16/bf16 would be new enum values plus a conversion in to(): nothing else
// in the tensor layer assumes a fixed list.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace sg {

enum class DType : uint8_t { f32 = 0, f64 = 1, i64 = 2, b8 = 3 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i64: return 8;
    case DType::b8: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i64: return "int64";
    case DType::b8: return "bool";
  }
  return "?";
}

inline bool is_floating(DType t) { return t == DType::f32 || t == DType::f64; }

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::b8; };

}  // namespace sg
