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

// A stretch that never blocks (a cluster kernel's call) has its thread's CPU
// for as long as it runs, so its wall time stands for its CPU time. The wall
// clock is read in user space (vDSO, about 25 ns), the thread's CPU clock
// through a system call: 1.3-1.5 us on the bench's virtual machine, where
// two per job (19,500 in a ResNet-50 run) took 2 % of the run. Time the
// host takes the core away while it runs counts as the stretch's.
inline std::int64_t running_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Adds the time between its construction and destruction to `phase`, on
// `Clock`: thread_cpu_ns for a phase that may block or wait, running_ns for
// one that does not and runs often.
template <std::int64_t (*Clock)()>
class ScopeOn {
 public:
  explicit ScopeOn(Phase p) : phase_(p), start_(Clock()) {}
  ~ScopeOn() { phase_ns[static_cast<std::size_t>(phase_)] += Clock() - start_; }
  ScopeOn(const ScopeOn&) = delete;
  ScopeOn& operator=(const ScopeOn&) = delete;

 private:
  Phase phase_;
  std::int64_t start_;
};

// Adds the current thread's CPU time over its lifetime to `phase`.
using Scope = ScopeOn<thread_cpu_ns>;
// Adds its lifetime, which never blocks, to `phase` (running_ns).
using RunningScope = ScopeOn<running_ns>;

}  // namespace npuvp::profile
