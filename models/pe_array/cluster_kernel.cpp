#include "models/pe_array/cluster_kernel.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace npuvp::pe_array {
namespace {

std::int8_t saturate(std::int32_t v, const ClusterJob& job) {
  return static_cast<std::int8_t>(std::clamp(v, job.act_min, job.act_max));
}

// The taps of an output pixel that fall inside the tile, as tile coordinates.
struct Window {
  int y0, x0;          // tile coordinate of tap (0, 0)
  int ky_lo, ky_hi;    // valid taps [lo, hi)
  int kx_lo, kx_hi;
};

Window window(const ClusterJob& job, std::uint32_t oy, std::uint32_t ox) {
  Window w;
  w.y0 = job.origin_y + static_cast<int>(oy) * job.stride_h;
  w.x0 = job.origin_x + static_cast<int>(ox) * job.stride_w;
  auto range = [](int start, int dilation, int taps, int size, int& lo, int& hi) {
    lo = 0;
    while (lo < taps && start + lo * dilation < 0) ++lo;
    hi = taps;
    while (hi > lo && start + (hi - 1) * dilation >= size) --hi;
  };
  range(w.y0, job.dilation_h, job.kernel_h, static_cast<int>(job.in_h), w.ky_lo, w.ky_hi);
  range(w.x0, job.dilation_w, job.kernel_w, static_cast<int>(job.in_w), w.kx_lo, w.kx_hi);
  return w;
}

const std::int8_t* pixel(const ClusterJob& job, const std::int8_t* tile, int y, int x) {
  return tile + static_cast<std::size_t>(y) * job.in_row_pitch + static_cast<std::size_t>(x) * job.in_c +
         job.in_channel_offset;
}

void conv(const ClusterJob& job, const JobOperands& in, std::int8_t* out) {
  const int kh = job.kernel_h, kw = job.kernel_w, taps = kh * kw;
  const int cg = static_cast<int>(job.group_in);
  const std::size_t filter_size = static_cast<std::size_t>(taps) * cg;
  // Sum of each filter tap's weights: with it, a padded tap (input equal to the
  // zero point) contributes nothing and a real tap needs no per-MAC subtraction.
  std::vector<std::int32_t> tap_weight_sum(static_cast<std::size_t>(job.k_count) * taps);
  for (std::uint32_t k = 0; k < job.k_count; ++k)
    for (int t = 0; t < taps; ++t) {
      const std::int8_t* w = in.weights + k * filter_size + static_cast<std::size_t>(t) * cg;
      std::int32_t s = 0;
      for (int i = 0; i < cg; ++i) s += w[i];
      tap_weight_sum[k * taps + t] = s;
    }
  const std::int32_t zp = job.input_zero_point;
  std::vector<const std::int8_t*> tap_ptr(taps);
  std::vector<int> tap_index(taps);
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox) {
      const Window w = window(job, oy, ox);
      int valid = 0;
      for (int ky = w.ky_lo; ky < w.ky_hi; ++ky)
        for (int kx = w.kx_lo; kx < w.kx_hi; ++kx) {
          tap_ptr[valid] = pixel(job, in.tile, w.y0 + ky * job.dilation_h, w.x0 + kx * job.dilation_w);
          tap_index[valid] = ky * kw + kx;
          ++valid;
        }
      std::int8_t* o = out + (static_cast<std::size_t>(oy) * job.out_w + ox) * job.k_count;
      for (std::uint32_t k = 0; k < job.k_count; ++k) {
        const std::size_t group_channel = static_cast<std::size_t>(k / job.group_out) * cg;
        const std::int8_t* filter = in.weights + k * filter_size;
        std::int32_t acc = in.bias[k];
        for (int v = 0; v < valid; ++v) {
          const std::int8_t* x = tap_ptr[v] + group_channel;
          const std::int8_t* wt = filter + static_cast<std::size_t>(tap_index[v]) * cg;
          std::int32_t dot = 0;
          for (int i = 0; i < cg; ++i) dot += static_cast<std::int32_t>(x[i]) * wt[i];
          acc += dot - zp * tap_weight_sum[k * taps + tap_index[v]];
        }
        o[k] = saturate(requantize(acc, in.requant[k]) + job.output_zero_point, job);
      }
    }
  }
}

void pool(const ClusterJob& job, const JobOperands& in, std::int8_t* out) {
  const bool is_max = job.op == static_cast<std::uint32_t>(JobOp::kMaxPool);
  std::vector<std::int32_t> acc(job.k_count);
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox) {
      const Window w = window(job, oy, ox);
      std::fill(acc.begin(), acc.end(), is_max ? std::numeric_limits<std::int32_t>::min() : 0);
      for (int ky = w.ky_lo; ky < w.ky_hi; ++ky)
        for (int kx = w.kx_lo; kx < w.kx_hi; ++kx) {
          const std::int8_t* x = pixel(job, in.tile, w.y0 + ky, w.x0 + kx);
          for (std::uint32_t k = 0; k < job.k_count; ++k) acc[k] = is_max ? std::max<std::int32_t>(acc[k], x[k]) : acc[k] + x[k];
        }
      std::int8_t* o = out + (static_cast<std::size_t>(oy) * job.out_w + ox) * job.k_count;
      if (is_max) {
        for (std::uint32_t k = 0; k < job.k_count; ++k) o[k] = saturate(acc[k], job);
        continue;
      }
      std::int32_t count = (w.ky_hi - w.ky_lo) * (w.kx_hi - w.kx_lo);
      std::int32_t pad_sum = 0;
      if (job.flags & kJobCountIncludePad) {
        // The window clipped to the padded map, not to the image.
        const int y_img = w.y0 + job.tile_row0;
        const int rows = std::min<int>(y_img + job.kernel_h, static_cast<int>(job.image_h) + job.pad_bottom) -
                         std::max<int>(y_img, -static_cast<int>(job.pad_top));
        const int cols = std::min<int>(w.x0 + job.kernel_w, static_cast<int>(job.image_w) + job.pad_right) -
                         std::max<int>(w.x0, -static_cast<int>(job.pad_left));
        pad_sum = (rows * cols - count) * job.input_zero_point;
        count = rows * cols;
      }
      for (std::uint32_t k = 0; k < job.k_count; ++k) {
        const std::int32_t s = acc[k] + pad_sum;
        // Round half away from zero, as TFLite's average pool does.
        const std::int32_t avg = (s >= 0 ? s + count / 2 : s - count / 2) / count;
        o[k] = saturate(avg, job);
      }
    }
  }
}

void add(const ClusterJob& job, const JobOperands& in, std::int8_t* out) {
  const RequantEntry m1{job.in1_multiplier, job.in1_shift};
  const RequantEntry m2{job.in2_multiplier, job.in2_shift};
  const RequantEntry mo{job.out_multiplier, job.out_shift};
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox) {
      const int y = job.origin_y + static_cast<int>(oy) * job.stride_h;
      const int x = job.origin_x + static_cast<int>(ox) * job.stride_w;
      const std::int8_t* a = pixel(job, in.tile, y, x);
      const std::int8_t* b = pixel(job, in.tile2, y, x);
      std::int8_t* o = out + (static_cast<std::size_t>(oy) * job.out_w + ox) * job.k_count;
      for (std::uint32_t k = 0; k < job.k_count; ++k) {
        const std::int32_t s1 = requantize((a[k] - job.input_zero_point) * (1 << job.left_shift), m1);
        const std::int32_t s2 = requantize((b[k] - job.in2_zero_point) * (1 << job.left_shift), m2);
        o[k] = saturate(requantize(s1 + s2, mo) + job.output_zero_point, job);
      }
    }
  }
}

}  // namespace

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

void run_job(const ClusterJob& job, const JobOperands& in, std::int8_t* out) {
  switch (static_cast<JobOp>(job.op)) {
    case JobOp::kConv2d: conv(job, in, out); break;
    case JobOp::kMaxPool:
    case JobOp::kAvgPool: pool(job, in, out); break;
    case JobOp::kAdd: add(job, in, out); break;
  }
}

}  // namespace npuvp::pe_array
