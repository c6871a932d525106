#pragma once
// A small run whose every figure is computed by hand (see crafted_record.cpp),
// so tests can compare the writers' output with known numbers.

#include <filesystem>
#include <string>

#include "platform/report/run_record.h"

namespace npuvp::report::testing {

// Three layers on a 1 GHz, 1-cluster 4x4 array: 200 us, 10.4 uJ in total.
RunRecord crafted_record();

// The hand-computed figures the tests check against.
struct Expected {
  static constexpr double kEnergyPj = 10'400'000;
  static constexpr double kLatencyMs = 0.2;
  static constexpr double kAvgPowerMw = 52;
  static constexpr double kPeakPowerMw = 89;
  static constexpr double kTotalMacs = 1'300'000;
};

// An empty directory for one test's outputs under the system temp dir,
// removed at scope exit unless the test failed (then kept for a look).
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& file) const { return path_ / file; }

 private:
  std::filesystem::path path_;
};

std::string read_text(const std::filesystem::path& path);

}  // namespace npuvp::report::testing
