#pragma once
// Checks every memory-like TLM target makes before touching its storage.

#include <cstdint>

#include <tlm>

#include "models/common/backing_store.h"

namespace npuvp::tlmx {

// Validates command, address range [0, size), byte enables and streaming width
// of a payload whose address is already local to the target. Returns
// TLM_OK_RESPONSE when the access may proceed; otherwise the status to set.
tlm::tlm_response_status check_memory_access(const tlm::tlm_generic_payload& gp, std::uint64_t size);

// Copies data between the payload and target storage honouring byte enables.
// The access must already have passed check_memory_access.
void copy_payload(tlm::tlm_generic_payload& gp, std::uint8_t* storage);
// The same for a chunked store: the payload's range is copied chunk by chunk.
void copy_payload(tlm::tlm_generic_payload& gp, BackingStore& storage);

}  // namespace npuvp::tlmx
