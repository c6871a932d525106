#include "models/dram/dram_config.h"

#include <stdexcept>

namespace npuvp::dram {

const char* to_string(AddressMapping mapping) {
  return mapping == AddressMapping::kRowBankColumn ? "rbc" : "brc";
}

const char* to_string(PagePolicy policy) { return policy == PagePolicy::kOpen ? "open" : "closed"; }

void DramConfig::validate() const {
  memspec.validate();
  auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (channels < 1 || channels > 64) fail("channels: expected 1 to 64");
  if (queue_depth < 1 || queue_depth > 1024) fail("queue_depth: expected 1 to 1024");
  const unsigned burst = memspec.burst_bytes();
  if (channel_interleave_bytes < burst || channel_interleave_bytes % burst != 0 ||
      memspec.page_bytes() % channel_interleave_bytes != 0)
    fail("channel_interleave_bytes: expected a multiple of the burst size (" + std::to_string(burst) +
         " B) that divides the page (" + std::to_string(memspec.page_bytes()) + " B)");
  if (backing_bytes == 0 || backing_bytes > capacity_bytes())
    fail("backing_bytes: expected 1 to the device capacity (" + std::to_string(capacity_bytes()) + " B)");
  if (!(max_wait_ns > 0)) fail("max_wait_ns: expected a positive time");
  if (!(power_window_ns > 0)) fail("power_window_ns: expected a positive time");
}

AddressMapper::AddressMapper(const DramConfig& config)
    : mapping_(config.mapping),
      channels_(config.channels),
      interleave_(config.channel_interleave_bytes),
      page_bytes_(config.memspec.page_bytes()),
      banks_(config.memspec.banks),
      rows_(config.memspec.rows) {}

DecodedAddress AddressMapper::decode(std::uint64_t address) const {
  DecodedAddress d{};
  const std::uint64_t chunk = address / interleave_;
  d.channel = static_cast<unsigned>(chunk % channels_);
  d.channel_local = (chunk / channels_) * interleave_ + address % interleave_;
  d.column_byte = static_cast<std::uint32_t>(d.channel_local % page_bytes_);
  const std::uint64_t page = d.channel_local / page_bytes_;
  if (mapping_ == AddressMapping::kRowBankColumn) {
    d.bank = static_cast<unsigned>(page % banks_);
    d.row = static_cast<std::uint32_t>((page / banks_) % rows_);
  } else {
    d.row = static_cast<std::uint32_t>(page % rows_);
    d.bank = static_cast<unsigned>((page / rows_) % banks_);
  }
  return d;
}

}  // namespace npuvp::dram
