#pragma once
// The textbook convolution loop nest the reference kernels' tests compare with.

#include <cstdint>
#include <vector>

#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime::testing {

// The textbook loop nest TFLite's reference conv uses: (x - zp) * w for every tap
// inside the map, taps in the padding skipped.
inline std::vector<std::int32_t> direct_conv(const std::vector<std::int8_t>& in, TensorShape s,
                                             const std::vector<std::int8_t>& w, const std::vector<std::int32_t>& bias,
                                             const ConvParams& p) {
  const TensorShape o = conv_output_shape(s, p);
  const int icg = s.c / p.groups, ocg = p.out_channels / p.groups;
  std::vector<std::int32_t> out(o.size());
  for (int oy = 0; oy < o.h; ++oy) {
    for (int ox = 0; ox < o.w; ++ox) {
      for (int oc = 0; oc < o.c; ++oc) {
        std::int32_t acc = bias.empty() ? 0 : bias[static_cast<std::size_t>(oc)];
        for (int ky = 0; ky < p.kernel_h; ++ky) {
          for (int kx = 0; kx < p.kernel_w; ++kx) {
            const int iy = oy * p.stride_h - p.pad.top + ky * p.dilation_h;
            const int ix = ox * p.stride_w - p.pad.left + kx * p.dilation_w;
            if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
            for (int i = 0; i < icg; ++i) {
              const int ic = (oc / ocg) * icg + i;
              const std::int32_t x = in[static_cast<std::size_t>((iy * s.w + ix) * s.c + ic)];
              const std::int32_t wv = w[static_cast<std::size_t>(((oc * p.kernel_h + ky) * p.kernel_w + kx) * icg + i)];
              acc += (x - p.input_zero_point) * wv;
            }
          }
        }
        out[static_cast<std::size_t>((oy * o.w + ox) * o.c + oc)] = acc;
      }
    }
  }
  return out;
}

}  // namespace npuvp::runtime::testing
