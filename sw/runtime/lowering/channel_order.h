#pragma once
// The order a convolution computes its output channels in, and its weights
// rearranged to read or write channels in a given order (docs/lowering.md).

#include <cstdint>
#include <vector>

#include "sw/runtime/quantize/quantized_network.h"

namespace npuvp::runtime {

// Channels shifted alike are read as one run only if they lie side by side:
// the dense convolution that computes a folded shift's input (through
// activations and pooling, which keep channels) computes them grouped by
// shift, at no cost (its weights' rows reordered). Per layer: the order such a
// convolution computes its channels in (perm[j] is the channel computed
// j-th), or empty to keep them in order. `folded[i]`: layer i is folded.
std::vector<std::vector<int>> shift_grouping_orders(const QuantizedNetwork& q, const std::vector<bool>& folded);

// Weights OHWI whose input channels come in `perm` order.
void permute_weight_inputs(const std::vector<int>& perm, std::vector<std::int8_t>& weights);

// A convolution that computes its output channels in `perm` order: its
// filters, biases and per-channel multipliers reordered alike.
void permute_weight_outputs(const std::vector<int>& perm, std::vector<std::int8_t>& weights,
                            std::vector<std::int32_t>& bias, Requantization& rq);

}  // namespace npuvp::runtime
