// The `dram:` section and memspec files: good files load, bad ones give an
// error naming the file and the key.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "platform/config/dram_yaml.h"

namespace npuvp::config {
namespace {

namespace fs = std::filesystem;

class DramYaml : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("npuvp_dram_yaml_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  // The shipped LPDDR4-3200 memspec with one line replaced.
  std::string memspec_with(const std::string& from, const std::string& to) {
    std::ifstream in("configs/dram/lpddr4-3200.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    return write("memspec.yaml", text);
  }
  dram::DramConfig parse_preset(const std::string& dram_section) {
    const std::string file = write("preset.yaml", "dram:\n" + dram_section);
    return parse_dram(ConfigNode::load_file(file).child("dram"));
  }
  void expect_error(const std::function<void()>& f, const std::string& file, const std::string& key) {
    try {
      f();
      ADD_FAILURE() << "no error for " << key;
    } catch (const ConfigError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(file), std::string::npos) << m;
      EXPECT_NE(m.find("'" + key + "'"), std::string::npos) << m;
    }
  }

  fs::path dir_;
};

TEST_F(DramYaml, ShippedMemspecsCarryTheIssueNumbers) {
  const dram::Memspec m = load_memspec("configs/dram/lpddr4-3200.yaml");
  EXPECT_DOUBLE_EQ(m.tck_ns, 0.625);
  EXPECT_EQ(m.rl, 28u);
  EXPECT_EQ(m.wl, 14u);
  EXPECT_EQ(m.trcd, 29u);
  EXPECT_EQ(m.trppb, 29u);
  EXPECT_EQ(m.trpab, 34u);
  EXPECT_EQ(m.tras, 68u);
  EXPECT_EQ(m.trrd, 16u);
  EXPECT_EQ(m.tfaw, 64u);
  EXPECT_EQ(m.tccd, 8u);
  EXPECT_EQ(m.twr, 29u);
  EXPECT_EQ(m.twtr, 16u);
  EXPECT_EQ(m.trtp, 12u);
  EXPECT_EQ(m.trfcab, 448u);
  EXPECT_EQ(m.trefi, 6246u);
  EXPECT_EQ(m.rows, 65536u);
  EXPECT_EQ(m.columns, 1024u);
  EXPECT_EQ(m.page_bytes(), 2048u);
  const dram::Memspec x = load_memspec("configs/dram/lpddr4x-4266.yaml");
  // 4 channels of 16-bit LPDDR4X-4266: about 34 GB/s.
  EXPECT_NEAR(4 * x.peak_gbps(), 34.19, 0.01);
}

TEST_F(DramYaml, PresetSectionWithDefaults) {
  const dram::DramConfig c = parse_preset(
      "  memspec: configs/dram/lpddr4x-4266.yaml\n  channels: 4\n  mapping: brc\n  page_policy: closed\n"
      "  per_bank_refresh: true\n  backing_mib: 64\n");
  EXPECT_EQ(c.channels, 4u);
  EXPECT_EQ(c.mapping, dram::AddressMapping::kBankRowColumn);
  EXPECT_EQ(c.page_policy, dram::PagePolicy::kClosed);
  EXPECT_TRUE(c.per_bank_refresh);
  EXPECT_EQ(c.backing_bytes, 64u << 20);
  EXPECT_EQ(c.queue_depth, 16u);
  EXPECT_EQ(c.memspec.name, "LPDDR4X-4266 8Gb x16");
}

TEST_F(DramYaml, WriteBatchingAndProtocolCheck) {
  const std::string spec = "  memspec: configs/dram/lpddr4-3200.yaml\n  channels: 1\n";
  const dram::DramConfig off = parse_preset(spec);
  EXPECT_EQ(off.write_high_watermark, 0u);
  EXPECT_FALSE(off.protocol_check);
  const dram::DramConfig on =
      parse_preset(spec + "  write_high_watermark: 32\n  write_low_watermark: 8\n  protocol_check: true\n");
  EXPECT_EQ(on.write_high_watermark, 32u);
  EXPECT_EQ(on.write_low_watermark, 8u);
  EXPECT_TRUE(on.protocol_check);
  const std::string preset = (dir_ / "preset.yaml").string();
  expect_error([&] { parse_preset(spec + "  write_high_watermark: 8\n  write_low_watermark: 8\n"); }, preset,
               "dram.write_low_watermark");
  expect_error([&] { parse_preset(spec + "  write_high_watermark: 1000\n"); }, preset, "dram.write_high_watermark");
  expect_error([&] { parse_preset(spec + "  protocol_check: maybe\n"); }, preset, "dram.protocol_check");
}

TEST_F(DramYaml, MemspecPathBesideThePreset) {
  write("part.yaml", [] {
    std::ifstream in("configs/dram/lpddr4-3200.yaml");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }());
  EXPECT_EQ(parse_preset("  memspec: part.yaml\n  channels: 1\n").memspec.rl, 28u);
}

TEST_F(DramYaml, BadMemspecValuesNameFileAndKey) {
  std::string f = memspec_with("  trcd: 29 ", "  trcd: fast ");
  expect_error([&] { load_memspec(f); }, f, "timing.trcd");
  f = memspec_with("  trc: 97 ", "  trc: 90 ");  // shorter than tRAS + tRPpb
  expect_error([&] { load_memspec(f); }, f, "timing.trc");
  f = memspec_with("  burst_length: 16", "  burst_length: 8");
  expect_error([&] { load_memspec(f); }, f, "geometry.burst_length");
  f = memspec_with("  rl: 28 ", "  rl: 28\n  tcl: 5 ");
  expect_error([&] { load_memspec(f); }, f, "timing.tcl");
  f = memspec_with("    idd3n: 30.0 ", "    idd3n: 20.0 ");  // below IDD2N
  expect_error([&] { load_memspec(f); }, f, "power.vdd2 currents");
  f = memspec_with("  columns: 1024 ", "  columns: 1000 ");
  expect_error([&] { load_memspec(f); }, f, "geometry.columns");
}

TEST_F(DramYaml, BadPresetValuesNameFileAndKey) {
  const std::string preset = (dir_ / "preset.yaml").string();
  const std::string spec = "  memspec: configs/dram/lpddr4-3200.yaml\n";
  const std::string one = spec + "  channels: 1\n";
  expect_error([&] { parse_preset(one + "  mapping: rcb\n"); }, preset, "dram.mapping");
  expect_error([&] { parse_preset(one + "  chanels: 2\n"); }, preset, "dram.chanels");
  expect_error([&] { parse_preset(spec + "  channels: 0\n"); }, preset, "dram.channels");
  expect_error([&] { parse_preset(one + "  channel_interleave_bytes: 48\n"); }, preset,
               "dram.channel_interleave_bytes");
  expect_error([&] { parse_preset(spec + "  channels: 1\n  backing_mib: 4096\n"); }, preset, "dram.backing_mib");
  expect_error([&] { parse_preset("  memspec: configs/dram/nope.yaml\n  channels: 1\n"); }, preset, "dram.memspec");
  expect_error([&] { parse_preset("  channels: 2\n"); }, preset, "dram.memspec");
  expect_error([&] { parse_preset(spec); }, preset, "dram.channels");  // a preset names its channel count
}

}  // namespace
}  // namespace npuvp::config
