#pragma once
// Which activation tensors of a lowered network are stored packed int4, two
// values per byte, each pixel's channels a run (contract/int4_storage.h).
//
// An int4 tensor is packed when every command that writes or reads it
// addresses it as a plain HWC tensor: convolution, fully connected, pooling,
// add and standalone activations, through flatten and fused activations
// (which share their input's tensor). It stays one value per byte when a
// data-movement layer (slice, channel shuffle, shift, channel padding, a
// concat that runs as copies) reads or writes it, when it is written through a permuted or
// gathered view (a folded layer's channel order), when a flatten or fully
// connected layer reads a tensor of odd channels over several pixels as one
// vector (its runs would differ), or when an add reads it beside a tensor that
// is not packed (an add's inputs share one packing flag). A folded concat
// whose producers write their slices of it is packed like their own tensor
// would be, when each slice but the last starts and ends on an even channel.

#include <vector>

#include "sw/runtime/quantize/quantized_network.h"

namespace npuvp::runtime {

// Per layer, whether its tensor is packed. `owner[i]`: the layer whose tensor
// layer i's output is; `producer[i]`: layer i's command writes its output in
// channel order; `placed_in[i]`: the concat whose slice it writes, or -1.
std::vector<bool> plan_int4_packing(const QuantizedNetwork& q, const std::vector<int>& owner,
                                    const std::vector<bool>& producer, const std::vector<int>& placed_in);

}  // namespace npuvp::runtime
