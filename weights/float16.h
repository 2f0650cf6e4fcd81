// The two 16-bit float formats found in weight files, widened to float.
// Both are exact: every float16 and bfloat16 value is a float.
//
//   float16  (IEEE 754 half): 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits
//   bfloat16 (brain float):   1 sign bit, 8 exponent bits (bias 127), 7 mantissa bits,
//                             i.e. the top half of a float32
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace sg {

inline float float_from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31;
  const uint32_t exponent = (h >> 10) & 0x1F;
  const uint32_t mantissa = h & 0x3FF;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exactly representable as a float
    const float magnitude = std::ldexp(float(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)  // infinity (mantissa 0) or NaN (payload kept)
    return float_from_bits(sign | 0x7F800000u | (mantissa << 13));
  // normal: re-bias the exponent from 15 to 127 and widen the mantissa from 10 to 23 bits
  return float_from_bits(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

inline float bfloat16_to_float(uint16_t b) { return float_from_bits(uint32_t(b) << 16); }

}  // namespace sg
