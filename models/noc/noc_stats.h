#pragma once
// Cumulative NoC statistics, the same for the fast and the cycle-level model.
// Counts are in flits, flit-hops (router traversals of one flit, what NoC
// energy is charged by) and cycles of the NoC clock.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace npuvp::noc {

class Mesh;

// Exact distribution of packet latencies (cycles). Latencies take few
// distinct values, so a count per value stays small and percentiles are exact.
class LatencyHistogram {
 public:
  void add(std::uint64_t cycles);
  std::uint64_t count() const { return count_; }
  double mean() const { return count_ == 0 ? 0.0 : double(sum_) / double(count_); }
  std::uint64_t max() const { return counts_.empty() ? 0 : counts_.rbegin()->first; }
  // Smallest latency at or above which lies the fraction 1 - q of samples
  // (nearest-rank); 0 when empty.
  std::uint64_t percentile(double q) const;

 private:
  std::map<std::uint64_t, std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
};

struct LinkStats {
  std::string name;               // "r1_2.E": router (1,2), east output
  std::uint64_t flits = 0;        // flits carried
  std::uint64_t busy_cycles = 0;  // cycles held by a packet, including stalls
};

struct NocStats {
  std::uint64_t packets = 0;
  std::uint64_t multicast_packets = 0;  // also counted in packets
  std::uint64_t flits = 0;              // injected
  std::uint64_t flit_hops = 0;
  LatencyHistogram latency;      // cycles from ready at the source to tail delivered (last one, multicast)
  std::vector<LinkStats> links;  // existing channels: injection, router outputs, ejection

  // elapsed_cycles is the time span utilization is computed over.
  nlohmann::json to_json(std::uint64_t elapsed_cycles, double cycle_ns) const;
  std::string to_text(std::uint64_t elapsed_cycles, double cycle_ns) const;
};

// Fills `links` with one named entry per existing channel (ports at the mesh
// edge have none) and returns each channel's index into it, -1 for none.
std::vector<int> make_link_stats(const Mesh& mesh, std::vector<LinkStats>& links);

}  // namespace npuvp::noc
