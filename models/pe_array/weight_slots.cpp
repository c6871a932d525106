// Streamed weights (contract/cluster_regs.h): a weight used once, as a batch-1
// fully connected layer's, need not be written into the global buffer and
// read back out of it. The DMA writes it straight from DRAM into a slot of the
// consuming cluster's weight buffer, the other slot still holding the weights
// the array computes with; the job waits until its slot is full.
#include <algorithm>
#include <cstring>

#include "contract/address_map.h"
#include "models/pe_array/pe_cluster.h"

namespace npuvp::pe_array {

bool PeCluster::weights_from_slot(const ClusterJob& job) {
  return job.weights_addr >= address_map::kClusterFillBase && job.weights_addr < address_map::kDmaRegsBase;
}

std::uint64_t PeCluster::slot_bytes() const {
  return std::min<std::uint64_t>(kFillStreamSlotBytes, config_.weight_buffer_bytes / kFillStreamSlots);
}

JobError PeCluster::take_slot_weights(const ClusterJob& job, std::vector<std::int8_t>& stored, sc_core::sc_time& t) {
  const std::uint64_t slots =
      address_map::kClusterFillBase + config_.index * address_map::kClusterFillStride + kFillStreamOffset;
  const std::uint64_t slot = (job.weights_addr - slots) / kFillStreamSlotBytes;
  // Only this cluster's own slots, from their first byte.
  if (job.weights_addr < slots || (job.weights_addr - slots) % kFillStreamSlotBytes != 0 || slot >= kFillStreamSlots)
    return JobError::kInvalid;
  if (stored.size() > slot_bytes()) return JobError::kWeightBuffer;
  WeightSlot& s = slots_[slot];
  s.awaited = stored.size();
  const bool filled = wait_group(slot_event_, epoch_ + t, [&] { return s.received >= stored.size(); });
  s.awaited = 0;
  if (!filled) {
    log_->warn("streamed weights: {} of {} bytes in slot {} within {} cycles", s.received, stored.size(), slot,
               kGroupTimeoutCycles);
    return JobError::kOperandRead;
  }
  // More bytes than the job takes: the writer and the job disagree.
  if (s.received != stored.size()) return JobError::kOperandRead;
  std::memcpy(stored.data(), s.data.data(), stored.size());
  if (s.done_at > epoch_) t = std::max(t, s.done_at - epoch_);
  s.received = 0;
  s.done_at = sc_core::SC_ZERO_TIME;
  return JobError::kNone;
}

void PeCluster::slot_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const std::uint64_t at = gp.get_address() - kFillStreamOffset;
  const std::uint64_t len = gp.get_data_length();
  WeightSlot& s = slots_[at / kFillStreamSlotBytes];
  const std::uint64_t offset = at % kFillStreamSlotBytes;
  if (!gp.is_write() || gp.get_byte_enable_ptr() != nullptr) {
    gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  if (offset + len > slot_bytes()) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (s.data.size() < offset + len) s.data.resize(offset + len);
  std::memcpy(s.data.data() + offset, gp.get_data_ptr(), len);
  s.received += len;
  s.done_at = std::max(s.done_at, sc_core::sc_time_stamp() + delay);
  if (s.received >= s.awaited) slot_event_.notify(sc_core::SC_ZERO_TIME);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace npuvp::pe_array
