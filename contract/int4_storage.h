#pragma once
// int4 storage packing: int4 weights are stored two values per byte in DRAM
// and SRAM and cross the NoC that way. Value 2i of a filter is the low nibble
// of byte i and value 2i + 1 the high nibble (two's complement, 4 bits); each
// filter (the kh·kw·group_in values of one output channel, OHWI) starts on a
// byte, so a filter of an odd value count ends in a padding nibble of 0. The
// cluster unpacks the weights as they enter its weight buffer's read port
// (modeled as free: a sign extension in the operand path).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "contract/cluster_regs.h"

namespace npuvp::pe_array {

// Bytes one filter of `elements` values takes in memory.
constexpr std::uint64_t filter_storage_bytes(std::uint64_t elements, Datatype d) {
  return d == Datatype::kInt4 ? (elements + 1) / 2 : elements * element_bytes(d);
}

// `values` (one int4 value per int8, k filters of `filter` values each) as
// stored: k × filter_storage_bytes(filter, kInt4) bytes.
inline std::vector<std::int8_t> pack_int4_filters(const std::vector<std::int8_t>& values, std::size_t filter) {
  const std::size_t stride = (filter + 1) / 2;
  const std::size_t filters = filter == 0 ? 0 : values.size() / filter;
  std::vector<std::int8_t> out(filters * stride, 0);
  for (std::size_t k = 0; k < filters; ++k)
    for (std::size_t i = 0; i < filter; ++i) {
      const auto nibble = static_cast<std::uint8_t>(values[k * filter + i] & 0x0F);
      auto& byte = reinterpret_cast<std::uint8_t&>(out[k * stride + i / 2]);
      byte = static_cast<std::uint8_t>(byte | (i % 2 == 0 ? nibble : nibble << 4));
    }
  return out;
}

// The inverse: `filters` filters of `filter` values, each sign-extended to an int8.
inline void unpack_int4_filters(const std::int8_t* packed, std::size_t filters, std::size_t filter,
                                std::int8_t* values) {
  const std::size_t stride = (filter + 1) / 2;
  for (std::size_t k = 0; k < filters; ++k)
    for (std::size_t i = 0; i < filter; ++i) {
      const auto byte = static_cast<std::uint8_t>(packed[k * stride + i / 2]);
      const auto nibble = static_cast<std::uint8_t>(i % 2 == 0 ? byte & 0x0F : byte >> 4);
      values[k * filter + i] = static_cast<std::int8_t>(nibble >= 8 ? nibble - 16 : nibble);
    }
}

}  // namespace npuvp::pe_array
