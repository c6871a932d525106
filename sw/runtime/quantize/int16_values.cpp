#include "sw/runtime/quantize/int16_values.h"

#include <algorithm>
#include <cmath>

namespace npuvp::runtime {

std::vector<std::int32_t> int16_values(const std::vector<std::int8_t>& bytes) {
  std::vector<std::int32_t> v(bytes.size() / 2);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = load_int16(bytes.data(), i);
  return v;
}

std::vector<std::int8_t> int16_bytes(const std::vector<std::int32_t>& values) {
  std::vector<std::int8_t> b(2 * values.size());
  for (std::size_t i = 0; i < values.size(); ++i) store_int16(b.data(), i, values[i]);
  return b;
}

QuantParams symmetric_int16_params(float rmin, float rmax) {
  const double bound = std::max(std::fabs(static_cast<double>(rmin)), std::fabs(static_cast<double>(rmax)));
  QuantParams q = with_bits({1.0f, 0}, 16);
  if (bound > 0) q.scale = static_cast<float>(bound / q.qmax);
  return q;
}

std::vector<std::int8_t> quantize_tensor_int16(const std::vector<float>& values, QuantParams q) {
  std::vector<std::int8_t> out(2 * values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float x = values[i];
    // Saturate in float first: a huge value must not overflow the int conversion.
    const float r = std::isnan(x) ? 0.0f : std::clamp(std::round(x / q.scale), -1.0e6f, 1.0e6f);
    store_int16(out.data(), i, std::clamp<std::int64_t>(static_cast<std::int64_t>(r) + q.zero_point, q.qmin, q.qmax));
  }
  return out;
}

void quantize_int16_weights(const float* w, std::size_t count, float scale, std::int8_t* out) {
  for (std::size_t i = 0; i < count; ++i)
    store_int16(out, i, static_cast<std::int32_t>(std::clamp(std::round(w[i] / scale), -32767.0f, 32767.0f)));
}

}  // namespace npuvp::runtime
