#pragma once
// Where things sit in the two address spaces of the platform: the system view
// (host CPU, and the NPU's ports out to DRAM) and the NPU-local view (what the
// command processor, the DMA and the clusters reach over the NoC). The models
// decode with these values, the driver and the firmware address with them,
// and `npuvp regs` prints them into docs/registers.md.

#include <array>
#include <cstdint>

namespace npuvp::address_map {

// System view.
inline constexpr std::uint64_t kNpuRegsBase = 0x4000'0000;
inline constexpr std::uint64_t kNpuRegsSize = 0x1000;
inline constexpr std::uint64_t kDramBase = 0x8000'0000;

// NPU-local view: the SRAM banks share the window from kSramBase, chunks of
// sram.interleave_bytes going to consecutive banks (sram_interleave.h), PE cluster k's
// registers at kClusterRegsBase + k * pe_array::kClusterStride, its weight-fill
// window at kClusterFillBase + k * kClusterFillStride (written by the NoC's
// multicast read responses and by the DMA's streamed weights,
// pe_array/cluster_regs.h), DMA channel c's
// registers at kDmaRegsBase + c * dma::kChannelStride.
inline constexpr std::uint64_t kSramBase = 0x1000'0000;
inline constexpr std::uint64_t kClusterRegsBase = 0x2000'0000;
inline constexpr std::uint64_t kClusterFillBase = 0x2800'0000;
inline constexpr std::uint64_t kClusterFillStride = 0x20'0000;  // 64 clusters up to kDmaRegsBase
inline constexpr std::uint64_t kDmaRegsBase = 0x3000'0000;
inline constexpr std::uint64_t kDmaRegsSize = 0x1000'0000;
// The global buffer may grow up to the cluster registers.
inline constexpr std::uint64_t kSramWindowSize = kClusterRegsBase - kSramBase;

// Addresses the command processor and the DMA send over the NoC (SRAM,
// cluster and DMA registers); all others leave the NPU on its system ports.
inline constexpr std::uint64_t kLocalWindowBase = kSramBase;
inline constexpr std::uint64_t kLocalWindowSize = kDmaRegsBase + kDmaRegsSize - kLocalWindowBase;

struct Region {
  const char* view;
  const char* name;
  std::uint64_t base;
  std::uint64_t size;  // of the window; the device behind it may be smaller
  const char* description;
};

inline constexpr std::array<Region, 6> kRegions{{
    {"system", "NPU registers", kNpuRegsBase, kNpuRegsSize, "host MMIO to the command processor"},
    {"system", "DRAM", kDramBase, 0, "size set by the platform's DRAM part"},
    {"NPU-local", "SRAM banks", kSramBase, kSramWindowSize,
     "global buffer, banks interleaved by sram.interleave_bytes"},
    {"NPU-local", "PE cluster registers", kClusterRegsBase, kClusterFillBase - kClusterRegsBase,
     "one block per cluster"},
    {"NPU-local", "PE cluster weight-fill windows", kClusterFillBase, kDmaRegsBase - kClusterFillBase,
     "one window per cluster: an operand group's weights, bias and requantization, written by multicast responses; "
     "streamed weights written by the DMA"},
    {"NPU-local", "DMA channel registers", kDmaRegsBase, kDmaRegsSize, "one block per channel"},
}};

}  // namespace npuvp::address_map
