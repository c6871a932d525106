#pragma once
// The NPU's host-visible registers: the one definition the model, the driver
// and the generated documentation (`npuvp regs`) all use. No SystemC here.

#include <array>
#include <cstdint>

#include "contract/register_spec.h"

namespace npuvp::npu {

inline constexpr std::uint32_t kNpuId = 0x4E505556;  // "NPUV"
inline constexpr std::uint32_t kNpuVersion = 0x00010000;

namespace reg {
inline constexpr std::uint32_t kId = 0x00;
inline constexpr std::uint32_t kVersion = 0x04;
inline constexpr std::uint32_t kCtrl = 0x08;
inline constexpr std::uint32_t kStatus = 0x0C;
inline constexpr std::uint32_t kIrqStatus = 0x10;
inline constexpr std::uint32_t kIrqEnable = 0x14;
inline constexpr std::uint32_t kRingBaseLo = 0x18;
inline constexpr std::uint32_t kRingBaseHi = 0x1C;
inline constexpr std::uint32_t kRingSize = 0x20;
inline constexpr std::uint32_t kRingHead = 0x24;
inline constexpr std::uint32_t kRingTail = 0x28;
inline constexpr std::uint32_t kErrorCode = 0x2C;
inline constexpr std::uint32_t kErrorInfo = 0x30;
inline constexpr std::uint32_t kCapClusters = 0x34;
inline constexpr std::uint32_t kCapArray = 0x38;
inline constexpr std::uint32_t kCapSramKb = 0x3C;
inline constexpr std::uint32_t kCyclesLo = 0x40;
inline constexpr std::uint32_t kCyclesHi = 0x44;
inline constexpr std::uint32_t kBusyCyclesLo = 0x48;
inline constexpr std::uint32_t kBusyCyclesHi = 0x4C;
inline constexpr std::uint32_t kLayersDone = 0x50;
inline constexpr std::uint32_t kCmdBufsDone = 0x54;
inline constexpr std::uint32_t kErrorLayer = 0x58;
inline constexpr std::uint32_t kEventsDone = 0x5C;
}  // namespace reg

inline constexpr std::uint32_t kCtrlEnable = 1u << 0;
inline constexpr std::uint32_t kStatusBusy = 1u << 0;
inline constexpr std::uint32_t kStatusError = 1u << 1;
inline constexpr std::uint32_t kIrqComplete = 1u << 0;
inline constexpr std::uint32_t kIrqError = 1u << 1;

// ERROR_CODE values; ERROR_INFO then holds the layer index, the cluster, the
// tail or the address (describe_error() in npu_errors.h says which).
enum class NpuError : std::uint32_t {
  kNone = 0,
  kRingAccess = 1,     // a ring entry or command buffer could not be read
  kBadCommand = 2,     // unknown opcode or inconsistent layer parameters
  kLayerTooLarge = 3,  // no tiling of the layer fits the SRAM and buffers
  kDmaFault = 4,       // a DMA channel reported an error (bad address)
  kClusterFault = 5,   // a PE cluster reported an error
  kBadRingTail = 6,    // RING_TAIL outside the ring or not ahead of the tail before (dropped)
};

inline constexpr std::array<regs::RegisterSpec, 24> kNpuRegisters{{
    {"ID", reg::kId, kNpuId, regs::Access::kReadOnly, "device identification, 'NPUV'"},
    {"VERSION", reg::kVersion, kNpuVersion, regs::Access::kReadOnly, "interface version, major.minor in 16.16"},
    {"CTRL", reg::kCtrl, 0, regs::Access::kReadWrite, "bit0 ENABLE: the command processor takes ring entries"},
    {"STATUS", reg::kStatus, 0, regs::Access::kReadOnly,
     "bit0 BUSY, bit1 ERROR (latched until the ERROR irq is cleared)"},
    {"IRQ_STATUS", reg::kIrqStatus, 0, regs::Access::kWriteOneToClear,
     "bit0 COMPLETE (a command buffer finished), bit1 ERROR"},
    {"IRQ_ENABLE", reg::kIrqEnable, 0, regs::Access::kReadWrite,
     "mask of IRQ_STATUS bits that drive the host IRQ line"},
    {"RING_BASE_LO", reg::kRingBaseLo, 0, regs::Access::kReadWrite,
     "command ring in DRAM, bits 31:0 (16-byte entries)"},
    {"RING_BASE_HI", reg::kRingBaseHi, 0, regs::Access::kReadWrite, "command ring in DRAM, bits 63:32"},
    {"RING_SIZE", reg::kRingSize, 0, regs::Access::kReadWrite, "number of ring entries"},
    {"RING_HEAD", reg::kRingHead, 0, regs::Access::kReadOnly, "next entry the NPU will take (consumer index)"},
    {"RING_TAIL", reg::kRingTail, 0, regs::Access::kReadWrite, "doorbell: the host writes its producer index here"},
    {"ERROR_CODE", reg::kErrorCode, 0, regs::Access::kReadOnly, "NpuError of the last failure"},
    {"ERROR_INFO", reg::kErrorInfo, 0, regs::Access::kReadOnly,
     "layer index (or low address bits) of the last failure"},
    {"CAP_CLUSTERS", reg::kCapClusters, 0, regs::Access::kReadOnly, "number of PE clusters"},
    {"CAP_ARRAY", reg::kCapArray, 0, regs::Access::kReadOnly,
     "rows in bits 15:0, columns in bits 31:16 of each cluster"},
    {"CAP_SRAM_KB", reg::kCapSramKb, 0, regs::Access::kReadOnly, "global buffer size in KiB"},
    {"CYCLES_LO", reg::kCyclesLo, 0, regs::Access::kReadOnly, "NPU clock cycles since reset, bits 31:0"},
    {"CYCLES_HI", reg::kCyclesHi, 0, regs::Access::kReadOnly, "bits 63:32 (read LO first: HI is latched then)"},
    {"BUSY_CYCLES_LO", reg::kBusyCyclesLo, 0, regs::Access::kReadOnly,
     "cycles spent executing command buffers, bits 31:0"},
    {"BUSY_CYCLES_HI", reg::kBusyCyclesHi, 0, regs::Access::kReadOnly, "bits 63:32 (latched on LO read)"},
    {"LAYERS_DONE", reg::kLayersDone, 0, regs::Access::kReadOnly, "layers completed since reset"},
    {"CMDBUFS_DONE", reg::kCmdBufsDone, 0, regs::Access::kReadOnly, "command buffers completed since reset"},
    {"ERROR_LAYER", reg::kErrorLayer, 0xFFFFFFFF, regs::Access::kReadOnly,
     "layer_id of the command running at the last failure, 0xffffffff if none"},
    {"EVENTS_DONE", reg::kEventsDone, 0, regs::Access::kReadOnly,
     "completions the firmware has taken since reset (DMA chains, cluster jobs): advances within a layer"},
}};

}  // namespace npuvp::npu
