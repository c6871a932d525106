#pragma once
// IEEE 754 binary16 ("half") conversions as a PE's fp16 datapath performs
// them: exact widening to float, and narrowing from float with
// round-to-nearest-even, overflow to infinity, gradual underflow to
// subnormals, NaN kept quiet. Pure logic, header-only.

#include <cstdint>
#include <cstring>

namespace npuvp::half {

inline float to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu;
  std::uint32_t mantissa = h & 0x3FFu;
  std::uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F80'0000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);  // rebias 15 -> 127
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal: normalize; every half subnormal is a normal float.
    std::uint32_t e = 113;  // the exponent of 2^-14 in float's bias
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mantissa & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline std::uint16_t from_float(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t exponent = (bits >> 23) & 0xFFu;
  const std::uint32_t mantissa = bits & 0x7F'FFFFu;
  if (exponent == 0xFF) return static_cast<std::uint16_t>(sign | 0x7C00u | (mantissa != 0 ? 0x200u : 0));
  const int e = static_cast<int>(exponent) - 127 + 15;  // half's biased exponent
  if (e >= 0x1F) return static_cast<std::uint16_t>(sign | 0x7C00u);
  // The significand with its implicit bit, and how many low bits the half
  // drops: 13 for normals, more for subnormals (whose exponent is fixed at 1).
  std::uint32_t significand = mantissa | (exponent != 0 ? 0x80'0000u : 0);
  int drop = 13;
  if (e <= 0) {
    drop = 14 - e;
    if (drop > 24) return sign;  // below half the smallest subnormal
  }
  const std::uint32_t kept = significand >> drop;
  const std::uint32_t rest = significand & ((1u << drop) - 1);
  const std::uint32_t halfway = 1u << (drop - 1);
  std::uint32_t rounded = kept + ((rest > halfway || (rest == halfway && (kept & 1u))) ? 1 : 0);
  if (e <= 0) return static_cast<std::uint16_t>(sign | rounded);  // a carry into bit 10 becomes the smallest normal
  // A carry out of the mantissa bumps the exponent, possibly to infinity.
  rounded += static_cast<std::uint32_t>(e) << 10;
  return static_cast<std::uint16_t>(sign | (rounded - 0x400u));
}

}  // namespace npuvp::half
