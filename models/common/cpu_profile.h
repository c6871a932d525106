#pragma once
// Where a run's host CPU time goes, for `npuvp bench`: each phase adds the
// CPU time of the thread that ran it (CLOCK_THREAD_CPUTIME_ID), so phases on
// different threads add up to the process's CPU time, not to its wall time.
// Process-wide counters: they describe the host, never the simulated
// platform, and reach report.json only under sim.*.

#include <time.h>

#include <array>
#include <atomic>
#include <cstdint>

namespace npuvp::profile {

enum class Phase {
  kPrepare,    // network built, weights, calibration, quantization (or read from the cache)
  kReference,  // the host int8 reference outputs and the SQNR pass
  kCompute,    // the cluster kernels' functional compute, inside the simulation
  kSimulate,   // the whole simulation (kCompute included)
  kOutputs,    // report, traces closed, tensors dumped
  kCount
};

inline std::array<std::atomic<std::int64_t>, static_cast<std::size_t>(Phase::kCount)> phase_ns{};

inline std::int64_t thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

inline double seconds(Phase p) { return static_cast<double>(phase_ns[static_cast<std::size_t>(p)].load()) * 1e-9; }

// Adds the current thread's CPU time over its lifetime to `phase`.
class Scope {
 public:
  explicit Scope(Phase p) : phase_(p), start_(thread_cpu_ns()) {}
  ~Scope() { phase_ns[static_cast<std::size_t>(phase_)] += thread_cpu_ns() - start_; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Phase phase_;
  std::int64_t start_;
};

}  // namespace npuvp::profile
