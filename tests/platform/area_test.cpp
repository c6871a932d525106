// The area model on a platform: a tiny preset against the table's figures by
// hand, the node scaling law, and a bad area table refused naming the key.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "platform/config/config_node.h"
#include "platform/platform_config.h"

namespace npuvp::platform {
namespace {

const char* kPreset = "configs/platforms/edge-ip.yaml";
const char* kTable = "configs/area/45nm.yaml";

// One 2x2 cluster on a 2x1 mesh: every structure small enough to sum by hand.
const std::vector<std::string> kTiny = {"npu.clusters=1",
                                        "pe_array.rows=2",
                                        "pe_array.cols=2",
                                        "pe_array.rf_entries=4",
                                        "pe_array.weight_buffer_kb=2",
                                        "pe_array.input_buffer_kb=8",
                                        "sram.banks=2",
                                        "sram.bank_kb=2",
                                        "noc.width=2",
                                        "noc.height=1",
                                        "noc.flit_bytes=4",
                                        "noc.virtual_channels=1",
                                        "noc.buffer_flits=4",
                                        "dma.channels=2",
                                        "dma.noc_ports=1"};

void expect_mm2(double got, double want) { EXPECT_NEAR(got, want, 1e-12 * want); }

TEST(AreaModel, TinyPlatformMatchesTheTableByHand) {
  const PlatformConfig c = load_platform(kPreset, kTiny);
  const power::AreaBreakdown a = platform_area(c);
  // µm² from configs/area/45nm.yaml. 4 PEs of int16 (1130) + fp16 (3000) MACs.
  expect_mm2(a.pe, 4 * (1130.0 + 3000) * 1e-6);
  // 4 PEs × 4 entries × 16 bits × 6.384
  expect_mm2(a.rf, 4 * 4 * 16 * 6.384 * 1e-6);
  // A macro of b bits: b × 0.346 + 76 × sqrt(b). 2 KiB = 16384 bits (sqrt 128),
  // 8 KiB = 65536 bits (sqrt 256).
  const double kb2 = 16384 * 0.346 + 76 * 128.0, kb8 = 65536 * 0.346 + 76 * 256.0;
  expect_mm2(a.buffer, (kb2 + kb8) * 1e-6);
  expect_mm2(a.sram, 2 * kb2 * 1e-6);
  // Two 2-port routers of 32-bit flits: buffers 2 × 1 VC × 4 flits × 32 × 4.522,
  // crossbar 2 × 1 × 32 × 1.862, allocators 2 × 798; two links of 32 × 3.192.
  const double router = 2 * 4 * 32 * 4.522 + 2 * 32 * 1.862 + 2 * 798.0;
  expect_mm2(a.noc, (2 * router + 2 * 32 * 3.192) * 1e-6);
  // 2 DMA channels × 20 + 1 cluster × 10 + 100 kgates of NAND2 (0.798)
  expect_mm2(a.other, 150e3 * 0.798 * 1e-6);
  expect_mm2(a.total(), 0.23212624);
  EXPECT_DOUBLE_EQ(c.resolved["derived"]["area_mm2"]["total"].get<double>(), a.total());
}

TEST(AreaModel, ScalesWithTheSquareOfTheNode) {
  const power::AreaBreakdown at45 = platform_area(load_platform(kPreset, {}));
  const power::AreaBreakdown at16 = platform_area(load_platform(kPreset, {"energy_scaling={node_nm: 16, vdd: 0.8}"}));
  const double factor = (16.0 / 45) * (16.0 / 45);
  expect_mm2(at16.pe, at45.pe * factor);
  expect_mm2(at16.sram, at45.sram * factor);
  expect_mm2(at16.noc, at45.noc * factor);
  expect_mm2(at16.other, at45.other * factor);
  expect_mm2(at16.total(), at45.total() * factor);
}

std::string error_with_table(const std::string& from, const std::string& to) {
  std::ifstream in(kTable);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find(from), from.size(), to);
  const auto path = std::filesystem::temp_directory_path() / "npuvp_bad_area.yaml";
  std::ofstream(path) << text;
  try {
    load_platform(kPreset, {"area=" + path.string()});
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(AreaModel, BadAreaKeyIsRefusedNamingIt) {
  std::string e = error_with_table("  cell_um2:", "  cel_um2:");
  EXPECT_NE(e.find("sram.cel_um2"), std::string::npos) << e;
  e = error_with_table("int8_um2: 419", "int8_um2: -419");
  EXPECT_NE(e.find("mac.int8_um2"), std::string::npos) << e;
  e = error_with_table("  word_bits: 16", "");
  EXPECT_NE(e.find("register_file.word_bits"), std::string::npos) << e;
}

}  // namespace
}  // namespace npuvp::platform
