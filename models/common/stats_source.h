#pragma once
// The one way the platform learns what a model did (after DRAMSys's
// StatProvider): each model with activity is a StatsSource that adds its
// monotonic counters to a Counters sample and describes itself in JSON. The
// platform prices and reports differences of samples, never a model's own
// stats structs, so a model can change how it counts without the platform.

#include <array>
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>
#include <systemc>

namespace npuvp::stats {

enum class Unit { kCount, kMacs, kAccesses, kBytes, kCycles, kFlitHops, kByteHops, kPicojoules };

// Every counter any model reports; each is summed over the sources that report it.
enum class Counter : std::size_t {
  kMacs,       // all datatypes; the three below are the non-int8 ones
  kInt4Macs,   // energy per MAC differs by datatype
  kInt16Macs,  //
  kFp16Macs,   //
  kRfAccesses,
  kRfBytes,  // operands at their element width, partial sums at four bytes
  // Bytes read from the clusters' buffers by the arrays (register-file
  // misses) and written into them from SRAM.
  kWeightBufferReadBytes,
  kWeightBufferWriteBytes,
  kInputBufferReadBytes,
  kInputBufferWriteBytes,
  kComputeCycles,          // array cycles, summed over clusters
  kStallCycles,            // cluster job time not covered by compute, summed over clusters
  kBufferPortStallCycles,  // the part of kStallCycles the buffer ports cause
  kWsJobs,                 // convolution jobs run weight-stationary
  kOsJobs,                 // ... and output-stationary
  kOs2dJobs,               // ... and spatial output-stationary
  kSramBytes,              // whole words moved in or out of the banks
  kSramConflictCycles,
  kNocFlitHops,
  kNocBytes,       // data bytes injected (requests' and responses' payloads)
  kNocByteHops,    // each of those times the routers it crossed
  kDmaWaitCycles,  // the firmware idle on DMA with no cluster work pending
  kDmaSystemBytes,
  kDmaLocalBytes,
  kDramReadBytes,
  kDramWriteBytes,
  kDramEnergy,  // the DRAM prices its own commands and background
  // The background share of kDramEnergy: it accrues with time, not with work,
  // so a run that reports another time than it simulated reprices it.
  kDramBackgroundEnergy,
};
inline constexpr std::size_t kCounterCount = static_cast<std::size_t>(Counter::kDramBackgroundEnergy) + 1;

struct CounterInfo {
  const char* name;
  Unit unit;
};
const CounterInfo& info(Counter counter);
const char* unit_name(Unit unit);

// One value per Counter. Doubles: work spread over time (prorated MACs) is
// fractional, and integers stay exact up to 2^53.
class Counters {
 public:
  void add(Counter counter, double amount) { values_[index(counter)] += amount; }
  double operator[](Counter counter) const { return values_[index(counter)]; }
  Counters operator-(const Counters& earlier) const;

 private:
  static std::size_t index(Counter counter) { return static_cast<std::size_t>(counter); }
  std::array<double, kCounterCount> values_{};
};

class StatsSource {
 public:
  virtual ~StatsSource() = default;
  // The model's hierarchical name (sc_object::name() for a module).
  virtual std::string stats_name() const = 0;
  // Adds the model's counters as of `now` into `into`. `now` must not
  // decrease between calls: work spread over an interval is settled as time
  // passes.
  virtual void sample(Counters& into, const sc_core::sc_time& now) = 0;
  // Everything the model counted, for report.json.
  virtual nlohmann::json stats_json() const = 0;
};

}  // namespace npuvp::stats
