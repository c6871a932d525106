#pragma once
// Multi-channel descriptor DMA of the NPU.
//
// Each channel walks a linked list of Descriptors (dma_regs.h) that it reads
// from memory itself, moves up to three-dimensional strided blocks, and raises
// its IRQ line on completion or error. Addresses inside `local_window` go out
// on the NoC (SRAM); all others on the system port (DRAM). Reads run ahead of
// writes by at most two bursts, so a transfer costs about the slower of the two
// streams rather than their sum.

#include <cstdint>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "models/common/register_file.h"
#include "models/common/vcd_recorder.h"
#include "models/dma/dma_regs.h"

namespace npuvp::dma {

struct DmaConfig {
  unsigned channels = 2;
  std::uint64_t local_window_base = 0x1000'0000;  // NPU-local addresses, reached over the NoC
  std::uint64_t local_window_size = 0x1000'0000;
  unsigned max_burst_bytes = 1024;  // one bus transaction at most
  unsigned descriptor_cycles = 8;   // parsing a fetched descriptor
  double clock_mhz = 800;
  sc_core::sc_time quantum = sc_core::sc_time(200, sc_core::SC_NS);  // how far a channel runs ahead of time
};

struct DmaStats {
  std::uint64_t descriptors = 0;
  std::uint64_t system_read_bytes = 0;
  std::uint64_t system_write_bytes = 0;
  std::uint64_t local_read_bytes = 0;
  std::uint64_t local_write_bytes = 0;
  std::uint64_t errors = 0;
  sc_core::sc_time busy_time = sc_core::SC_ZERO_TIME;  // summed over channels
};

class DmaEngine : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<DmaEngine> target_socket;     // registers
  tlm_utils::simple_initiator_socket<DmaEngine> system_socket;  // DRAM side
  tlm_utils::simple_initiator_socket<DmaEngine> noc_socket;     // SRAM side
  sc_core::sc_vector<sc_core::sc_out<bool>> irq;                // one per channel

  DmaEngine(const sc_core::sc_module_name& name, const DmaConfig& config);
  DmaEngine(const DmaEngine&) = delete;
  DmaEngine& operator=(const DmaEngine&) = delete;

  void attach_trace(trace::VcdRecorder& recorder);
  const DmaStats& stats() const { return stats_; }
  std::uint64_t register_bytes() const { return std::uint64_t{config_.channels} * kChannelStride; }

 private:
  struct Channel {
    std::unique_ptr<regs::RegisterFile> registers;
    sc_core::sc_event start;
    trace::Wire busy_trace;
    // Per channel: a target may yield inside b_transport, letting another
    // channel run between this channel's read and write of a burst.
    std::vector<std::uint8_t> burst_buffer;
  };
  // Where a transfer stands inside one channel's local time window.
  struct Cursor {
    sc_core::sc_time read = sc_core::SC_ZERO_TIME;
    sc_core::sc_time write = sc_core::SC_ZERO_TIME;
    sc_core::sc_time write_done[2] = {sc_core::SC_ZERO_TIME, sc_core::SC_ZERO_TIME};
    unsigned bursts = 0;
  };

  void channel_thread(unsigned ch);
  DmaError run_chain(unsigned ch, std::uint64_t& failed_address);
  DmaError run_descriptor(const Descriptor& d, std::uint8_t* buffer, Cursor& cursor, std::uint64_t& failed_address);
  tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t addr, std::uint8_t* data, unsigned len,
                                  sc_core::sc_time& offset);
  void sync(Cursor& cursor);
  void update_irq(unsigned ch);

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& gp);

  const DmaConfig config_;
  const sc_core::sc_time clock_period_;
  std::vector<Channel> channels_;
  DmaStats stats_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace npuvp::dma
