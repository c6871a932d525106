#include "sw/driver/npu_driver.h"

#include <optional>
#include <sstream>

#include "contract/npu_errors.h"
#include "contract/npu_regs.h"

namespace npuvp::sw {

namespace reg = npu::reg;

NpuDriver::NpuDriver(HostHal& hal, const DriverConfig& config) : hal_(hal), config_(config) {
  heap_start_ = heap_next_ = config_.dram_base;
}

std::uint32_t NpuDriver::read(std::uint32_t r) { return hal_.mmio_read32(config_.npu_regs_base + r); }
void NpuDriver::write(std::uint32_t r, std::uint32_t v) { hal_.mmio_write32(config_.npu_regs_base + r, v); }

NpuCapabilities NpuDriver::probe() {
  // One slot always stays empty so that head == tail means "empty": a ring of
  // N entries holds N - 1 commands, and 0 or 1 entries hold none.
  if (config_.ring_entries < 2)
    throw std::invalid_argument(
        "DriverConfig.ring_entries: expected at least 2 (a ring of N entries holds N - 1 "
        "command buffers), got " +
        std::to_string(config_.ring_entries));
  const std::uint32_t id = read(reg::kId);
  if (id != npu::kNpuId) {
    std::ostringstream os;
    os << "no NPU at 0x" << std::hex << config_.npu_regs_base << ": ID register reads 0x" << id << ", expected 0x"
       << npu::kNpuId;
    throw std::runtime_error(os.str());
  }
  NpuCapabilities caps;
  caps.version = read(reg::kVersion);
  caps.clusters = read(reg::kCapClusters);
  const std::uint32_t array = read(reg::kCapArray);
  caps.array_rows = array & 0xFFFF;
  caps.array_cols = array >> 16;
  caps.sram_kb = read(reg::kCapSramKb);

  write(reg::kCtrl, 0);
  ring_base_ = alloc(std::uint64_t{config_.ring_entries} * sizeof(firmware::RingEntry));
  write(reg::kRingBaseLo, static_cast<std::uint32_t>(ring_base_));
  write(reg::kRingBaseHi, static_cast<std::uint32_t>(ring_base_ >> 32));
  write(reg::kRingSize, config_.ring_entries);
  head_ = read(reg::kRingHead);
  tail_ = head_;
  write(reg::kRingTail, tail_);
  write(reg::kIrqStatus, npu::kIrqComplete | npu::kIrqError);
  write(reg::kIrqEnable, npu::kIrqComplete | npu::kIrqError);
  write(reg::kCtrl, npu::kCtrlEnable);
  return caps;
}

std::uint64_t NpuDriver::alloc(std::uint64_t bytes) {
  const std::uint64_t addr = (heap_next_ + 63) & ~std::uint64_t{63};
  if (addr + bytes > config_.dram_base + config_.dram_bytes)
    throw std::runtime_error("DRAM exhausted: cannot allocate " + std::to_string(bytes) + " bytes with " +
                             std::to_string(heap_next_ - config_.dram_base) + " of the " +
                             std::to_string(config_.dram_bytes) +
                             " the driver manages in use (the platform's dram.backing_mib: raise it)");
  heap_next_ = addr + bytes;
  return addr;
}

void NpuDriver::free_all() {
  // The ring stays: it was the first allocation.
  heap_next_ = ring_base_ + std::uint64_t{config_.ring_entries} * sizeof(firmware::RingEntry);
}

std::uint32_t NpuDriver::submit(std::uint64_t command_buffer, std::uint32_t layer_count) {
  while ((tail_ + 1) % config_.ring_entries == head_) service_interrupt();
  const firmware::RingEntry entry{command_buffer, layer_count, 0};
  hal_.memory_write(ring_base_ + std::uint64_t{tail_} * sizeof entry, &entry, sizeof entry);
  const std::uint32_t index = tail_;
  tail_ = (tail_ + 1) % config_.ring_entries;
  write(reg::kRingTail, tail_);
  return index;
}

void NpuDriver::service_interrupt() {
  // The progress counters are read only once a wait times out, so that a run
  // whose interrupts come in time makes no access it did not make before.
  // EVENTS_DONE advances within a layer: one layer may take longer than the
  // period (a 1x1 array), none of its DMA chains or cluster jobs should.
  std::optional<std::pair<std::uint32_t, std::uint32_t>> progress;
  while (!hal_.wait_for_interrupt(config_.timeout_ns)) {
    const std::pair<std::uint32_t, std::uint32_t> now{read(reg::kLayersDone), read(reg::kEventsDone)};
    if (now != progress) {  // the first period out, or still making progress: not hung
      progress = now;
      continue;
    }
    std::ostringstream os;
    os << "NPU timeout: no interrupt and no progress within " << config_.timeout_ns
       << " ns of simulated time (LAYERS_DONE " << now.first << ", EVENTS_DONE " << now.second << ", RING_HEAD "
       << read(reg::kRingHead) << ", RING_TAIL " << tail_ << ", STATUS 0x" << std::hex << read(reg::kStatus) << ")";
    throw std::runtime_error(os.str());
  }
  const std::uint32_t irq = read(reg::kIrqStatus);
  write(reg::kIrqStatus, irq);
  head_ = read(reg::kRingHead);
  if (irq & npu::kIrqError) {
    const std::uint32_t code = read(reg::kErrorCode);
    const std::uint32_t info = read(reg::kErrorInfo);
    const std::uint32_t layer = read(reg::kErrorLayer);
    std::ostringstream os;
    os << "NPU error";
    if (layer != NpuFault::kNoLayer) os << " in layer " << layer;
    os << ": " << npu::describe_error(code, info) << " (ERROR_CODE " << code << ", ERROR_INFO 0x" << std::hex << info;
    if (layer != NpuFault::kNoLayer) os << ", ERROR_LAYER " << std::dec << layer;
    os << ")";
    throw NpuFault(os.str(), code, info, layer);
  }
}

void NpuDriver::wait_idle() {
  while (head_ != tail_) service_interrupt();
}

NpuCounters NpuDriver::counters() {
  NpuCounters c;
  c.cycles = read(reg::kCyclesLo);
  c.cycles |= std::uint64_t{read(reg::kCyclesHi)} << 32;
  c.busy_cycles = read(reg::kBusyCyclesLo);
  c.busy_cycles |= std::uint64_t{read(reg::kBusyCyclesHi)} << 32;
  c.layers_done = read(reg::kLayersDone);
  c.command_buffers_done = read(reg::kCmdBufsDone);
  return c;
}

}  // namespace npuvp::sw
