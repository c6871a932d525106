#include "bench/dram_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <tuple>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench/options.h"
#include "models/dram/dram_system.h"
#include "models/dram/protocol_checker.h"
#include "platform/config/data_root.h"
#include "platform/config/dram_yaml.h"

namespace npuvp::bench {
namespace po = boost::program_options;
using namespace npuvp::dram;

namespace {

using UsageError = std::invalid_argument;

template <typename T>
T pick(const std::string& option, const std::string& value, const std::map<std::string, T>& choices) {
  auto it = choices.find(value);
  if (it != choices.end()) return it->second;
  std::string list;
  for (const auto& [k, v] : choices) list += (list.empty() ? "" : "|") + k;
  throw UsageError("--" + option + " '" + value + "': expected one of " + list);
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The share of a window that all-bank refreshes take from the data bus (per-bank
// refresh is not charged).
double all_bank_refresh_share(const DramConfig& config, double window_ns) {
  const Memspec& s = config.memspec;
  if (config.per_bank_refresh) return 0.0;
  if (window_ns <= 0) return double(s.trfcab) / s.trefi;
  // Only the refreshes falling due inside the window take bus time from it:
  // a run shorter than tREFI may see none.
  const double refi_ns = s.trefi * s.tck_ns;
  return std::floor(window_ns / refi_ns) * s.trfcab * s.tck_ns / window_ns;
}

}  // namespace

DramBound dram_bound(const DramConfig& config, const TrafficOptions& traffic, double window_ns) {
  const Memspec& s = config.memspec;
  const double refresh_share = all_bank_refresh_share(config, window_ns);
  const double available = 1.0 - refresh_share;
  DramBound bound;

  // Walk the start of the stream to see how it spreads over channels and banks
  // and how often it leaves an open row.
  const AddressMapper mapper(config);
  const std::uint64_t range =
      traffic.range_bytes != 0 ? std::min(traffic.range_bytes, config.capacity_bytes()) : config.capacity_bytes();
  AddressStream stream(traffic, range, s.page_bytes());
  std::map<std::pair<unsigned, unsigned>, std::uint32_t> open_row;
  std::set<unsigned> channels;
  std::set<std::pair<unsigned, unsigned>> banks;
  std::uint64_t segments = 0, misses = 0, bytes = 0;
  const std::uint64_t burst = s.burst_bytes();
  const int samples = 4096;
  for (int i = 0; i < samples; ++i) {
    const std::uint64_t a = stream.next();
    std::tuple<unsigned, unsigned, std::uint32_t> last{~0u, ~0u, 0};
    for (std::uint64_t b = a / burst; b <= (a + traffic.size_bytes - 1) / burst; ++b) {
      const DecodedAddress d = mapper.decode(b * burst);
      const std::tuple<unsigned, unsigned, std::uint32_t> here{d.channel, d.bank, d.row};
      if (here == last) continue;
      last = here;
      ++segments;
      channels.insert(d.channel);
      banks.insert({d.channel, d.bank});
      auto it = open_row.find({d.channel, d.bank});
      if (it == open_row.end() || it->second != d.row) ++misses;
      open_row[{d.channel, d.bank}] = d.row;
    }
    bytes += traffic.size_bytes;
  }
  bound.row_miss_fraction = double(misses) / double(segments);
  bound.banks_per_channel = double(banks.size()) / double(channels.size());
  const double channel_share = double(channels.size()) / config.channels;
  const double bus = config.peak_gbps() * channel_share * available;

  // Per channel the stream is a sequence of segments (a request's bytes in one
  // row); a share m of them opens a row. Segments per cycle are limited by the
  // data bus, by the ACTs the misses need (each bank's ACT-to-ACT cycle, tRRD
  // and tFAW across banks) and by the command bus.
  const double m = bound.row_miss_fraction;
  const double bytes_per_segment = double(bytes) / double(segments);
  const double bursts = std::max(1.0, bytes_per_segment / burst);
  const double ccd = s.ccd();
  const bool writes = traffic.operation == Operation::kWrite;
  const bool mix = traffic.operation == Operation::kMix;
  const double f = mix ? traffic.write_fraction : writes ? 1.0 : 0.0;
  const double to_pre = f * s.wr_to_pre() + (1 - f) * s.rd_to_pre();
  const double bursts_per_row = m > 0 ? bursts / m : 1e18;
  // ACT-1, ACT-2 + tRCD to the first RD-1/WR-1, tCCD between the row's
  // bursts, the last one's distance to PRE, then tRP to the next ACT-2, that
  // is ACT-2 before the next ACT-1: the ACT-2 offsets cancel.
  const double bank_cycle =
      std::max<double>(s.trc, s.trcd + (std::min(bursts_per_row, 1e6) - 1) * ccd + to_pre + s.trppb);
  std::vector<std::pair<double, std::string>> segment_rates = {
      {1.0 / (bursts * ccd), "data bus"},
      {1.0 / (m * (s.act_cycles + s.pre_cycles) + bursts * s.cas_cycles), "command bus"}};
  if (m > 0) {
    segment_rates.push_back(
        {bound.banks_per_channel / bank_cycle / m, writes ? "ACT-WR-PRE cycle per bank" : "tRC per bank"});
    segment_rates.push_back({1.0 / s.trrd / m, "tRRD"});
    segment_rates.push_back({4.0 / s.tfaw / m, "tFAW"});
  }
  if (mix && f > 0 && f < 1) {
    // The JESD209-4 distances the controller uses.
    bound.turnaround_cycles = s.turnaround_pair();
    // The controller keeps to one direction while it has row hits of it
    // (FR-FCFS-Grp), and turns when the other direction's oldest burst has
    // waited max_wait_ns in its queue. A run thus lasts at most max_wait_ns:
    // at most M bursts, so a pair of turnarounds comes at best once per M
    // writes, or once per M reads where writes are the majority. (Write
    // batching's watermarks only end runs sooner.)
    const double longest_run = std::ceil(config.max_wait_ns / s.tck_ns) / ccd;
    const double batch = longest_run * std::min(1.0, f / (1 - f));
    bound.writes_per_batch = std::max(1.0, batch);
    // Per burst: tCCD plus the share of a turnaround pair (one pair per batch
    // of W writes, i.e. per W / f bursts).
    const double cycles_per_burst = ccd + bound.turnaround_cycles * f / bound.writes_per_batch;
    segment_rates.push_back({1.0 / (bursts * cycles_per_burst), "data bus + R/W turnaround"});
    bound.turnaround_gbps =
        std::min(bus, bytes_per_segment / (bursts * cycles_per_burst) / s.tck_ns * double(channels.size()) * available);
  }
  const auto& [rate, name] = *std::min_element(segment_rates.begin(), segment_rates.end());
  bound.gbps = std::min(bus, rate * bytes_per_segment / s.tck_ns * double(channels.size()) * available);
  bound.limit = name;
  return bound;
}

namespace {

// What the command line asked for, with the names as given (for the report).
struct BenchSetup {
  DramConfig config;
  TrafficOptions traffic;
  std::string memspec_file, mapping, page_policy, pattern, op, json_file, refresh;
  std::uint64_t stride = 0;
  bool check = true;
};

// What one closed-loop run measured.
struct Measurement {
  std::uint64_t end_cycle = 0;
  double wall_s = 0, cpu_s = 0;
};

// Fills `setup` from argv; returns false after printing --help.
bool parse_options(int argc, const char* const* argv, BenchSetup& setup) {
  std::string channels, requests, size, outstanding, queue_depth, seed, interleave, write_high, write_low, stride;
  const DramConfig defaults;
  po::options_description opts("npuvp dram-bench options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("memspec", po::value(&setup.memspec_file)->default_value("configs/dram/lpddr4x-4266.yaml"), "memspec YAML file")
      ("channels", po::value(&channels)->default_value("4"), "16-bit channels")
      ("mapping", po::value(&setup.mapping)->default_value("rbc"), "address mapping: rbc|brc")
      ("page-policy", po::value(&setup.page_policy)->default_value("open"), "open|closed")
      ("refresh", po::value(&setup.refresh)->default_value("all-bank"), "all-bank|per-bank")
      ("pattern", po::value(&setup.pattern)->default_value("seq"), "seq|random|stride")
      ("stride", po::value(&stride)->default_value("0"), "bytes between requests for --pattern stride (0: one page)")
      ("op", po::value(&setup.op)->default_value("read"), "read|write|mix (mix: half writes)")
      ("requests", po::value(&requests)->default_value("1000000"), "requests to simulate")
      ("size", po::value(&size)->default_value("64"), "bytes per request")
      ("outstanding", po::value(&outstanding)->default_value("64"), "requests in flight (closed loop)")
      ("queue-depth", po::value(&queue_depth)->default_value("16"), "controller queue depth per bank")
      ("interleave", po::value(&interleave)->default_value("256"), "channel interleave, bytes")
      ("write-high", po::value(&write_high)->default_value(std::to_string(defaults.write_high_watermark)),
       "write batching: writes (bursts per channel) that start a drain; 0: no batching")
      ("write-low", po::value(&write_low)->default_value(std::to_string(defaults.write_low_watermark)),
       "write batching: writes left when a drain ends")
      ("seed", po::value(&seed)->default_value("1"), "random seed")
      ("no-check", "do not run the protocol checker (measures the controller alone)")
      ("json", po::value(&setup.json_file), "write the results as JSON to this file (- for standard output)");
  // clang-format on

  po::variables_map vm;
  // Like a program name, argv[0] (the subcommand) is skipped by the parser.
  po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: npuvp dram-bench [options]\n" << opts;
    return false;
  }
  po::notify(vm);
  setup.check = vm.count("no-check") == 0;
  constexpr std::uint64_t kMib = 1u << 20;
  const std::uint64_t size_bytes = parse_count("--size", size, 1, kMib);
  setup.stride = parse_count("--stride", stride, 0, std::uint64_t{1} << 40);
  DramConfig& config = setup.config;
  // Relative to the current directory, else to the data root: runs from anywhere.
  const auto memspec = config::find_config_file(setup.memspec_file, "");
  config.memspec = config::load_memspec(memspec ? memspec->string() : setup.memspec_file);
  config.channels = unsigned(parse_count("--channels", channels, 1, 64));
  config.mapping = pick<AddressMapping>(
      "mapping", setup.mapping, {{"rbc", AddressMapping::kRowBankColumn}, {"brc", AddressMapping::kBankRowColumn}});
  config.page_policy = pick<PagePolicy>("page-policy", setup.page_policy,
                                        {{"open", PagePolicy::kOpen}, {"closed", PagePolicy::kClosed}});
  config.per_bank_refresh = pick<bool>("refresh", setup.refresh, {{"all-bank", false}, {"per-bank", true}});
  config.queue_depth = unsigned(parse_count("--queue-depth", queue_depth, 1, 4096));
  config.channel_interleave_bytes = unsigned(parse_count("--interleave", interleave, 1, std::uint64_t{1} << 30));
  config.write_high_watermark = unsigned(parse_count("--write-high", write_high, 0, kMib));
  config.write_low_watermark = unsigned(parse_count("--write-low", write_low, 0, kMib));
  config.backing_bytes = std::min<std::uint64_t>(config.backing_bytes, config.capacity_bytes());
  try {
    config.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("bad option: ") + e.what());
  }
  TrafficOptions& traffic = setup.traffic;
  traffic.pattern =
      pick<Pattern>("pattern", setup.pattern,
                    {{"seq", Pattern::kSequential}, {"random", Pattern::kRandom}, {"stride", Pattern::kStride}});
  traffic.operation = pick<Operation>(
      "op", setup.op, {{"read", Operation::kRead}, {"write", Operation::kWrite}, {"mix", Operation::kMix}});
  if (setup.stride != 0 && traffic.pattern != Pattern::kStride)
    throw UsageError("--stride: only with --pattern stride");
  traffic.stride_bytes = setup.stride;
  // A billion requests take minutes; more is a typo, not a benchmark.
  traffic.requests = parse_count("--requests", requests, 1, 1'000'000'000);
  traffic.size_bytes = std::uint32_t(size_bytes);
  traffic.outstanding = unsigned(parse_count("--outstanding", outstanding, 1, 65536));
  traffic.seed = parse_count("--seed", seed, 0, UINT64_MAX);
  if (size_bytes > config.capacity_bytes()) throw UsageError("--size: expected at most the device capacity");
  return true;
}

// CPU time beside wall time: on a shared machine the wall figure also
// measures the neighbours.
Measurement measure(DramSystem& system, const TrafficOptions& traffic) {
  Measurement m;
  const std::clock_t cpu_start = std::clock();
  const auto wall_start = std::chrono::steady_clock::now();
  m.end_cycle = run_closed_loop(system, traffic);
  m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  m.cpu_s = double(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  return m;
}

nlohmann::json results_json(const BenchSetup& setup, const DramSystem& system, const Measurement& m,
                            const DramBound& bound, const ProtocolChecker& checker) {
  const DramConfig& config = setup.config;
  const TrafficOptions& traffic = setup.traffic;
  nlohmann::json stats = system.stats_json(m.end_cycle);
  const auto requests = double(traffic.requests);
  const auto optional = [](bool present, const nlohmann::json& value) { return present ? value : nlohmann::json(); };
  return {{"config",
           {{"memspec", config.memspec.name},
            {"memspec_file", setup.memspec_file},
            {"channels", config.channels},
            {"mapping", setup.mapping},
            {"page_policy", setup.page_policy},
            {"refresh", setup.refresh},
            {"pattern", setup.pattern},
            {"stride", traffic.pattern == Pattern::kStride
                           ? (setup.stride ? setup.stride : std::uint64_t{config.memspec.page_bytes()})
                           : 0},
            {"op", setup.op},
            {"requests", traffic.requests},
            {"size", traffic.size_bytes},
            {"outstanding", traffic.outstanding},
            {"queue_depth", config.queue_depth},
            {"write_high_watermark", config.write_high_watermark},
            {"write_low_watermark", config.write_low_watermark},
            {"seed", traffic.seed}}},
          {"bandwidth_gbps", stats["bandwidth_gbps"]},
          {"peak_gbps", config.peak_gbps()},
          {"utilization", stats["utilization"]},
          {"bound_gbps", bound.gbps},
          {"bound_limit", bound.limit},
          {"bound_utilization", bound.gbps / config.peak_gbps()},
          {"mix_bound_gbps", optional(bound.turnaround_cycles > 0, bound.turnaround_gbps)},
          {"writes_per_turnaround", optional(bound.turnaround_cycles > 0, bound.writes_per_batch)},
          {"read_latency_ns", stats["read_latency_ns"]},
          {"write_latency_ns", stats["write_latency_ns"]},
          {"row_hit_rate", stats["row_hit_rate"]},
          {"energy_pj_per_bit", stats["energy_pj_per_bit"]},
          {"avg_power_mw", stats["avg_power_mw"]},
          {"energy_pj", stats["energy_pj"]},
          {"refresh_count", stats["refresh_count"]},
          {"timing_violations", optional(setup.check, checker.violation_count())},
          {"sim_time_us", system.ns_of(m.end_cycle) / 1000.0},
          {"wall_s", m.wall_s},
          {"requests_per_wall_s", m.wall_s > 0 ? requests / m.wall_s : 0.0},
          {"cpu_s", m.cpu_s},
          {"requests_per_cpu_s", m.cpu_s > 0 ? requests / m.cpu_s : 0.0},
          {"stats", stats}};
}

void print_summary(const BenchSetup& setup, const nlohmann::json& out, const DramBound& bound,
                   const ProtocolChecker& checker, std::ostream& os) {
  const DramConfig& config = setup.config;
  const nlohmann::json& stats = out["stats"];
  const auto& c = out["config"];
  auto lat = [](const nlohmann::json& l) {
    return "mean " + fixed(l["mean"].get<double>(), 1) + "  p50 " + fixed(l["p50"].get<double>(), 1) + "  p99 " +
           fixed(l["p99"].get<double>(), 1) + "  max " + fixed(l["max"].get<double>(), 1) + " ns";
  };
  os << "npuvp dram-bench: " << config.memspec.name << " x " << config.channels << " ch, " << setup.mapping << ", "
     << setup.page_policy << " page, " << setup.refresh << " refresh; " << setup.pattern;
  if (setup.traffic.pattern == Pattern::kStride) os << " " << c["stride"].get<std::uint64_t>() << " B";
  os << " " << setup.op << ", " << c["requests"] << " x " << c["size"] << " B, " << c["outstanding"]
     << " outstanding\n";
  const double bw = stats["bandwidth_gbps"].get<double>();
  os << "  bandwidth       " << fixed(bw, 2) << " GB/s = " << fixed(100 * bw / config.peak_gbps(), 1) << "% of peak "
     << fixed(config.peak_gbps(), 2) << " GB/s\n"
     << "  bound           " << fixed(bound.gbps, 2) << " GB/s = " << fixed(100 * bound.gbps / config.peak_gbps(), 1)
     << "% of peak (" << bound.limit << "; row misses " << fixed(100 * bound.row_miss_fraction, 0) << "%, "
     << fixed(bound.banks_per_channel, 1) << " banks/channel" << (config.per_bank_refresh ? "" : ", all-bank refresh")
     << ")\n"
     << "  measured/bound  " << fixed(100 * bw / bound.gbps, 1) << "%\n";
  if (bound.turnaround_cycles > 0)
    os << "  mix bound       " << fixed(bound.turnaround_gbps, 2)
       << " GB/s = " << fixed(100 * bound.turnaround_gbps / config.peak_gbps(), 1)
       << "% of peak from the data bus and R/W "
       << "turnarounds (+" << bound.turnaround_cycles << " tCK per RD->WR->RD, at best one per "
       << fixed(bound.writes_per_batch, 0) << " writes: the longest run max_wait_ns allows"
       << (config.write_high_watermark > 0 ? "; write batching " + std::to_string(config.write_high_watermark) + "/" +
                                                 std::to_string(config.write_low_watermark)
                                           : "; no write batching")
       << ")\n";
  const auto turnarounds = stats["turnarounds"].get<std::uint64_t>();
  if (turnarounds > 0)
    os << "  turnarounds     " << turnarounds << " RD<->WR, one pair per "
       << fixed(2.0 * double(stats["write_bytes"].get<std::uint64_t>()) / config.memspec.burst_bytes() /
                    double(turnarounds),
                0)
       << " writes\n";
  if (stats["read_latency_ns"]["count"].get<std::uint64_t>() > 0)
    os << "  read latency    " << lat(stats["read_latency_ns"]) << "\n";
  if (stats["write_latency_ns"]["count"].get<std::uint64_t>() > 0)
    os << "  write latency   " << lat(stats["write_latency_ns"]) << "\n";
  const double io_share =
      stats["energy_pj"]["io"].get<double>() / std::max(1.0, stats["energy_pj"]["total"].get<double>());
  const double wall_s = out["wall_s"].get<double>(), cpu_s = out["cpu_s"].get<double>();
  os << "  row hit rate    " << fixed(100 * stats["row_hit_rate"].get<double>(), 1) << "%\n"
     << "  energy          " << fixed(stats["energy_pj_per_bit"].get<double>(), 2) << " pJ/bit, "
     << fixed(stats["avg_power_mw"].get<double>(), 1) << " mW average (I/O " << fixed(io_share * 100, 1)
     << "% of energy), " << stats["refresh_count"].get<std::uint64_t>() << " refreshes\n"
     << "  violations      " << (setup.check ? std::to_string(checker.violation_count()) : std::string("not checked"))
     << "\n"
     << "  simulated       " << fixed(out["sim_time_us"].get<double>(), 1) << " us in " << fixed(wall_s, 3)
     << " s wall = " << fixed(out["requests_per_wall_s"].get<double>() / 1e6, 2) << " M requests/s (CPU "
     << fixed(cpu_s, 3) << " s = " << fixed(out["requests_per_cpu_s"].get<double>() / 1e6, 2) << " M requests/s)\n";
  if (setup.check && checker.violation_count() > 0) os << checker.summary() << "\n";
}

}  // namespace

int dram_bench_main(int argc, const char* const* argv) {
  BenchSetup setup;
  try {
    if (!parse_options(argc, argv, setup)) return 0;
  } catch (const po::error& e) {
    std::cerr << "npuvp dram-bench: " << e.what() << "\n"
              << "run 'npuvp dram-bench --help' for the options\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "npuvp dram-bench: " << e.what() << "\n";
    return 2;
  }

  DramSystem system(setup.config);
  ProtocolChecker checker(setup.config.memspec, setup.config.channels);
  if (setup.check) system.add_observer(checker);
  const Measurement m = measure(system, setup.traffic);
  if (setup.check) checker.check_refresh_until(m.end_cycle);

  const double busy_ns =
      system.stats().first_arrival_ns < 0 ? 0.0 : system.stats().last_completion_ns - system.stats().first_arrival_ns;
  const DramBound bound = dram_bound(setup.config, setup.traffic, busy_ns);
  const nlohmann::json out = results_json(setup, system, m, bound, checker);
  // With --json -, the JSON is standard output and the summary goes to stderr.
  const bool json_to_stdout = setup.json_file == "-";
  print_summary(setup, out, bound, checker, json_to_stdout ? std::cerr : std::cout);
  if (json_to_stdout) {
    std::cout << out.dump(2) << "\n";
  } else if (!setup.json_file.empty()) {
    std::ofstream f(setup.json_file);
    if (!f) {
      std::cerr << "npuvp dram-bench: --json " << setup.json_file << ": cannot write the file\n";
      return 1;
    }
    f << out.dump(2) << "\n";
  }
  return setup.check && checker.violation_count() > 0 ? 1 : 0;
}

}  // namespace npuvp::bench
