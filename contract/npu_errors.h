#pragma once
// What an NPU error means, in words: the one translation of ERROR_CODE and
// ERROR_INFO that the command processor's log and the driver's messages use.
// No SystemC here.

#include <cstdint>
#include <string>

namespace npuvp::npu {

// The unit that failed and why, e.g. "DMA: a transfer touched address
// 0x70000000, where nothing is mapped". `info` is read as ERROR_CODE says
// (an address, a cluster, a layer's index in its command buffer).
std::string describe_error(std::uint32_t code, std::uint32_t info);

}  // namespace npuvp::npu
