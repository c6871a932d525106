// A Shift layer that is not folded into its readers' gathers runs as a
// depthwise convolution of one-hot weights.
#include <algorithm>
#include <cstdlib>

#include "sw/runtime/lowering/lowering.h"

namespace npuvp::runtime {

ShiftAsConv shift_as_depthwise_conv(const std::vector<ChannelShift>& shifts, std::int32_t zero_point) {
  int r = 1;
  for (const auto& s : shifts) r = std::max({r, std::abs(s.dy), std::abs(s.dx)});
  const int k = 2 * r + 1;
  ShiftAsConv out;
  const int c = static_cast<int>(shifts.size());
  out.conv.set_square(k, 1, r);
  out.conv.groups = c;
  out.conv.out_channels = c;
  out.conv.input_zero_point = zero_point;
  // out(y, x) = in(y - dy, x - dx) = in(y - r + ky, x - r + kx) at ky = r - dy,
  // kx = r - dx.
  out.weights.assign(static_cast<std::size_t>(c) * k * k, 0);
  for (int ch = 0; ch < c; ++ch) {
    const ChannelShift s = shifts[static_cast<std::size_t>(ch)];
    out.weights[(static_cast<std::size_t>(ch) * k + (r - s.dy)) * k + (r - s.dx)] = 1;
  }
  // acc * 2^30 * 2^1 / 2^31 == acc exactly (see
  // multiply_by_quantized_multiplier).
  out.requant.per_channel = {FixedPointMultiplier{std::int32_t{1} << 30, 1}};
  out.requant.output_zero_point = zero_point;
  return out;
}

}  // namespace npuvp::runtime
