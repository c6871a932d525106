#pragma once
// Configuration of the 2D mesh NoC: geometry, router timing and the endpoints
// attached to mesh positions. Filled once (from the preset or by code) and
// validated before a model is built from it.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace npuvp::noc {

// Mesh position of an endpoint; x is the column (0 = west), y the row (0 = north).
struct Attachment {
  std::string name;
  unsigned x = 0, y = 0;
  // An initiator that issues its next transaction only once the response to
  // the one before has arrived (a PE cluster's load unit): the NoC may time
  // its responses in the order of time (MeshNoc). Targets ignore it.
  bool awaits_responses = false;
};

// A target endpoint and the address window routed to it. Targets may share
// an interleaved window (the SRAM banks): `ways` targets with equal base,
// size and interleave_bytes, numbered by `way`; the window is size × ways
// bytes and its chunk c of interleave_bytes goes to way c % ways (see
// contract/sram_interleave.h). interleave_bytes 0: [base, base + size) alone.
struct TargetAttachment : Attachment {
  std::uint64_t base = 0, size = 0;
  std::uint64_t interleave_bytes = 0;
  unsigned ways = 1, way = 0;

  std::uint64_t window_size() const { return interleave_bytes == 0 ? size : size * ways; }
};

constexpr unsigned kMaxVirtualChannels = 16;

struct NocConfig {
  unsigned width = 4, height = 4;
  unsigned flit_bytes = 32;
  // Cycles a flit spends in a router (route, allocation, switch) before it
  // may leave on an output link.
  unsigned router_cycles = 2;
  unsigned link_cycles = 1;
  // Depth of each input virtual-channel buffer, in flits.
  unsigned buffer_flits = 8;
  unsigned header_flits = 1;
  double clock_mhz = 800;
  // Virtual channels per physical input port (1 = plain wormhole), each
  // buffer_flits deep; both timing models allocate them.
  unsigned virtual_channels = 2;  // at most kMaxVirtualChannels
  // How far ahead of simulated time a response to an initiator that awaits
  // it is timed (the loosely timed quantum).
  double quantum_ns = 10;
  std::vector<Attachment> initiators;
  std::vector<TargetAttachment> targets;
};

// A configuration value out of range. key() is the field's name relative to
// the noc section ("buffer_flits", "targets[2].x") so a file parser can name it.
class NocConfigError : public std::invalid_argument {
 public:
  NocConfigError(std::string key, std::string expected)
      : std::invalid_argument("noc config: key '" + key + "': expected " + expected),
        key_(std::move(key)),
        expected_(std::move(expected)) {}
  const std::string& key() const { return key_; }
  const std::string& expected() const { return expected_; }

 private:
  std::string key_;
  std::string expected_;
};

// Throws NocConfigError on the first violated rule. Besides ranges, the input
// buffer must cover the credit round trip (router_cycles + 2 * link_cycles):
// with less, a lone packet cannot stream one flit per cycle and neither the
// analytic latency nor the fast model's timing would hold.
void validate(const NocConfig& config);
// The virtual-channel count's rule alone: a model that keeps per-VC state in
// fixed arrays checks it when built, whatever validated the config before.
void validate_virtual_channels(unsigned virtual_channels);

// Flits of a packet carrying `payload_bytes` of data behind its header.
std::uint64_t packet_flits(const NocConfig& config, std::uint64_t payload_bytes);

}  // namespace npuvp::noc
