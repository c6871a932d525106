#include "models/pe_array/pe_cluster.h"

#include <algorithm>
#include <cstring>

#include "contract/int4_storage.h"
#include "models/common/cpu_profile.h"
#include "models/common/log.h"
#include "models/common/sim_control.h"
#include "models/noc/read_fork.h"

namespace npuvp::pe_array {

PeCluster::PeCluster(const sc_core::sc_module_name& name, const PeClusterConfig& config)
    : sc_module(name),
      target_socket("target_socket"),
      fill_socket("fill_socket"),
      noc_socket("noc_socket"),
      irq("irq"),
      config_(config),
      clock_period_(sc_core::sc_time(1e3 / config.clock_mhz, sc_core::SC_NS)),
      registers_(this->name(), std::vector<regs::RegisterSpec>(kClusterRegisters.begin(), kClusterRegisters.end())),
      log_(log::component(this->name())) {
  target_socket.register_b_transport(this, &PeCluster::b_transport);
  target_socket.register_transport_dbg(this, &PeCluster::transport_dbg);
  fill_socket.register_b_transport(this, &PeCluster::fill_transport);
  registers_.on_write(reg::kCtrl, [this](std::uint32_t v) { start(v); });
  registers_.set(reg::kClusterId, config_.index);
  registers_.on_write(reg::kIrq, [this](std::uint32_t) { update_irq(); });
  registers_.on_write(reg::kGroupReady, [this](std::uint32_t v) {
    tokens_.push_back({v, access_at_});
    token_event_.notify(sc_core::SC_ZERO_TIME);
  });
  // At elaboration, so that a bad NPUVP_KERNEL stops the run before it starts.
  log_->debug("cluster kernel: {}", kernel_path_name(kernel_path()));
  SC_HAS_PROCESS(PeCluster);
  SC_THREAD(job_thread);
  SC_METHOD(drive_irq);
  sensitive << irq_changed_;
  dont_initialize();
}

void PeCluster::attach_trace(trace::VcdRecorder& recorder) {
  busy_trace_.bind(recorder, std::string(name()) + ".busy");
  compute_trace_.bind(recorder, std::string(name()) + ".computing");
  stall_trace_.bind(recorder, std::string(name()) + ".stall", 3);
  irq_trace_.bind(recorder, std::string(name()) + ".irq");
  recorder.hold_from([this] { return job_started_; });
}

const char* to_string(ClusterStall stall) {
  switch (stall) {
    case ClusterStall::kNone:
      return "none";
    case ClusterStall::kWeights:
      return "weights";
    case ClusterStall::kInputs:
      return "inputs";
    case ClusterStall::kBufferPort:
      return "buffer_port";
    case ClusterStall::kResults:
      return "results";
  }
  return "?";
}

// run_job() records each stall edge once its time is known, in time order
// (where two coincide, the later recorded wins). Recorded at the job's end,
// the first edges of a job longer than the trace's reorder window came too
// late for it (MobileNet v1 at 64x64: 7 late changes, a cluster shown not
// stalled for 0.96 us while it waited on weights).
void PeCluster::trace_stall(const sc_core::sc_time& offset, ClusterStall stall) const {
  if (stall_trace_.bound()) stall_trace_.set(epoch_ + offset, static_cast<std::uint64_t>(stall));
}

void PeCluster::attach_timeline(trace::TimelineRecorder& recorder, std::function<std::int32_t()> layer,
                                std::function<std::int64_t(std::uint64_t)> bank) {
  timeline_.bind(recorder, name());
  timeline_layer_ = std::move(layer);
  timeline_bank_ = std::move(bank);
}

void PeCluster::sample(stats::Counters& into, const sc_core::sc_time& now) {
  const auto work = work_over_time_.value_at(now);
  const auto of = [&](Datatype d) { return work[kMacsOverTime + static_cast<std::size_t>(d)]; };
  double macs = 0;
  for (std::size_t d = 0; d < kDatatypes; ++d) macs += work[kMacsOverTime + d];
  into.add(stats::Counter::kMacs, macs);
  into.add(stats::Counter::kInt4Macs, of(Datatype::kInt4));
  into.add(stats::Counter::kInt16Macs, of(Datatype::kInt16));
  into.add(stats::Counter::kFp16Macs, of(Datatype::kFp16));
  into.add(stats::Counter::kRfAccesses, work[kRfOverTime]);
  into.add(stats::Counter::kRfBytes, work[kRfBytesOverTime]);
  into.add(stats::Counter::kWeightBufferReadBytes, work[kBufferOverTime + 0]);
  into.add(stats::Counter::kWeightBufferWriteBytes, work[kBufferOverTime + 1]);
  into.add(stats::Counter::kInputBufferReadBytes, work[kBufferOverTime + 2]);
  into.add(stats::Counter::kInputBufferWriteBytes, work[kBufferOverTime + 3]);
  into.add(stats::Counter::kComputeCycles, static_cast<double>(stats_.compute_cycles));
  into.add(stats::Counter::kStallCycles, static_cast<double>(stats_.stall_cycles));
  into.add(stats::Counter::kBufferPortStallCycles, static_cast<double>(stats_.buffer_port_stall_cycles));
  into.add(stats::Counter::kWsJobs, static_cast<double>(stats_.jobs_by_dataflow[0]));
  into.add(stats::Counter::kOsJobs, static_cast<double>(stats_.jobs_by_dataflow[1]));
  into.add(stats::Counter::kOs2dJobs, static_cast<double>(stats_.jobs_by_dataflow[2]));
}

nlohmann::json PeCluster::stats_json() const {
  const PeClusterStats& s = stats_;
  return {{"jobs", s.jobs},
          {"weight_stationary_jobs", s.jobs_by_dataflow[0]},
          {"output_stationary_jobs", s.jobs_by_dataflow[1]},
          {"spatial_output_stationary_jobs", s.jobs_by_dataflow[2]},
          {"macs", s.macs},
          {"compute_cycles", s.compute_cycles},
          {"stall_cycles", s.stall_cycles},
          {"rf_reads", s.rf_reads},
          {"rf_writes", s.rf_writes},
          {"rf_bytes", s.rf_bytes},
          {"psum_bytes", s.psum_bytes},
          {"weight_buffer_read_bytes", s.weight_buffer_read_bytes},
          {"weight_buffer_write_bytes", s.weight_buffer_write_bytes},
          {"input_buffer_read_bytes", s.input_buffer_read_bytes},
          {"input_buffer_write_bytes", s.input_buffer_write_bytes},
          {"buffer_port_stall_cycles", s.buffer_port_stall_cycles},
          {"operand_read_bytes", s.operand_read_bytes},
          {"result_write_bytes", s.result_write_bytes},
          {"errors", s.errors}};
}

void PeCluster::drive_irq() {
  const std::uint32_t bits = registers_.get(reg::kIrq);
  if ((bits != 0) != irq.read()) log_->debug("interrupt {} (IRQ {:#x})", bits ? "raised" : "cleared", bits);
  irq.write(bits != 0);
  irq_trace_.set(sc_core::sc_time_stamp(), bits != 0);
}

void PeCluster::start(std::uint32_t ctrl) {
  if ((ctrl & (kCtrlStart | kCtrlStartTable)) == 0) return;
  if (queued_jobs_.size() >= std::max(1u, config_.job_queue_depth)) {
    log_->warn("START with {} jobs held (job_queue_depth {}) is ignored", queued_jobs_.size(), config_.job_queue_depth);
    return;
  }
  const std::uint64_t addr = registers_.get(reg::kJobAddr);
  if (ctrl & kCtrlStartTable)
    queued_jobs_.push_back({addr + std::uint64_t{config_.index} * sizeof(ClusterJob), addr});
  else
    queued_jobs_.push_back({addr, kNoTable});
  registers_.set(reg::kStatus, registers_.get(reg::kStatus) | kStatusBusy);
  if (queued_jobs_.size() == 1) start_.notify(sc_core::SC_ZERO_TIME);
}

void PeCluster::job_thread() {
  sim::guard([this] {
    for (;;) {
      if (queued_jobs_.empty()) sc_core::wait(start_);
      busy_trace_.set(sc_core::sc_time_stamp(), 1);
      const QueuedJob queued = queued_jobs_.front();
      const std::uint64_t job_addr = queued.addr;
      job_started_ = sc_core::sc_time_stamp();
      const JobError error = run_job(queued);
      // A failed job waits on nothing from its end on (its stall edges so
      // far were recorded as it went).
      if (error != JobError::kNone) trace_stall(sc_core::sc_time_stamp() - epoch_, ClusterStall::kNone);
      job_started_ = sc_core::sc_max_time();
      write_status(error);
      busy_trace_.set(sc_core::sc_time_stamp(), 0);
      std::uint32_t irq_bits = registers_.get(reg::kIrq);
      if (error == JobError::kNone) {
        irq_bits |= kIrqDone;
        registers_.set(reg::kJobsDone, registers_.get(reg::kJobsDone) + 1);
      } else {
        ++stats_.errors;
        irq_bits |= kIrqError;
        log_->warn("job at {:#x} failed with error {}", job_addr, static_cast<unsigned>(error));
      }
      queued_jobs_.pop_front();
      if (queued_jobs_.empty()) idle_since_ = sc_core::sc_time_stamp();
      registers_.set(reg::kStatus, static_cast<std::uint32_t>(error) << 8 | (queued_jobs_.empty() ? 0 : kStatusBusy));
      registers_.set(reg::kIrq, irq_bits);
      update_irq();
    }
  });
}

namespace {

// Bytes of one pixel of the job's input tile and of its results in SRAM
// (int4 not packed: one value per byte).
unsigned input_pixel_bytes(const ClusterJob& j) {
  return j.flags & kJobPackedInput ? (j.in_c + 1) / 2 : j.in_c * element_bytes(static_cast<Datatype>(j.datatype));
}
unsigned result_element_bytes(const ClusterJob& j) {
  return j.flags & kJobInt16Output  ? 2
         : j.flags & kJobInt8Output ? 1
                                    : element_bytes(static_cast<Datatype>(j.datatype));
}
unsigned result_pixel_bytes(const ClusterJob& j) {
  return j.flags & kJobPackedOutput ? (j.k_count + 1) / 2 : j.k_count * result_element_bytes(j);
}

bool valid_job(const ClusterJob& j) {
  const auto op = static_cast<JobOp>(j.op);
  if (op != JobOp::kConv2d && op != JobOp::kMaxPool && op != JobOp::kAvgPool && op != JobOp::kAdd) return false;
  // Pooling and add run on int8 or int16 tensors.
  if (j.datatype > static_cast<std::uint32_t>(Datatype::kFp16) ||
      (op != JobOp::kConv2d && j.datatype != static_cast<std::uint32_t>(Datatype::kInt8) &&
       j.datatype != static_cast<std::uint32_t>(Datatype::kInt16)))
    return false;
  const auto datatype = static_cast<Datatype>(j.datatype);
  const bool packs = (j.flags & (kJobPackedInput | kJobPackedOutput)) != 0;
  if (packs && datatype != Datatype::kInt4 && datatype != Datatype::kInt8) return false;
  // Output conversion: an int8 convolution's results to int16 or an int16 one's to int8.
  if (((j.flags & kJobInt16Output) && (op != JobOp::kConv2d || datatype != Datatype::kInt8)) ||
      ((j.flags & kJobInt8Output) && (op != JobOp::kConv2d || datatype != Datatype::kInt16)) ||
      ((j.flags & (kJobInt16Output | kJobInt8Output)) && ((j.flags & kJobPackedOutput) || j.fuse != 0)))
    return false;
  if (j.kernel_h == 0 || j.kernel_w == 0 || j.stride_h == 0 || j.stride_w == 0 || j.dilation_h == 0 ||
      j.dilation_w == 0 || j.k_count == 0 || j.in_c == 0 || j.out_h == 0 || j.out_w == 0 || j.in_h == 0 ||
      j.in_w == 0 || j.in_row_pitch < j.in_w * input_pixel_bytes(j) || j.out_pixel_pitch < result_pixel_bytes(j) ||
      j.out_row_pitch < (fuses_pool(j) ? read_pool_epilogue(j).out_w : j.out_w) * j.out_pixel_pitch ||
      j.dataflow >= kDataflows || j.act_min > j.act_max)
    return false;
  if (fuses_pool(j)) {
    const PoolEpilogue e = read_pool_epilogue(j);
    if (op != JobOp::kConv2d || element_bytes(datatype) != 1 || (j.flags & kJobPackedOutput) != 0 || e.kernel_h == 0 ||
        e.kernel_w == 0 || e.stride_h == 0 || e.stride_w == 0 || e.out_h == 0 || e.out_w == 0 ||
        j.fused_act_min > j.fused_act_max)
      return false;
  } else if (j.fuse > kJobFuseAdd ||
             (j.fuse == kJobFuseAdd &&
              (op != JobOp::kConv2d || element_bytes(datatype) != 1 || (j.flags & kJobPackedOutput) != 0 ||
               j.in2_pixel_pitch < j.k_count || j.fused_act_min > j.fused_act_max)))
    return false;
  if ((op == JobOp::kAdd || j.fuse == kJobFuseAdd) && (j.left_shift < 0 || j.left_shift > 22)) return false;
  if ((j.flags & kJobKeepInput) && op != JobOp::kConv2d) return false;
  if (op == JobOp::kConv2d) {
    if (j.group_in == 0 || j.group_out == 0 || j.k_count % j.group_out != 0) return false;
    return std::uint64_t{j.in_channel_offset} + std::uint64_t{j.k_count / j.group_out} * j.group_in <= j.in_c;
  }
  return std::uint64_t{j.in_channel_offset} + j.k_count <= j.in_c;
}

// Bytes between the rows of the tile the kernel reads: a packed tile's rows
// unpacked to one value per byte.
std::uint64_t unpacked_row_pitch(const ClusterJob& j) {
  return j.flags & kJobPackedInput ? std::uint64_t{j.in_w} * j.in_c : j.in_row_pitch;
}

// What identifies a job's input tile in SRAM and in the input buffer; in_h
// is never 0 in a valid job, so a cluster that loaded none matches no job.
std::array<std::uint32_t, 7> input_tile_of(const ClusterJob& j) {
  return {j.in_addr, j.in_h, j.in_row_pitch, j.in_w, j.in_c, j.datatype, j.flags & kJobPackedInput};
}

// A convolution job as the contract's cost functions see it (groups run one after another).
ConvJobShape conv_shape(const ClusterJob& j) {
  const std::uint64_t filter_elements = std::uint64_t{j.kernel_h} * j.kernel_w * j.group_in;
  return {j.k_count / j.group_out, GemmShape{std::uint64_t{j.out_h} * j.out_w, j.group_out, filter_elements},
          j.group_in == 1 && j.group_out == 1,
          SpatialShape{j.out_h, j.out_w, j.kernel_h, j.kernel_w, j.stride_h, j.stride_w, j.dilation_h, j.dilation_w}};
}

}  // namespace

JobError PeCluster::load_inputs(const ClusterJob& job, unsigned tiles, sc_core::sc_time& t,
                                sc_core::sc_time& first_row_at) {
  if (job.flags & kJobKeepInput) {
    // The tile is in already; the array may start at once.
    first_row_at = t;
    if (input_tile_ == input_tile_of(job)) {
      fold_started(first_row_at);
      return JobError::kNone;
    }
    log_->warn("the input buffer does not hold the tile at {:#x} the job keeps", job.in_addr);
    return JobError::kInputNotResident;
  }
  const std::uint64_t tile_bytes = std::uint64_t{job.in_h} * job.in_row_pitch;
  const bool packed = (job.flags & kJobPackedInput) != 0;
  std::vector<std::int8_t>& stored = packed ? packed_ : tile_;
  stored.resize(tiles * tile_bytes);
  input_tile_ = {};
  first_row_at = sc_core::SC_ZERO_TIME;
  for (unsigned i = 0; i < tiles; ++i) {
    const std::uint64_t base = i == 0 ? job.in_addr : job.in2_addr;
    for (std::uint32_t row = 0; row < job.in_h; ++row) {
      sc_core::sc_time row_t = t;
      if (read_in_time(base + std::uint64_t{row} * job.in_row_pitch,
                       stored.data() + i * tile_bytes + std::uint64_t{row} * job.in_row_pitch, job.in_row_pitch,
                       row_t) != tlm::TLM_OK_RESPONSE)
        return JobError::kOperandRead;
      record_fill(3, t, row_t, job.in_row_pitch);
      if (row == 0) first_row_at = std::max(first_row_at, row_t);
      // The rows stream in one after another: the array starts on the last tile's first.
      if (row == 0 && i + 1 == tiles) fold_started(first_row_at);
      t = std::max(t, row_t);
    }
  }
  stats_.operand_read_bytes += tiles * tile_bytes;
  if (packed) {
    // The tile stays packed in the input buffer; its read port unpacks it
    // into rows of in_w × in_c values (unpacked_row_pitch).
    const std::uint64_t row = unpacked_row_pitch(job);
    tile_.resize(tiles * job.in_h * row);
    for (std::uint64_t r = 0; r < std::uint64_t{tiles} * job.in_h; ++r)
      unpack_int4_runs(packed_.data() + r * job.in_row_pitch, job.in_w, job.in_c, tile_.data() + r * row);
  }
  if (tiles == 1) input_tile_ = input_tile_of(job);
  return JobError::kNone;
}

PeCluster::JobWork PeCluster::conv_work(const ClusterJob& job) {
  const auto datatype = static_cast<Datatype>(job.datatype);
  const std::uint64_t pixels = std::uint64_t{job.out_h} * job.out_w;
  // A grouped convolution runs group after group, each a small GEMM.
  const std::uint64_t groups = job.k_count / job.group_out;
  const auto dataflow = static_cast<Dataflow>(job.dataflow);
  const bool packed = datatype == Datatype::kInt4 && config_.int4_packing;
  ++stats_.jobs_by_dataflow[job.dataflow];
  const unsigned element = element_bytes(datatype);
  // Zero skipping aside, the dense loop nest decides what the register files miss.
  const ConvJobWork dense = conv_job_work(dataflow, config_.array, features(), conv_shape(job), packed,
                                          config_.rf_entries, element, config_.buffer_port_bytes);
  JobWork work;
  work.macs = dense.macs;
  work.array_cycles = dense.array_cycles;
  std::uint64_t folds = dense.folds;
  if (skips_zeros(job)) {
    // Column folds of each group, each as deep as its densest filter.
    work.macs = work.array_cycles = folds = 0;
    for (std::uint64_t g = 0; g < groups; ++g)
      for (std::uint64_t k0 = 0; k0 < job.group_out; k0 += config_.array.cols) {
        const std::uint64_t n = std::min<std::uint64_t>(config_.array.cols, job.group_out - k0);
        std::uint64_t depth = 0;
        for (std::uint64_t k = 0; k < n; ++k) {
          const std::uint32_t nnz = nonzero_weights_[g * job.group_out + k0 + k];
          depth = std::max<std::uint64_t>(depth, nnz);
          work.macs += pixels * nnz;
        }
        const TileTiming t = systolic_tile_timing(
            dataflow, config_.array, GemmShape{pixels, n, reduction_steps(depth, packed)}, config_.preload_overlap);
        work.array_cycles += t.total_cycles();
        folds += t.folds;
      }
  }
  work.rf = conv_rf_accesses(dataflow, config_.array, work.macs, folds);
  work.rf_bytes = work.rf.bytes(element);
  // int4 weights stay packed in the buffer and are unpacked as they leave it.
  work.weight_buffer_bytes =
      datatype == Datatype::kInt4 ? (dense.fetches.weight_words + 1) / 2 : dense.fetches.weight_words * element;
  work.input_buffer_bytes =
      job.flags & kJobPackedInput ? (dense.fetches.input_words + 1) / 2 : dense.fetches.input_words * element;
  work.psum_bytes = dense.fetches.psum_words * kAccumulatorBytes;
  work.cycles = port_limited_cycles(work.array_cycles, dense.fetches, element, config_.buffer_port_bytes);
  return work;
}

double PeCluster::dense_fold_cycles(const ClusterJob& job, const WeightStream& stream) const {
  if (stream.column_folds() == 0) return 0;
  const auto datatype = static_cast<Datatype>(job.datatype);
  const ConvJobWork dense = conv_job_work(static_cast<Dataflow>(job.dataflow), config_.array, features(),
                                          conv_shape(job), datatype == Datatype::kInt4 && config_.int4_packing,
                                          config_.rf_entries, element_bytes(datatype), config_.buffer_port_bytes);
  return double(dense.cycles) / double(stream.column_folds());
}

PeCluster::JobWork PeCluster::postprocess_job_work(const ClusterJob& job) const {
  const auto op = static_cast<JobOp>(job.op);
  const std::uint64_t taps = op == JobOp::kAdd ? 2 : std::uint64_t{job.kernel_h} * job.kernel_w;
  const PostProcessWork post =
      postprocess_work(config_.array, std::uint64_t{job.out_h} * job.out_w * job.k_count, taps);
  // Every tap is read from the input buffer once.
  const OperandFetches fetches{post.rf.reads, 0};
  const unsigned element = element_bytes(static_cast<Datatype>(job.datatype));
  JobWork work;
  work.array_cycles = post.cycles;
  work.cycles = port_limited_cycles(post.cycles, fetches, element, config_.buffer_port_bytes);
  work.rf = post.rf;
  work.rf_bytes = post.rf.bytes(element);
  work.input_buffer_bytes = job.flags & kJobPackedInput ? (fetches.input_words + 1) / 2 : fetches.input_words * element;
  return work;
}

JobError PeCluster::load_residual(const ClusterJob& job, sc_core::sc_time& t) {
  // Each row of residual pixels is one read of the span they lie in, the
  // channels of other jobs included, as a row of results is one write.
  const unsigned pixel = job.k_count, pitch = job.in2_pixel_pitch;
  const unsigned span = (job.out_w - 1) * pitch + pixel;
  residual_.resize(std::uint64_t{job.out_h} * job.out_w * pixel);
  if (residual_span_.size() < span) residual_span_.resize(span);
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    sc_core::sc_time row_t = t;
    if (read_in_time(job.in2_addr + std::uint64_t{oy} * job.out_w * pitch, residual_span_.data(), span, row_t) !=
        tlm::TLM_OK_RESPONSE)
      return JobError::kOperandRead;
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox)
      std::memcpy(&residual_[(std::uint64_t{oy} * job.out_w + ox) * pixel], &residual_span_[std::size_t{ox} * pitch],
                  pixel);
    t = std::max(t, row_t);
    stats_.operand_read_bytes += span;
  }
  return JobError::kNone;
}

void PeCluster::epilogue_work(const ClusterJob& job, JobWork& work) const {
  // An add: input 1 is the requantized result already in the lane, one tap
  // (the residual) per output. A pool: each pooled output takes its window's
  // taps from the results the lanes hold, none from the input buffer.
  const PoolEpilogue e = read_pool_epilogue(job);
  const PostProcessWork post =
      fuses_pool(job) ? postprocess_work(config_.array, std::uint64_t{e.out_h} * e.out_w * job.k_count,
                                         std::uint64_t{e.kernel_h} * e.kernel_w)
                      : postprocess_work(config_.array, std::uint64_t{job.out_h} * job.out_w * job.k_count, 1);
  work.array_cycles += post.cycles;
  work.cycles += post.cycles;
  work.rf.reads += post.rf.reads;
  work.rf.writes += post.rf.writes;
  work.rf_bytes += post.rf.bytes(1);
}

JobError PeCluster::write_results(const ClusterJob& job, sc_core::sc_time& t) {
  const unsigned row_bytes = job.out_w * job.out_pixel_pitch;
  const unsigned pixel_bytes = result_pixel_bytes(job);
  // Packed int4 results leave the output stage two per byte, a pixel's channels a run.
  if (job.flags & kJobPackedOutput) packed_ = pack_int4_runs(result_, job.k_count);
  const std::vector<std::int8_t>& stored = job.flags & kJobPackedOutput ? packed_ : result_;
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    // Each row leaves once the one before it is out; issued then, within a
    // quantum, not when the job started: a long job's results would otherwise
    // be timed on the NoC and at the banks ahead of the traffic issued
    // meanwhile, which would then have to fit around them.
    sync_to(t);
    sc_core::sc_time row_t = t;
    if (write(job.out_addr + std::uint64_t{oy} * job.out_row_pitch,
              stored.data() + std::uint64_t{oy} * job.out_w * pixel_bytes, row_bytes, pixel_bytes, job.out_pixel_pitch,
              row_t) != tlm::TLM_OK_RESPONSE)
      return JobError::kResultWrite;
    t = std::max(t, row_t);
  }
  stats_.result_write_bytes += std::uint64_t{job.out_h} * job.out_w * pixel_bytes;
  return JobError::kNone;
}

void PeCluster::write_status(JobError error) {
  if (status_addr_ == 0) return;
  std::uint32_t word = kJobStatusDone | static_cast<std::uint32_t>(error) << 8;
  epoch_ = sc_core::sc_time_stamp();
  sc_core::sc_time t = sc_core::SC_ZERO_TIME;
  if (transfer(tlm::TLM_WRITE_COMMAND, status_addr_, reinterpret_cast<unsigned char*>(&word), nullptr, sizeof word,
               t) != tlm::TLM_OK_RESPONSE)
    log_->warn("the completion word at {:#x} could not be written", status_addr_);
  sc_core::wait(t);
}

JobError PeCluster::run_job(const QueuedJob& queued) {
  const std::uint64_t job_addr = queued.addr;
  epoch_ = sc_core::sc_time_stamp();
  sc_core::sc_time t = sc_core::SC_ZERO_TIME;
  ClusterJob job{};
  status_addr_ = 0;
  streamed_ = Streamed{};
  if (job_addr % 64 != 0 || read(job_addr, &job, sizeof job, t) != tlm::TLM_OK_RESPONSE) return JobError::kFetch;
  status_addr_ = job.status_addr;
  log_->debug(
      "job at {:#x}: op {}, dataflow {}, input {}x{}x{} at {:#x}, output {}x{}x{} at {:#x}, kernel {}x{} "
      "stride {}x{}, weights {}",
      job_addr, job.op, job.dataflow, job.in_c, job.in_h, job.in_w, job.in_addr, job.k_count, job.out_h, job.out_w,
      job.out_addr, job.kernel_h, job.kernel_w, job.stride_h, job.stride_w,
      job.flags & kJobLoadWeights ? "loaded" : "resident");
  if (!valid_job(job) ||
      (static_cast<JobOp>(job.op) == JobOp::kConv2d && (config_.dataflows >> job.dataflow & 1u) == 0))
    return JobError::kInvalid;
  // Held sums last one job: a job without kJobAccumulate discards them.
  const bool held = holds_sums_;
  holds_sums_ = false;
  if (const JobError error = check_split_reduction(job, held); error != JobError::kNone) return error;
  const auto op = static_cast<JobOp>(job.op);
  const bool is_conv = op == JobOp::kConv2d;
  const auto datatype = static_cast<Datatype>(job.datatype);
  const std::uint64_t psum_footprint = is_conv
                                           ? psum_footprint_bytes(static_cast<Dataflow>(job.dataflow), config_.array,
                                                                  features(), conv_shape(job), steps(job))
                                           : 0;
  const unsigned tiles = op == JobOp::kAdd ? 2 : 1;
  const std::uint64_t tile_bytes = std::uint64_t{job.in_h} * job.in_row_pitch;
  const std::uint64_t weight_bytes =
      is_conv ? storage_bytes(std::uint64_t{job.kernel_h} * job.kernel_w * job.group_in, datatype) * job.k_count : 0;
  if (weight_bytes > config_.weight_buffer_bytes) return JobError::kWeightBuffer;
  if (tiles * tile_bytes + psum_footprint > config_.input_buffer_bytes) return JobError::kInvalid;
  // The array needs the first column fold's filters to start; the rest
  // follow the input tile in while it computes.
  const WeightStream stream = is_conv ? weight_stream(static_cast<Dataflow>(job.dataflow), config_.array,
                                                      conv_shape(job), features(), config_.weights_by_fold)
                                      : WeightStream{};
  trace_stall(sc_core::SC_ZERO_TIME, ClusterStall::kWeights);
  if (is_conv) {
    if (const JobError error = load_weights(job, queued.table, stream, t); error != JobError::kNone) return error;
  }
  const sc_core::sc_time weights_at = t;
  trace_stall(weights_at, ClusterStall::kInputs);
  if (is_conv && (job.flags & kJobLoadWeights))
    record_fill(1, sc_core::SC_ZERO_TIME, weights_at, streamed_.first_bytes);
  const bool streams = streamed_.has_rest();
  if (streamed_.loading && !streams) weights_arrived(job);
  if (streams && skips_zeros(job)) {
    if (const JobError error = count_streamed_nonzero_weights(job); error != JobError::kNone) return error;
  }
  const double fold_cycles = streams ? dense_fold_cycles(job, stream) : 0;
  plan_schedule(job_work(job), datatype, streams ? stream.column_folds() : 1, fold_cycles);
  // The array starts once the first input row is in; the rest of the tile
  // streams in while it computes.
  sc_core::sc_time first_row_at;
  if (const JobError error = load_inputs(job, tiles, t, first_row_at); error != JobError::kNone) return error;
  trace_stall(first_row_at, ClusterStall::kNone);
  // The residual streams in behind the tile, into the post-processing lanes.
  if (job.fuse == kJobFuseAdd) {
    if (const JobError error = load_residual(job, t); error != JobError::kNone) return error;
  }
  const sc_core::sc_time inputs_at = t;
  JobError error = JobError::kNone;
  const sc_core::sc_time weights_late = stream_weights(job, first_row_at, fold_cycles, t, error);
  if (error != JobError::kNone) return error;
  const JobWork& work = schedule_.work;

  const ClusterJob stored = stored_job(job);  // a fused pool's map may be the larger one
  compute(job, stored, tiles);
  const bool holds = (job.flags & kJobHoldSums) != 0;

  const sc_core::sc_time compute_time = clock_period_ * static_cast<double>(work.cycles);
  const sc_core::sc_time compute_start = first_row_at;
  const sc_core::sc_time compute_end = std::max(compute_start + compute_time + weights_late, inputs_at);
  compute_trace_.set(epoch_ + compute_start, 1);
  compute_trace_.set(epoch_ + compute_end, 0);

  const BufferFills fills{is_conv && (job.flags & kJobLoadWeights) ? weight_bytes : 0,
                          job.flags & kJobKeepInput ? 0 : tiles * tile_bytes, inputs_at, weights_late};
  if (stall_trace_.bound()) {
    const sc_core::sc_time array_end = compute_start + clock_period_ * static_cast<double>(work.array_cycles);
    trace_stall(array_end, ClusterStall::kInputs);
    trace_stall(fills.unlimited_end(array_end), ClusterStall::kBufferPort);
    trace_stall(compute_end, ClusterStall::kResults);
  }
  account(work, datatype, fills, compute_start, compute_end);
  // The layer the job belongs to, asked before the results wait: the
  // command processor may have moved on by the time they leave.
  const std::optional<std::int32_t> layer =
      timeline_.bound() && timeline_layer_ ? std::optional<std::int32_t>(timeline_layer_()) : std::nullopt;
  sc_core::sc_time write_t = compute_end;
  if (holds) {
    held_sums_.swap(sums_);
    held_shape_ = {job.out_h, job.out_w, job.k_count, job.datatype};
    holds_sums_ = true;
  } else if (const JobError error = write_results(stored, write_t); error != JobError::kNone) {
    return error;
  }
  const std::uint64_t busy_cycles = static_cast<std::uint64_t>(write_t / clock_period_ + 0.5);
  stats_.stall_cycles += busy_cycles > work.array_cycles ? busy_cycles - work.array_cycles : 0;
  trace_stall(write_t, ClusterStall::kNone);
  if (timeline_.bound()) trace_slice(job, job_addr, fills, layer, write_t);
  sc_core::wait(std::max(epoch_ + write_t, sc_core::sc_time_stamp()) - sc_core::sc_time_stamp());
  return JobError::kNone;
}

void PeCluster::compute(const ClusterJob& job, const ClusterJob& stored, unsigned tiles) {
  result_.resize(std::max(std::uint64_t{job.out_h} * job.out_w, std::uint64_t{stored.out_h} * stored.out_w) *
                 job.k_count * result_element_bytes(job));
  // The kernel sees the tile unpacked.
  ClusterJob unpacked = job;
  unpacked.in_row_pitch = static_cast<std::uint32_t>(unpacked_row_pitch(job));
  JobOperands operands;
  operands.tile = tile_.data();
  operands.tile2 = tiles == 2 ? tile_.data() + std::uint64_t{job.in_h} * unpacked.in_row_pitch : nullptr;
  operands.weights = weights_.data();
  operands.bias = bias_.data();
  operands.requant = requant_.data();
  operands.residual = residual_.data();
  if (job.flags & kJobHoldSums) sums_.resize(std::size_t{job.out_h} * job.out_w * job.k_count);
  operands.sums = held_sums_.data();
  operands.held = sums_.data();
  const profile::RunningScope cpu(profile::Phase::kCompute);
  pe_array::run_job(unpacked, operands, result_.data());
}

void PeCluster::trace_slice(const ClusterJob& job, std::uint64_t job_addr, const BufferFills& fills,
                            std::optional<std::int32_t> layer, const sc_core::sc_time& end) {
  static constexpr const char* kOpNames[] = {"", "conv", "maxpool", "avgpool", "add"};
  const bool is_conv = static_cast<JobOp>(job.op) == JobOp::kConv2d;
  trace::SliceArgs args;
  args.reserve(11);  // every one below: no regrowth per job
  if (layer) args.push_back({"layer", *layer});
  args.push_back({"job", fmt::format("{:#x}", job_addr)});
  args.push_back({"tile_row", job.tile_row0});
  args.push_back({"out", fmt::format("{}x{}x{}", job.out_h, job.out_w, job.k_count)});
  args.push_back({"dataflow", is_conv ? kDataflowNames[job.dataflow] : "post"});
  args.push_back({"input_bytes", static_cast<std::int64_t>(fills.input_bytes)});
  args.push_back({"weight_bytes", static_cast<std::int64_t>(fills.weight_bytes)});
  args.push_back({"result_bytes",
                  job.flags & kJobHoldSums
                      ? std::int64_t{0}
                      : static_cast<std::int64_t>(std::uint64_t{job.out_h} * job.out_w * result_pixel_bytes(job))});
  if (timeline_bank_) {
    // Where each operand starts: which banks a job's streams contend for.
    args.push_back({"input_bank", timeline_bank_(job.in_addr)});
    if (is_conv) args.push_back({"weight_bank", timeline_bank_(job.weights_addr)});
    args.push_back({"output_bank", timeline_bank_(job.out_addr)});
  }
  timeline_.slice(kOpNames[job.op], "cluster", epoch_, epoch_ + end, args);
}

void PeCluster::sync_to(const sc_core::sc_time& at) {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  if (epoch_ + at > now + config_.quantum) sc_core::wait(epoch_ + at - now);
}

tlm::tlm_response_status PeCluster::transfer(tlm::tlm_command cmd, std::uint64_t addr, unsigned char* data,
                                             const unsigned char* byte_enables, unsigned len, sc_core::sc_time& offset,
                                             const std::vector<std::uint64_t>* fork) {
  // Split at kBurstBoundary-aligned addresses, as bus bursts are;
  // the bursts are issued back to back and the NoC serializes them.
  const sc_core::sc_time start = epoch_ + offset;
  noc::ReadForkExtension forked;
  if (fork != nullptr) forked.addresses.reserve(fork->size());
  // One payload from the pool for all the bursts; every field a burst uses is set below.
  const auto lease = payloads_.acquire();
  tlm::tlm_generic_payload& gp = *lease;
  // The fork extension lives here, and a payload back in the pool has its
  // extensions freed: it is taken off however this is left, a stop's unwinding
  // of the thread while the NoC holds it for its response included. Each
  // burst rewrites its addresses in place.
  if (fork != nullptr) gp.set_extension(&forked);
  struct ForkTakenOff {
    tlm::tlm_generic_payload& gp;
    noc::ReadForkExtension* forked;
    ~ForkTakenOff() {
      if (forked != nullptr) gp.clear_extension(forked);
    }
  } fork_taken_off{gp, fork != nullptr ? &forked : nullptr};
  for (unsigned done = 0, n = 0; done < len; done += n) {
    n = static_cast<unsigned>(std::min<std::uint64_t>(kBurstBoundary - (addr + done) % kBurstBoundary, len - done));
    gp.set_command(cmd);
    gp.set_address(addr + done);
    gp.set_data_ptr(data + done);
    gp.set_data_length(n);
    gp.set_streaming_width(n);
    if (byte_enables != nullptr) {
      gp.set_byte_enable_ptr(const_cast<unsigned char*>(byte_enables) + done);
      gp.set_byte_enable_length(n);
    }
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    if (fork != nullptr) {
      forked.addresses.clear();
      for (std::uint64_t a : *fork) forked.addresses.push_back(a + done);
    }
    // A wait of the job (its group's rendezvous) may have moved time past the start.
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    sc_core::sc_time t = start > now ? start - now : sc_core::SC_ZERO_TIME;
    noc_socket->b_transport(gp, t);
    if (!gp.is_response_ok()) return gp.get_response_status();
    offset = std::max(offset, sc_core::sc_time_stamp() + t - epoch_);
  }
  return tlm::TLM_OK_RESPONSE;
}

tlm::tlm_response_status PeCluster::read(std::uint64_t addr, void* data, unsigned len, sc_core::sc_time& offset,
                                         const std::vector<std::uint64_t>* fork) {
  return transfer(tlm::TLM_READ_COMMAND, addr, static_cast<unsigned char*>(data), nullptr, len, offset, fork);
}

tlm::tlm_response_status PeCluster::write(std::uint64_t addr, const std::int8_t* data, unsigned len,
                                          unsigned enabled_bytes, unsigned pitch, sc_core::sc_time& offset) {
  // Results of k channels land in pixels `pitch` bytes apart: byte enables
  // write them without touching the other channels of each pixel.
  if (enabled_bytes >= pitch)
    return transfer(tlm::TLM_WRITE_COMMAND, addr, reinterpret_cast<unsigned char*>(const_cast<std::int8_t*>(data)),
                    nullptr, len, offset);
  byte_enables_.assign(len, TLM_BYTE_DISABLED);
  scatter_.assign(len, 0);
  for (unsigned p = 0; std::size_t{p} * pitch < len; ++p) {
    const unsigned at = p * pitch;
    const unsigned n = std::min(enabled_bytes, len - at);
    std::fill_n(byte_enables_.begin() + at, n, TLM_BYTE_ENABLED);
    std::memcpy(&scatter_[at], data + std::size_t{p} * enabled_bytes, n);
  }
  return transfer(tlm::TLM_WRITE_COMMAND, addr, scatter_.data(), byte_enables_.data(), len, offset);
}

void PeCluster::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  delay += clock_period_;
  access_at_ = sc_core::sc_time_stamp() + delay;
  gp.set_response_status(registers_.access(gp));
}

unsigned PeCluster::transport_dbg(tlm::tlm_generic_payload& gp) { return registers_.debug_access(gp); }

}  // namespace npuvp::pe_array
