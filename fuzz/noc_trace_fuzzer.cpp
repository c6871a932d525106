// The NoC packet trace reader, and `noc-bench --replay` on every trace it
// accepts that is small enough to time in milliseconds: the fast model in the
// file's order and in ready order, the cycle-level model in ready order with
// the multicasts along their trees. The cycle-level model's deadlock is an
// outcome the replay reports (docs/noc.md, "A multicast deadlock"); anything
// else that escapes, or a replay that does not end, is a finding.
#include <algorithm>
#include <iostream>
#include <numeric>
#include <stdexcept>

#include "bench/noc_replay.h"
#include "fuzz/fuzz_input.h"
#include "platform/noc_packet_log.h"

namespace {

// A valid trace may hold packets of 2^47 flits, each that many cycles of the
// cycle-level model: only small ones are replayed.
constexpr std::uint64_t kMaxNodes = 64, kMaxPackets = 256, kMaxFlits = 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace npuvp;
  const std::string& path = fuzz::write_input(data, size, ".csv");
  platform::NocPacketTrace trace;
  try {
    trace = platform::read_noc_packet_trace(path);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  const std::uint64_t flits =
      std::accumulate(trace.packets.begin(), trace.packets.end(), std::uint64_t{0},
                      [](std::uint64_t sum, const noc::PacketRecord& r) { return sum + std::min(r.flits, kMaxFlits); });
  const bool small = std::uint64_t{trace.noc.width} * trace.noc.height <= kMaxNodes &&
                     trace.packets.size() <= kMaxPackets && flits < kMaxFlits;
  if (!small) return 0;
  std::cout.setstate(std::ios::badbit);  // the replay's table
  (void)bench::replay_noc_packets(path, true);
  return 0;
}
