// Bad configuration gets an error naming the file, the key and what was expected.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "contract/address_map.h"
#include "models/npu/npu.h"
#include "platform/config/config_node.h"
#include "platform/platform_config.h"

namespace npuvp::platform {
namespace {

const char* kPreset = "configs/platforms/edge-ip.yaml";

std::string error_of(const std::string& file, const std::vector<std::string>& overrides) {
  try {
    load_platform(file, overrides);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string preset_text() {
  std::ifstream in(kPreset);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(PlatformConfig, PresetLoadsWithItsValues) {
  const PlatformConfig c = load_platform(kPreset, {});
  EXPECT_EQ(c.name, "edge-ip");
  EXPECT_EQ(c.npu.clusters, 16u);
  EXPECT_EQ(c.npu.cluster.array.rows, 8u);
  EXPECT_EQ(c.npu.sram_banks * c.npu.sram_bank.size_bytes, 512u * 1024);
  EXPECT_EQ(c.dram.channels, 4u);
  EXPECT_DOUBLE_EQ(c.energy.mac_int8_pj, 0.3);
  EXPECT_DOUBLE_EQ(c.energy.mac_int4_pj, 0.075);
  EXPECT_DOUBLE_EQ(c.energy.mac_int16_pj, 0.72);
  EXPECT_DOUBLE_EQ(c.energy.mac_fp16_pj, 1.5);
  EXPECT_FALSE(c.npu.cluster.int4_packing);
  EXPECT_TRUE(load_platform(kPreset, {"pe_array.int4_packing=true"}).npu.cluster.int4_packing);
}

TEST(PlatformConfig, TheArraysDataflowsAreAListOfKnownNames) {
  // WS and SCALE-Sim's OS unless the preset says otherwise; the firmware gets a bit per dataflow.
  EXPECT_EQ(load_platform(kPreset, {}).npu.cluster.dataflows, 0b011u);
  const PlatformConfig squeezelerator = load_platform("configs/platforms/squeezelerator.yaml", {});
  EXPECT_EQ(squeezelerator.npu.cluster.dataflows, 0b101u);
  EXPECT_EQ(squeezelerator.npu.cluster.array.rows, 32u);
  EXPECT_EQ(squeezelerator.npu.clusters, 1u);
  EXPECT_EQ(load_platform(kPreset, {"pe_array.dataflows=[os2d]"}).npu.cluster.dataflows, 0b100u);
  const auto expected = [](const std::string& value, const std::string& got) {
    return std::string(kPreset) + " with --set pe_array.dataflows=" + value +
           ": key 'pe_array.dataflows': expected a list of distinct dataflows from ws, os, os2d (e.g. [ws, os2d]), "
           "got " +
           got;
  };
  // Each quotes the value given ("got a list" alone did not say which).
  EXPECT_EQ(error_of(kPreset, {"pe_array.dataflows=[ws, rs]"}), expected("[ws, rs]", "a list [ws, rs]"));
  EXPECT_EQ(error_of(kPreset, {"pe_array.dataflows=[ws, ws]"}), expected("[ws, ws]", "a list [ws, ws]"));
  EXPECT_EQ(error_of(kPreset, {"pe_array.dataflows=[]"}), expected("[]", "a list []"));
  EXPECT_EQ(error_of(kPreset, {"pe_array.dataflows=ws"}), expected("ws", "'ws'"));
  EXPECT_NE(error_of(kPreset, {"npu.control_node.x=5"}).find("expected a node inside the mesh, got a map {x: 5, y: 0}"),
            std::string::npos);
}

TEST(PlatformConfig, TheFirmwareCostTableComesFromThePlatform) {
  const PlatformConfig p = load_platform(kPreset, {});
  const firmware::CostTable& c = p.npu.firmware_costs;
  // 4 x 16-bit LPDDR4X-4266 (tCK 0.468 ns) = 34.19 GB/s, 90 % of it, per 1.25 ns cycle.
  EXPECT_NEAR(c.dram_bytes_per_cycle, 4 * 2 * 2 / 0.468 * 0.9 * 1.25, 1e-9);
  EXPECT_EQ(c.link_bytes_per_cycle, 32);
  EXPECT_EQ(c.bank_bytes_per_cycle, 32);
  // On the 4x4 mesh: a bank is 2.75 hops on average from the DMA's four ports
  // down column 0 (1.5 across, 1.25 down), 2.5 from a cluster; a register
  // round trip from the control node at (0,0), 3 hops from a cluster on
  // average, costs (3 + 1) hops x 3 cycles each way.
  EXPECT_DOUBLE_EQ(c.dma_hops, 2.75);
  EXPECT_DOUBLE_EQ(c.cluster_hops, 2.5);
  EXPECT_DOUBLE_EQ(c.job_issue_cycles, 4 * (2 * 4 * 3 + 1));
  EXPECT_DOUBLE_EQ(c.mac_pj[0], p.energy.mac_int8_pj);
  EXPECT_DOUBLE_EQ(c.rf_pj_per_access, p.energy.rf_access_pj);
  const PlatformConfig big_files = load_platform(kPreset, {"pe_array.rf_entries=64"});
  EXPECT_NEAR(big_files.npu.firmware_costs.rf_pj_per_access, 0.23, 0.001);
  EXPECT_EQ(priced_sizes(big_files).rf_entries, 64u);
  // Changing the part changes the prices.
  const PlatformConfig slower = load_platform(kPreset, {"dram.channels=2"});
  EXPECT_NEAR(slower.npu.firmware_costs.dram_bytes_per_cycle, c.dram_bytes_per_cycle / 2, 1e-9);
  EXPECT_LT(slower.npu.firmware_costs.static_pj_per_cycle, c.static_pj_per_cycle);
}

TEST(PlatformConfig, ClusterBuffersArePricedLeakAndReachTheFirmware) {
  const PlatformConfig p = load_platform(
      kPreset, {"pe_array.weight_buffer_kb=8", "pe_array.input_buffer_kb=64", "pe_array.buffer_port_bytes=16"});
  const power::PricedSizes s = priced_sizes(p);
  EXPECT_EQ(s.weight_buffer_kb, 8.0);
  EXPECT_EQ(s.input_buffer_kb, 64.0);
  EXPECT_EQ(s.leakage.buffer_kb, 16 * (8.0 + 64.0));  // every cluster's two buffers
  const firmware::CostTable& c = p.npu.firmware_costs;
  EXPECT_DOUBLE_EQ(c.weight_buffer_pj_per_byte, 4.0);  // the SRAM law's reference size
  EXPECT_NEAR(c.input_buffer_pj_per_byte, 5.498354782288116, 1e-12);
  EXPECT_EQ(p.npu.cluster.buffer_port_bytes, 16u);
  EXPECT_EQ(load_platform(kPreset, {}).npu.cluster.buffer_port_bytes, 0u);  // as wide as the schedule
  const std::string e = error_of(kPreset, {"pe_array.buffer_port_bytes=-1"});
  EXPECT_NE(e.find("key 'pe_array.buffer_port_bytes': expected an integer from 0 to 65536, got '-1'"),
            std::string::npos)
      << e;
}

TEST(PlatformConfig, OverridesApplyAndTheLastOneWins) {
  const PlatformConfig c = load_platform(kPreset, {"pe_array.rows=16", "pe_array.rows=32", "npu.clock_mhz=1000"});
  EXPECT_EQ(c.npu.cluster.array.rows, 32u);
  EXPECT_DOUBLE_EQ(c.npu.clock_mhz, 1000);
  EXPECT_EQ(c.resolved["pe_array"]["rows"], 32);
}

// Entries are at the table's own node: energy_scaling moves them like the file's.
TEST(PlatformConfig, EnergyTableEntriesAreSetAtTheTablesNode) {
  const PlatformConfig c = load_platform(kPreset, {"energy.mac_int8_pj=0.6", "energy.leakage.control_mw=2"});
  EXPECT_DOUBLE_EQ(c.energy.mac_int8_pj, 0.6);
  EXPECT_DOUBLE_EQ(c.energy.leakage_control_mw, 2.0);
  EXPECT_DOUBLE_EQ(c.energy.mac_int4_pj, 0.075);
  EXPECT_EQ(c.energy_file, "configs/energy/horowitz-45nm.yaml");
  EXPECT_EQ(c.resolved["energy"]["table"], "configs/energy/horowitz-45nm.yaml");
  const PlatformConfig back = load_platform(write_temp("npuvp_energy_platform.yaml", c.resolved.dump(2)), {});
  EXPECT_EQ(back.resolved, c.resolved);
  EXPECT_DOUBLE_EQ(back.energy.mac_int8_pj, 0.6);
  const double factor = (16.0 / 45) * (0.8 / 0.9) * (0.8 / 0.9);
  const PlatformConfig scaled = load_platform(
      kPreset, {"energy.mac_int8_pj=0.6", "energy_scaling={node_nm: 16, vdd: 0.8}", "energy.sram.pj_per_byte=5"});
  EXPECT_DOUBLE_EQ(scaled.energy.mac_int8_pj, 0.6 * factor);
  EXPECT_DOUBLE_EQ(scaled.energy.sram_pj_per_byte, 5 * factor);
}

TEST(PlatformConfig, EnergyTableEntriesAreValidated) {
  const std::string unknown = error_of(kPreset, {"energy.mac_int9_pj=1"});
  EXPECT_NE(unknown.find("energy.mac_int9_pj"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("mac_int8_pj"), std::string::npos) << unknown;
  const std::string negative = error_of(kPreset, {"energy.noc.pj_per_flit_byte_hop=-1"});
  EXPECT_NE(negative.find("pj_per_flit_byte_hop"), std::string::npos) << negative;
  EXPECT_NE(error_of(kPreset, {"energy.leakage.control_mw=0"}), "");
}

TEST(PlatformConfig, DerivedKeysAreRefusedWithTheirOrigin) {
  std::string e = error_of(kPreset, {"noc.clock_mhz=5000"});
  EXPECT_NE(e.find("key 'noc.clock_mhz': derived from npu.clock_mhz (the NoC runs in the NPU clock domain); set "
                   "npu.clock_mhz instead"),
            std::string::npos)
      << e;
  e = error_of(kPreset, {"sram.clock_mhz=5000"});
  EXPECT_NE(e.find("key 'sram.clock_mhz': derived from npu.clock_mhz"), std::string::npos) << e;
  e = error_of(kPreset, {"noc.targets=[]"});
  EXPECT_NE(e.find("key 'noc.targets': derived from sram.banks"), std::string::npos) << e;
  // In a preset file as on the command line.
  std::string preset = preset_text();
  const std::string noc = "noc:\n";
  preset.replace(preset.find(noc), noc.size(), noc + "  initiators: [{name: dma, x: 0, y: 0}]\n");
  e = error_of(write_temp("npuvp_derived_key.yaml", preset), {});
  EXPECT_NE(e.find("npuvp_derived_key.yaml: key 'noc.initiators': derived from npu.clusters"), std::string::npos) << e;
}

// Found by fuzz_platform_yaml (fuzz/corpus/platform_yaml/regression-list-as-key.yaml):
// yaml-cpp's bad conversion escaped, naming neither file nor key.
TEST(PlatformConfig, AKeyThatIsNotANameIsRefusedWithWhereItIs) {
  std::string preset = preset_text();
  const std::string noc = "noc:\n";
  preset.replace(preset.find(noc), noc.size(), noc + "  ? {router_cycles: 2}\n  : 3\n");
  const std::string e = error_of(write_temp("npuvp_map_key.yaml", preset), {});
  EXPECT_NE(e.find("npuvp_map_key.yaml: key under 'noc': expected a name, got a map"), std::string::npos) << e;
  EXPECT_NE(error_of(kPreset, {"simulation.vcd_include=[[soc]]"})
                .find("key 'simulation.vcd_include[0]': expected a "
                      "scope prefix such as soc.npu"),
            std::string::npos)
      << error_of(kPreset, {"simulation.vcd_include=[[soc]]"});
}

TEST(PlatformConfig, ReportPlatformSectionLoadsBackAsTheSamePreset) {
  const PlatformConfig c = load_platform(kPreset, {"npu.clock_mhz=1000", "pe_array.rows=16", "sram.banks=8"});
  EXPECT_DOUBLE_EQ(c.resolved["derived"]["clock_mhz"]["noc"], 1000);
  EXPECT_EQ(c.resolved["derived"]["noc"]["targets"][0]["base"], address_map::kSramBase);
  const PlatformConfig back = load_platform(write_temp("npuvp_report_platform.yaml", c.resolved.dump(2)), {});
  EXPECT_EQ(back.resolved, c.resolved);
  EXPECT_DOUBLE_EQ(back.npu.clock_mhz, 1000);
  EXPECT_EQ(back.npu.cluster.array.rows, 16u);
  EXPECT_EQ(back.npu.sram_banks, 8u);
}

TEST(PlatformConfig, EnergyScalesToAnotherNode) {
  const PlatformConfig c = load_platform(kPreset, {"energy_scaling={node_nm: 16, vdd: 0.8}"});
  // (16 / 45) x (0.8 / 0.9)^2 of the 45 nm, 0.9 V table.
  const double factor = 16.0 / 45.0 * (0.8 / 0.9) * (0.8 / 0.9);
  EXPECT_NEAR(c.energy.mac_int8_pj, 0.3 * factor, 1e-12);
  EXPECT_NEAR(c.energy.sram_pj_per_byte, 4.0 * factor, 1e-12);
  const std::string e = error_of(kPreset, {"energy_scaling={node_nm: 16}"});
  EXPECT_NE(e.find("key 'energy_scaling.vdd'"), std::string::npos) << e;
}

// Energies and the node they scale to are bounded, so that no run's totals
// overflow (a supply of 1e154 V once made them infinite and the report's
// chart crashed).
TEST(PlatformConfig, EnergyFiguresAreBoundedSoThatTotalsStayFinite) {
  const auto expect_error = [](std::vector<std::string> sets, const std::string& text) {
    const std::string e = error_of(kPreset, sets);
    EXPECT_NE(e.find(text), std::string::npos) << e;
  };
  expect_error({"energy_scaling={node_nm: 16, vdd: 1e154}"},
               "key 'energy_scaling.vdd': expected a number from 0.1 to 10 V, got '1e154'");
  expect_error({"energy_scaling={node_nm: 1e300, vdd: 0.8}"},
               "key 'energy_scaling.node_nm': expected a number from 1 to 1000 nm, got '1e300'");
  expect_error({"energy.mac_int8_pj=1e307"}, "key 'energy.mac_int8_pj': expected a positive number up to 1e+06 pJ");
  expect_error({"energy.noc.pj_per_flit_byte_hop=-1"}, "key 'energy.noc.pj_per_flit_byte_hop': expected a positive");
  expect_error({"energy.leakage.sram_mw_per_kb=2e6"},
               "key 'energy.leakage.sram_mw_per_kb': expected a positive number up to 1e+06 mW");
  EXPECT_DOUBLE_EQ(load_platform(kPreset, {"energy.mac_int8_pj=1e6"}).energy.mac_int8_pj, 1e6);
}

TEST(PlatformConfig, UnknownKeyIsNamed) {
  const std::string e = error_of(kPreset, {"pe_array.rowz=4"});
  EXPECT_NE(e.find("edge-ip.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'pe_array.rowz'"), std::string::npos) << e;
}

TEST(PlatformConfig, FoldingDataMovementIsAFirmwareSwitch) {
  EXPECT_TRUE(load_platform(kPreset, {}).firmware.fold_data_movement);
  EXPECT_FALSE(load_platform(kPreset, {"firmware.fold_data_movement=false"}).firmware.fold_data_movement);
  std::string e = error_of(kPreset, {"firmware.fold_data_movement=maybe"});
  EXPECT_NE(e.find("key 'firmware.fold_data_movement': expected true or false"), std::string::npos) << e;
  e = error_of(kPreset, {"firmware.fold=true"});
  EXPECT_NE(e.find("unknown key 'firmware.fold'"), std::string::npos) << e;
}

// The firmware sees them in the layout it probes (models/npu).
TEST(PlatformConfig, TilingAndReuseChoicesAreFirmwareSwitches) {
  struct Switch {
    std::string key;
    bool FirmwareConfig::*config;
    bool firmware::NpuLayout::*layout;
  };
  for (const Switch& s :
       {Switch{"smaller_tilings", &FirmwareConfig::smaller_tilings, &firmware::NpuLayout::smaller_tilings},
        Switch{"stream_weights", &FirmwareConfig::stream_weights, &firmware::NpuLayout::stream_weights},
        Switch{"column_strips", &FirmwareConfig::column_strips, &firmware::NpuLayout::column_strips},
        Switch{"keep_input_rows", &FirmwareConfig::keep_input_rows, &firmware::NpuLayout::keep_input_rows}}) {
    const PlatformConfig on = load_platform(kPreset, {});
    EXPECT_TRUE(on.firmware.*s.config) << s.key;
    EXPECT_TRUE(npu::Npu::firmware_layout(on.npu).*s.layout) << s.key;
    const PlatformConfig off = load_platform(kPreset, {"firmware." + s.key + "=false"});
    EXPECT_FALSE(off.firmware.*s.config) << s.key;
    EXPECT_FALSE(npu::Npu::firmware_layout(off.npu).*s.layout) << s.key;
    const std::string e = error_of(kPreset, {"firmware." + s.key + "=2"});
    EXPECT_NE(e.find("key 'firmware." + s.key + "': expected true or false"), std::string::npos) << e;
  }
}

TEST(PlatformConfig, FusingLayersIsAFirmwareSwitch) {
  EXPECT_TRUE(load_platform(kPreset, {}).firmware.fuse_layers);
  EXPECT_FALSE(load_platform(kPreset, {"firmware.fuse_layers=false"}).firmware.fuse_layers);
  const std::string e = error_of(kPreset, {"firmware.fuse_layers=2"});
  EXPECT_NE(e.find("key 'firmware.fuse_layers': expected true or false"), std::string::npos) << e;
}

// Errors named the preset file for a value the command line had set; the
// section an override needs is made, so a preset without energy_scaling takes
// --set energy_scaling.node_nm (it said "not a section").
TEST(PlatformConfig, AnOverriddenKeyIsNamedWithItsOverride) {
  const std::string file = std::string(kPreset) + " with --set ";
  EXPECT_EQ(error_of(kPreset, {"pe_array.rows=0"}),
            file + "pe_array.rows=0: key 'pe_array.rows': expected an integer from 1 to 256, got '0'");
  const std::string misspelt_section = file + "nosuch.key=1: unknown key 'nosuch' (known here: area, ";
  EXPECT_EQ(error_of(kPreset, {"nosuch.key=1"}).substr(0, misspelt_section.size()), misspelt_section);
  const std::string misspelt_key = file + "pe_array.rowz=8: unknown key 'pe_array.rowz' (known here: ";
  EXPECT_EQ(error_of(kPreset, {"pe_array.rowz=8"}).substr(0, misspelt_key.size()), misspelt_key);
  EXPECT_EQ(error_of(kPreset, {"energy_scaling.node_nm=7"}),
            file +
                "energy_scaling.node_nm=7: key 'energy_scaling.vdd': expected a value (the key is required), got "
                "nothing");
  EXPECT_EQ(error_of(kPreset, {"name.x=1"}),
            "--set name.x=1: key 'name.x': 'name' holds a value, not a section of keys");
  // A value the file holds is the file's, whatever else was set beside it.
  std::string preset = preset_text();
  preset.replace(preset.find("cols: 8"), 7, "cols: 0");
  const std::string bad = write_temp("npuvp_bad_cols.yaml", preset);
  EXPECT_EQ(error_of(bad, {"pe_array.rows=16"}),
            bad + ": key 'pe_array.cols': expected an integer from 1 to 256, got '0'");
  const PlatformConfig scaled = load_platform(kPreset, {"energy_scaling.node_nm=7", "energy_scaling.vdd=0.8"});
  const PlatformConfig whole = load_platform(kPreset, {"energy_scaling={node_nm: 7, vdd: 0.8}"});
  EXPECT_EQ(scaled.energy.mac_int8_pj, whole.energy.mac_int8_pj);
  EXPECT_LT(scaled.energy.mac_int8_pj, load_platform(kPreset, {}).energy.mac_int8_pj);
}

// Twenty digits are an integer out of range, not "not an integer"; of two
// keys that disagree, the one set on the command line is named.
TEST(PlatformConfig, ARangeErrorNamesTheRangeAndTheKeyAtFault) {
  EXPECT_EQ(error_of(kPreset, {"pe_array.rows=12345678901234567890"}),
            std::string(kPreset) +
                " with --set pe_array.rows=12345678901234567890: key 'pe_array.rows': expected an "
                "integer from 1 to 256, got '12345678901234567890'");
  EXPECT_EQ(error_of(kPreset, {"sram.word_bytes=3"}),
            std::string(kPreset) +
                " with --set sram.word_bytes=3: key 'sram.word_bytes': expected a word size that "
                "divides sram.interleave_bytes (1024), got '3'");
  // A key checked against the mesh names the override that shrank the mesh;
  // a section checked whole names the override inside it.
  EXPECT_EQ(error_of(kPreset, {"noc.width=1", "noc.height=1"}),
            std::string(kPreset) +
                " with --set noc.width=1: key 'npu.clusters': expected at most one cluster per mesh "
                "node (1), got '16'");
  EXPECT_EQ(error_of(kPreset, {"npu.control_node.x=9"}),
            std::string(kPreset) +
                " with --set npu.control_node.x=9: key 'npu.control_node': expected a node inside "
                "the mesh, got a map {x: 9, y: 0}");
  EXPECT_NE(error_of(kPreset, {"sram.interleave_bytes=16"})
                .find("with --set sram.interleave_bytes=16: key 'sram.interleave_bytes': expected a power of two that "
                      "is a multiple of word_bytes (32)"),
            std::string::npos);
}

TEST(PlatformConfig, WrongTypeAndRangeNameKeyAndExpectation) {
  std::string e = error_of(kPreset, {"pe_array.rows=eight"});
  EXPECT_NE(e.find("key 'pe_array.rows': expected an integer"), std::string::npos) << e;
  e = error_of(kPreset, {"pe_array.rows=0"});
  EXPECT_NE(e.find("key 'pe_array.rows': expected an integer from 1 to 256, got '0'"), std::string::npos) << e;
  e = error_of(kPreset, {"npu.clock_mhz=-5"});
  EXPECT_NE(e.find("key 'npu.clock_mhz': expected a number from 1 to 1e+06 MHz, got '-5'"), std::string::npos) << e;
  e = error_of(kPreset, {"npu.clusters=17"});
  EXPECT_NE(e.find("key 'npu.clusters'"), std::string::npos) << e;
}

TEST(PlatformConfig, TimesThatWouldHangOrExhaustMemoryAreRefused) {
  // Each was accepted and ran for minutes or gigabytes.
  std::string e = error_of(kPreset, {"npu.clock_mhz=1e-9"});
  EXPECT_NE(e.find("key 'npu.clock_mhz': expected a number from 1 to 1e+06 MHz, got '1e-9'"), std::string::npos) << e;
  e = error_of(kPreset, {"host.clock_mhz=1e-6"});
  EXPECT_NE(e.find("key 'host.clock_mhz': expected a number from 1 to 1e+06 MHz, got '1e-6'"), std::string::npos) << e;
  e = error_of(kPreset, {"simulation.power_window_ns=1e-6"});
  EXPECT_NE(e.find("key 'simulation.power_window_ns': expected a number from 0.001 to 1e+09 ns"), std::string::npos)
      << e;
  e = error_of(kPreset, {"simulation.power_window_ns=0.5"});
  EXPECT_NE(e.find("key 'simulation.power_window_ns': expected at least one NPU cycle (1.250000 ns at npu.clock_mhz)"),
            std::string::npos)
      << e;
  e = error_of(kPreset, {"simulation.quantum_ns=0"});
  EXPECT_NE(e.find("key 'simulation.quantum_ns': expected a number from 0.001 to 1e+06 ns"), std::string::npos) << e;
}

TEST(PlatformConfig, MissingAndMalformedFilesAreNamed) {
  std::string e = error_of("configs/platforms/no-such-preset.yaml", {});
  EXPECT_NE(e.find("no-such-preset.yaml: cannot open the file"), std::string::npos) << e;
  const std::string bad = write_temp("npuvp_malformed.yaml", "name: x\nnpu: [1, 2\n");
  e = error_of(bad, {});
  EXPECT_NE(e.find("npuvp_malformed.yaml: malformed YAML at line"), std::string::npos) << e;
  // A file of the wrong kind where a memspec or an energy table belongs said
  // only "unknown key 'description'", naming no key that led to it.
  for (const std::string key : {"dram.memspec", "energy"}) {
    e = error_of(kPreset, {key + "=" + kPreset});
    const std::string tail =
        "(the file of key '" + key + "' in " + kPreset + " with --set " + key + "=" + kPreset + ")";
    EXPECT_EQ(e.rfind(std::string(kPreset) + ": unknown key 'description' (known here: ", 0), 0u) << e;
    EXPECT_EQ(e.substr(e.size() - tail.size()), tail) << e;
  }
  // Both said "cannot open the file", sending the user after one that is there.
  EXPECT_EQ(error_of("/dev/null", {}), "/dev/null: not a regular file, expected a platform file (*.yaml)");
  const std::string dir = std::filesystem::temp_directory_path().string();
  EXPECT_EQ(error_of(dir, {}), dir + ": a directory, expected a platform file (*.yaml)");
}

TEST(PlatformConfig, MissingRequiredKeyIsNamed) {
  const std::string file = write_temp("npuvp_no_npu.yaml", "name: x\n");
  const std::string e = error_of(file, {});
  EXPECT_NE(e.find("key 'npu': expected a value (the key is required)"), std::string::npos) << e;
}

TEST(PlatformConfig, ARepeatedKeyIsRefusedWithBothLines) {
  // yaml-cpp reads the first and dumps the last: a run simulated one value
  // and recorded the other in report.json.
  std::string text = preset_text();
  const auto at = text.find("  rows: 8\n");
  ASSERT_NE(at, std::string::npos);
  text.insert(at, "  rows: 16\n");
  const std::string file = write_temp("npuvp_repeated_key.yaml", text);
  const std::string e = error_of(file, {});
  EXPECT_NE(e.find("npuvp_repeated_key.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find(": key 'pe_array.rows' appears twice (lines "), std::string::npos) << e;
  EXPECT_NE(e.find("expected each key once"), std::string::npos) << e;
}

}  // namespace
}  // namespace npuvp::platform
