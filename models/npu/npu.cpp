#include "models/npu/npu.h"

namespace npuvp::npu {
namespace {

CommandProcessorConfig control_config(const NpuConfig& c) {
  CommandProcessorConfig cp;
  cp.clock_mhz = c.clock_mhz;
  auto& l = cp.layout;
  l.clusters = c.clusters;
  l.array_rows = c.cluster.array.rows;
  l.array_cols = c.cluster.array.cols;
  l.int4_packing = c.cluster.int4_packing;
  l.preload_overlap = c.cluster.preload_overlap;
  l.depthwise_channel_parallel = c.cluster.depthwise_channel_parallel;
  l.dataflows = c.cluster.dataflows;
  l.cluster_weight_buffer_bytes = c.cluster.weight_buffer_bytes;
  l.cluster_input_buffer_bytes = c.cluster.input_buffer_bytes;
  l.rf_entries = c.cluster.rf_entries;
  l.buffer_port_bytes = c.cluster.buffer_port_bytes;
  l.job_queue_depth = c.cluster.job_queue_depth;
  l.operand_multicast = c.cluster.operand_multicast;
  l.weights_by_fold = c.cluster.weights_by_fold;
  l.sram_base = address_map::kSramBase;
  l.sram_bytes = std::uint64_t{c.sram_banks} * c.sram_bank.size_bytes;
  l.sram_banks = c.sram_banks;
  l.sram_interleave_bytes = c.sram_interleave_bytes;
  l.dma_regs_base = address_map::kDmaRegsBase;
  l.dma_channels = c.dma.channels;
  l.cluster_regs_base = address_map::kClusterRegsBase;
  l.cluster_irq_base = c.dma.channels;
  l.costs = c.firmware_costs;
  l.smaller_tilings = c.firmware_smaller_tilings;
  l.stream_weights = c.firmware_stream_weights;
  l.column_strips = c.firmware_column_strips;
  l.keep_input_rows = c.firmware_keep_input_rows;
  cp.event_lines = c.dma.channels + c.clusters;
  return cp;
}

}  // namespace

NodePosition NpuConfig::bank_node(unsigned bank) const {
  const unsigned nodes = noc.width * noc.height;
  if (sram_placement == BankPlacement::kRowMajor || sram_banks >= nodes)
    return {bank % nodes % noc.width, bank % nodes / noc.width};
  // Every `stride`-th node in row-major order, each row's banks shifted
  // (stride - 1) columns from the row above's: 4 banks on a 4 x 4 mesh take
  // one node in every row and every column, 8 take two, 16 every node. XY
  // routes then reach the banks over every column and row link, where banks
  // on the first nodes draw every SRAM packet into one row.
  const unsigned stride = nodes / sram_banks;
  const unsigned index = bank * stride;
  const unsigned y = index / noc.width;
  return {(index % noc.width + y * (stride - 1)) % noc.width, y};
}

firmware::NpuLayout Npu::firmware_layout(const NpuConfig& config) { return control_config(config).layout; }

noc::NocConfig Npu::attach(const NpuConfig& c) {
  noc::NocConfig n = c.noc;
  n.clock_mhz = c.clock_mhz;
  n.quantum_ns = c.cluster.quantum.to_seconds() * 1e9;
  n.initiators.clear();
  n.targets.clear();
  const unsigned nodes = n.width * n.height;
  auto at = [&](unsigned index) {
    return std::pair<unsigned, unsigned>{index % nodes % n.width, index % nodes / n.width};
  };
  n.initiators.push_back({"control", c.control_node.x, c.control_node.y});
  // The DMA's ports sit in the control node's column, spread over the rows
  // from the control node's on: a burst to SRAM enters the mesh at one of
  // them, so the DMA injects noc_ports flits per cycle.
  for (unsigned p = 0; p < c.dma.noc_ports; ++p)
    n.initiators.push_back({p == 0 ? std::string("dma") : "dma" + std::to_string(p), c.control_node.x,
                            (c.control_node.y + p * n.height / c.dma.noc_ports) % n.height});
  for (unsigned k = 0; k < c.clusters; ++k) {
    auto [x, y] = at(k);
    n.initiators.push_back({"cluster" + std::to_string(k), x, y, true});
  }
  for (unsigned b = 0; b < c.sram_banks; ++b) {
    const NodePosition node = c.bank_node(b);
    noc::TargetAttachment t;
    t.name = "sram" + std::to_string(b);
    t.x = node.x;
    t.y = node.y;
    t.base = address_map::kSramBase;
    t.size = c.sram_bank.size_bytes;
    t.interleave_bytes = c.sram_interleave_bytes;
    t.ways = c.sram_banks;
    t.way = b;
    n.targets.push_back(t);
  }
  noc::TargetAttachment dma_regs;
  dma_regs.name = "dma_regs";
  dma_regs.x = c.control_node.x;
  dma_regs.y = c.control_node.y;
  dma_regs.base = address_map::kDmaRegsBase;
  dma_regs.size = std::uint64_t{c.dma.channels} * dma::kChannelStride;
  n.targets.push_back(dma_regs);
  // Each cluster answers at two windows: its registers and its weight-fill window.
  auto attach_clusters = [&](const char* window, std::uint64_t base, std::uint64_t stride) {
    for (unsigned k = 0; k < c.clusters; ++k) {
      auto [x, y] = at(k);
      noc::TargetAttachment t;
      t.name = "cluster" + std::to_string(k) + window;
      t.x = x;
      t.y = y;
      t.base = base + std::uint64_t{k} * stride;
      t.size = stride;
      n.targets.push_back(t);
    }
  };
  attach_clusters("_regs", address_map::kClusterRegsBase, pe_array::kClusterStride);
  attach_clusters("_fill", address_map::kClusterFillBase, address_map::kClusterFillStride);
  return n;
}

Npu::Npu(const sc_core::sc_module_name& name, const NpuConfig& config)
    : sc_module(name),
      target_socket("target_socket"),
      dma_system_socket("dma_system_socket"),
      control_system_socket("control_system_socket"),
      host_irq("host_irq"),
      current_layer("current_layer"),
      config_(config),
      clusters_("cluster"),
      banks_("sram"),
      event_signals_("event", config.dma.channels + config.clusters) {
  noc_ = std::make_unique<noc::MeshNoc>("noc", attach(config));
  control_ = std::make_unique<CommandProcessor>("control", control_config(config));
  dma::DmaConfig dma_config = config.dma;
  dma_config.clock_mhz = config.clock_mhz;
  dma_ = std::make_unique<dma::DmaEngine>("dma", dma_config);
  pe_array::PeClusterConfig cluster_config = config.cluster;
  cluster_config.clock_mhz = config.clock_mhz;
  clusters_.init(config.clusters, [&](const char* n, std::size_t k) {
    cluster_config.index = static_cast<unsigned>(k);
    return new pe_array::PeCluster(n, cluster_config);
  });
  sram::SramBankConfig bank_config = config.sram_bank;
  bank_config.clock_mhz = config.clock_mhz;
  banks_.init(config.sram_banks, [&](const char* n, std::size_t) { return new sram::SramBank(n, bank_config); });

  // Hierarchical bindings: the NPU's own sockets are its children's.
  target_socket.bind(control_->target_socket);
  control_->system_socket.bind(control_system_socket);
  dma_->system_socket.bind(dma_system_socket);
  control_->host_irq(host_irq);
  control_->current_layer(current_layer);

  unsigned initiator = 0;
  control_->noc_socket.bind(noc_->target_sockets[initiator++]);
  for (auto& port : dma_->noc_sockets) port.bind(noc_->target_sockets[initiator++]);
  for (auto& c : clusters_) c.noc_socket.bind(noc_->target_sockets[initiator++]);
  unsigned target = 0;
  for (auto& b : banks_) noc_->initiator_sockets[target++].bind(b.target_socket);
  noc_->initiator_sockets[target++].bind(dma_->target_socket);
  for (auto& c : clusters_) noc_->initiator_sockets[target++].bind(c.target_socket);
  for (auto& c : clusters_) noc_->initiator_sockets[target++].bind(c.fill_socket);

  control_->watch_clusters([this]() -> std::optional<sc_core::sc_time> {
    sc_core::sc_time since = sc_core::SC_ZERO_TIME;
    for (const auto& c : clusters_) {
      if (c.busy()) return std::nullopt;
      since = std::max(since, c.idle_since());
    }
    return since;
  });
  unsigned line = 0;
  for (unsigned ch = 0; ch < config.dma.channels; ++ch, ++line) {
    dma_->irq[ch](event_signals_[line]);
    control_->event_lines[line](event_signals_[line]);
  }
  for (auto& c : clusters_) {
    c.irq(event_signals_[line]);
    control_->event_lines[line](event_signals_[line]);
    ++line;
  }
}

void Npu::attach_trace(trace::VcdRecorder& recorder, const noc::NocTraceOptions& noc) {
  noc_->attach_trace(recorder, noc);
  control_->attach_trace(recorder);
  dma_->attach_trace(recorder);
  for (auto& c : clusters_) c.attach_trace(recorder);
  for (auto& b : banks_) b.attach_trace(recorder);
}

void Npu::attach_timeline(trace::TimelineRecorder& recorder) {
  dma_->attach_timeline(recorder);
  const contract::BankInterleave sram = config_.sram_map();
  const auto bank = [sram](std::uint64_t address) -> std::int64_t {
    return sram.contains(address) ? sram.place(address).bank : -1;
  };
  for (auto& c : clusters_)
    c.attach_timeline(
        recorder, [this] { return control_->layer(); }, bank);
}

std::vector<stats::StatsSource*> Npu::stats_sources() {
  std::vector<stats::StatsSource*> out;
  for (auto& c : clusters_) out.push_back(&c);
  for (auto& b : banks_) out.push_back(&b);
  out.push_back(noc_.get());
  out.push_back(dma_.get());
  out.push_back(control_.get());
  return out;
}

}  // namespace npuvp::npu
