#pragma once
// int16 tensors and weights on the host. They are held as the NPU stores
// them: two bytes per value, little-endian, in the same std::vector<std::int8_t>
// an int8 tensor uses, so the lowering writes them and the executor compares
// them as bytes. The scheme is TFLite's for int16 activations ("16x8"
// post-training quantization): activations per tensor, symmetric, zero point
// 0; weights per output channel, symmetric and narrow-range, here int16
// ([-32767, 32767]) where TFLite keeps them int8 (docs/quantization.md).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sw/runtime/quantize/quantization.h"

namespace npuvp::runtime {

inline std::int32_t load_int16(const std::int8_t* bytes, std::size_t i) {
  const auto* b = reinterpret_cast<const std::uint8_t*>(bytes) + 2 * i;
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(b[0] | (b[1] << 8)));
}
inline void store_int16(std::int8_t* bytes, std::size_t i, std::int32_t v) {
  const auto u = static_cast<std::uint16_t>(v);
  bytes[2 * i] = static_cast<std::int8_t>(u & 0xFF);
  bytes[2 * i + 1] = static_cast<std::int8_t>(u >> 8);
}

// The values of a stored int16 tensor, and back.
std::vector<std::int32_t> int16_values(const std::vector<std::int8_t>& bytes);
std::vector<std::int8_t> int16_bytes(const std::vector<std::int32_t>& values);

// Symmetric int16 parameters over [rmin, rmax] (extended to contain 0):
// scale = max(|rmin|, |rmax|) / 32767, zero point 0, range [-32768, 32767];
// {1, 0} when both are 0. Arguments are checked by choose_quant_params.
QuantParams symmetric_int16_params(float rmin, float rmax);

// quantize_value's rounding and saturation at int16 parameters, stored.
std::vector<std::int8_t> quantize_tensor_int16(const std::vector<float>& values, QuantParams q);

// `count` weights of one output channel at `scale`: clamp(round(w / scale),
// ±32767), stored at `out` (2 × count bytes).
void quantize_int16_weights(const float* w, std::size_t count, float scale, std::int8_t* out);

}  // namespace npuvp::runtime
