#pragma once
// Multi-channel descriptor DMA of the NPU.
//
// Each channel walks a linked list of Descriptors (dma_regs.h) that it reads
// from memory itself, moves up to three-dimensional strided blocks, and raises
// its IRQ line on completion or error. Addresses in the NPU-local window (address_map.h) go out
// on the NoC (SRAM), striped burst by burst over `noc_ports` attachments at
// different mesh nodes; all others on the system port (DRAM). Each port keeps up
// to `max_outstanding` bursts in flight and a burst's write follows its read,
// so a transfer costs about the slower of the two streams, not their sum, and
// not one memory latency per burst. The next descriptor of a chain is fetched
// once the previous one's reads are issued (docs/memory.md, "DMA streams from
// DRAM"). Reads and writes leave in time order, each within a quantum of its
// time: a burst's data waits in the burst buffer until its write is due, and
// a read of bytes still waiting there goes after their write.

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "contract/address_map.h"
#include "contract/dma_regs.h"
#include "models/common/register_file.h"
#include "models/common/stats_source.h"
#include "models/common/timeline_recorder.h"
#include "models/common/vcd_recorder.h"

namespace npuvp::dma {

struct DmaConfig {
  unsigned channels = 2;
  unsigned max_burst_bytes = 1024;  // one bus transaction at most
  unsigned descriptor_cycles = 8;   // parsing a fetched descriptor
  // dma.max_outstanding: bursts in flight per port and channel (also the burst buffer depth).
  unsigned max_outstanding = 8;
  unsigned port_bytes_per_cycle = 64;
  // dma.noc_ports: NoC attachments, each injecting one flit per cycle; one
  // alone caps a DRAM-to-SRAM stream at the mesh's flit rate (docs/memory.md).
  unsigned noc_ports = 1;
  double clock_mhz = 800;
  sc_core::sc_time quantum = sc_core::sc_time(10, sc_core::SC_NS);  // how far a channel runs ahead of time
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

class DmaEngine : public sc_core::sc_module, public stats::StatsSource {
 public:
  tlm_utils::simple_target_socket<DmaEngine> target_socket;                       // registers
  tlm_utils::simple_initiator_socket<DmaEngine> system_socket;                    // DRAM side
  sc_core::sc_vector<tlm_utils::simple_initiator_socket<DmaEngine>> noc_sockets;  // SRAM side, one per port
  sc_core::sc_vector<sc_core::sc_out<bool>> irq;                                  // one per channel

  DmaEngine(const sc_core::sc_module_name& name, const DmaConfig& config);
  DmaEngine(const DmaEngine&) = delete;
  DmaEngine& operator=(const DmaEngine&) = delete;

  void attach_trace(trace::VcdRecorder& recorder);
  // One slice per descriptor chain a channel runs.
  void attach_timeline(trace::TimelineRecorder& recorder);
  const DmaStats& stats() const { return stats_; }
  // stats::StatsSource
  std::string stats_name() const override { return name(); }
  void sample(stats::Counters& into, const sc_core::sc_time& now) override;
  nlohmann::json stats_json() const override;
  std::uint64_t register_bytes() const { return std::uint64_t{config_.channels} * kChannelStride; }

 private:
  struct Channel {
    std::unique_ptr<regs::RegisterFile> registers;
    sc_core::sc_event start;
    trace::Wire busy_trace;
    trace::Wire irq_trace;
    trace::TimelineTrack timeline;
    // Per channel, max_outstanding entries of max_burst_bytes: a burst's
    // data waits in its entry from its read until its writes are issued at
    // their time, and a target may yield inside b_transport, letting another
    // channel run meanwhile.
    std::vector<std::uint8_t> burst_buffer;
  };
  // One destination-aligned piece of a burst's write, with the port it takes.
  struct Piece {
    std::uint64_t dst;
    std::uint32_t at, len;  // in the burst's buffer entry
    unsigned port;
  };
  // A burst read (or filled) whose writes are not issued yet: its data waits
  // in burst buffer entry `entry`. A read of at most max_burst_bytes aligned
  // to one side spans at most two blocks aligned to the other.
  struct Unwritten {
    sc_core::sc_time read_done;
    unsigned entry;
    unsigned pieces;
    Piece piece[2];
  };
  // Where a channel's transfers stand, in simulated time; a time already
  // passed stands for now (the channel runs ahead of now by up to a quantum).
  struct Cursor {
    explicit Cursor(const sc_core::sc_time& now) : read_issue(now), write_issue(now), done(now) {}
    sc_core::sc_time read_issue;                    // next free slot on the read port
    sc_core::sc_time write_issue;                   // next free slot on the write port
    std::deque<sc_core::sc_time> reads_in_flight;   // completion times, oldest first
    std::deque<sc_core::sc_time> writes_in_flight;  // of bursts whose writes are issued
    std::deque<Unwritten> unwritten;                // oldest first; their writes are due in this order
    // [unwritten_lo, unwritten_hi) holds every unwritten piece's
    // destination: most reads are from elsewhere, and need no search.
    std::uint64_t unwritten_lo = ~std::uint64_t{0}, unwritten_hi = 0;
    unsigned next_entry = 0;  // the burst buffer entry the next read fills
    sc_core::sc_time done;    // when everything issued has completed
    // Reused by every access of the transfer: constructing a payload
    // allocates its extension array.
    tlm::tlm_generic_payload payload;
  };

  void channel_thread(unsigned ch);
  DmaError run_chain(unsigned ch, std::uint64_t& failed_address);
  DmaError run_descriptor(const Descriptor& d, std::uint8_t* buffer, Cursor& cursor, std::uint64_t& failed_address);
  // Before a read at `read_at` of [src, src + len): issues the writes due
  // no later, and those of a burst holding bytes the read covers.
  bool write_before_read(Cursor& cursor, std::uint8_t* buffer, sc_core::sc_time read_at, std::uint64_t src,
                         std::uint64_t len, std::uint64_t& failed_address);
  // Issues the writes due no later than `until`, oldest first.
  bool write_due(Cursor& cursor, std::uint8_t* buffer, sc_core::sc_time until, std::uint64_t& failed_address);
  // Issues the oldest unwritten burst's writes, each within a quantum of its time.
  bool write_oldest(Cursor& cursor, std::uint8_t* buffer, std::uint64_t& failed_address);
  // The port a local burst takes (they take the ports in turn), or
  // noc_ports for the system port.
  unsigned port_for(std::uint64_t addr);
  // One transaction issued at `at` (simulated time, at most a quantum
  // ahead); `at` becomes the time it completes.
  tlm::tlm_response_status access(tlm::tlm_generic_payload& gp, tlm::tlm_command cmd, std::uint64_t addr,
                                  std::uint8_t* data, unsigned len, sc_core::sc_time& at, unsigned port);
  // How far `t` lies ahead of simulated time (zero once passed).
  static sc_core::sc_time ahead(const sc_core::sc_time& t) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    return t > now ? t - now : sc_core::SC_ZERO_TIME;
  }
  // Lets simulated time catch up with `t`, so that other initiators see the
  // shared memories in time order; a delta cycle when `t` has passed, so
  // that the other processes due now go first.
  static void wait_until(const sc_core::sc_time& t) { sc_core::wait(ahead(t)); }
  // How long a burst of `bytes` holds the engine's side of a port.
  sc_core::sc_time occupancy(std::uint32_t bytes) const {
    return clock_period_ *
           static_cast<double>((bytes + config_.port_bytes_per_cycle - 1) / config_.port_bytes_per_cycle);
  }
  void update_irq(unsigned ch);

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& gp);

  const DmaConfig config_;
  const sc_core::sc_time clock_period_;
  unsigned next_port_ = 0;  // the NoC port the next local burst takes
  std::vector<Channel> channels_;
  DmaStats stats_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace npuvp::dma
