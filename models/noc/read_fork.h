#pragma once
// The NoC's multicast READ response: a TLM extension an initiator attaches to
// a READ so that the data the target returns is also delivered elsewhere
// (docs/noc.md, "Multicast reads"). Its own header, so that the initiators
// that use it (the PE clusters) need not see the NoC's model.

#include <cstdint>
#include <utility>
#include <vector>

#include <tlm>

namespace npuvp::noc {

// Turns a READ's response into a multicast: the request reaches the target as
// any READ does (one packet per bank piece of an interleaved window); the
// response travels the XY tree from the target's node to the initiator and to
// the node of every address listed, copied where the paths branch, so each
// link carries it once. At each listed address (a window of another target,
// e.g. a PE cluster's weight-fill window) the bytes are written when the tail
// arrives there; the piece of a split transaction at offset o lands at
// address + o. The initiator's delay is its own copy's arrival: the written
// copies are not acknowledged. Any listed address whose target does not hold
// the whole length contiguously fails the transaction with
// TLM_ADDRESS_ERROR_RESPONSE before the request leaves; a WRITE carrying it
// gets TLM_COMMAND_ERROR_RESPONSE; a copy its target refuses returns that
// target's status to the initiator (its own data is still delivered).
struct ReadForkExtension : tlm::tlm_extension<ReadForkExtension> {
  std::vector<std::uint64_t> addresses;

  ReadForkExtension() = default;
  explicit ReadForkExtension(std::vector<std::uint64_t> destinations) : addresses(std::move(destinations)) {}
  tlm::tlm_extension_base* clone() const override { return new ReadForkExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    addresses = static_cast<const ReadForkExtension&>(other).addresses;
  }
};

}  // namespace npuvp::noc
