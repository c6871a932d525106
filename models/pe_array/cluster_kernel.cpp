#include "models/pe_array/cluster_kernel.h"

#include <algorithm>
#include <limits>

namespace npuvp::pe_array {

std::int32_t requantize(std::int32_t acc, RequantEntry rq) {
  const int left = rq.shift > 0 ? rq.shift : 0;
  const int right = rq.shift > 0 ? 0 : -rq.shift;
  // The 32-bit left shift wraps, as a 32-bit shifter does (TFLite leaves the
  // overflow undefined; its reference wraps on two's-complement machines).
  const auto a32 = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc) << left);
  // Doubling high multiply: round(a*b / 2^31), saturating the one overflow case.
  std::int32_t high;
  if (a32 == std::numeric_limits<std::int32_t>::min() && rq.multiplier == std::numeric_limits<std::int32_t>::min()) {
    high = std::numeric_limits<std::int32_t>::max();
  } else {
    const std::int64_t product = static_cast<std::int64_t>(a32) * rq.multiplier;
    const std::int64_t nudge = product >= 0 ? (std::int64_t{1} << 30) : (1 - (std::int64_t{1} << 30));
    high = static_cast<std::int32_t>((product + nudge) / (std::int64_t{1} << 31));
  }
  if (right == 0) return high;
  // Rounding shift right, ties away from zero.
  const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << right) - 1);
  const std::int32_t remainder = high & mask;
  const std::int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (remainder > threshold ? 1 : 0);
}

void run_conv_job(const ClusterJob& job, const std::int8_t* tile, const std::int8_t* weights,
                  const std::int32_t* bias, const RequantEntry* requant, std::int8_t* out) {
  const int kh = job.kernel_h, kw = job.kernel_w, c = static_cast<int>(job.in_c);
  const int taps = kh * kw;
  const std::size_t filter_size = static_cast<std::size_t>(taps) * c;
  // Sum of each filter tap's weights: with it, a padded tap (input equal to the
  // zero point) contributes nothing and a real tap needs no per-MAC subtraction.
  std::vector<std::int32_t> tap_weight_sum(static_cast<std::size_t>(job.k_count) * taps);
  for (std::uint32_t k = 0; k < job.k_count; ++k)
    for (int t = 0; t < taps; ++t) {
      const std::int8_t* w = weights + k * filter_size + static_cast<std::size_t>(t) * c;
      std::int32_t s = 0;
      for (int i = 0; i < c; ++i) s += w[i];
      tap_weight_sum[k * taps + t] = s;
    }
  const std::int32_t zp = job.input_zero_point;
  std::vector<const std::int8_t*> tap_ptr(taps);
  std::vector<int> tap_index(taps);
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox) {
      int valid = 0;
      for (int ky = 0; ky < kh; ++ky) {
        const int y = job.origin_y + static_cast<int>(oy) * job.stride_h + ky * job.dilation_h;
        if (y < 0 || y >= static_cast<int>(job.in_h)) continue;
        for (int kx = 0; kx < kw; ++kx) {
          const int x = job.origin_x + static_cast<int>(ox) * job.stride_w + kx * job.dilation_w;
          if (x < 0 || x >= static_cast<int>(job.in_w)) continue;
          tap_ptr[valid] = tile + static_cast<std::size_t>(y) * job.in_row_pitch + static_cast<std::size_t>(x) * c;
          tap_index[valid] = ky * kw + kx;
          ++valid;
        }
      }
      std::int8_t* o = out + (static_cast<std::size_t>(oy) * job.out_w + ox) * job.k_count;
      for (std::uint32_t k = 0; k < job.k_count; ++k) {
        const std::int8_t* filter = weights + k * filter_size;
        std::int32_t acc = bias[k];
        for (int v = 0; v < valid; ++v) {
          const std::int8_t* in = tap_ptr[v];
          const std::int8_t* w = filter + static_cast<std::size_t>(tap_index[v]) * c;
          std::int32_t dot = 0;
          for (int i = 0; i < c; ++i) dot += static_cast<std::int32_t>(in[i]) * w[i];
          acc += dot - zp * tap_weight_sum[k * taps + tap_index[v]];
        }
        const std::int32_t q = requantize(acc, requant[k]) + job.output_zero_point;
        o[k] = static_cast<std::int8_t>(std::clamp(q, job.act_min, job.act_max));
      }
    }
  }
}

}  // namespace npuvp::pe_array
