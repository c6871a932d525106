#pragma once
// Runs a network in this process on a shipped preset with `--set`-style
// overrides, as `npuvp run` would, and returns its report.json; for tests
// that compare a mechanism on and off on one network.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "platform/platform_config.h"
#include "platform/run.h"

namespace npuvp::test {

inline nlohmann::json run_on_preset(const std::string& network, const std::vector<std::string>& overrides,
                                    const std::string& out_name,
                                    const std::string& preset = "configs/platforms/edge-ip.yaml") {
  const platform::PlatformConfig config = platform::load_platform(preset, overrides);
  platform::RunOptions options;
  options.network = network;
  // ctest runs a file's tests side by side, each in a process of its own:
  // the test's name keeps two of them from writing the same files at once.
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  options.out_dir =
      (std::filesystem::temp_directory_path() / (out_name + (test ? std::string("_") + test->name() : ""))).string();
  return platform::run(config, options);
}

inline const nlohmann::json& report_layer(const nlohmann::json& report, const std::string& name) {
  for (const auto& l : report["layers"])
    if (l["name"] == name) return l;
  throw std::runtime_error("no layer " + name);
}

}  // namespace npuvp::test
