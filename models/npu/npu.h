#pragma once
// The NPU subsystem: command processor, DMA engine, SRAM banks of the global
// buffer and PE clusters, all attached to a 2D mesh NoC.
//
// Its parts see the NPU-local address map of contract/address_map.h;
// everything outside the local window goes out on the system ports.

#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>

#include "contract/address_map.h"
#include "contract/sram_interleave.h"
#include "models/common/vcd_recorder.h"
#include "models/dma/dma_engine.h"
#include "models/noc/mesh_noc.h"
#include "models/npu/command_processor.h"
#include "models/pe_array/pe_cluster.h"
#include "models/sram/sram_bank.h"

namespace npuvp::npu {

struct NodePosition {
  unsigned x = 0, y = 0;
};

struct NpuConfig {
  // The NPU clock domain: the Npu hands it to every part it builds, so the
  // clock_mhz of the part configs below is never read.
  double clock_mhz = 800;
  unsigned clusters = 16;
  pe_array::PeClusterConfig cluster;
  unsigned sram_banks = 16;
  sram::SramBankConfig sram_bank;
  // Consecutive chunks of this many bytes of the global buffer go to
  // consecutive banks; sram_bank.size_bytes puts the banks back to back.
  std::uint64_t sram_interleave_bytes = 1024;
  // Where the banks attach to the mesh when there are fewer banks than nodes
  // (docs/memory.md, "Bank placement"): spread over the rows and columns, or
  // on the first nodes in row-major order (banks along one edge).
  enum class BankPlacement { kSpread, kRowMajor } sram_placement = BankPlacement::kSpread;
  dma::DmaConfig dma;
  // Mesh size, flit width and router timing; the attachments are derived:
  // cluster k sits at node k (row-major), bank k as sram_placement says, the command processor
  // and the DMA's first port at `control_node`, its other ports below it.
  noc::NocConfig noc;
  NodePosition control_node;
  // Prices for the firmware's dataflow cost model (it knows the hardware
  // around the NPU only through them).
  firmware::CostTable firmware_costs;
  // The preset's firmware.smaller_tilings (firmware::NpuLayout::smaller_tilings).
  bool firmware_smaller_tilings = true;
  // The preset's firmware.stream_weights (firmware::NpuLayout::stream_weights).
  bool firmware_stream_weights = true;
  // The preset's firmware.column_strips (firmware::NpuLayout::column_strips).
  bool firmware_column_strips = true;
  // The preset's firmware.keep_input_rows (firmware::NpuLayout::keep_input_rows).
  bool firmware_keep_input_rows = true;

  // Multipliers over all clusters: the array's MACs per cycle at one MAC per PE.
  NodePosition bank_node(unsigned bank) const;
  contract::BankInterleave sram_map() const {
    return {address_map::kSramBase, sram_bank.size_bytes, sram_banks, sram_interleave_bytes};
  }
  std::uint64_t mac_units() const { return std::uint64_t{clusters} * cluster.array.rows * cluster.array.cols; }
};

class Npu : public sc_core::sc_module {
 public:
  tlm::tlm_target_socket<> target_socket;             // host MMIO to the register block
  tlm::tlm_initiator_socket<> dma_system_socket;      // DMA to DRAM
  tlm::tlm_initiator_socket<> control_system_socket;  // command processor to DRAM (ring, commands)
  sc_core::sc_out<bool> host_irq;
  sc_core::sc_out<std::int32_t> current_layer;

  Npu(const sc_core::sc_module_name& name, const NpuConfig& config);
  Npu(const Npu&) = delete;
  Npu& operator=(const Npu&) = delete;

  void attach_trace(trace::VcdRecorder& recorder, const noc::NocTraceOptions& noc = {});
  void attach_timeline(trace::TimelineRecorder& recorder);
  void record_noc_packets(noc::PacketSink& sink) { noc_->record_packets(sink); }

  const NpuConfig& config() const { return config_; }
  const CommandProcessor& command_processor() const { return *control_; }
  CommandProcessor& command_processor() { return *control_; }
  const dma::DmaEngine& dma() const { return *dma_; }
  const noc::MeshNoc& noc() const { return *noc_; }
  const sc_core::sc_vector<pe_array::PeCluster>& clusters() const { return clusters_; }
  sc_core::sc_vector<pe_array::PeCluster>& clusters() { return clusters_; }
  const sc_core::sc_vector<sram::SramBank>& sram_banks() const { return banks_; }
  // Every unit that counts activity: clusters, SRAM banks, NoC, DMA, command processor.
  std::vector<stats::StatsSource*> stats_sources();

  // The NoC attachments this configuration implies (also used to validate it).
  static noc::NocConfig attach(const NpuConfig& config);
  // What the firmware is told about the NPU it runs on.
  static firmware::NpuLayout firmware_layout(const NpuConfig& config);

 private:
  const NpuConfig config_;
  std::unique_ptr<noc::MeshNoc> noc_;
  std::unique_ptr<CommandProcessor> control_;
  std::unique_ptr<dma::DmaEngine> dma_;
  sc_core::sc_vector<pe_array::PeCluster> clusters_;
  sc_core::sc_vector<sram::SramBank> banks_;
  // IRQ lines change both from a unit's own thread and from register writes
  // (W1C clears) made by the command processor's thread.
  sc_core::sc_vector<sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS>> event_signals_;
};

}  // namespace npuvp::npu
