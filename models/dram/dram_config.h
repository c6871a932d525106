#pragma once
// Typed configuration of the DRAM subsystem: the part (memspec) plus the
// controller and the channel organisation around it.

#include <cstdint>
#include <string>

#include "models/dram/memspec.h"

namespace npuvp::dram {

// Order of the row, bank and column fields in a channel-local address (column
// bits lowest in both). rbc puts the bank bits right above the column bits, so
// a sequential stream moves to the next bank after each page and banks work in
// parallel; brc keeps a stream inside one bank.
enum class AddressMapping { kRowBankColumn /*rbc*/, kBankRowColumn /*brc*/ };

// Open: a row stays open until a request for another row needs the bank.
// Closed: the last queued access to a row closes it with auto-precharge.
enum class PagePolicy { kOpen, kClosed };

const char* to_string(AddressMapping mapping);
const char* to_string(PagePolicy policy);

struct DramConfig {
  Memspec memspec;
  unsigned channels = 4;
  AddressMapping mapping = AddressMapping::kRowBankColumn;
  PagePolicy page_policy = PagePolicy::kOpen;
  unsigned queue_depth = 16;      // requests (bursts) per bank the scheduler can see
  bool per_bank_refresh = false;  // REFpb every tREFI/banks instead of REFab every tREFI
  // Bytes actually stored; accesses beyond get TLM_ADDRESS_ERROR_RESPONSE. The
  // device capacity (channels × memspec) bounds it.
  std::uint64_t backing_bytes = 256ull << 20;
  // Consecutive bytes that go to one channel before the next channel.
  unsigned channel_interleave_bytes = 256;
  // A burst older than this is served before any younger row hit, so FR-FCFS
  // cannot starve a row miss or a write behind a stream of hits or reads.
  double max_wait_ns = 2000.0;
  // Write batching (write-queue draining with watermarks): reads go first
  // while fewer than write_high_watermark writes (bursts) are visible in a
  // channel; then the channel serves writes only until at most
  // write_low_watermark remain, so the read/write turnaround is paid once per
  // batch rather than at every change of direction. A channel with no read
  // to do serves writes, and a burst older than max_wait_ns turns the
  // channel to its direction. 0 turns batching off: FR-FCFS over reads and
  // writes alike.
  unsigned write_high_watermark = 0;
  unsigned write_low_watermark = 0;
  bool allow_dmi = true;
  double power_window_ns = 1000.0;  // width of one power-over-time sample
  // Lpddr4 only: own a ProtocolChecker that watches every command, and report
  // its count (Lpddr4::protocol_violations, "timing_violations" in stats).
  bool protocol_check = false;

  std::uint64_t capacity_bytes() const { return memspec.channel_bytes() * channels; }
  double peak_gbps() const { return memspec.peak_gbps() * channels; }

  // Throws std::invalid_argument naming the first bad field.
  void validate() const;
};

// Where one byte address lands.
struct DecodedAddress {
  unsigned channel;
  unsigned bank;
  std::uint32_t row;
  std::uint32_t column_byte;    // byte offset within the page
  std::uint64_t channel_local;  // address within the channel
};

// Pure address decoding (no kernel, no timing); the TLM wrapper and the
// benchmark decode the same way.
class AddressMapper {
 public:
  explicit AddressMapper(const DramConfig& config);
  DecodedAddress decode(std::uint64_t address) const;

 private:
  AddressMapping mapping_;
  // Every geometry field is a power of two except possibly the channel count
  // and the interleave; shifts replace divisions where they can.
  int channel_shift_ = -1, interleave_shift_ = -1;
  unsigned page_shift_, bank_shift_, row_shift_;
  unsigned channels_;
  std::uint64_t interleave_;
  std::uint64_t page_bytes_;
  unsigned banks_;
  std::uint64_t rows_;
};

}  // namespace npuvp::dram
