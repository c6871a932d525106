#include "models/noc/noc_config.h"

#include <cmath>
#include <set>

namespace npuvp::noc {
namespace {

void check_position(const Attachment& a, const std::string& key, const NocConfig& c) {
  if (a.x >= c.width) throw NocConfigError(key + ".x", "a column below width " + std::to_string(c.width));
  if (a.y >= c.height) throw NocConfigError(key + ".y", "a row below height " + std::to_string(c.height));
}

}  // namespace

void validate_virtual_channels(unsigned virtual_channels) {
  if (virtual_channels < 1 || virtual_channels > kMaxVirtualChannels)
    throw NocConfigError("virtual_channels", "an integer from 1 to " + std::to_string(kMaxVirtualChannels));
}

void validate(const NocConfig& c) {
  // Node ids and channel ids are 32-bit; 256x256 is far beyond any NPU.
  if (c.width < 1 || c.width > 256) throw NocConfigError("width", "an integer from 1 to 256");
  if (c.height < 1 || c.height > 256) throw NocConfigError("height", "an integer from 1 to 256");
  // The same ranges as the platform's YAML (platform/config/noc_yaml.cpp), for
  // configurations built elsewhere (a packet trace's header, the API): the
  // models allocate per cycle of latency and per buffered flit.
  const auto in_range = [](unsigned v, const char* key, unsigned lo, unsigned hi) {
    if (v < lo || v > hi)
      throw NocConfigError(
          key, "an integer from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " + std::to_string(v));
  };
  in_range(c.flit_bytes, "flit_bytes", 1, 4096);
  in_range(c.router_cycles, "router_cycles", 1, 64);
  in_range(c.link_cycles, "link_cycles", 1, 64);
  in_range(c.header_flits, "header_flits", 1, 64);
  validate_virtual_channels(c.virtual_channels);
  const unsigned round_trip = c.router_cycles + 2 * c.link_cycles;
  if (c.buffer_flits < round_trip)
    throw NocConfigError("buffer_flits", "at least router_cycles + 2 * link_cycles = " + std::to_string(round_trip) +
                                             " (the credit round trip) so a link streams one flit per cycle, got " +
                                             std::to_string(c.buffer_flits));
  in_range(c.buffer_flits, "buffer_flits", round_trip, 4096);
  // A multicast packet is at most a buffer long (MeshNoc::send_tree).
  if (c.buffer_flits <= c.header_flits)
    throw NocConfigError("buffer_flits", "more than header_flits = " + std::to_string(c.header_flits) +
                                             " so a multicast packet, at most a buffer long, carries data, got " +
                                             std::to_string(c.buffer_flits));
  if (!(c.clock_mhz > 0) || !std::isfinite(c.clock_mhz)) throw NocConfigError("clock_mhz", "a positive number");
  if (!(c.quantum_ns > 0) || !std::isfinite(c.quantum_ns)) throw NocConfigError("quantum_ns", "a positive number");

  std::set<std::string> names;
  for (std::size_t i = 0; i < c.initiators.size(); ++i) {
    const std::string key = "initiators[" + std::to_string(i) + "]";
    check_position(c.initiators[i], key, c);
    if (c.initiators[i].name.empty() || !names.insert(c.initiators[i].name).second)
      throw NocConfigError(key + ".name", "a non-empty name unique among the endpoints");
  }
  for (std::size_t i = 0; i < c.targets.size(); ++i) {
    const std::string key = "targets[" + std::to_string(i) + "]";
    const TargetAttachment& t = c.targets[i];
    check_position(t, key, c);
    if (t.name.empty() || !names.insert(t.name).second)
      throw NocConfigError(key + ".name", "a non-empty name unique among the endpoints");
    if (t.size == 0) throw NocConfigError(key + ".size", "a positive window size");
    if (t.interleave_bytes != 0) {
      if (t.size % t.interleave_bytes != 0)
        throw NocConfigError(key + ".interleave_bytes", "a divisor of the target's size " + std::to_string(t.size));
      if (t.ways == 0 || t.way >= t.ways) throw NocConfigError(key + ".way", "a way below ways");
      if (t.size * t.ways / t.ways != t.size) throw NocConfigError(key + ".ways", "a window below 2^64 bytes");
    }
    const std::uint64_t size = t.window_size();
    if (t.base + size < t.base) throw NocConfigError(key + ".size", "a window that does not wrap past 2^64");
    for (std::size_t j = 0; j < i; ++j) {
      const TargetAttachment& o = c.targets[j];
      const bool shared = t.interleave_bytes != 0 && o.base == t.base && o.size == t.size &&
                          o.interleave_bytes == t.interleave_bytes && o.ways == t.ways && o.way != t.way;
      if (!shared && t.base < o.base + o.window_size() && o.base < t.base + size)
        throw NocConfigError(key + ".base", "a window not overlapping that of '" + o.name + "'");
    }
  }
}

std::uint64_t packet_flits(const NocConfig& config, std::uint64_t payload_bytes) {
  return config.header_flits + (payload_bytes + config.flit_bytes - 1) / config.flit_bytes;
}

}  // namespace npuvp::noc
