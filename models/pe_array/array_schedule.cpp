// A PE cluster's work: its totals (account), and its spread over time
// (PeCluster::ArraySchedule). The run monitor prices power windows and layers
// by sampling the over-time counters as simulated time passes, so a job's
// work is recorded as soon as the cycles it takes are known, and never over
// cycles already past.
#include <algorithm>

#include "models/pe_array/pe_cluster.h"

namespace npuvp::pe_array {

void PeCluster::account(const JobWork& work, Datatype datatype, const BufferFills& fills,
                        const sc_core::sc_time& compute_start, const sc_core::sc_time& compute_end) {
  ++stats_.jobs;
  stats_.macs += work.macs;
  stats_.macs_by_datatype[static_cast<std::size_t>(datatype)] += work.macs;
  stats_.compute_cycles += work.array_cycles;
  stats_.rf_reads += work.rf.reads;
  stats_.rf_writes += work.rf.writes;
  stats_.rf_bytes += work.rf_bytes;
  stats_.weight_buffer_read_bytes += work.weight_buffer_bytes;
  stats_.weight_buffer_write_bytes += fills.weight_bytes;
  // Partial sums go out to the input buffer and come back as many.
  stats_.input_buffer_read_bytes += work.input_buffer_bytes + work.psum_bytes;
  stats_.input_buffer_write_bytes += fills.input_bytes + work.psum_bytes;
  stats_.psum_bytes += work.psum_bytes;
  // The ports' share of the stall: how much later the job ends than it would
  // with ports as wide as the schedule (late inputs may hide some of it).
  const sc_core::sc_time unlimited_end =
      fills.unlimited_end(compute_start + clock_period_ * static_cast<double>(work.array_cycles));
  stats_.buffer_port_stall_cycles += static_cast<std::uint64_t>((compute_end - unlimited_end) / clock_period_ + 0.5);
  registers_.set(reg::kBusyCycles, registers_.get(reg::kBusyCycles) + static_cast<std::uint32_t>(work.array_cycles));
}

PeCluster::JobWork PeCluster::job_work(const ClusterJob& job) {
  JobWork work = static_cast<JobOp>(job.op) == JobOp::kConv2d ? conv_work(job) : postprocess_job_work(job);
  if (job.fuse != 0) epilogue_work(job, work);
  return work;
}

void PeCluster::plan_schedule(const JobWork& work, Datatype datatype, std::uint64_t folds, double fold_cycles) {
  ArraySchedule& s = schedule_;
  s.work = work;
  s.datatype = datatype;
  s.folds = std::max<std::uint64_t>(folds, 1);
  s.fold = clock_period_ * fold_cycles;
  s.compute = clock_period_ * static_cast<double>(work.cycles);
  // Zero skipping shortens the folds the fetches were paced by. sc_time is
  // unsigned: the folds' time rounded above the schedule leaves no tail.
  const double count = static_cast<double>(s.folds);
  if (s.fold * count > s.compute) s.fold = s.compute / count;
  const sc_core::sc_time folded = s.fold * count;
  s.tail = s.compute > folded ? s.compute - folded : sc_core::SC_ZERO_TIME;
  s.started = 0;
}

void PeCluster::fold_started(const sc_core::sc_time& at) {
  ArraySchedule& s = schedule_;
  // A schedule of no cycles has all its work at its start.
  const bool timed = s.compute > sc_core::SC_ZERO_TIME;
  spread_work(at, at + s.fold, timed ? s.fold / s.compute : 0);
  // Once the last fold has started, what follows it (all of a schedule of one stretch).
  if (++s.started == s.folds) spread_work(at + s.fold, at + s.fold + s.tail, timed ? s.tail / s.compute : 1);
}

void PeCluster::spread_work(const sc_core::sc_time& from, const sc_core::sc_time& to, double share) {
  if (share <= 0) return;
  const ArraySchedule& s = schedule_;
  const JobWork& w = s.work;
  const sc_core::sc_time start = epoch_ + from, end = epoch_ + to;
  decltype(work_over_time_)::Amounts work{};
  work[kMacsOverTime + static_cast<std::size_t>(s.datatype)] = share * static_cast<double>(w.macs);
  work[kRfOverTime] = share * static_cast<double>(w.rf.reads + w.rf.writes);
  work[kRfBytesOverTime] = share * static_cast<double>(w.rf_bytes);
  // Partial sums go out to the input buffer and come back as many.
  work[kBufferOverTime + 0] = share * static_cast<double>(w.weight_buffer_bytes);
  work[kBufferOverTime + 2] = share * static_cast<double>(w.input_buffer_bytes + w.psum_bytes);
  work[kBufferOverTime + 3] = share * static_cast<double>(w.psum_bytes);
  work_over_time_.add(start, end, work);
}

void PeCluster::record_fill(std::size_t counter, sc_core::sc_time from, sc_core::sc_time to, std::uint64_t bytes) {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  from = std::max(epoch_ + from, now);
  decltype(work_over_time_)::Amounts written{};
  written[kBufferOverTime + counter] = static_cast<double>(bytes);
  work_over_time_.add(from, std::max(epoch_ + to, from), written);
}

JobError PeCluster::check_split_reduction(const ClusterJob& job, bool held) const {
  if ((job.flags & (kJobHoldSums | kJobAccumulate)) == 0) return JobError::kNone;
  // Output stationary holds the sums in its PEs: one fold of pixels and
  // channels. Weight stationary holds them where it spills its partial sums,
  // the input buffer beside the tile: one column fold of channels.
  const auto dataflow = static_cast<Dataflow>(job.dataflow);
  const std::uint64_t pixels = std::uint64_t{job.out_h} * job.out_w;
  const bool room = job.k_count <= config_.array.cols &&
                    (dataflow == Dataflow::kOutputStationary ? pixels <= config_.array.rows
                     : dataflow == Dataflow::kWeightStationary
                         ? pixels * job.k_count * kAccumulatorBytes + std::uint64_t{job.in_h} * job.in_row_pitch <=
                               config_.input_buffer_bytes
                         : false);
  if (static_cast<JobOp>(job.op) != JobOp::kConv2d || static_cast<Datatype>(job.datatype) == Datatype::kFp16 ||
      job.fuse != 0 || !room) {
    log_->warn(
        "a split reduction (flags {:#x}) needs an output- or weight-stationary integer convolution, nothing "
        "fused, its {} channels within the array's {} columns and its {}x{} sums where the dataflow holds them",
        job.flags, job.k_count, config_.array.cols, job.out_h, job.out_w);
    return JobError::kInvalid;
  }
  const std::array<std::uint32_t, 4> shape{job.out_h, job.out_w, job.k_count, job.datatype};
  if ((job.flags & kJobAccumulate) && !(held && held_shape_ == shape)) {
    log_->warn("kJobAccumulate on a job of {}x{}x{} with {} sums held", job.out_h, job.out_w, job.k_count,
               held ? fmt::format("{}x{}x{}", held_shape_[0], held_shape_[1], held_shape_[2]) : "no");
    return JobError::kSumsNotHeld;
  }
  return JobError::kNone;
}

}  // namespace npuvp::pe_array
