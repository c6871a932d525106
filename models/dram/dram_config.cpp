#include "models/dram/dram_config.h"

#include <stdexcept>

namespace npuvp::dram {

const char* to_string(AddressMapping mapping) { return mapping == AddressMapping::kRowBankColumn ? "rbc" : "brc"; }

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
  if (write_high_watermark > queue_depth * memspec.banks)
    fail("write_high_watermark: expected 0 (no write batching) to queue_depth x banks (" +
         std::to_string(queue_depth * memspec.banks) + " bursts a channel can see)");
  if (write_high_watermark > 0 && write_low_watermark >= write_high_watermark)
    fail("write_low_watermark: expected less than write_high_watermark (" + std::to_string(write_high_watermark) + ")");
  if (!(max_wait_ns > 0)) fail("max_wait_ns: expected a positive time");
  if (!(power_window_ns > 0)) fail("power_window_ns: expected a positive time");
}

AddressMapper::AddressMapper(const DramConfig& config)
    : mapping_(config.mapping),
      channels_(config.channels),
      interleave_(config.channel_interleave_bytes),
      page_bytes_(config.memspec.page_bytes()),
      banks_(config.memspec.banks),
      rows_(config.memspec.rows) {
  auto log2 = [](std::uint64_t v) {
    unsigned n = 0;
    while ((std::uint64_t(1) << n) < v) ++n;
    return n;
  };
  auto is_pow2 = [](std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; };
  if (is_pow2(channels_)) channel_shift_ = int(log2(channels_));
  if (is_pow2(interleave_)) interleave_shift_ = int(log2(interleave_));
  page_shift_ = log2(page_bytes_);
  bank_shift_ = log2(banks_);
  row_shift_ = log2(rows_);
}

DecodedAddress AddressMapper::decode(std::uint64_t address) const {
  DecodedAddress d{};
  if (channel_shift_ >= 0 && interleave_shift_ >= 0) {
    const std::uint64_t chunk = address >> interleave_shift_;
    d.channel = static_cast<unsigned>(chunk & (channels_ - 1));
    d.channel_local = ((chunk >> channel_shift_) << interleave_shift_) | (address & (interleave_ - 1));
  } else {
    const std::uint64_t chunk = address / interleave_;
    d.channel = static_cast<unsigned>(chunk % channels_);
    d.channel_local = (chunk / channels_) * interleave_ + address % interleave_;
  }
  d.column_byte = static_cast<std::uint32_t>(d.channel_local & (page_bytes_ - 1));
  const std::uint64_t page = d.channel_local >> page_shift_;
  if (mapping_ == AddressMapping::kRowBankColumn) {
    d.bank = static_cast<unsigned>(page & (banks_ - 1));
    d.row = static_cast<std::uint32_t>((page >> bank_shift_) & (rows_ - 1));
  } else {
    d.row = static_cast<std::uint32_t>(page & (rows_ - 1));
    d.bank = static_cast<unsigned>((page >> row_shift_) & (banks_ - 1));
  }
  return d;
}

}  // namespace npuvp::dram
