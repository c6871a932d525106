// A cluster's weight load: alone, or as the leader or a follower of an
// operand group (contract/cluster_regs.h). The group's rendezvous is what a
// real multicast needs: the leader reads once for everyone, so it must not
// read before every follower is done with the weights its buffer holds.
#include <algorithm>
#include <cstring>

#include "contract/address_map.h"
#include "contract/int4_storage.h"
#include "models/pe_array/pe_cluster.h"

namespace npuvp::pe_array {
namespace {

// A weight the zero-skipping logic can drop: integer zero, or fp16 ±0.
bool nonzero_weight(const std::int8_t* w, Datatype datatype) {
  if (element_bytes(datatype) == 1) return w[0] != 0;
  const auto bits =
      static_cast<std::uint16_t>(static_cast<std::uint8_t>(w[0]) | (static_cast<std::uint8_t>(w[1]) << 8));
  return (bits & (datatype == Datatype::kFp16 ? 0x7FFFu : 0xFFFFu)) != 0;
}

std::uint64_t filter_elements(const ClusterJob& job) {
  return std::uint64_t{job.kernel_h} * job.kernel_w * job.group_in;
}

}  // namespace

JobError PeCluster::load_weights(const ClusterJob& job, std::uint64_t table, sc_core::sc_time& t) {
  const auto datatype = static_cast<Datatype>(job.datatype);
  const unsigned element = element_bytes(datatype);
  const std::uint64_t unpacked_bytes = filter_elements(job) * element * job.k_count;
  const std::uint64_t weight_bytes = storage_bytes(filter_elements(job), datatype) * job.k_count;
  const bool grouped = job.group_size >= 2;
  if (!(job.flags & kJobLoadWeights)) {
    // Reuse asked for: the resident weights must have this job's shape.
    if (grouped) return JobError::kGroup;
    return weights_.size() == unpacked_bytes && bias_.size() == job.k_count ? JobError::kNone : JobError::kInvalid;
  }
  // int4 weights arrive two per byte and are unpacked on their way to the array.
  std::vector<std::int8_t>& stored = datatype == Datatype::kInt4 ? packed_weights_ : weights_;
  stored.resize(weight_bytes);
  weights_.resize(unpacked_bytes);
  bias_.resize(job.k_count);
  requant_.resize(job.k_count);
  if (grouped) {
    // The group's fields must name this cluster's group, from a job table,
    // with operands that fit the fill window.
    if (!config_.operand_multicast || job.group_stride == 0 ||
        config_.index >= std::uint64_t{job.group_stride} * job.group_size || table == kNoTable ||
        weight_bytes > kFillWeightBytes || std::uint64_t{job.k_count} * 8 > kFillRequantOffset - kFillBiasOffset)
      return JobError::kGroup;
    const bool leader = config_.index < job.group_stride;
    if (const JobError e = leader ? lead_group(job, table, t) : follow_group(job, table, t); e != JobError::kNone)
      return e;
  } else {
    if (streams_weights(job)) {
      if (const JobError e = take_streamed_weights(job, stored, t); e != JobError::kNone) return e;
    } else if (read(job.weights_addr, stored.data(), static_cast<unsigned>(weight_bytes), t) != tlm::TLM_OK_RESPONSE) {
      return JobError::kOperandRead;
    }
    if (read(job.bias_addr, bias_.data(), job.k_count * 4, t) != tlm::TLM_OK_RESPONSE ||
        read(job.requant_addr, requant_.data(), job.k_count * 8, t) != tlm::TLM_OK_RESPONSE)
      return JobError::kOperandRead;
  }
  if (!grouped || config_.index < job.group_stride)
    stats_.operand_read_bytes += (streams_weights(job) ? 0 : weight_bytes) + job.k_count * 12;
  weights_arrived(job);
  return JobError::kNone;
}

void PeCluster::weights_arrived(const ClusterJob& job) {
  const auto datatype = static_cast<Datatype>(job.datatype);
  const std::uint64_t filter = filter_elements(job);
  if (datatype == Datatype::kInt4) unpack_int4_runs(packed_weights_.data(), job.k_count, filter, weights_.data());
  // Only zero skipping reads the counts: without it, a pass over every
  // weight each job loads (5 % of a ResNet-50 run's CPU) for nothing.
  if (!config_.zero_skipping) return;
  const unsigned element = element_bytes(datatype);
  nonzero_weights_.assign(job.k_count, 0);
  for (std::uint32_t k = 0; k < job.k_count; ++k)
    for (std::uint64_t i = 0; i < filter; ++i)
      nonzero_weights_[k] += nonzero_weight(&weights_[(k * filter + i) * element], datatype);
}

std::vector<std::uint64_t> PeCluster::follower_clusters(const ClusterJob& job) const {
  std::vector<std::uint64_t> ids;
  for (unsigned i = 1; i < job.group_size; ++i) ids.push_back(config_.index + std::uint64_t{i} * job.group_stride);
  return ids;
}

bool PeCluster::wait_group(const sc_core::sc_event& event, const sc_core::sc_time& from,
                           const std::function<bool()>& done) {
  const sc_core::sc_time deadline =
      std::max(from, sc_core::sc_time_stamp()) + clock_period_ * static_cast<double>(kGroupTimeoutCycles);
  while (!done()) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    if (now >= deadline) return false;
    sc_core::wait(deadline - now, event);
  }
  return true;
}

JobError PeCluster::lead_group(const ClusterJob& job, std::uint64_t table, sc_core::sc_time& t) {
  const std::vector<std::uint64_t> followers = follower_clusters(job);
  // Tokens of later tables (a follower already at its next job) stay for then.
  auto all_in = [&] {
    return std::all_of(followers.begin(), followers.end(), [&](std::uint64_t f) {
      return std::any_of(tokens_.begin(), tokens_.end(), [&](const Token& k) { return k.value == (table | f); });
    });
  };
  if (!wait_group(token_event_, epoch_ + t, all_in)) {
    log_->warn("operand group: no READY token from every follower of table {:#x} within {} cycles", table,
               kGroupTimeoutCycles);
    return JobError::kGroup;
  }
  for (std::uint64_t f : followers) {
    const auto token =
        std::find_if(tokens_.begin(), tokens_.end(), [&](const Token& k) { return k.value == (table | f); });
    // A token may have come before this job started.
    if (token->at > epoch_) t = std::max(t, token->at - epoch_);
    tokens_.erase(token);
  }
  std::vector<std::uint64_t> weights, bias, requant;
  for (std::uint64_t f : followers) {
    const std::uint64_t window = address_map::kClusterFillBase + f * address_map::kClusterFillStride;
    weights.push_back(window);
    bias.push_back(window + kFillBiasOffset);
    requant.push_back(window + kFillRequantOffset);
  }
  std::vector<std::int8_t>& stored =
      static_cast<Datatype>(job.datatype) == Datatype::kInt4 ? packed_weights_ : weights_;
  if (read(job.weights_addr, stored.data(), static_cast<unsigned>(stored.size()), t, &weights) !=
          tlm::TLM_OK_RESPONSE ||
      read(job.bias_addr, bias_.data(), job.k_count * 4, t, &bias) != tlm::TLM_OK_RESPONSE ||
      read(job.requant_addr, requant_.data(), job.k_count * 8, t, &requant) != tlm::TLM_OK_RESPONSE)
    return JobError::kOperandRead;
  return JobError::kNone;
}

JobError PeCluster::follow_group(const ClusterJob& job, std::uint64_t table, sc_core::sc_time& t) {
  std::vector<std::int8_t>& stored =
      static_cast<Datatype>(job.datatype) == Datatype::kInt4 ? packed_weights_ : weights_;
  fill_ = Fill{true, &stored, stored.size() + job.k_count * 12ull, 0, sc_core::SC_ZERO_TIME};
  // The token is a posted write: the fill, not its acknowledgement, is awaited.
  const std::uint64_t leader = config_.index % job.group_stride;
  std::uint32_t token = static_cast<std::uint32_t>(table | config_.index);
  sc_core::sc_time token_t = t;
  const bool sent =
      transfer(tlm::TLM_WRITE_COMMAND, address_map::kClusterRegsBase + leader * kClusterStride + reg::kGroupReady,
               reinterpret_cast<unsigned char*>(&token), nullptr, sizeof token, token_t) == tlm::TLM_OK_RESPONSE;
  const bool filled = sent && wait_group(fill_event_, epoch_ + t, [this] { return fill_.received >= fill_.expected; });
  fill_.open = false;
  if (!filled) {
    log_->warn("operand group: {} from leader cluster {} for table {:#x}",
               sent ? "no weight fill within " + std::to_string(kGroupTimeoutCycles) + " cycles"
                    : std::string("the READY token could not be written"),
               leader, table);
    return JobError::kGroup;
  }
  if (fill_.done_at > epoch_) t = std::max(t, fill_.done_at - epoch_);
  return JobError::kNone;
}

void PeCluster::fill_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const std::uint64_t at = gp.get_address();
  const std::uint64_t len = gp.get_data_length();
  if (at >= kFillStreamOffset && at < kFillBiasOffset) {
    stream_transport(gp, delay);
    return;
  }
  if (!gp.is_write() || !fill_.open) {
    gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  // Weights from 0, bias and requantization at their own offsets.
  unsigned char* dst = nullptr;
  if (at + len <= fill_.weights->size()) {
    dst = reinterpret_cast<unsigned char*>(fill_.weights->data()) + at;
  } else if (at >= kFillBiasOffset && at + len <= kFillBiasOffset + bias_.size() * 4) {
    dst = reinterpret_cast<unsigned char*>(bias_.data()) + (at - kFillBiasOffset);
  } else if (at >= kFillRequantOffset && at + len <= kFillRequantOffset + requant_.size() * sizeof(RequantEntry)) {
    dst = reinterpret_cast<unsigned char*>(requant_.data()) + (at - kFillRequantOffset);
  } else {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  std::memcpy(dst, gp.get_data_ptr(), len);
  fill_.received += len;
  fill_.done_at = std::max(fill_.done_at, sc_core::sc_time_stamp() + delay);
  fill_event_.notify(sc_core::SC_ZERO_TIME);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace npuvp::pe_array
