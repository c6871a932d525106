#pragma once
// The NPU command processor's firmware: takes command buffers from the host's
// ring and runs each layer. Convolution, pooling and add run as tile loops that
// program the DMA and the PE clusters, double-buffered so that loading tile
// n+1 and storing tile n-1 overlap computing tile n; copies and fills are DMA
// transfers from DRAM to DRAM.

#include <cstdint>

#include "contract/command_format.h"
#include "firmware/hal.h"
#include "firmware/layer_plan.h"

namespace npuvp::firmware {

// Firmware entry point: never returns (runs as the command processor's thread).
[[noreturn]] void firmware_main(Hal& hal);

}  // namespace npuvp::firmware
