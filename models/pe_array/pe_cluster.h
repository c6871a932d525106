#pragma once
// One PE cluster: a rows × cols systolic MAC array (int8, int4, int16, fp16) with per-PE register
// files, a weight buffer and an input buffer, and a NoC port through which it fetches its job, its
// operands and writes its results to SRAM. The buffers are filled from SRAM and
// read by the array whenever an operand is not in a PE's register file
// (contract/operand_fetches.h).
//
// Clusters whose jobs load the same weights form an operand group
// (cluster_regs.h): the leader reads them once and the NoC multicasts the
// response into the followers' weight-fill windows (fill_socket), after a
// READY token from each follower (operand_group.cpp, docs/dataflows.md).
//
// Timing comes from the systolic schedule of the whole job (systolic_timing.h),
// not from stepping the array; operand reads overlap compute, and whatever part
// of the job the reads do not cover in time is counted as stall.

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "contract/operand_fetches.h"
#include "contract/systolic_timing.h"
#include "models/common/payload_pool.h"
#include "models/common/prorated_counter.h"
#include "models/common/register_file.h"
#include "models/common/stats_source.h"
#include "models/common/timeline_recorder.h"
#include "models/common/vcd_recorder.h"
#include "models/pe_array/cluster_kernel.h"

namespace npuvp::pe_array {

// No burst of a cluster crosses a multiple of this; the NoC splits one that
// spans several SRAM banks (sram.interleave_bytes below it) into a packet per bank.
inline constexpr unsigned kBurstBoundary = 1024;

struct PeClusterConfig {
  ArrayShape array;
  unsigned rf_entries = 16;  // per-PE register file words: the stationary operands a PE holds
  std::uint32_t weight_buffer_bytes = 64 * 1024;
  std::uint32_t input_buffer_bytes = 64 * 1024;
  // Bytes each buffer delivers to the array per cycle; 0: as many as the
  // array's schedule consumes (SCALE-Sim's assumption).
  unsigned buffer_port_bytes = 0;
  bool preload_overlap = false;  // double-buffered stationary registers
  // Zero-weight skipping: each filter's reduction is compressed to its
  // nonzero weights, a column fold taking as long as its densest filter.
  bool zero_skipping = false;
  // Depthwise convolution with the channels spread over the columns (each PE
  // column fed its own channel's inputs), rather than one channel at a time as
  // a plain systolic array must.
  bool depthwise_channel_parallel = false;
  // Each int8 lane splits into two int4 multipliers: an int4 job's reduction
  // takes half as many cycles (rounded up) in the systolic schedule.
  bool int4_packing = false;
  // The dataflows the array can run: bit d for Dataflow d (WS and OS by
  // default); a job asking for another is invalid.
  std::uint32_t dataflows = 0b011;
  // Jobs the cluster holds: the one running and those started behind it,
  // waiting in order. 1: a START while busy is ignored.
  unsigned job_queue_depth = 1;
  // Operand groups: a job may share its weights with other clusters' jobs
  // through one multicast read; off, a group job fails with kGroup.
  bool operand_multicast = true;
  // A convolution job's weights stream in column fold by column fold while
  // the array computes (weight_stream in systolic_timing.h); off, the array
  // starts once all of them are in.
  bool weights_by_fold = true;
  unsigned index = 0;  // CLUSTER_ID: its slot in a job table
  double clock_mhz = 800;
  // How far ahead of simulated time an operand read or a result row may be
  // issued (the loosely timed quantum): one due later waits until then.
  sc_core::sc_time quantum = sc_core::sc_time(10, sc_core::SC_NS);
};

struct PeClusterStats {
  std::uint64_t jobs = 0;
  std::array<std::uint64_t, kDataflows> jobs_by_dataflow{};  // convolution jobs, by Dataflow
  std::uint64_t macs = 0;
  std::array<std::uint64_t, 4> macs_by_datatype{};  // `macs` split by Datatype (energy differs)
  std::uint64_t compute_cycles = 0;                 // array cycles of the systolic schedule
  std::uint64_t stall_cycles = 0;                   // job time not covered by compute (operands late)
  std::uint64_t rf_reads = 0;
  std::uint64_t rf_writes = 0;
  std::uint64_t rf_bytes = 0;    // operands at their element width, partial sums at kAccumulatorBytes
  std::uint64_t psum_bytes = 0;  // partial sums spilled to the input buffer (as many read back)
  std::uint64_t weight_buffer_read_bytes = 0, weight_buffer_write_bytes = 0;
  std::uint64_t input_buffer_read_bytes = 0, input_buffer_write_bytes = 0;
  std::uint64_t buffer_port_stall_cycles = 0;  // job time the buffer ports added to the schedule
  std::uint64_t operand_read_bytes = 0;
  std::uint64_t result_write_bytes = 0;
  std::uint64_t errors = 0;
};

// What a cluster with a job is waiting on, as its VCD signal `stall` shows
// it; the same split of a job's time that the stall counters make. kNone
// while the array computes at full rate and while there is no job (`busy`
// tells which).
enum class ClusterStall : std::uint8_t {
  kNone,
  kWeights,     // the job itself, its first column fold's weights, bias and requantization, read over the NoC
  kInputs,      // the input rows: the first before compute starts, later ones (and later column folds'
                // weights) the array caught up with
  kBufferPort,  // the buffer ports, narrower than the schedule's operand rate
  kResults,     // the results, written back to SRAM
};
inline constexpr ClusterStall kClusterStalls[] = {ClusterStall::kNone, ClusterStall::kWeights, ClusterStall::kInputs,
                                                  ClusterStall::kBufferPort, ClusterStall::kResults};
const char* to_string(ClusterStall stall);

class PeCluster : public sc_core::sc_module, public stats::StatsSource {
 public:
  tlm_utils::simple_target_socket<PeCluster> target_socket;  // registers
  // The weight-fill window, where an operand group's multicast response lands
  // (bound where the cluster sits on a NoC that multicasts).
  tlm_utils::simple_target_socket_optional<PeCluster> fill_socket;
  tlm_utils::simple_initiator_socket<PeCluster> noc_socket;  // jobs, operands, results
  sc_core::sc_out<bool> irq;

  PeCluster(const sc_core::sc_module_name& name, const PeClusterConfig& config);
  PeCluster(const PeCluster&) = delete;
  PeCluster& operator=(const PeCluster&) = delete;

  void attach_trace(trace::VcdRecorder& recorder);
  // One slice per job, from its start to its last result written; `layer`
  // says which layer the job belongs to and `bank` which global-buffer bank
  // an NPU-local address falls in (-1 outside it), for the slice's args.
  void attach_timeline(trace::TimelineRecorder& recorder, std::function<std::int32_t()> layer = {},
                       std::function<std::int64_t(std::uint64_t)> bank = {});
  const PeClusterStats& stats() const { return stats_; }
  const PeClusterConfig& config() const { return config_; }
  // Whether a job runs or waits in the queue; since when none has.
  bool busy() const { return !queued_jobs_.empty(); }
  const sc_core::sc_time& idle_since() const { return idle_since_; }

  // stats::StatsSource. MACs and register-file accesses are counted as done
  // over each job's compute interval, so power over time follows the work.
  std::string stats_name() const override { return name(); }
  void sample(stats::Counters& into, const sc_core::sc_time& now) override;
  nlohmann::json stats_json() const override;

 private:
  void job_thread();
  // What a job does to the array: MACs, cycles of its schedule, register-file
  // accesses, bytes read from the buffers and cycles the buffer ports allow.
  struct JobWork {
    std::uint64_t macs = 0;
    std::uint64_t array_cycles = 0;
    std::uint64_t cycles = 0;  // array_cycles, or longer where a buffer port limits
    RegisterFileAccesses rf;
    std::uint64_t rf_bytes = 0;
    std::uint64_t weight_buffer_bytes = 0, input_buffer_bytes = 0;  // operands read
    std::uint64_t psum_bytes = 0;                                   // written to the input buffer, read back
  };
  // A started job: its descriptor's address and the job table it came from
  // (kNoTable: started alone), which tags its operand group's tokens.
  static constexpr std::uint64_t kNoTable = ~std::uint64_t{0};
  struct QueuedJob {
    std::uint64_t addr;
    std::uint64_t table;
  };
  JobError run_job(const QueuedJob& queued);
  // A job's kJobHoldSums and kJobAccumulate against the array and the sums
  // held (`held`: whether the job before left any).
  JobError check_split_reduction(const ClusterJob& job, bool held) const;
  // The job's results into result_ (`stored`: the map it writes), or its
  // sums into sums_ where it holds them.
  void compute(const ClusterJob& job, const ClusterJob& stored, unsigned tiles);
  // Writes the job's completion word (if it asked for one) and waits for it.
  void write_status(JobError error);
  // Each advances `t`, the job's local time (from epoch_), by the transfers it makes.
  // The first column fold's weights of `stream` (weight_stream in
  // systolic_timing.h), the bias and the requantization: the array starts
  // once they and the first input row are in.
  JobError load_weights(const ClusterJob& job, std::uint64_t table, const WeightStream& stream, sc_core::sc_time& t);
  // The other column folds' weights, fetched behind the input tile while the
  // array computes from `compute_start`, each fold `fold_cycles` long (a
  // follower waits for the leader's fill, fold by fold). Returns how much
  // later the last fold ends for weights that came late.
  sc_core::sc_time stream_weights(const ClusterJob& job, const sc_core::sc_time& compute_start, double fold_cycles,
                                  sc_core::sc_time& t, JobError& error);
  // Operand groups (operand_group.cpp). The leader waits for its followers'
  // tokens, then reads for all; a follower sends its token and waits for the fill.
  JobError lead_group(const ClusterJob& job, std::uint64_t table, sc_core::sc_time& t);
  JobError follow_group(const ClusterJob& job, std::uint64_t table, sc_core::sc_time& t);
  // A follower: until `bytes` of the fill are in (its first part, or all of it).
  JobError await_fill(std::uint64_t bytes, const ClusterJob& job, sc_core::sc_time& t);
  // Waits until `done()` holds or kGroupTimeoutCycles after `from` (absolute) pass.
  bool wait_group(const sc_core::sc_event& event, const sc_core::sc_time& from, const std::function<bool()>& done);
  std::vector<std::uint64_t> follower_clusters(const ClusterJob& job) const;
  // Unpacks int4 weights and counts the nonzero ones, once they are in.
  void weights_arrived(const ClusterJob& job);
  // Per filter, the nonzero weights of `weights` (one value per element).
  void count_nonzero_weights(const ClusterJob& job, const std::int8_t* weights);
  // With zero skipping a job's work depends on how many of each filter's
  // weights are zero, which a job whose weights stream by fold would know only
  // once the last fold is in, after the cycles of the first. The counts come
  // from the weights in SRAM as the job starts (debug access, untimed),
  // standing for the per-filter counts a compressed filter format carries
  // ahead of its weights; the weights stream in as dense ones do.
  JobError count_streamed_nonzero_weights(const ClusterJob& job);
  void fill_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  // Streamed weights (weight_slots.cpp): a job whose weights_addr names a
  // slot of its own weight-fill window waits until the DMA has written its
  // weights there, then takes them and frees the slot.
  static bool weights_from_slot(const ClusterJob& job);
  std::uint64_t slot_bytes() const;
  JobError take_slot_weights(const ClusterJob& job, std::vector<std::int8_t>& stored, sc_core::sc_time& t);
  void slot_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  JobError load_inputs(const ClusterJob& job, unsigned tiles, sc_core::sc_time& t, sc_core::sc_time& first_row_at);
  // A fused residual add's operand: out_h rows of k_count channels per pixel.
  JobError load_residual(const ClusterJob& job, sc_core::sc_time& t);
  JobError write_results(const ClusterJob& job, sc_core::sc_time& t);
  JobWork conv_work(const ClusterJob& job);
  // A job's work: its convolution's or post-processing's, and its fused epilogue's.
  JobWork job_work(const ClusterJob& job);
  // Whether the array skips the job's zero weights, so that its work depends on their values.
  bool skips_zeros(const ClusterJob& job) const {
    return config_.zero_skipping && static_cast<JobOp>(job.op) == JobOp::kConv2d &&
           static_cast<Dataflow>(job.dataflow) != Dataflow::kSpatialOutputStationary;
  }
  ArrayFeatures features() const { return {config_.preload_overlap, config_.depthwise_channel_parallel}; }
  // The reduction steps of a convolution job's lanes.
  std::uint64_t steps(const ClusterJob& job) const {
    return reduction_steps(std::uint64_t{job.kernel_h} * job.kernel_w * job.group_in,
                           config_.int4_packing && static_cast<Datatype>(job.datatype) == Datatype::kInt4);
  }
  JobWork postprocess_job_work(const ClusterJob& job) const;
  // A column fold's cycles on the dense schedule (zero skipping not foreseen):
  // what paces the fetch of the folds' weights.
  double dense_fold_cycles(const ClusterJob& job, const WeightStream& stream) const;
  // What a fused residual add or pool adds to a convolution job (docs/dataflows.md).
  void epilogue_work(const ClusterJob& job, JobWork& work) const;
  // The job as its results are written: a fused pool writes the pooled pixels.
  static ClusterJob stored_job(ClusterJob job) {
    if (!fuses_pool(job)) return job;
    const PoolEpilogue e = read_pool_epilogue(job);
    job.out_h = e.out_h;
    job.out_w = e.out_w;
    return job;
  }
  // The job's buffer fills: the weight and input bytes written from SRAM;
  // the inputs in by `inputs_at`; the array's schedule stretched by
  // `weights_late` for column folds whose weights came late.
  struct BufferFills {
    std::uint64_t weight_bytes = 0, input_bytes = 0;
    sc_core::sc_time inputs_at, weights_late;
    // When the array would end with buffer ports as wide as its schedule.
    sc_core::sc_time unlimited_end(const sc_core::sc_time& array_end) const {
      return std::max(array_end + weights_late, inputs_at);
    }
  };
  // Counts a job's work (its spread over time is the schedule's, below).
  void account(const JobWork& work, Datatype datatype, const BufferFills& fills, const sc_core::sc_time& compute_start,
               const sc_core::sc_time& compute_end);
  // Waits until `at` (from epoch_) unless it is within a quantum of now, so
  // that what the cluster issues then meets the other initiators' traffic in
  // time order.
  void sync_to(const sc_core::sc_time& at);

  // The running job's work over time. The power windows and the layers'
  // energy are priced by sampling the counters below as simulated time
  // passes, so a job's work is recorded as soon as its cycles are known and
  // never over cycles already past: a column fold's once the fold has started
  // (its weights in), what the schedule holds beyond its folds (a fused
  // epilogue, buffer-port limits) once the last has. The work is known before
  // the job's operands are read (count_streamed_nonzero_weights).
  struct ArraySchedule {
    JobWork work;
    Datatype datatype = Datatype::kInt8;
    sc_core::sc_time fold;      // a column fold's cycles (0: the schedule is one stretch)
    sc_core::sc_time tail;      // the schedule's cycles beyond its folds
    sc_core::sc_time compute;   // the whole schedule, over which the work is spread
    std::uint64_t folds = 1;    // of `fold` each, one after another
    std::uint64_t started = 0;  // folds started so far
  } schedule_;
  // Starts a job's schedule: `work` done over `folds` column folds of
  // `fold_cycles` each and what follows them, work.cycles in all.
  void plan_schedule(const JobWork& work, Datatype datatype, std::uint64_t folds, double fold_cycles);
  // The next fold starts at `at` (from epoch_): records its work, and after
  // the last fold's what follows it.
  void fold_started(const sc_core::sc_time& at);
  // Adds `share` of the job's work to every work counter, spread over [from, to) from epoch_.
  void spread_work(const sc_core::sc_time& from, const sc_core::sc_time& to, double share);
  // `bytes` written into buffer counter `counter` (kBufferOverTime + counter) over [from, to) from epoch_,
  // none before now.
  void record_fill(std::size_t counter, sc_core::sc_time from, sc_core::sc_time to, std::uint64_t bytes);
  // The job's slice on the timeline, from its start to `end` (from epoch_).
  void trace_slice(const ClusterJob& job, std::uint64_t job_addr, const BufferFills& fills,
                   std::optional<std::int32_t> layer, const sc_core::sc_time& end);
  // `offset` counts from epoch_. With `fork`, the read's response is also
  // written at each of these addresses (plus the burst's offset in `data`).
  tlm::tlm_response_status transfer(tlm::tlm_command cmd, std::uint64_t addr, unsigned char* data,
                                    const unsigned char* byte_enables, unsigned len, sc_core::sc_time& offset,
                                    const std::vector<std::uint64_t>* fork = nullptr);
  tlm::tlm_response_status read(std::uint64_t addr, void* data, unsigned len, sc_core::sc_time& offset,
                                const std::vector<std::uint64_t>* fork = nullptr);
  // A read issued within a quantum of its time (sync_to), as every operand read is.
  tlm::tlm_response_status read_in_time(std::uint64_t addr, void* data, unsigned len, sc_core::sc_time& offset,
                                        const std::vector<std::uint64_t>* fork = nullptr) {
    sync_to(offset);
    return read(addr, data, len, offset, fork);
  }
  // Writes `len` bytes of rows of pixels; each pixel holds `enabled_bytes` of
  // data at a `pitch`-byte stride in SRAM.
  tlm::tlm_response_status write(std::uint64_t addr, const std::int8_t* data, unsigned len, unsigned enabled_bytes,
                                 unsigned pitch, sc_core::sc_time& offset);
  // The IRQ line follows the IRQ register. The register is written by the
  // job thread and by whoever clears it over the NoC; the line only by
  // drive_irq, so that the two never drive it in the same delta cycle.
  void update_irq() { irq_changed_.notify(sc_core::SC_ZERO_TIME); }
  void drive_irq();
  // Queues the job a START write asks for, if the queue has room.
  void start(std::uint32_t ctrl);
  // Publishes the job's stall intervals; offsets are from epoch_.
  // The cluster's stall signal from `offset` into the running job on.
  void trace_stall(const sc_core::sc_time& offset, ClusterStall stall) const;

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& gp);

  const PeClusterConfig config_;
  const sc_core::sc_time clock_period_;
  regs::RegisterFile registers_;
  sc_core::sc_event start_;
  sc_core::sc_event irq_changed_;
  std::deque<QueuedJob> queued_jobs_;  // jobs started, the running one first
  std::uint32_t status_addr_ = 0;      // the running job's, once fetched
  sc_core::sc_time idle_since_ = sc_core::SC_ZERO_TIME;
  // When the running job started: its local times count from here, so that
  // they hold across the waits of an operand group's rendezvous.
  sc_core::sc_time epoch_ = sc_core::SC_ZERO_TIME;
  // When the running job started (none: the largest time): its stall and
  // compute edges are recorded once known, which may be after the trace's
  // window, so the trace holds its changes from then on (hold_from).
  sc_core::sc_time job_started_ = sc_core::sc_max_time();
  sc_core::sc_time access_at_;  // when the register access being served lands
  // READY tokens received (leader): GROUP_READY values and their arrival.
  struct Token {
    std::uint64_t value;
    sc_core::sc_time at;
  };
  std::vector<Token> tokens_;
  sc_core::sc_event token_event_;
  // The weight fill a follower waits for: open from its token until it is in.
  struct Fill {
    bool open = false;
    std::vector<std::int8_t>* weights = nullptr;  // the stored weights (int4 packed)
    std::uint64_t expected = 0, received = 0;
    sc_core::sc_time done_at;
    sc_core::sc_time first_at;              // when the first column fold's weights and the parameters were in
    std::vector<sc_core::sc_time> fold_at;  // when each column fold's weights were in
    // While the follower waits, the bytes it waits for: pieces short of them
    // do not wake it (a fill comes in tens of pieces).
    std::uint64_t awaited = 0;
  } fill_;
  std::uint64_t fill_table_ = 0;  // the job table of the fill, for the log
  // The running job's weight load, between its first part and the rest.
  struct Streamed {
    bool loading = false;  // the job loads its weights
    bool grouped = false, leader = false;
    WeightStream stream;
    std::uint64_t first_bytes = 0, bytes = 0, filter_bytes = 0;
    bool has_rest() const { return loading && first_bytes < bytes; }
  } streamed_;
  sc_core::sc_event fill_event_;
  // The streamed weight slots: bytes written since the last job took them.
  struct WeightSlot {
    std::vector<std::int8_t> data;
    std::uint64_t received = 0;
    std::uint64_t awaited = 0;  // as Fill's
    sc_core::sc_time done_at;
  };
  std::array<WeightSlot, kFillStreamSlots> slots_;
  sc_core::sc_event slot_event_;
  // wait_group()'s timeout, and when its pending notification fires (past:
  // none is pending; a timed notification has fired before any process runs
  // at its time).
  sc_core::sc_event group_deadline_;
  sc_core::sc_time group_deadline_at_;
  std::vector<std::int8_t> weights_;            // one value per element (int4 unpacked)
  std::vector<std::int8_t> packed_weights_;     // int4 weights as stored, two per byte
  std::vector<std::uint32_t> nonzero_weights_;  // per resident filter, for zero skipping
  std::vector<std::int32_t> bias_;
  std::vector<RequantEntry> requant_;
  std::vector<std::int8_t> tile_;    // one value per element (packed int4 unpacked)
  std::vector<std::int8_t> result_;  // one value per element
  std::vector<std::int8_t> packed_;  // a packed int4 tile or result as it crosses the NoC
  std::vector<std::int8_t> residual_;
  // What the tile in the input buffer is, as the job that loaded it gave it
  // (kJobKeepInput compares it); all zero before a load has ended.
  std::array<std::uint32_t, 7> input_tile_{};
  // The sums a kJobHoldSums job left in the array (HWC), and the shape they
  // have (out_h, out_w, k_count, datatype); none held: holds_sums_ false.
  // sums_ is where the running job's go, swapped in when it holds them.
  std::vector<std::int64_t> held_sums_, sums_;
  std::array<std::uint32_t, 4> held_shape_{};
  bool holds_sums_ = false;
  // A row of residual pixels as read, other jobs' channels between them. Not
  // shared with scatter_, whose every write resizes it: growing back to a
  // residual row's span zero-filled what the read then overwrites.
  std::vector<std::uint8_t> residual_span_;
  std::vector<std::uint8_t> byte_enables_;
  std::vector<std::uint8_t> scatter_;
  tlmx::PayloadPool payloads_;
  PeClusterStats stats_;
  // The work counted over time, by quantity: MACs by Datatype, register file
  // accesses and bytes, then weight buffer read, written and input buffer
  // read, written (bytes).
  static constexpr std::size_t kDatatypes = 4;  // kInt8 ... kFp16
  static constexpr std::size_t kMacsOverTime = 0, kRfOverTime = kDatatypes, kRfBytesOverTime = kRfOverTime + 1,
                               kBufferOverTime = kRfBytesOverTime + 1;
  stats::ProratedCounters<kBufferOverTime + 4> work_over_time_;
  trace::Wire busy_trace_;
  trace::Wire compute_trace_;
  trace::Wire stall_trace_;
  trace::Wire irq_trace_;
  trace::TimelineTrack timeline_;
  std::function<std::int32_t()> timeline_layer_;
  std::function<std::int64_t(std::uint64_t)> timeline_bank_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace npuvp::pe_array
