#include "models/dram/dram_stats.h"

#include <algorithm>
#include <cmath>

namespace npuvp::dram {

LatencySummary LatencySummary::of(const std::vector<float>& samples_ns) {
  LatencySummary s;
  s.count = samples_ns.size();
  if (s.count == 0) return s;
  std::vector<float> v(samples_ns);
  double sum = 0;
  for (float x : v) sum += x;
  s.mean = sum / double(s.count);
  // Nearest-rank percentiles: the smallest sample with at least p% at or below.
  auto rank = [&](double p) {
    const std::size_t k = std::size_t(std::ceil(p / 100.0 * double(v.size()))) - 1;
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return double(v[k]);
  };
  s.p50 = rank(50);
  s.p99 = rank(99);
  s.max = double(*std::max_element(v.begin(), v.end()));
  return s;
}

nlohmann::json LatencySummary::to_json() const {
  return {{"count", count}, {"mean", mean}, {"p50", p50}, {"p99", p99}, {"max", max}};
}

std::uint64_t DramStats::activates() const {
  std::uint64_t n = 0;
  for (const auto& c : channels) n += c.act;
  return n;
}

std::uint64_t DramStats::column_accesses() const {
  std::uint64_t n = 0;
  for (const auto& c : channels) n += c.column_accesses();
  return n;
}

std::uint64_t DramStats::refreshes() const {
  std::uint64_t n = 0;
  for (const auto& c : channels) n += c.refreshes();
  return n;
}

double DramStats::row_hit_rate() const {
  const std::uint64_t cas = column_accesses();
  if (cas == 0) return 0;
  // Every ACT serves at least one access, so the accesses beyond the ACTs
  // found their row open. A row opened and then closed by refresh before use
  // would count twice; the clamp keeps the rate a rate in that corner.
  const std::uint64_t acts = activates();
  return cas > acts ? double(cas - acts) / double(cas) : 0.0;
}

}  // namespace npuvp::dram
