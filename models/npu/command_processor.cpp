#include "models/npu/command_processor.h"

#include "contract/cluster_regs.h"
#include "contract/npu_errors.h"
#include "contract/npu_regs.h"
#include "firmware/firmware.h"
#include "models/common/log.h"
#include "models/common/sim_control.h"
#include "models/noc/mesh_noc.h"

namespace npuvp::npu {

CommandProcessor::CommandProcessor(const sc_core::sc_module_name& name, const CommandProcessorConfig& config)
    : sc_module(name),
      target_socket("target_socket"),
      noc_socket("noc_socket"),
      system_socket("system_socket"),
      event_lines("event_lines", config.event_lines),
      host_irq("host_irq"),
      current_layer("current_layer"),
      config_(config),
      clock_period_(sc_core::sc_time(1e3 / config.clock_mhz, sc_core::SC_NS)),
      registers_(this->name(), std::vector<regs::RegisterSpec>(kNpuRegisters.begin(), kNpuRegisters.end())),
      log_(log::component(this->name())) {
  target_socket.register_b_transport(this, &CommandProcessor::b_transport);
  target_socket.register_transport_dbg(this, &CommandProcessor::transport_dbg);
  const auto& l = config_.layout;
  registers_.set(reg::kCapClusters, l.clusters);
  registers_.set(reg::kCapArray, l.array_rows | (l.array_cols << 16));
  registers_.set(reg::kCapSramKb, static_cast<std::uint32_t>(l.sram_bytes / 1024));
  registers_.on_write(reg::kRingTail, [this](std::uint32_t) { doorbell_.notify(sc_core::SC_ZERO_TIME); });
  registers_.on_write(reg::kCtrl, [this](std::uint32_t) { doorbell_.notify(sc_core::SC_ZERO_TIME); });
  registers_.on_write(reg::kIrqStatus, [this](std::uint32_t) {
    if ((registers_.get(reg::kIrqStatus) & kIrqError) == 0)
      registers_.set(reg::kStatus, registers_.get(reg::kStatus) & ~kStatusError);
    update_host_irq();
  });
  registers_.on_write(reg::kIrqEnable, [this](std::uint32_t) { update_host_irq(); });
  // 64-bit counters: reading LO latches HI so that the pair is consistent.
  registers_.on_read(reg::kCyclesLo, [this] {
    const std::uint64_t c = cycles_now();
    latched_hi_cycles_ = static_cast<std::uint32_t>(c >> 32);
    return static_cast<std::uint32_t>(c);
  });
  registers_.on_read(reg::kCyclesHi, [this] { return latched_hi_cycles_; });
  registers_.on_read(reg::kBusyCyclesLo, [this] {
    latched_hi_busy_ = static_cast<std::uint32_t>(stats_.busy_cycles >> 32);
    return static_cast<std::uint32_t>(stats_.busy_cycles);
  });
  registers_.on_read(reg::kBusyCyclesHi, [this] { return latched_hi_busy_; });
  SC_HAS_PROCESS(CommandProcessor);
  SC_THREAD(firmware_thread);
}

void CommandProcessor::attach_trace(trace::VcdRecorder& recorder) {
  busy_trace_.bind(recorder, std::string(name()) + ".busy");
  layer_trace_.bind(recorder, std::string(name()) + ".layer", 16);
  irq_trace_.bind(recorder, std::string(name()) + ".host_irq");
}

std::uint64_t CommandProcessor::cycles_now() const {
  return static_cast<std::uint64_t>(sc_core::sc_time_stamp() / clock_period_);
}

void CommandProcessor::firmware_thread() {
  current_layer.write(-1);
  sim::guard([this] { firmware::firmware_main(*this); });
}

void CommandProcessor::transfer(tlm::tlm_command cmd, std::uint64_t addr, void* data, std::size_t bytes,
                                noc::MulticastExtension* multicast) {
  const auto lease = payloads_.acquire();
  tlm::tlm_generic_payload& gp = *lease;
  if (multicast != nullptr) gp.set_extension(multicast);  // freed when the lease ends
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(static_cast<unsigned char*>(data));
  gp.set_data_length(static_cast<unsigned>(bytes));
  gp.set_streaming_width(static_cast<unsigned>(bytes));
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  const bool local =
      addr >= address_map::kLocalWindowBase && addr - address_map::kLocalWindowBase < address_map::kLocalWindowSize;
  (local ? noc_socket : system_socket)->b_transport(gp, delay);
  ++stats_.mmio_accesses;
  // The command processor is a simple in-order core: it waits for each access.
  sc_core::wait(delay);
  if (!gp.is_response_ok()) {
    log_->warn("{} of {} bytes at {:#x} failed: {}", cmd == tlm::TLM_READ_COMMAND ? "read" : "write", bytes, addr,
               gp.get_response_string());
    throw firmware::BusError("command processor bus access failed", addr);
  }
}

std::uint32_t CommandProcessor::read32(std::uint64_t addr) {
  std::uint32_t v = 0;
  transfer(tlm::TLM_READ_COMMAND, addr, &v, 4);
  return v;
}

void CommandProcessor::write32(std::uint64_t addr, std::uint32_t value) {
  transfer(tlm::TLM_WRITE_COMMAND, addr, &value, 4);
}

void CommandProcessor::read(std::uint64_t addr, void* dst, std::size_t bytes) {
  transfer(tlm::TLM_READ_COMMAND, addr, dst, bytes);
}

void CommandProcessor::write(std::uint64_t addr, const void* src, std::size_t bytes) {
  transfer(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(src), bytes);
}

void CommandProcessor::write_multicast(const std::vector<std::uint64_t>& addrs, const void* src, std::size_t bytes) {
  transfer(tlm::TLM_WRITE_COMMAND, addrs.empty() ? 0 : addrs.front(), const_cast<void*>(src), bytes,
           new noc::MulticastExtension(addrs));
}

std::string CommandProcessor::event_lines_named(std::uint64_t mask) const {
  std::string out;
  const unsigned clusters_from = config_.layout.cluster_irq_base;
  for (unsigned i = 0; i < 64; ++i) {
    if ((mask >> i & 1) == 0) continue;
    out += out.empty() ? "the IRQ of " : ", ";
    out += i < clusters_from ? "DMA channel " + std::to_string(i) : "cluster " + std::to_string(i - clusters_from);
  }
  return out;
}

std::uint64_t CommandProcessor::wait_events(std::uint64_t mask) {
  const sc_core::sc_time began = sc_core::sc_time_stamp();
  const std::uint64_t dma_lines = (std::uint64_t{1} << config_.layout.cluster_irq_base) - 1;
  struct Account {
    CommandProcessor& cp;
    const sc_core::sc_time& began;
    bool dma_only;
    // While the firmware waits no job starts, so clusters idle at the end of
    // the wait have been idle since the last of them finished.
    ~Account() {
      if (!dma_only) return;
      sc_core::sc_time idle_from = began;
      if (cp.clusters_idle_since_) {
        const std::optional<sc_core::sc_time> since = cp.clusters_idle_since_();
        if (!since) return;
        idle_from = std::max(idle_from, *since);
      }
      cp.stats_.dma_wait_cycles +=
          static_cast<std::uint64_t>((sc_core::sc_time_stamp() - idle_from) / cp.clock_period_);
    }
  } account{*this, began, (mask & ~dma_lines) == 0};
  for (;;) {
    std::uint64_t high = 0;
    sc_core::sc_event_or_list any;
    for (unsigned i = 0; i < event_lines.size() && i < 64; ++i) {
      if ((mask >> i & 1) == 0) continue;
      if (event_lines[i].read()) high |= std::uint64_t{1} << i;
      any |= event_lines[i].posedge_event();
    }
    if (high != 0) {
      // A layer can outlast the driver's watchdog period; its steps cannot.
      registers_.set(reg::kEventsDone, registers_.get(reg::kEventsDone) + 1);
      return high;
    }
    if (any.size() == 0) throw firmware::BusError("wait on no IRQ line", mask);
    const sim::Waiting waiting(event_lines_named(mask));
    sc_core::wait(any);
  }
}

void CommandProcessor::wait_for_work() {
  for (;;) {
    const bool enabled = registers_.get(reg::kCtrl) & kCtrlEnable;
    const std::uint32_t size = registers_.get(reg::kRingSize);
    const std::uint32_t head = registers_.get(reg::kRingHead);
    const std::uint32_t tail = registers_.get(reg::kRingTail);
    if (tail != accepted_tail_) {
      // The entries between head and tail are the host's queue: a new tail
      // outside the ring, or one that does not extend the queue (moved back,
      // or so far on that it passed the head), is a driver bug. Reported
      // once and dropped: the queue stays as it was.
      const auto queued = [&](std::uint32_t t) { return (t + size - head) % size; };
      if (size == 0 || tail >= size || (accepted_tail_ < size && queued(tail) < queued(accepted_tail_))) {
        report_error(static_cast<std::uint32_t>(NpuError::kBadRingTail), tail);
        accepted_tail_ = size != 0 && accepted_tail_ < size ? accepted_tail_ : head;
        registers_.set(reg::kRingTail, accepted_tail_);
        continue;
      }
      accepted_tail_ = tail;
    }
    if (enabled && head != tail) break;
    const sim::Waiting waiting(fmt::format("a doorbell (CTRL {:#x}, RING_HEAD {}, RING_TAIL {})",
                                           registers_.get(reg::kCtrl), registers_.get(reg::kRingHead), tail));
    sc_core::wait(doorbell_);
  }
  busy_since_ = sc_core::sc_time_stamp();
  registers_.set(reg::kStatus, registers_.get(reg::kStatus) | kStatusBusy);
  busy_trace_.set(busy_since_, 1);
}

firmware::Hal::Ring CommandProcessor::ring() const {
  return Ring{(std::uint64_t{registers_.get(reg::kRingBaseHi)} << 32) | registers_.get(reg::kRingBaseLo),
              registers_.get(reg::kRingSize), registers_.get(reg::kRingHead), registers_.get(reg::kRingTail)};
}

void CommandProcessor::complete_entry(std::uint32_t new_head) {
  registers_.set(reg::kRingHead, new_head);
  ++stats_.command_buffers;
  registers_.set(reg::kCmdBufsDone, registers_.get(reg::kCmdBufsDone) + 1);
  stats_.busy_cycles += static_cast<std::uint64_t>((sc_core::sc_time_stamp() - busy_since_) / clock_period_);
  registers_.set(reg::kStatus, registers_.get(reg::kStatus) & ~kStatusBusy);
  busy_trace_.set(sc_core::sc_time_stamp(), 0);
  raise(kIrqComplete);
}

void CommandProcessor::report_error(std::uint32_t code, std::uint32_t info) {
  ++stats_.errors;
  if (registers_.get(reg::kIrqStatus) & kIrqError)
    log_->warn("the host has not acknowledged the previous error ({}): the error below replaces it",
               describe_error(registers_.get(reg::kErrorCode), registers_.get(reg::kErrorInfo)));
  log_->warn("ring entry {}, layer {}: {} (ERROR_CODE {}, ERROR_INFO {:#x})", registers_.get(reg::kRingHead), layer_,
             describe_error(code, info), code, info);
  registers_.set(reg::kErrorCode, code);
  registers_.set(reg::kErrorInfo, info);
  registers_.set(reg::kErrorLayer, static_cast<std::uint32_t>(layer_));
  registers_.set(reg::kStatus, registers_.get(reg::kStatus) | kStatusError);
  raise(kIrqError);
}

void CommandProcessor::record_decision(const firmware::LayerDecision& decision) {
  const auto dataflow = static_cast<unsigned>(decision.dataflow);
  log_->debug(
      "layer {}: dataflow {}, {} output channels per weight block, {} rows per tile, {} row groups x {} "
      "channel groups",
      decision.layer_id, dataflow < pe_array::kDataflows ? pe_array::kDataflowNames[dataflow] : "?",
      decision.tiling.k_block, decision.tiling.rows_per_tile, decision.tiling.row_groups, decision.tiling.k_groups);
  for (const auto& observer : decision_observers_) observer(decision);
}

void CommandProcessor::sample(stats::Counters& into, const sc_core::sc_time&) {
  into.add(stats::Counter::kDmaWaitCycles, static_cast<double>(stats_.dma_wait_cycles));
}

nlohmann::json CommandProcessor::stats_json() const {
  return {{"command_buffers", stats_.command_buffers},
          {"layers", stats_.layers},
          {"errors", stats_.errors},
          {"mmio_accesses", stats_.mmio_accesses},
          {"busy_cycles", stats_.busy_cycles},
          {"dma_wait_cycles", stats_.dma_wait_cycles}};
}

void CommandProcessor::mark_layer(std::int32_t layer_index) {
  if (layer_ >= 0) {
    ++stats_.layers;
    registers_.set(reg::kLayersDone, registers_.get(reg::kLayersDone) + 1);
  }
  layer_ = layer_index;
  current_layer.write(layer_index);
  layer_trace_.set(sc_core::sc_time_stamp(), static_cast<std::uint64_t>(layer_index) & 0xFFFF);
  // Whoever samples at layer boundaries reacts to the signal in the next
  // delta cycle, where method processes run before threads: one delta here
  // lets them see the counters before this layer's first access.
  sc_core::wait(sc_core::SC_ZERO_TIME);
}

void CommandProcessor::spend_cycles(std::uint64_t cycles) {
  sc_core::wait(clock_period_ * static_cast<double>(cycles));
}

void CommandProcessor::raise(std::uint32_t irq_bits) {
  registers_.set(reg::kIrqStatus, registers_.get(reg::kIrqStatus) | irq_bits);
  update_host_irq();
}

void CommandProcessor::update_host_irq() {
  const bool level = (registers_.get(reg::kIrqStatus) & registers_.get(reg::kIrqEnable)) != 0;
  if (level != host_irq.read())
    log_->debug("host interrupt {} (IRQ_STATUS {:#x})", level ? "raised" : "cleared", registers_.get(reg::kIrqStatus));
  host_irq.write(level);
  irq_trace_.set(sc_core::sc_time_stamp(), level);
}

void CommandProcessor::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  gp.set_response_status(registers_.access(gp));
  delay += clock_period_;
}

unsigned CommandProcessor::transport_dbg(tlm::tlm_generic_payload& gp) { return registers_.debug_access(gp); }

}  // namespace npuvp::npu
