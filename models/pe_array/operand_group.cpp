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

JobError PeCluster::load_weights(const ClusterJob& job, std::uint64_t table, const WeightStream& stream,
                                 sc_core::sc_time& t) {
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
  streamed_ = Streamed{true, grouped, grouped && config_.index < job.group_stride, stream};
  streamed_.filter_bytes = weight_bytes / job.k_count;
  streamed_.first_bytes = streamed_.filter_bytes * stream.fold(0).second;
  streamed_.bytes = weight_bytes;
  if (grouped) {
    // The group's fields must name this cluster's group, from a job table,
    // with operands that fit the fill window.
    if (!config_.operand_multicast || job.group_stride == 0 ||
        config_.index >= std::uint64_t{job.group_stride} * job.group_size || table == kNoTable ||
        weight_bytes > kFillWeightBytes || std::uint64_t{job.k_count} * 8 > kFillRequantOffset - kFillBiasOffset)
      return JobError::kGroup;
    if (const JobError e = streamed_.leader ? lead_group(job, table, t) : follow_group(job, table, t);
        e != JobError::kNone)
      return e;
  } else {
    // Weights the DMA writes into one of this cluster's slots arrive whole.
    if (weights_from_slot(job)) {
      if (const JobError e = take_slot_weights(job, stored, t); e != JobError::kNone) return e;
      streamed_.first_bytes = weight_bytes;
    } else if (read_in_time(job.weights_addr, stored.data(), static_cast<unsigned>(streamed_.first_bytes), t) !=
               tlm::TLM_OK_RESPONSE) {
      return JobError::kOperandRead;
    }
    if (read_in_time(job.bias_addr, bias_.data(), job.k_count * 4, t) != tlm::TLM_OK_RESPONSE ||
        read_in_time(job.requant_addr, requant_.data(), job.k_count * 8, t) != tlm::TLM_OK_RESPONSE)
      return JobError::kOperandRead;
  }
  if (!grouped || streamed_.leader)
    stats_.operand_read_bytes += (weights_from_slot(job) ? 0 : weight_bytes) + job.k_count * 12;
  return JobError::kNone;
}

sc_core::sc_time PeCluster::stream_weights(const ClusterJob& job, const sc_core::sc_time& compute_start,
                                           double fold_cycles, sc_core::sc_time& t, JobError& error) {
  error = JobError::kNone;
  if (!streamed_.has_rest()) return sc_core::SC_ZERO_TIME;
  std::vector<std::int8_t>& stored =
      static_cast<Datatype>(job.datatype) == Datatype::kInt4 ? packed_weights_ : weights_;
  const WeightStream& stream = streamed_.stream;
  const std::uint64_t folds = stream.column_folds(), filter = streamed_.filter_bytes;
  const sc_core::sc_time fold = clock_period_ * fold_cycles;
  const bool follower = streamed_.grouped && !streamed_.leader;
  std::vector<std::uint64_t> windows;
  if (streamed_.leader)
    for (std::uint64_t f : follower_clusters(job))
      windows.push_back(address_map::kClusterFillBase + f * address_map::kClusterFillStride);
  // Fold j's filters are fetched once fold j - 1 has started (never more
  // than a fold ahead of the array, so the port leaves room for the other
  // clusters' operands), fold j starts once they are in and fold j - 1 is done.
  // A follower's come in the leader's fill, fold after fold.
  sc_core::sc_time port = t, start = compute_start;
  std::uint64_t filled = streamed_.first_bytes + job.k_count * 12ull;
  for (std::uint64_t j = 1; j < folds; ++j) {
    const auto [first, last] = stream.fold(j);
    const std::uint64_t bytes = (last - first) * filter;
    sc_core::sc_time at = std::max(port, start);
    const sc_core::sc_time issued = follower ? sc_core::SC_ZERO_TIME : at;
    if (follower) {
      filled += bytes;
      error = await_fill(filled, job, t);
      if (error != JobError::kNone) return sc_core::SC_ZERO_TIME;
      at = fill_.fold_at[j] > epoch_ ? fill_.fold_at[j] - epoch_ : sc_core::SC_ZERO_TIME;
    } else {
      std::vector<std::uint64_t> forks = windows;
      for (std::uint64_t& w : forks) w += first * filter;
      if (read_in_time(job.weights_addr + first * filter, stored.data() + first * filter, static_cast<unsigned>(bytes),
                       at, streamed_.leader ? &forks : nullptr) != tlm::TLM_OK_RESPONSE) {
        error = JobError::kOperandRead;
        return sc_core::SC_ZERO_TIME;
      }
      port = at;
    }
    record_fill(1, issued, at, bytes);
    t = std::max(t, at);
    start = std::max(start + fold, at);
    fold_started(start);
  }
  weights_arrived(job);
  // How much later the last fold ends than it would with every weight in.
  const sc_core::sc_time ends = start + fold, unstalled = compute_start + fold * static_cast<double>(folds);
  return ends > unstalled ? ends - unstalled : sc_core::SC_ZERO_TIME;
}

void PeCluster::weights_arrived(const ClusterJob& job) {
  const auto datatype = static_cast<Datatype>(job.datatype);
  if (datatype == Datatype::kInt4)
    unpack_int4_runs(packed_weights_.data(), job.k_count, filter_elements(job), weights_.data());
  // Only zero skipping reads the counts: without it, a pass over every
  // weight each job loads (5 % of a ResNet-50 run's CPU) for nothing.
  if (config_.zero_skipping) count_nonzero_weights(job, weights_.data());
}

void PeCluster::count_nonzero_weights(const ClusterJob& job, const std::int8_t* weights) {
  const auto datatype = static_cast<Datatype>(job.datatype);
  const std::uint64_t filter = filter_elements(job);
  const unsigned element = element_bytes(datatype);
  nonzero_weights_.assign(job.k_count, 0);
  for (std::uint32_t k = 0; k < job.k_count; ++k)
    for (std::uint64_t i = 0; i < filter; ++i)
      nonzero_weights_[k] += nonzero_weight(&weights[(k * filter + i) * element], datatype);
}

JobError PeCluster::count_streamed_nonzero_weights(const ClusterJob& job) {
  const auto datatype = static_cast<Datatype>(job.datatype);
  std::vector<std::int8_t> stored(streamed_.bytes);
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(job.weights_addr);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(stored.data()));
  gp.set_data_length(static_cast<unsigned>(stored.size()));
  if (noc_socket->transport_dbg(gp) != stored.size()) return JobError::kOperandRead;
  if (datatype != Datatype::kInt4) {
    count_nonzero_weights(job, stored.data());
    return JobError::kNone;
  }
  std::vector<std::int8_t> values(filter_elements(job) * job.k_count);
  unpack_int4_runs(stored.data(), job.k_count, filter_elements(job), values.data());
  count_nonzero_weights(job, values.data());
  return JobError::kNone;
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
    // Not wait(deadline - now, event): when the event comes first SystemC
    // leaves the cancelled timeout queued until its time, after the run, and
    // every wait a run made slowed every timed notification (6 % of a
    // ResNet-50 run). One notification per cluster stands for every wait's
    // deadline: armed for the earliest, it wakes a later wait early, which
    // arms it again.
    if (group_deadline_at_ <= now || group_deadline_at_ > deadline) {
      group_deadline_.notify(deadline - now);
      group_deadline_at_ = deadline;
    }
    sc_core::wait(event | group_deadline_);
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
  if (read_in_time(job.weights_addr, stored.data(), static_cast<unsigned>(streamed_.first_bytes), t, &weights) !=
          tlm::TLM_OK_RESPONSE ||
      read_in_time(job.bias_addr, bias_.data(), job.k_count * 4, t, &bias) != tlm::TLM_OK_RESPONSE ||
      read_in_time(job.requant_addr, requant_.data(), job.k_count * 8, t, &requant) != tlm::TLM_OK_RESPONSE)
    return JobError::kOperandRead;
  return JobError::kNone;
}

JobError PeCluster::follow_group(const ClusterJob& job, std::uint64_t table, sc_core::sc_time& t) {
  std::vector<std::int8_t>& stored =
      static_cast<Datatype>(job.datatype) == Datatype::kInt4 ? packed_weights_ : weights_;
  fill_ = Fill{true, &stored, stored.size() + job.k_count * 12ull, 0, sc_core::SC_ZERO_TIME, {}, {}};
  fill_.fold_at.assign(streamed_.stream.column_folds(), sc_core::SC_ZERO_TIME);
  // The token is a posted write: the fill, not its acknowledgement, is awaited.
  std::uint32_t token = static_cast<std::uint32_t>(table | config_.index);
  sc_core::sc_time token_t = t;
  if (transfer(tlm::TLM_WRITE_COMMAND,
               address_map::kClusterRegsBase + (config_.index % job.group_stride) * kClusterStride + reg::kGroupReady,
               reinterpret_cast<unsigned char*>(&token), nullptr, sizeof token, token_t) != tlm::TLM_OK_RESPONSE) {
    fill_.open = false;
    log_->warn("operand group: the READY token could not be written to leader cluster {} for table {:#x}",
               config_.index % job.group_stride, table);
    return JobError::kGroup;
  }
  fill_table_ = table;
  // The first column fold's weights, the bias and the requantization come
  // first (lead_group); the other folds' follow (stream_weights).
  return await_fill(streamed_.first_bytes + job.k_count * 12ull, job, t);
}

JobError PeCluster::await_fill(std::uint64_t bytes, const ClusterJob& job, sc_core::sc_time& t) {
  fill_.awaited = bytes;
  const bool filled = wait_group(fill_event_, epoch_ + t, [&] { return fill_.received >= bytes; });
  fill_.awaited = 0;
  if (!filled || bytes >= fill_.expected) fill_.open = false;
  if (!filled) {
    log_->warn("operand group: no weight fill within {} cycles from leader cluster {} for table {:#x}",
               kGroupTimeoutCycles, config_.index % job.group_stride, fill_table_);
    return JobError::kGroup;
  }
  const sc_core::sc_time at = bytes >= fill_.expected ? fill_.done_at : fill_.first_at;
  if (at > epoch_) t = std::max(t, at - epoch_);
  return JobError::kNone;
}

void PeCluster::fill_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const std::uint64_t at = gp.get_address();
  const std::uint64_t len = gp.get_data_length();
  if (at >= kFillStreamOffset && at < kFillBiasOffset) {
    slot_transport(gp, delay);
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
  const bool first_in = fill_.received < streamed_.first_bytes + bias_.size() * 12;
  fill_.received += len;
  fill_.done_at = std::max(fill_.done_at, sc_core::sc_time_stamp() + delay);
  // The leader sends the first column fold's bytes before the rest.
  if (first_in) fill_.first_at = fill_.done_at;
  if (at < fill_.weights->size() && !fill_.fold_at.empty()) {
    // The column fold the piece belongs to (no piece spans two: the leader reads fold by fold).
    const WeightStream& stream = streamed_.stream;
    std::uint64_t j = std::min<std::uint64_t>(
        at / streamed_.filter_bytes / std::max<std::uint64_t>(1, stream.fold_filters), fill_.fold_at.size() - 1);
    while (j > 0 && at < stream.fold(j).first * streamed_.filter_bytes) --j;
    while (j + 1 < fill_.fold_at.size() && at >= stream.fold(j + 1).first * streamed_.filter_bytes) ++j;
    fill_.fold_at[j] = std::max(fill_.fold_at[j], sc_core::sc_time_stamp() + delay);
  }
  if (fill_.received >= fill_.awaited) fill_event_.notify(sc_core::SC_ZERO_TIME);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace npuvp::pe_array
