#pragma once
// Everything a platform is built from: one typed struct per model, filled
// from a preset (configs/platforms/*.yaml), its referenced files and --set
// overrides by load_platform(), and validated there once.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/cpu/host_cpu.h"
#include "models/dram/dram_config.h"
#include "models/interconnect/system_bus.h"
#include "models/npu/npu.h"
#include "models/power/area_model.h"
#include "models/power/energy_model.h"

namespace npuvp::platform {

struct TraceConfig {
  bool vcd = true;                       // trace.vcd
  bool fst = false;                      // trace.vcd converted to trace.fst by GTKWave's vcd2fst
  bool timeline = true;                  // timeline.json
  bool power = true;                     // power.csv
  bool packets = false;                  // noc_packets.csv: every NoC packet as timed (platform/noc_packet_log.h)
  std::vector<std::string> vcd_include;  // hierarchical prefixes; empty = all
  // The DRAM command bus, two changes per command: in a network run most of
  // the VCD's changes, so off unless asked for.
  bool vcd_dram_commands = false;
  // Each NoC link's busy edges, cycle by cycle: without the DRAM commands most
  // of a network run's changes, so off unless asked for; each link's
  // utilization per power window is always traced.
  bool vcd_noc_links = false;
  std::size_t vcd_max_changes = 20'000'000;
  // trace.vcd and timeline.json cover [window_start_ns, window_end_ns];
  // power.csv always covers the whole run.
  double window_start_ns = 0;
  double window_end_ns = std::numeric_limits<double>::infinity();
};

struct SimulationConfig {
  double quantum_ns = 10;
  double power_window_ns = 1000;
  TraceConfig trace;
};

// How the software stack maps networks onto the NPU (preset key `firmware`).
struct FirmwareConfig {
  // Concat, slice, channel shuffle and shift lowered into their producers'
  // and consumers' addressing instead of copies (docs/lowering.md).
  bool fold_data_movement = true;
  // A residual add computed in the epilogue of the convolution that feeds it
  // (docs/lowering.md).
  bool fuse_layers = true;
  // Each layer's tile the estimate's pick among the tilings of the global
  // buffer, its half, its quarter, ...; false: the largest that fits
  // (docs/firmware.md, "The latency estimate").
  bool smaller_tilings = true;
  // A weight used once (a batch-1 fully connected layer's K blocks after the
  // first) written by the DMA straight into the clusters' weight buffers,
  // where the estimate prices it faster; false: through the global buffer
  // (docs/memory.md, "What bounds a batch-1 fully connected layer").
  bool stream_weights = true;
  // A wide layer's row tiles cut into column strips where whole rows would
  // split its channels or its clusters, and the estimate picks
  // (docs/firmware.md, "Column strips"); false: whole rows only.
  bool column_strips = true;
  // A row tile's input rows kept in each cluster's input buffer from one K
  // block's job to the next walked rows outer (contract/cluster_regs.h,
  // kJobKeepInput); false: every job fetches its rows from SRAM again.
  bool keep_input_rows = true;
};

struct PlatformConfig {
  std::string name;
  std::string description;
  std::string source_file;
  npu::NpuConfig npu;
  dram::DramConfig dram;
  cpu::HostCpuConfig host;
  unsigned bus_latency_cycles = 4;
  std::string energy_file;
  power::EnergyTable energy;
  std::string area_file;  // configs/area/45nm.yaml unless the preset names another
  power::AreaTable area;  // at the node of energy_scaling, if given
  SimulationConfig simulation;
  FirmwareConfig firmware;
  nlohmann::json resolved;  // the configuration as used, for report.json
};

// Throws config::ConfigError naming the file, the key and what was expected;
// a key an override set is named with it, as "<override_origin> key=value".
PlatformConfig load_platform(const std::string& file, const std::vector<std::string>& overrides,
                             const std::string& override_origin = "--set");

// The sizes the power model prices this platform's actions and leakage by.
power::PricedSizes priced_sizes(const PlatformConfig& config);

// The platform's silicon area from its structures' sizes and its area table.
power::AreaBreakdown platform_area(const PlatformConfig& config);

// The prices the firmware's dataflow cost model uses, derived from the
// platform's DRAM part, NoC, SRAM and energy table.
firmware::CostTable firmware_cost_table(const PlatformConfig& config);

// The presets shipped in configs/platforms (name and description).
std::vector<std::pair<std::string, std::string>> list_platforms(const std::string& directory);

}  // namespace npuvp::platform
