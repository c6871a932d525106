#include "sw/runtime/lowering/int4_packing.h"

#include <algorithm>
#include <cstring>

#include "contract/int4_storage.h"
#include "sw/runtime/lowering/lowering.h"

namespace npuvp::runtime {

namespace {

// Layers whose command reads its input as a plain HWC tensor (or that only
// alias it, as fused activations do).
bool reads_plain(LayerType t) {
  switch (t) {
    case LayerType::kConv2d:
    case LayerType::kBatchNorm:
    case LayerType::kFullyConnected:
    case LayerType::kMaxPool:
    case LayerType::kAvgPool:
    case LayerType::kAdaptiveAvgPool:
    case LayerType::kGlobalAvgPool:
    case LayerType::kAdd:
    case LayerType::kReLU:
    case LayerType::kReLU6:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<bool> plan_int4_packing(const QuantizedNetwork& q, const std::vector<int>& owner,
                                    const std::vector<bool>& producer, const std::vector<int>& placed_in) {
  const Network& n = q.network;
  const int count = static_cast<int>(n.size());
  std::vector<bool> plain(n.size(), false), packed(n.size(), false);
  for (int i = 0; i < count; ++i) {
    const Layer& l = n.layer(i);
    std::vector<int> slices;  // the producers writing into i, a concat, in channel order
    for (int p = 0; p < i; ++p)
      if (placed_in[static_cast<std::size_t>(p)] == i) slices.push_back(p);
    if (i == 0) {
      plain[0] = true;
    } else if (!slices.empty()) {
      plain[i] =
          std::all_of(slices.begin(), slices.end() - 1, [&](int p) { return n.layer(p).out_shape.c % 2 == 0; }) &&
          std::all_of(slices.begin(), slices.end(), [&](int p) { return bool(plain[p]); });
    } else if (producer[i]) {
      // A dense convolution takes any input order into its weights and
      // add reads packed copies; a channelwise layer keeps its input's order.
      const bool reorders = (l.type == LayerType::kConv2d && l.conv.groups == 1) ||
                            l.type == LayerType::kFullyConnected || l.type == LayerType::kAdd;
      plain[i] = reorders || std::all_of(l.inputs.begin(), l.inputs.end(), [&](int s) { return plain[owner[s]]; });
    }
    packed[i] = plain[i] && owner[i] == i && placed_in[static_cast<std::size_t>(i)] < 0 && q.layers[i].output.qmax == 7;
  }
  for (int j = 1; j < count; ++j) {
    const Layer& l = n.layer(j);
    for (int src : l.inputs) {
      const TensorShape s = n.layer(owner[src]).out_shape;
      const bool one_run_per_pixel = s.c % 2 == 0 || s.h * s.w == 1;
      const bool ok = l.type == LayerType::kFlatten || l.type == LayerType::kFullyConnected ? one_run_per_pixel
                                                                                            : reads_plain(l.type);
      if (!ok) packed[owner[src]] = false;
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (int j = 1; j < count; ++j) {
      const Layer& l = n.layer(j);
      if (l.type != LayerType::kAdd) continue;
      const int a = owner[l.inputs[0]], b = owner[l.inputs[1]];
      if (packed[a] == packed[b]) continue;
      packed[a] = packed[b] = false;
      changed = true;
    }
  }
  return packed;
}

std::vector<std::uint8_t> stored_input(const QuantizedNetwork& q, const LoweredNetwork& lowered) {
  const std::vector<std::int8_t>& input = q.input();
  const std::vector<std::int8_t> stored =
      lowered.layers.at(0).int4_packed
          ? pe_array::pack_int4_runs(input, static_cast<std::size_t>(q.network.layer(0).out_shape.c))
          : input;
  std::vector<std::uint8_t> bytes(stored.size());
  if (!bytes.empty()) std::memcpy(bytes.data(), stored.data(), bytes.size());
  return bytes;
}

}  // namespace npuvp::runtime
