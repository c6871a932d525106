#include "models/common/cpu_profile.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>

namespace npuvp::profile {
namespace {

std::int64_t phase(Phase p) { return phase_ns[static_cast<std::size_t>(p)].load(); }

// Spins (never blocks) until `ns` of wall time have passed.
void spin_for(std::chrono::nanoseconds ns) {
  const auto until = std::chrono::steady_clock::now() + ns;
  while (std::chrono::steady_clock::now() < until) {
  }
}

// A running scope adds its lifetime: at least the stretch it spun for, on the
// same monotonic clock steady_clock reads.
TEST(CpuProfile, RunningScopeAddsItsLifetimeToItsPhase) {
  const std::int64_t before = phase(Phase::kCompute), other = phase(Phase::kOutputs);
  {
    const RunningScope scope(Phase::kCompute);
    spin_for(std::chrono::milliseconds(2));
  }
  EXPECT_GE(phase(Phase::kCompute) - before, 2'000'000);
  EXPECT_EQ(phase(Phase::kOutputs), other);
}

// A CPU scope adds the thread's CPU time: a spin's wall time is CPU time up
// to what the host takes away, so it adds something, and no more than the
// wall time it spans.
TEST(CpuProfile, CpuScopeAddsTheThreadsCpuTime) {
  const std::int64_t before = phase(Phase::kOutputs);
  const auto start = std::chrono::steady_clock::now();
  {
    const Scope scope(Phase::kOutputs);
    spin_for(std::chrono::milliseconds(2));
  }
  const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_GT(phase(Phase::kOutputs) - before, 0);
  EXPECT_LE(phase(Phase::kOutputs) - before, wall.count());
}

}  // namespace
}  // namespace npuvp::profile
