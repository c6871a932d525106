#include "sw/runtime/lowering/channel_map.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <tuple>

namespace npuvp::runtime {

ChannelMap buffer_view(std::uint64_t buffer, std::uint32_t pitch, std::uint32_t first, std::uint32_t channels) {
  ChannelMap v(channels);
  for (std::uint32_t c = 0; c < channels; ++c) v[c] = {buffer, pitch, first + c, 0, 0};
  return v;
}

std::vector<firmware::InputSegment> segments_of(const ChannelMap& view) {
  std::vector<firmware::InputSegment> out;
  const ChannelRef* prev = nullptr;
  for (const ChannelRef& r : view) {
    firmware::InputSegment* last = out.empty() ? nullptr : &out.back();
    const bool extends = last != nullptr && prev->buffer == r.buffer && prev->pitch == r.pitch && prev->dy == r.dy &&
                         prev->dx == r.dx && r.channel == prev->channel + 1 &&
                         last->channels < std::numeric_limits<std::uint16_t>::max();
    if (extends)
      ++last->channels;
    else
      out.push_back({r.buffer + r.channel, r.pitch, 1, r.dy, r.dx});
    prev = &r;
  }
  return out;
}

bool is_packed(const ChannelMap& view) {
  const auto s = segments_of(view);
  return s.size() == 1 && s[0].addr == view[0].buffer && s[0].pixel_pitch == s[0].channels && s[0].dy == 0 &&
         s[0].dx == 0;
}

std::vector<int> run_order(const ChannelMap& view) {
  std::vector<int> perm(view.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(), [&](int a, int b) {
    const ChannelRef &x = view[static_cast<std::size_t>(a)], &y = view[static_cast<std::size_t>(b)];
    return std::tie(x.buffer, x.pitch, x.dy, x.dx, x.channel) < std::tie(y.buffer, y.pitch, y.dy, y.dx, y.channel);
  });
  return perm;
}

ChannelMap permuted(const ChannelMap& view, const std::vector<int>& perm) {
  ChannelMap out;
  out.reserve(perm.size());
  for (int p : perm) out.push_back(view[static_cast<std::size_t>(p)]);
  return out;
}

}  // namespace npuvp::runtime
