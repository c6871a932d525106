#include "models/cpu/host_cpu.h"

#include "models/common/log.h"
#include "models/common/sim_control.h"

namespace npuvp::cpu {

HostCpu::HostCpu(const sc_core::sc_module_name& name, const HostCpuConfig& config, Program program)
    : sc_module(name),
      initiator_socket("initiator_socket"),
      irq("irq"),
      config_(config),
      clock_period_(sc_core::sc_time(1e3 / config.clock_mhz, sc_core::SC_NS)),
      program_(std::move(program)),
      log_(log::component(this->name())) {
  SC_HAS_PROCESS(HostCpu);
  SC_THREAD(run);
}

void HostCpu::run() {
  quantum_.reset();
  try {
    program_(*this);
  } catch (const sc_core::sc_unwind_exception&) {
    throw;  // killed by sim::stop(): the program is abandoned, its stack unwound
  } catch (const std::exception& e) {
    failure_ = e.what();
    log_->error("host program failed: {}", e.what());
  }
  quantum_.sync();
  finished_ = true;
  sc_core::sc_stop();
}

void HostCpu::transfer(tlm::tlm_command cmd, std::uint64_t addr, void* data, std::size_t bytes, unsigned core_cycles) {
  // Bulk copies go out as bursts a bus would carry.
  constexpr std::size_t kMaxBurst = 4096;
  waits_without_access_ = 0;
  auto* p = static_cast<unsigned char*>(data);
  for (std::size_t done = 0; done < bytes;) {
    const auto len = static_cast<unsigned>(std::min(kMaxBurst, bytes - done));
    const auto lease = payloads_.acquire();
    tlm::tlm_generic_payload& gp = *lease;
    gp.set_command(cmd);
    gp.set_address(addr + done);
    gp.set_data_ptr(p + done);
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = quantum_.get_local_time() + clock_period_ * core_cycles;
    initiator_socket->b_transport(gp, delay);
    quantum_.set(delay);
    if (quantum_.need_sync()) quantum_.sync();
    if (!gp.is_response_ok())
      throw sw::HostBusError(std::string(cmd == tlm::TLM_READ_COMMAND ? "read" : "write") + " at address " +
                                 fmt::format("{:#x}", addr + done) + " failed: " + gp.get_response_string(),
                             addr + done);
    done += len;
  }
}

std::uint32_t HostCpu::mmio_read32(std::uint64_t addr) {
  std::uint32_t v = 0;
  transfer(tlm::TLM_READ_COMMAND, addr, &v, 4, config_.mmio_cycles);
  ++stats_.mmio_reads;
  // A device register read must observe the device as of now, not of the past.
  quantum_.sync();
  return v;
}

void HostCpu::mmio_write32(std::uint64_t addr, std::uint32_t value) {
  transfer(tlm::TLM_WRITE_COMMAND, addr, &value, 4, config_.mmio_cycles);
  ++stats_.mmio_writes;
  quantum_.sync();
}

void HostCpu::memory_read(std::uint64_t addr, void* dst, std::size_t bytes) {
  transfer(tlm::TLM_READ_COMMAND, addr, dst, bytes, 1);
  stats_.bytes_read += bytes;
}

void HostCpu::memory_write(std::uint64_t addr, const void* src, std::size_t bytes) {
  transfer(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(src), bytes, 1);
  stats_.bytes_written += bytes;
}

bool HostCpu::wait_for_interrupt(std::uint64_t timeout_ns) {
  quantum_.sync();
  if (irq.read() && ++waits_without_access_ > kMaxWaitsWithoutAccess)
    throw std::runtime_error(fmt::format(
        "the host program waited {} times for an interrupt on {} that has stayed raised, without a bus access in "
        "between: it does not acknowledge the interrupt (the device's IRQ status register)",
        waits_without_access_, line_name()));
  if (!irq.read()) {
    const sc_core::sc_time timeout(static_cast<double>(timeout_ns), sc_core::SC_NS);
    const sim::Waiting waiting("an interrupt on " + line_name() + " until " +
                               (sc_core::sc_time_stamp() + timeout).to_string());
    sc_core::wait(timeout, irq.posedge_event());
  }
  const bool raised = irq.read();
  if (raised) ++stats_.interrupts;
  return raised;
}

nlohmann::json HostCpu::stats_json() const {
  return {{"mmio_reads", stats_.mmio_reads},
          {"mmio_writes", stats_.mmio_writes},
          {"bytes_read", stats_.bytes_read},
          {"bytes_written", stats_.bytes_written},
          {"interrupts", stats_.interrupts}};
}

std::string HostCpu::line_name() const {
  const auto* line = dynamic_cast<const sc_core::sc_object*>(irq.get_interface());
  return line != nullptr ? line->name() : irq.name();
}

std::uint64_t HostCpu::now_ns() const {
  return static_cast<std::uint64_t>((sc_core::sc_time_stamp() + quantum_.get_local_time()).to_seconds() * 1e9);
}

}  // namespace npuvp::cpu
