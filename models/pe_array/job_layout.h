#pragma once
// Where a job's output pixel reads its taps in the input tile and how its
// elements are read and written: shared by the cluster kernel's scalar and
// vector paths, which must agree on them exactly.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "contract/cluster_regs.h"

namespace npuvp::pe_array {

// The taps of an output pixel that fall inside the tile, as tile coordinates.
struct Window {
  int y0, x0;        // tile coordinate of tap (0, 0)
  int ky_lo, ky_hi;  // valid taps [lo, hi)
  int kx_lo, kx_hi;
};

inline Window window(const ClusterJob& job, std::uint32_t oy, std::uint32_t ox) {
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

// Byte address of channel in_channel_offset of tile pixel (y, x).
inline const std::int8_t* pixel(const ClusterJob& job, const std::int8_t* tile, int y, int x, unsigned element = 1) {
  return tile + static_cast<std::size_t>(y) * job.in_row_pitch +
         (static_cast<std::size_t>(x) * job.in_c + job.in_channel_offset) * element;
}

// Byte address of tap (ky, kx) of the window w (which must be inside it).
inline const std::int8_t* tap_pixel(const ClusterJob& job, const Window& w, const std::int8_t* tile, int ky, int kx,
                                    unsigned element) {
  return pixel(job, tile, w.y0 + ky * job.dilation_h, w.x0 + kx * job.dilation_w, element);
}

// The taps of an output pixel inside the tile: byte address of each tap's
// pixel and the tap's index in the filter.
inline int valid_taps(const ClusterJob& job, std::uint32_t oy, std::uint32_t ox, const std::int8_t* tile,
                      unsigned element, std::vector<const std::int8_t*>& tap_ptr, std::vector<int>& tap_index) {
  const Window w = window(job, oy, ox);
  int valid = 0;
  for (int ky = w.ky_lo; ky < w.ky_hi; ++ky)
    for (int kx = w.kx_lo; kx < w.kx_hi; ++kx) {
      tap_ptr[valid] = tap_pixel(job, w, tile, ky, kx, element);
      tap_index[valid] = ky * job.kernel_w + kx;
      ++valid;
    }
  return valid;
}

// Integer element formats: how an element is read and written, and the
// range results saturate to (besides act_min/act_max).
struct Int8Format {
  static constexpr unsigned kBytes = 1;
  static constexpr std::int32_t kMin = -128, kMax = 127;
  static std::int32_t load(const std::int8_t* p, std::size_t i) { return p[i]; }
  static void store(std::int8_t* p, std::size_t i, std::int32_t v) { p[i] = static_cast<std::int8_t>(v); }
};
// One value per byte, sign-extended: only the saturation range differs.
struct Int4Format : Int8Format {
  static constexpr std::int32_t kMin = -8, kMax = 7;
};
struct Int16Format {
  static constexpr unsigned kBytes = 2;
  static constexpr std::int32_t kMin = -32768, kMax = 32767;
  static std::int32_t load(const std::int8_t* p, std::size_t i) {
    const auto* b = reinterpret_cast<const std::uint8_t*>(p) + 2 * i;
    return static_cast<std::int16_t>(static_cast<std::uint16_t>(b[0] | (b[1] << 8)));
  }
  static void store(std::int8_t* p, std::size_t i, std::int32_t v) {
    auto* b = reinterpret_cast<std::uint8_t*>(p) + 2 * i;
    b[0] = static_cast<std::uint8_t>(v);
    b[1] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) >> 8);
  }
};

}  // namespace npuvp::pe_array
