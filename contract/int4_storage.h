#pragma once
// int4 storage packing: int4 values are stored two per byte in DRAM and SRAM
// and cross the NoC that way. Packing works on runs: a run of values starts
// on a byte, value 2i of a run is the low nibble of byte i and value 2i + 1
// the high nibble (two's complement, 4 bits), and a run of an odd value count
// ends in a padding nibble of 0.
//   Weights: a run is a filter (the kh·kw·group_in values of one output
//     channel, OHWI); always packed when the layer's datatype is int4.
//   Activations: a run is a pixel's channel vector (HWC), so a pixel of c
//     channels takes ceil(c / 2) bytes and channel 2j sits in byte j of it.
//     A command reads and writes packed tensors where LayerCommand::flags say
//     so (kInt4PackedInput / kInt4PackedOutput): the host decides per tensor
//     (docs/lowering.md). Every channel offset the firmware addresses in a
//     packed pixel (K blocks, cluster slices, channel slices) is even, so
//     every DMA row and result write is whole bytes.
// The cluster unpacks operands as they leave its buffers' read ports and
// packs results as they leave its output stage (modeled as free: a sign
// extension or a nibble select in the operand path).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "contract/cluster_regs.h"

namespace npuvp::pe_array {

// Bytes a run of `values` values takes in memory.
constexpr std::uint64_t storage_bytes(std::uint64_t values, Datatype d) {
  return d == Datatype::kInt4 ? (values + 1) / 2 : values * element_bytes(d);
}

// `values` (one int4 value per int8, runs of `run` values each) as stored:
// runs × storage_bytes(run, kInt4) bytes.
inline std::vector<std::int8_t> pack_int4_runs(const std::vector<std::int8_t>& values, std::size_t run) {
  const std::size_t stride = (run + 1) / 2;
  const std::size_t runs = run == 0 ? 0 : values.size() / run;
  std::vector<std::int8_t> out(runs * stride, 0);
  for (std::size_t k = 0; k < runs; ++k)
    for (std::size_t i = 0; i < run; ++i) {
      const auto nibble = static_cast<std::uint8_t>(values[k * run + i] & 0x0F);
      auto& byte = reinterpret_cast<std::uint8_t&>(out[k * stride + i / 2]);
      byte = static_cast<std::uint8_t>(byte | (i % 2 == 0 ? nibble : nibble << 4));
    }
  return out;
}

// The inverse: `runs` runs of `run` values, each sign-extended to an int8.
inline void unpack_int4_runs(const std::int8_t* packed, std::size_t runs, std::size_t run, std::int8_t* values) {
  const std::size_t stride = (run + 1) / 2;
  for (std::size_t k = 0; k < runs; ++k)
    for (std::size_t i = 0; i < run; ++i) {
      const auto byte = static_cast<std::uint8_t>(packed[k * stride + i / 2]);
      const auto nibble = static_cast<std::uint8_t>(i % 2 == 0 ? byte & 0x0F : byte >> 4);
      values[k * run + i] = static_cast<std::int8_t>(nibble >= 8 ? nibble - 16 : nibble);
    }
}

}  // namespace npuvp::pe_array
