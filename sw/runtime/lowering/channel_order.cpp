#include "sw/runtime/lowering/channel_order.h"

#include <algorithm>

#include "sw/runtime/lowering/channel_map.h"

namespace npuvp::runtime {

std::vector<std::vector<int>> shift_grouping_orders(const QuantizedNetwork& q, const std::vector<bool>& folded) {
  const Network& n = q.network;
  std::vector<std::vector<int>> orders(n.size());
  for (std::size_t s = 0; s < n.size(); ++s) {
    const Layer& shift = n.layer(static_cast<int>(s));
    if (!folded[s] || shift.type != LayerType::kShift) continue;
    ChannelMap by_shift;
    for (const ChannelShift& m : shift.shifts)
      by_shift.push_back({0, 0, static_cast<std::uint32_t>(by_shift.size()), static_cast<std::int8_t>(m.dy),
                          static_cast<std::int8_t>(m.dx)});
    int p = shift.inputs[0];
    for (;;) {
      const Layer& l = n.layer(p);
      if (q.layers[p].fused_into >= 0) {
        p = q.layers[p].fused_into;
      } else if (l.type == LayerType::kMaxPool || l.type == LayerType::kAvgPool || l.type == LayerType::kBatchNorm ||
                 (l.type == LayerType::kConv2d && l.conv.groups > 1 && l.conv.groups == l.conv.out_channels &&
                  l.conv.groups == n.layer(l.inputs[0]).out_shape.c)) {
        p = l.inputs[0];  // keeps channels: computes them in the order it reads them
      } else {
        auto order = run_order(by_shift);
        if (l.type == LayerType::kConv2d && l.conv.groups == 1 && !std::is_sorted(order.begin(), order.end()))
          orders[p] = std::move(order);
        break;
      }
    }
  }
  return orders;
}

void permute_weight_inputs(const std::vector<int>& perm, std::vector<std::int8_t>& weights) {
  const std::vector<std::int8_t> w = weights;
  const std::size_t n = perm.size();
  for (std::size_t f = 0; f < w.size() / n; ++f)  // every output channel and tap
    for (std::size_t j = 0; j < n; ++j) weights[f * n + j] = w[f * n + static_cast<std::size_t>(perm[j])];
}

void permute_weight_outputs(const std::vector<int>& perm, std::vector<std::int8_t>& weights,
                            std::vector<std::int32_t>& bias, Requantization& rq) {
  const std::vector<std::int8_t> w = weights;
  const std::vector<std::int32_t> b = bias;
  const std::vector<FixedPointMultiplier> m = rq.per_channel;
  const std::size_t row = w.size() / perm.size();
  for (std::size_t j = 0; j < perm.size(); ++j) {
    const auto from = static_cast<std::size_t>(perm[j]);
    std::copy_n(w.begin() + static_cast<std::ptrdiff_t>(from * row), row,
                weights.begin() + static_cast<std::ptrdiff_t>(j * row));
    if (!b.empty()) bias[j] = b[from];
    if (m.size() > 1) rq.per_channel[j] = m[from];
  }
}

}  // namespace npuvp::runtime
