#pragma once
// The `noc:` section of a platform preset:
//
//   noc:
//     width: 4              # routers per row
//     height: 4             # rows
//     flit_bytes: 32
//     router_cycles: 2      # router pipeline depth
//     link_cycles: 1
//     buffer_flits: 8       # per input virtual channel, >= router_cycles + 2 * link_cycles,
//                           # > header_flits (a multicast packet is at most a buffer)
//     virtual_channels: 2
//     header_flits: 1
//     clock_mhz: 800
//     initiators: [{name: dma, x: 0, y: 0}, ...]
//     targets: [{name: sram0, x: 1, y: 0, base: 0x10000000, size: 0x40000}, ...]
//
// Every key is optional (defaults of NocConfig); unknown keys are errors.
// A platform derives clock_mhz, initiators and targets from the NPU and
// refuses them (platform_config.cpp); noc-bench, with no NPU, takes them here.

#include "models/noc/noc_config.h"
#include "platform/config/config_node.h"

namespace npuvp::config {

// Throws ConfigError naming the file, the key (e.g. "noc.targets[1].x") and
// what was expected.
noc::NocConfig parse_noc(const ConfigNode& section);

}  // namespace npuvp::config
