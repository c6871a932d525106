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

// Exact distribution of packet latencies (cycles): a count per value, so
// percentiles are exact. Latencies are small (a ResNet-50 run's longest is
// about 8,000 cycles), so values below kDenseLimit are counted in a flat array
// indexed by the value, grown to the largest seen; it is updated once per
// packet, where a tree node per value cost a cache miss or two. Larger values
// are counted in a map.
class LatencyHistogram {
 public:
  static constexpr std::uint64_t kDenseLimit = std::uint64_t{1} << 16;

  void add(std::uint64_t cycles) {
    ++count_;
    sum_ += cycles;
    if (cycles > max_) max_ = cycles;
    if (cycles < dense_.size())
      ++dense_[cycles];
    else
      add_rare(cycles);
  }
  std::uint64_t count() const { return count_; }
  double mean() const { return count_ == 0 ? 0.0 : double(sum_) / double(count_); }
  std::uint64_t max() const { return max_; }
  // Smallest latency at or above which lies the fraction 1 - q of samples
  // (nearest-rank); 0 when empty.
  std::uint64_t percentile(double q) const;

 private:
  void add_rare(std::uint64_t cycles);

  std::vector<std::uint64_t> dense_;               // count per value below its size
  std::map<std::uint64_t, std::uint64_t> sparse_;  // values of kDenseLimit and above
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
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
