#include <cstdio>
#include <fstream>

#include <unistd.h>

#include <gtest/gtest.h>

#include "platform/config/noc_yaml.h"

namespace npuvp::config {
namespace {

// Parses `text` as the noc section of a preset file written to disk, so that
// errors carry a real file name. Returns the error message, or "" on success.
std::string parse_error(const std::string& text, noc::NocConfig* out = nullptr) {
  // One file per process: ctest runs the tests of this binary in parallel.
  const std::string file = ::testing::TempDir() + "noc_preset_" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(file) << "noc:\n" << text;
  try {
    const noc::NocConfig c = parse_noc(ConfigNode::load_file(file).child("noc"));
    if (out != nullptr) *out = c;
    return "";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(file), std::string::npos) << what;
    return what;
  }
}

TEST(NocYaml, ParsesAFullSection) {
  noc::NocConfig c;
  ASSERT_EQ(parse_error("  width: 3\n  height: 2\n  flit_bytes: 16\n  router_cycles: 3\n  link_cycles: 2\n"
                        "  buffer_flits: 12\n  virtual_channels: 4\n  header_flits: 2\n  clock_mhz: 1000\n"
                        "  initiators: [{name: dma, x: 0, y: 0}]\n"
                        "  targets:\n    - {name: sram0, x: 2, y: 1, base: 0x80000000, size: 0x10000}\n",
                        &c),
            "");
  EXPECT_EQ(c.width, 3u);
  EXPECT_EQ(c.height, 2u);
  EXPECT_EQ(c.flit_bytes, 16u);
  EXPECT_EQ(c.router_cycles, 3u);
  EXPECT_EQ(c.link_cycles, 2u);
  EXPECT_EQ(c.buffer_flits, 12u);
  EXPECT_EQ(c.virtual_channels, 4u);
  EXPECT_EQ(c.header_flits, 2u);
  EXPECT_DOUBLE_EQ(c.clock_mhz, 1000);
  ASSERT_EQ(c.initiators.size(), 1u);
  EXPECT_EQ(c.initiators[0].name, "dma");
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(c.targets[0].base, 0x80000000u);
  EXPECT_EQ(c.targets[0].size, 0x10000u);
  EXPECT_EQ(c.targets[0].x, 2u);
}

TEST(NocYaml, ErrorsNameTheKey) {
  EXPECT_NE(parse_error("  widht: 4\n").find("unknown key 'noc.widht'"), std::string::npos);
  EXPECT_NE(parse_error("  width: 0\n").find("key 'noc.width': expected an integer from 1 to 256"), std::string::npos);
  EXPECT_NE(parse_error("  clock_mhz: fast\n").find("key 'noc.clock_mhz'"), std::string::npos);
  EXPECT_NE(parse_error("  buffer_flits: 3\n").find("key 'noc.buffer_flits': expected at least"), std::string::npos);
  EXPECT_NE(parse_error("  targets: [{name: a, x: 0, y: 0, base: 0, size: 16, port: 1}]\n")
                .find("unknown key 'noc.targets[0].port'"),
            std::string::npos);
  EXPECT_NE(parse_error("  targets: [{name: a, x: 0, y: 0, base: 0, size: 16}, {name: b, x: 4, y: 0, base: 16, "
                        "size: 16}]\n")
                .find("key 'noc.targets[1].x': expected a column below width 4"),
            std::string::npos);
  EXPECT_NE(parse_error("  targets: [{name: a, x: 0, y: 0, base: 0, size: 32}, {name: b, x: 1, y: 0, base: 16, "
                        "size: 16}]\n")
                .find("key 'noc.targets[1].base': expected a window not overlapping that of 'a'"),
            std::string::npos);
  EXPECT_NE(parse_error("  targets: [{name: a, x: 0, y: 0, base: -1, size: 32}]\n").find("key 'noc.targets[0].base'"),
            std::string::npos);
  EXPECT_NE(parse_error("  initiators: [{name: a, x: 0, y: 0}, {name: a, x: 1, y: 0}]\n")
                .find("key 'noc.initiators[1].name'"),
            std::string::npos);
  EXPECT_NE(parse_error("  initiators: [{x: 0, y: 0}]\n").find("key 'noc.initiators[0].name'"), std::string::npos);
}

// A configuration built without the YAML (a packet trace's header, the API)
// meets the same ranges: the models allocate per cycle of latency and per
// buffered flit, and the credit round trip is summed in 32 bits.
TEST(NocConfigValidate, RangesBoundWhatTheModelsAllocateBy) {
  struct Case {
    unsigned noc::NocConfig::*member;
    unsigned value;
    const char* key;
    const char* expected;
  };
  const Case cases[] = {
      {&noc::NocConfig::link_cycles, 2147483648u, "link_cycles", "an integer from 1 to 64, got 2147483648"},
      {&noc::NocConfig::router_cycles, 65, "router_cycles", "an integer from 1 to 64, got 65"},
      {&noc::NocConfig::buffer_flits, 4097, "buffer_flits", "an integer from 4 to 4096, got 4097"},
      {&noc::NocConfig::flit_bytes, 0, "flit_bytes", "an integer from 1 to 4096, got 0"},
      {&noc::NocConfig::header_flits, 65, "header_flits", "an integer from 1 to 64, got 65"},
      {&noc::NocConfig::header_flits, 8, "buffer_flits",
       "more than header_flits = 8 so a multicast packet, at most a buffer long, carries data, got 8"},
  };
  for (const Case& c : cases) {
    noc::NocConfig config;
    config.*c.member = c.value;
    try {
      noc::validate(config);
      ADD_FAILURE() << c.key << " " << c.value << " accepted";
    } catch (const noc::NocConfigError& e) {
      EXPECT_EQ(e.key(), c.key);
      EXPECT_EQ(e.expected(), c.expected);
    }
  }
  noc::NocConfig deepest;
  deepest.buffer_flits = 4096;
  EXPECT_NO_THROW(noc::validate(deepest));
}

}  // namespace
}  // namespace npuvp::config
