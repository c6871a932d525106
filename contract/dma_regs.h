#pragma once
// DMA engine programming interface: per-channel registers and the in-memory
// descriptor format. Shared by the model and the firmware; no SystemC here.

#include <array>
#include <cstdint>

#include "contract/register_spec.h"

namespace npuvp::dma {

// Each channel's registers live at channel * kChannelStride.
inline constexpr std::uint32_t kChannelStride = 0x40;

namespace reg {
inline constexpr std::uint32_t kCtrl = 0x00;
inline constexpr std::uint32_t kStatus = 0x04;
inline constexpr std::uint32_t kIrq = 0x08;
inline constexpr std::uint32_t kDescLo = 0x0C;
inline constexpr std::uint32_t kDescHi = 0x10;
inline constexpr std::uint32_t kErrorAddrLo = 0x14;
inline constexpr std::uint32_t kErrorAddrHi = 0x18;
inline constexpr std::uint32_t kBytesDone = 0x1C;
}  // namespace reg

inline constexpr std::uint32_t kCtrlStart = 1u << 0;
inline constexpr std::uint32_t kStatusBusy = 1u << 0;
inline constexpr std::uint32_t kIrqDone = 1u << 0;
inline constexpr std::uint32_t kIrqError = 1u << 1;

// STATUS bits 15:8 hold the error code of the last failed chain.
enum class DmaError : std::uint32_t {
  kNone = 0,
  kDescriptorFetch = 1,    // the descriptor address could not be read
  kDescriptorInvalid = 2,  // zero sizes, misaligned descriptor, or too many dims
  kSourceAccess = 3,       // a source read returned an error response
  kDestinationAccess = 4,  // a destination write returned an error response
};

inline constexpr std::array<regs::RegisterSpec, 8> kChannelRegisters{{
    {"CTRL", reg::kCtrl, 0, regs::Access::kWriteOnly, "bit0 START: run the descriptor chain at DESC"},
    {"STATUS", reg::kStatus, 0, regs::Access::kReadOnly, "bit0 BUSY; bits 15:8 error code of the last chain"},
    {"IRQ", reg::kIrq, 0, regs::Access::kWriteOneToClear, "bit0 DONE, bit1 ERROR; the channel's IRQ line is their OR"},
    {"DESC_LO", reg::kDescLo, 0, regs::Access::kReadWrite,
     "address of the first descriptor, bits 31:0 (64-byte aligned)"},
    {"DESC_HI", reg::kDescHi, 0, regs::Access::kReadWrite, "address of the first descriptor, bits 63:32"},
    {"ERROR_ADDR_LO", reg::kErrorAddrLo, 0, regs::Access::kReadOnly, "address that failed, bits 31:0"},
    {"ERROR_ADDR_HI", reg::kErrorAddrHi, 0, regs::Access::kReadOnly, "address that failed, bits 63:32"},
    {"BYTES_DONE", reg::kBytesDone, 0, regs::Access::kReadOnly, "bytes moved by the channel since reset (wraps)"},
}};

// One transfer of up to three dimensions: `planes` × `rows` × `row_bytes`,
// with independent source and destination pitches, so a tensor tile can be cut
// out of (or put into) a larger tensor in one descriptor.
struct Descriptor {
  std::uint64_t src;
  std::uint64_t dst;
  std::uint32_t row_bytes;
  std::uint32_t rows;
  std::uint32_t planes;
  std::uint32_t flags;  // kDescLast ends the chain; kDescFill
  std::int32_t src_row_pitch;
  std::int32_t dst_row_pitch;
  std::int32_t src_plane_pitch;
  std::int32_t dst_plane_pitch;
  std::uint64_t next;
  std::uint64_t reserved;
};
static_assert(sizeof(Descriptor) == 64, "descriptor layout is part of the hardware interface");

inline constexpr std::uint32_t kDescLast = 1u << 0;
// Writes the low byte of `reserved` to every destination byte instead of
// copying (padding a tensor with its zero point).
inline constexpr std::uint32_t kDescFill = 1u << 1;

}  // namespace npuvp::dma
