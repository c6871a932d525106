#include "contract/npu_errors.h"

#include <cstdio>

#include "contract/npu_regs.h"

namespace npuvp::npu {
namespace {

std::string hex(std::uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "%#x", v);
  return text;
}

}  // namespace

std::string describe_error(std::uint32_t code, std::uint32_t info) {
  const std::string n = std::to_string(info);
  switch (static_cast<NpuError>(code)) {
    case NpuError::kNone:
      return "no error";
    case NpuError::kRingAccess:
      return "command processor: the ring entry or command buffer at " + hex(info) + " could not be read";
    case NpuError::kBadCommand:
      return "command processor: command " + n +
             " of the command buffer has an unknown opcode or inconsistent parameters";
    case NpuError::kLayerTooLarge:
      return "SRAM: no tiling of command " + n + " of the command buffer fits the global buffer and cluster buffers";
    case NpuError::kDmaFault:
      return "DMA: a transfer touched address " + hex(info) + ", where nothing is mapped";
    case NpuError::kClusterFault:
      return "cluster " + n + ": a job failed (bad job descriptor or operand address)";
    case NpuError::kBadRingTail:
      return "command processor: RING_TAIL written as " + n +
             ", outside the ring or not ahead of the previous tail (a ring written past its head)";
  }
  return "unknown error code " + std::to_string(code);
}

}  // namespace npuvp::npu
