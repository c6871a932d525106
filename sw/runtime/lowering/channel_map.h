#pragma once
// Where the channels of a tensor live when data-movement layers are folded
// (docs/lowering.md): every logical channel is a channel of some packed DRAM
// buffer, possibly read shifted. Concat, slice, channel shuffle and shift only
// rearrange these references; the layers that compute read or write them.

#include <cstdint>
#include <vector>

#include "contract/command_format.h"

namespace npuvp::runtime {

struct ChannelRef {
  std::uint64_t buffer = 0;  // DRAM address of the buffer's first pixel
  std::uint32_t pitch = 0;   // bytes between the buffer's pixels
  std::uint32_t channel = 0;
  std::int8_t dy = 0, dx = 0;  // read at (y - dy, x - dx), the zero point outside
};

using ChannelMap = std::vector<ChannelRef>;

// The `channels` channels of a buffer from `first` on, unshifted.
ChannelMap buffer_view(std::uint64_t buffer, std::uint32_t pitch, std::uint32_t first, std::uint32_t channels);

// The view's runs of consecutive channels of one buffer and shift, in order.
std::vector<firmware::InputSegment> segments_of(const ChannelMap& view);

// Whether the view is a whole packed buffer: readable at its address as is.
bool is_packed(const ChannelMap& view);

// The order that groups the view's channels into the fewest runs (by buffer,
// shift and channel): perm[j] is the logical channel placed j-th.
std::vector<int> run_order(const ChannelMap& view);

// view[perm[0]], view[perm[1]], ...
ChannelMap permuted(const ChannelMap& view, const std::vector<int>& perm);

}  // namespace npuvp::runtime
