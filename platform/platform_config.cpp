#include "platform/platform_config.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include "contract/dma_regs.h"
#include "models/dram/energy.h"
#include "platform/config/area_yaml.h"
#include "platform/config/config_node.h"
#include "platform/config/data_root.h"
#include "platform/config/dram_yaml.h"
#include "platform/config/noc_yaml.h"

namespace npuvp::platform {
namespace {

using config::ConfigError;
using config::ConfigNode;

bool is_power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// The default interleave granule: the engines' burst (the DMA's default
// max_burst_bytes and the clusters' burst boundary), so a burst is one bank
// access and one NoC packet, and a stream of bursts walks the banks in turn
// (docs/memory.md).
constexpr std::uint64_t kDefaultInterleaveBytes = 1024;

nlohmann::json to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& kv : n) j[kv.first.as<std::string>()] = to_json(kv.second);
    return j;
  }
  if (n.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& v : n) j.push_back(to_json(v));
    return j;
  }
  if (!n.IsScalar()) return nullptr;
  const std::string& s = n.Scalar();
  try {
    std::size_t used = 0;
    const long long i = std::stoll(s, &used, 0);
    if (used == s.size()) return i;
    const double d = std::stod(s, &used);
    if (used == s.size()) return d;
  } catch (const std::exception&) {
  }
  if (s == "true") return true;
  if (s == "false") return false;
  return s;
}

// Keys a platform derives from others, with where they come from. The models
// of a platform are built from these sources only, so accepting the key would
// let a preset or report.json claim a value the simulation never used.
struct DerivedKey {
  const char* section;
  const char* key;
  const char* origin;
};
constexpr DerivedKey kDerivedKeys[] = {
    {"noc", "clock_mhz",
     "derived from npu.clock_mhz (the NoC runs in the NPU clock domain); set npu.clock_mhz instead"},
    {"pe_array", "clock_mhz",
     "derived from npu.clock_mhz (the clusters run in the NPU clock domain); set npu.clock_mhz instead"},
    {"sram", "clock_mhz",
     "derived from npu.clock_mhz (the SRAM banks run in the NPU clock domain); set npu.clock_mhz instead"},
    {"dma", "clock_mhz",
     "derived from npu.clock_mhz (the DMA runs in the NPU clock domain); set npu.clock_mhz instead"},
    {"bus", "clock_mhz",
     "derived from npu.clock_mhz (the system bus runs in the NPU clock domain); set npu.clock_mhz instead"},
    {"dram", "clock_mhz", "derived from the memspec's tCK (dram.memspec); choose another memspec instead"},
    {"noc", "initiators",
     "derived from npu.clusters and npu.control_node (the NPU attaches its command processor, DMA and clusters "
     "itself); set those instead"},
    {"noc", "targets",
     "derived from sram.banks, sram.bank_kb, dma.channels and npu.clusters (the NPU attaches its SRAM banks and "
     "register blocks at the addresses of contract/address_map.h); set those instead"},
};

void reject_derived(const ConfigNode& root) {
  for (const DerivedKey& d : kDerivedKeys)
    if (root.has(d.section) && root.child(d.section).has(d.key))
      throw ConfigError(root.source(std::string(d.section) + "." + d.key) + ": key '" + d.section + "." + d.key +
                        "': " + d.origin);
}

nlohmann::json area_json(const power::AreaBreakdown& a) {
  return {{"pe", a.pe},   {"rf", a.rf},       {"buffer", a.buffer}, {"sram", a.sram},
          {"noc", a.noc}, {"other", a.other}, {"total", a.total()}};
}

// What the platform derived, for report.json next to the preset's keys.
nlohmann::json derived_json(const PlatformConfig& p) {
  const noc::NocConfig attached = npu::Npu::attach(p.npu);
  nlohmann::json noc = {{"initiators", nlohmann::json::array()}, {"targets", nlohmann::json::array()}};
  for (const auto& i : attached.initiators) noc["initiators"].push_back({{"name", i.name}, {"x", i.x}, {"y", i.y}});
  for (const auto& t : attached.targets)
    noc["targets"].push_back({{"name", t.name}, {"x", t.x}, {"y", t.y}, {"base", t.base}, {"size", t.size}});
  const double npu_mhz = p.npu.clock_mhz;
  return {{"clock_mhz",
           {{"host", p.host.clock_mhz},
            {"dram", 1e3 / p.dram.memspec.tck_ns},
            {"npu", npu_mhz},
            {"command_processor", npu_mhz},
            {"dma", npu_mhz},
            {"noc", attached.clock_mhz},
            {"sram", npu_mhz},
            {"pe_array", npu_mhz},
            {"bus", npu_mhz}}},
          {"noc", noc},
          {"area_table", p.area_file},
          {"area_mm2", area_json(platform_area(p))}};
}

// pe_array.dataflows: the dataflows the arrays can run, as a bit per pe_array::Dataflow.
std::uint32_t parse_dataflows(const ConfigNode& n) {
  const std::string expected = "a list of distinct dataflows from ws, os, os2d (e.g. [ws, os2d])";
  const YAML::Node list = n.yaml()["dataflows"];
  if (!list.IsSequence() || list.size() == 0) n.fail("dataflows", expected);
  std::uint32_t mask = 0;
  for (const YAML::Node& item : list) {
    const std::string name = item.IsScalar() ? item.as<std::string>() : "";
    const auto* known = std::find(std::begin(pe_array::kDataflowNames), std::end(pe_array::kDataflowNames), name);
    const std::uint32_t bit = 1u << (known - std::begin(pe_array::kDataflowNames));
    if (known == std::end(pe_array::kDataflowNames) || (mask & bit) != 0) n.fail("dataflows", expected);
    mask |= bit;
  }
  return mask;
}

void parse_pe_array(const ConfigNode& n, pe_array::PeClusterConfig& c) {
  n.reject_unknown({"rows", "cols", "rf_entries", "weight_buffer_kb", "input_buffer_kb", "buffer_port_bytes",
                    "preload_overlap", "zero_skipping", "depthwise_channel_parallel", "int4_packing", "dataflows",
                    "job_queue_depth", "operand_multicast", "weights_by_fold"});
  c.array.rows = static_cast<unsigned>(n.get_int_in("rows", 1, 256));
  c.array.cols = static_cast<unsigned>(n.get_int_in("cols", 1, 256));
  c.rf_entries = static_cast<unsigned>(n.get_int_in("rf_entries", 1, 4096, 16));
  c.weight_buffer_bytes = static_cast<std::uint32_t>(n.get_int_in("weight_buffer_kb", 1, 65536, 64) * 1024);
  c.input_buffer_bytes = static_cast<std::uint32_t>(n.get_int_in("input_buffer_kb", 1, 65536, 64) * 1024);
  c.buffer_port_bytes = static_cast<unsigned>(n.get_int_in("buffer_port_bytes", 0, 1 << 16, 0));
  c.preload_overlap = n.get_bool("preload_overlap", false);
  c.zero_skipping = n.get_bool("zero_skipping", false);
  c.depthwise_channel_parallel = n.get_bool("depthwise_channel_parallel", false);
  c.int4_packing = n.get_bool("int4_packing", false);
  if (n.has("dataflows")) c.dataflows = parse_dataflows(n);
  c.job_queue_depth = static_cast<unsigned>(n.get_int_in("job_queue_depth", 1, 64, 2));
  c.operand_multicast = n.get_bool("operand_multicast", true);
  c.weights_by_fold = n.get_bool("weights_by_fold", true);
}

void parse_sram(const ConfigNode& n, npu::NpuConfig& c) {
  n.reject_unknown({"banks", "bank_kb", "word_bytes", "ports", "read_latency_cycles", "write_latency_cycles",
                    "interleave_bytes", "placement"});
  c.sram_banks = static_cast<unsigned>(n.get_int_in("banks", 1, 1024));
  c.sram_bank.size_bytes = static_cast<std::uint64_t>(n.get_int_in("bank_kb", 1, 1 << 20)) * 1024;
  c.sram_bank.word_bytes = static_cast<unsigned>(n.get_int_in("word_bytes", 1, 1024, 32));
  c.sram_bank.ports = static_cast<unsigned>(n.get_int_in("ports", 1, 16, 1));
  c.sram_placement = n.get_choice("placement", {"spread", "row_major"}, "spread") == "spread"
                         ? npu::NpuConfig::BankPlacement::kSpread
                         : npu::NpuConfig::BankPlacement::kRowMajor;
  c.sram_bank.read_latency_cycles = static_cast<unsigned>(n.get_int_in("read_latency_cycles", 0, 1000, 2));
  c.sram_bank.write_latency_cycles = static_cast<unsigned>(n.get_int_in("write_latency_cycles", 0, 1000, 1));
  if (static_cast<std::uint64_t>(c.sram_banks) * c.sram_bank.size_bytes > address_map::kSramWindowSize)
    n.fail("bank_kb", "banks × bank_kb within the 256 MiB SRAM window");
  const std::uint64_t bank = c.sram_bank.size_bytes;
  const std::uint64_t word = c.sram_bank.word_bytes;
  const auto fits = [&](std::uint64_t b) { return b % word == 0 && is_power_of_two(b) && bank % b == 0; };
  c.sram_interleave_bytes = fits(kDefaultInterleaveBytes) ? kDefaultInterleaveBytes : bank;
  if (n.has("interleave_bytes")) {
    c.sram_interleave_bytes = static_cast<std::uint64_t>(n.get_int_in("interleave_bytes", 1, 1 << 30));
    // Of two keys that disagree, the one an override set is the one to name.
    const bool word_overridden = n.override_of(n.key_path("word_bytes")).has_value();
    const bool interleave_overridden = n.override_of(n.key_path("interleave_bytes")).has_value();
    if (c.sram_interleave_bytes != bank && c.sram_interleave_bytes % word != 0 && word_overridden &&
        !interleave_overridden)
      n.fail("word_bytes",
             "a word size that divides sram.interleave_bytes (" + std::to_string(c.sram_interleave_bytes) + ")");
    if (c.sram_interleave_bytes != bank && !fits(c.sram_interleave_bytes))
      n.fail("interleave_bytes", "a power of two that is a multiple of word_bytes (" + std::to_string(word) +
                                     ") and divides the bank (bank_kb × 1024 = " + std::to_string(bank) +
                                     "), or the bank size itself (banks back to back)");
  }
}

void parse_dma(const ConfigNode& n, dma::DmaConfig& c) {
  n.reject_unknown({"channels", "max_burst_bytes", "descriptor_cycles", "max_outstanding", "noc_ports"});
  c.channels = static_cast<unsigned>(n.get_int_in("channels", 2, 16, 2));
  c.max_burst_bytes = static_cast<unsigned>(n.get_int_in("max_burst_bytes", 16, 1 << 20, 1024));
  // Bursts stop at multiples of their own size (AXI's rule), which only a
  // power of two lets every aligned transfer meet.
  if (!is_power_of_two(c.max_burst_bytes)) n.fail("max_burst_bytes", "a power of two from 16 to 1048576");
  c.descriptor_cycles = static_cast<unsigned>(n.get_int_in("descriptor_cycles", 0, 10000, 8));
  c.max_outstanding = static_cast<unsigned>(n.get_int_in("max_outstanding", 1, 256, 8));
  c.noc_ports = static_cast<unsigned>(n.get_int_in("noc_ports", 1, 255, 1));
}

// Bounds on the energy table's entries, far above any real figure (45 nm:
// an int8 MAC 0.2 pJ, a 1 MB SRAM's byte tens of pJ, a router's leakage a
// few mW) yet low enough that a run's energies and powers stay finite: a
// value like 1e300 made them infinite and the report's charts fail.
constexpr double kMaxEventPj = 1e6;
constexpr double kMaxLeakageMw = 1e6;

// First-order scaling of on-chip energies from the table's node to another:
// switched energy C·V² with capacitance proportional to the feature size.
// DRAM is off-chip and keeps its memspec figures. An estimate, not a fit.
void scale_energy(const ConfigNode& n, double table_node_nm, double table_vdd, power::EnergyTable& t) {
  n.reject_unknown({"node_nm", "vdd"});
  const double node = n.get_double_in("node_nm", 1, 1000, "nm");
  const double vdd = n.get_double_in("vdd", 0.1, 10, "V");
  const double factor = (node / table_node_nm) * (vdd / table_vdd) * (vdd / table_vdd);
  for (double* e : {&t.mac_int8_pj, &t.mac_int4_pj, &t.mac_int16_pj, &t.mac_fp16_pj, &t.rf_access_pj,
                    &t.sram_pj_per_byte, &t.noc_pj_per_flit_byte_hop, &t.leakage_pe_mw_per_mac,
                    &t.leakage_sram_mw_per_kb, &t.leakage_noc_mw_per_router, &t.leakage_control_mw})
    *e *= factor;
}

// The energy table: a file's name, or, once --set changed an entry, the file's
// entries inline under `table: <file>`, so that report.json records the values
// used and loads back as a preset.
void parse_energy_table(const ConfigNode& root, bool inline_table, power::EnergyTable& t, const ConfigNode* scale_to) {
  std::set<std::string> keys = {
      "name",         "node_nm",     "vdd",          "mac_int8_pj",          "mac_int4_pj",
      "mac_int16_pj", "mac_fp16_pj", "rf_access_pj", "rf_reference_entries", "rf_size_exponent",
      "sram",         "noc",         "leakage"};
  if (inline_table) keys.insert("table");
  root.reject_unknown(keys);
  t.mac_int8_pj = root.get_positive_at_most("mac_int8_pj", kMaxEventPj, "pJ");
  t.mac_int4_pj = root.get_positive_at_most("mac_int4_pj", kMaxEventPj, "pJ");
  t.mac_int16_pj = root.get_positive_at_most("mac_int16_pj", kMaxEventPj, "pJ");
  t.mac_fp16_pj = root.get_positive_at_most("mac_fp16_pj", kMaxEventPj, "pJ");
  t.rf_access_pj = root.get_positive_at_most("rf_access_pj", kMaxEventPj, "pJ");
  t.rf_reference_entries = root.get_positive("rf_reference_entries");
  t.rf_size_exponent = root.get_positive("rf_size_exponent");
  const ConfigNode sram = root.child("sram");
  sram.reject_unknown({"pj_per_byte", "reference_kb", "size_exponent"});
  t.sram_pj_per_byte = sram.get_positive_at_most("pj_per_byte", kMaxEventPj, "pJ");
  t.sram_reference_kb = sram.get_positive("reference_kb");
  t.sram_size_exponent = sram.get_positive("size_exponent");
  const ConfigNode noc = root.child("noc");
  noc.reject_unknown({"pj_per_flit_byte_hop"});
  t.noc_pj_per_flit_byte_hop = noc.get_positive_at_most("pj_per_flit_byte_hop", kMaxEventPj, "pJ");
  const ConfigNode leak = root.child("leakage");
  leak.reject_unknown({"pe_mw_per_mac", "sram_mw_per_kb", "noc_mw_per_router", "control_mw"});
  t.leakage_pe_mw_per_mac = leak.get_positive_at_most("pe_mw_per_mac", kMaxLeakageMw, "mW");
  t.leakage_sram_mw_per_kb = leak.get_positive_at_most("sram_mw_per_kb", kMaxLeakageMw, "mW");
  t.leakage_noc_mw_per_router = leak.get_positive_at_most("noc_mw_per_router", kMaxLeakageMw, "mW");
  t.leakage_control_mw = leak.get_positive_at_most("control_mw", kMaxLeakageMw, "mW");
  if (scale_to != nullptr)
    scale_energy(*scale_to, root.get_double_in("node_nm", 1, 1000, "nm"), root.get_double_in("vdd", 0.1, 10, "V"), t);
}

// Brings the table file's entries into the tree when an override sets one.
void inline_energy_table(YAML::Node& tree, const std::string& source, const std::vector<std::string>& overrides) {
  const bool sets_entry =
      std::any_of(overrides.begin(), overrides.end(), [](const std::string& o) { return o.rfind("energy.", 0) == 0; });
  if (!sets_entry || !tree["energy"].IsScalar()) return;
  const std::string file = tree["energy"].as<std::string>();
  YAML::Node table = YAML::Clone(ConfigNode::load_file(ConfigNode(tree, source).get_path("energy")).yaml());
  table["table"] = file;
  tree["energy"] = table;
}

void parse_simulation(const ConfigNode& n, SimulationConfig& s) {
  n.reject_unknown({"quantum_ns", "power_window_ns", "vcd", "vcd_include", "vcd_dram_commands", "vcd_noc_links",
                    "vcd_max_changes", "vcd_fst"});
  // Below the kernel's 1 ps resolution a time is zero; above a millisecond
  // nothing interleaves.
  s.quantum_ns = n.get_double_in("quantum_ns", 0.001, 1e6, "ns", 10);
  s.power_window_ns = n.get_double_in("power_window_ns", 0.001, 1e9, "ns", 1000);
  s.trace.vcd = n.get_bool("vcd", true);
  s.trace.vcd_dram_commands = n.get_bool("vcd_dram_commands", false);
  s.trace.vcd_noc_links = n.get_bool("vcd_noc_links", false);
  s.trace.fst = n.get_bool("vcd_fst", false);
  s.trace.vcd_max_changes = static_cast<std::size_t>(n.get_int_in("vcd_max_changes", 0, 1ll << 40, 20'000'000));
  if (n.has("vcd_include"))
    for (const auto& item : n.child("vcd_include").items()) {
      if (!item.yaml().IsScalar()) item.fail("", "a scope prefix such as soc.npu");
      s.trace.vcd_include.push_back(item.yaml().Scalar());
    }
}

}  // namespace

PlatformConfig load_platform(const std::string& file, const std::vector<std::string>& overrides,
                             const std::string& override_origin) {
  ConfigNode loaded = ConfigNode::load_file(config::find_platform(file));
  YAML::Node tree = YAML::Clone(loaded.yaml());
  inline_energy_table(tree, loaded.file(), overrides);
  auto origins = std::make_shared<config::OverrideOrigins>();
  for (const auto& o : overrides) config::apply_override(tree, o, override_origin, origins.get());
  // A report's platform section loads back as a preset: what it derived is
  // derived again, never read.
  tree.remove("derived");
  const ConfigNode root(tree, loaded.file(), "", std::move(origins));
  root.reject_unknown({"name", "description", "npu", "pe_array", "sram", "dma", "noc", "dram", "host", "bus", "energy",
                       "energy_scaling", "area", "simulation", "firmware"});
  reject_derived(root);
  PlatformConfig p;
  p.source_file = file;
  p.name = root.get_string("name");
  p.description = root.get_string("description", "");

  const ConfigNode npu_node = root.child("npu");
  npu_node.reject_unknown({"clock_mhz", "clusters", "control_node"});
  // From 1 MHz (slower makes a run's events and windows explode) to 1 THz
  // (a 1 ps period, the kernel's time resolution).
  p.npu.clock_mhz = npu_node.get_double_in("clock_mhz", 1, 1e6, "MHz");
  p.npu.clusters = static_cast<unsigned>(npu_node.get_int_in("clusters", 1, 64));
  if (npu_node.has("control_node")) {
    const ConfigNode cn = npu_node.child("control_node");
    cn.reject_unknown({"x", "y"});
    p.npu.control_node.x = static_cast<unsigned>(cn.get_int_in("x", 0, 255));
    p.npu.control_node.y = static_cast<unsigned>(cn.get_int_in("y", 0, 255));
  }
  parse_pe_array(root.child("pe_array"), p.npu.cluster);
  parse_sram(root.child("sram"), p.npu);
  if (root.has("dma")) parse_dma(root.child("dma"), p.npu.dma);
  p.npu.noc = config::parse_noc(root.child("noc"));
  const unsigned nodes = p.npu.noc.width * p.npu.noc.height;
  const std::vector<std::string> mesh_keys = {"noc.width", "noc.height"};
  if (p.npu.clusters > nodes)
    npu_node.fail("clusters", "at most one cluster per mesh node (" + std::to_string(nodes) + ")", mesh_keys);
  if (p.npu.sram_banks > nodes)
    root.child("sram").fail("banks", "at most one bank per mesh node (" + std::to_string(nodes) + ")", mesh_keys);
  if (p.npu.control_node.x >= p.npu.noc.width || p.npu.control_node.y >= p.npu.noc.height)
    npu_node.fail("control_node", "a node inside the mesh", mesh_keys);
  if (p.npu.dma.noc_ports > p.npu.noc.height)
    root.child("dma").fail("noc_ports",
                           "at most one port per mesh row (noc.height = " + std::to_string(p.npu.noc.height) + ")",
                           mesh_keys);

  p.dram = config::parse_dram(root.child("dram"));

  if (root.has("host")) {
    const ConfigNode host = root.child("host");
    host.reject_unknown({"clock_mhz", "mmio_cycles"});
    p.host.clock_mhz = host.get_double_in("clock_mhz", 1, 1e6, "MHz", 1500);
    p.host.mmio_cycles = static_cast<unsigned>(host.get_int_in("mmio_cycles", 0, 100000, 20));
  }
  if (root.has("bus")) {
    const ConfigNode bus = root.child("bus");
    bus.reject_unknown({"latency_cycles"});
    p.bus_latency_cycles = static_cast<unsigned>(bus.get_int_in("latency_cycles", 0, 10000, 4));
  }
  const bool inline_table = root.has("energy") && root.child("energy").yaml().IsMap();
  p.energy_file = inline_table ? root.child("energy").get_string("table") : root.get_string("energy");
  const std::optional<ConfigNode> scaling =
      root.has("energy_scaling") ? std::optional<ConfigNode>(root.child("energy_scaling")) : std::nullopt;
  const auto parse_table = [&](const ConfigNode& table) {
    parse_energy_table(table, inline_table, p.energy, scaling ? &*scaling : nullptr);
    return true;
  };
  if (inline_table)
    parse_table(root.child("energy"));
  else
    root.read_file_of("energy", [&](const std::string& file) { return parse_table(ConfigNode::load_file(file)); });
  p.area_file = root.get_string("area", "configs/area/45nm.yaml");
  p.area = config::parse_area_file(root.get_path("area", p.area_file));
  // Area follows the feature size squared; the supply voltage does not enter.
  if (scaling) p.area = power::scale_area(p.area, scaling->get_double_in("node_nm", 1, 1000, "nm"));
  if (root.has("simulation")) {
    const ConfigNode simulation = root.child("simulation");
    parse_simulation(simulation, p.simulation);
    const double cycle_ns = 1e3 / p.npu.clock_mhz;
    if (p.simulation.power_window_ns < cycle_ns)
      simulation.fail("power_window_ns",
                      "at least one NPU cycle (" + std::to_string(cycle_ns) + " ns at npu.clock_mhz)");
  }
  if (root.has("firmware")) {
    const ConfigNode firmware = root.child("firmware");
    firmware.reject_unknown(
        {"fold_data_movement", "fuse_layers", "smaller_tilings", "stream_weights", "column_strips", "keep_input_rows"});
    p.firmware.fold_data_movement = firmware.get_bool("fold_data_movement", true);
    p.firmware.fuse_layers = firmware.get_bool("fuse_layers", true);
    p.firmware.smaller_tilings = firmware.get_bool("smaller_tilings", true);
    p.firmware.stream_weights = firmware.get_bool("stream_weights", true);
    p.firmware.column_strips = firmware.get_bool("column_strips", true);
    p.firmware.keep_input_rows = firmware.get_bool("keep_input_rows", true);
  }
  p.npu.firmware_smaller_tilings = p.firmware.smaller_tilings;
  p.npu.firmware_stream_weights = p.firmware.stream_weights;
  p.npu.firmware_column_strips = p.firmware.column_strips;
  p.npu.firmware_keep_input_rows = p.firmware.keep_input_rows;
  p.npu.dma.quantum = sc_core::sc_time(p.simulation.quantum_ns, sc_core::SC_NS);
  p.npu.cluster.quantum = p.npu.dma.quantum;
  p.resolved = to_json(tree);
  p.resolved["derived"] = derived_json(p);
  p.npu.firmware_costs = firmware_cost_table(p);
  return p;
}

power::PricedSizes priced_sizes(const PlatformConfig& config) {
  const auto& n = config.npu;
  power::PricedSizes s;
  s.sram_bank_kb = static_cast<double>(n.sram_bank.size_bytes) / 1024.0;
  s.flit_bytes = n.noc.flit_bytes;
  s.rf_entries = n.cluster.rf_entries;
  s.weight_buffer_kb = n.cluster.weight_buffer_bytes / 1024.0;
  s.input_buffer_kb = n.cluster.input_buffer_bytes / 1024.0;
  s.leakage = {n.mac_units(), static_cast<double>(n.sram_banks * n.sram_bank.size_bytes) / 1024.0,
               n.noc.width * n.noc.height, n.clusters * (s.weight_buffer_kb + s.input_buffer_kb)};
  return s;
}

power::AreaBreakdown platform_area(const PlatformConfig& config) {
  const auto& n = config.npu;
  power::AreaSizes s;
  s.clusters = n.clusters;
  s.rows = n.cluster.array.rows;
  s.cols = n.cluster.array.cols;
  // Every cluster computes int8, int4, int16 and fp16 (models/pe_array).
  s.datatypes.int4_packed = n.cluster.int4_packing;
  s.rf_entries = n.cluster.rf_entries;
  s.weight_buffer_kb = n.cluster.weight_buffer_bytes / 1024.0;
  s.input_buffer_kb = n.cluster.input_buffer_bytes / 1024.0;
  s.sram_banks = n.sram_banks;
  s.sram_bank_kb = static_cast<double>(n.sram_bank.size_bytes) / 1024.0;
  s.mesh_width = n.noc.width;
  s.mesh_height = n.noc.height;
  s.flit_bytes = n.noc.flit_bytes;
  s.virtual_channels = n.noc.virtual_channels;
  s.buffer_flits = n.noc.buffer_flits;
  s.dma_channels = n.dma.channels;
  return power::area(config.area, s);
}

firmware::CostTable firmware_cost_table(const PlatformConfig& config) {
  // Long DMA streams reach about this share of the DRAM's peak (dram-bench,
  // sequential reads: 91.6 %).
  constexpr double kDramStreamEfficiency = 0.9;
  const auto& n = config.npu;
  const power::EnergyTable& e = config.energy;
  const dram::Memspec& memspec = config.dram.memspec;
  const dram::EnergyModel dram_energy(memspec);
  const double cycle_ns = 1e3 / n.clock_mhz;
  firmware::CostTable c;
  c.dram_bytes_per_cycle = config.dram.peak_gbps() * kDramStreamEfficiency * cycle_ns;
  c.link_bytes_per_cycle = n.noc.flit_bytes;
  c.bank_bytes_per_cycle = double(n.sram_bank.word_bytes) * n.sram_bank.ports;
  // A stream pays the burst's command and I/O energy per burst and opens a row
  // per page.
  c.dram_pj_per_byte =
      ((dram_energy.read_pj + dram_energy.write_pj) / 2 + dram_energy.io_burst_pj) / memspec.burst_bytes() +
      (dram_energy.act_pj + dram_energy.pre_pj) / static_cast<double>(memspec.page_bytes());
  c.sram_pj_per_byte = power::sram_pj_per_byte(e, n.sram_bank.size_bytes / 1024.0);
  c.noc_pj_per_byte_hop = e.noc_pj_per_flit_byte_hop;
  // Mean distances over the NoC attachments the NPU is built with.
  const noc::NocConfig attached = npu::Npu::attach(n);
  const auto starts_with = [](const std::string& name, const char* prefix) { return name.rfind(prefix, 0) == 0; };
  const auto mean_hops = [&](const char* initiator, const char* target) {
    double sum = 0;
    unsigned pairs = 0;
    for (const auto& i : attached.initiators)
      for (const auto& t : attached.targets)
        if (starts_with(i.name, initiator) && starts_with(t.name, target)) {
          sum += std::abs(int(i.x) - int(t.x)) + std::abs(int(i.y) - int(t.y));
          ++pairs;
        }
    return pairs == 0 ? 0.0 : sum / pairs;
  };
  c.dma_hops = mean_hops("dma", "sram");
  c.cluster_hops = mean_hops("cluster", "sram");
  // Per job the command processor writes two cluster registers (job address,
  // START) and services the IRQ (read, write): four register round trips,
  // each there and back over the mean hops and one cycle in the cluster.
  const double control_hops = mean_hops("control", "cluster");
  c.job_issue_cycles = 4 * (2 * (control_hops + 1) * (n.noc.router_cycles + n.noc.link_cycles) + 1);
  // Per DMA chain it writes the descriptors to their slot in a bank (a NoC
  // write there and back) and three channel registers (the chain's address,
  // START), and services the IRQ (read, write): the DMA's registers are at
  // its own node, one router and link each way.
  c.dma_control_cycles = 2 * (mean_hops("control", "sram") + 1) * (n.noc.router_cycles + n.noc.link_cycles) + 1 +
                         5 * (2 * (n.noc.router_cycles + n.noc.link_cycles) + 1);
  // A DMA burst's round trip without its data: a row hit's DRAM access (the
  // column command to the end of its first burst, JESD209-4 via the
  // memspec), the system bus, and a NoC request and response between the DMA
  // and a bank with the bank's access. The descriptor fetch is one such NoC
  // read of 64 bytes and the parsing.
  const double dma_noc_round_trip = 2 * (c.dma_hops + 1) * (n.noc.router_cycles + n.noc.link_cycles) + 1;
  const double tck_cycles = memspec.tck_ns / cycle_ns;
  c.dma_burst_bytes = n.dma.max_burst_bytes;
  c.dma_outstanding = n.dma.max_outstanding;
  c.dma_load_latency_cycles = memspec.read_data_end() * tck_cycles + config.bus_latency_cycles + dma_noc_round_trip +
                              n.sram_bank.write_latency_cycles;
  c.dma_store_latency_cycles = memspec.write_data_end() * tck_cycles + config.bus_latency_cycles + dma_noc_round_trip +
                               n.sram_bank.read_latency_cycles;
  // A load and a store streaming at once turn the DRAM's data bus around
  // (RD->WR, then WR->RD, beyond tCCD) once per batch of the writes a channel
  // sees at once: the store window's bursts spread over the channels (the
  // model dram-bench's mix bound uses).
  const double writes_at_once = std::max(1.0, double(n.dma.max_outstanding) * n.dma.max_burst_bytes /
                                                  (double(config.dram.channels) * memspec.burst_bytes()));
  c.dram_turnaround_per_write = memspec.turnaround_pair() / (memspec.ccd() * writes_at_once);
  c.dma_descriptor_cycles = dma_noc_round_trip + n.sram_bank.read_latency_cycles +
                            std::ceil(double(sizeof(dma::Descriptor)) / n.noc.flit_bytes) + n.dma.descriptor_cycles;
  c.rf_pj_per_access = power::rf_pj_per_access(e, n.cluster.rf_entries);
  c.weight_buffer_pj_per_byte = power::sram_pj_per_byte(e, n.cluster.weight_buffer_bytes / 1024.0);
  c.input_buffer_pj_per_byte = power::sram_pj_per_byte(e, n.cluster.input_buffer_bytes / 1024.0);
  c.mac_pj[0] = e.mac_int8_pj;
  c.mac_pj[1] = e.mac_int4_pj;
  c.mac_pj[2] = e.mac_int16_pj;
  c.mac_pj[3] = e.mac_fp16_pj;
  const double dram_background_mw = dram_energy.active_pj_per_cycle / memspec.tck_ns * config.dram.channels;
  c.static_pj_per_cycle = (power::leakage_mw(e, priced_sizes(config).leakage) + dram_background_mw) * cycle_ns;
  return c;
}

std::vector<std::pair<std::string, std::string>> list_platforms(const std::string& directory) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() != ".yaml") continue;
    const ConfigNode n = ConfigNode::load_file(entry.path().string());
    out.emplace_back(entry.path().stem().string(), n.get_string("description", ""));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace npuvp::platform
