#include "bench/noc_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench/noc_replay.h"
#include "bench/options.h"
#include "models/noc/cycle_model.h"
#include "models/noc/fast_model.h"
#include "models/noc/traffic.h"
#include "platform/config/noc_yaml.h"

namespace npuvp::bench {
namespace {

namespace po = boost::program_options;
using noc::Cycle;
using noc::NodeId;

struct BenchOptions {
  noc::NocConfig noc;
  noc::TrafficPattern traffic = noc::TrafficPattern::kUniform;
  std::vector<double> rates;
  std::uint64_t packet_flits = 4;
  std::uint64_t cycles = 10000;
  std::uint64_t seed = 1;
  std::uint64_t seeds = 1;  // runs per rate, seeds seed, seed + 1, ...: their packets pooled
  bool cycle_level = true;  // the reference runs (alone or beside the fast model)
  bool fast = false;
  bool by_hops = false;  // mean latency per hop count (and, for hotspot traffic, toward the hotspot or not)
  std::string json;
  std::string replay;  // a noc_packets.csv to time again instead of synthetic traffic
};

// The measured packets of one class: those crossing the same number of
// routers, and for hotspot traffic going to the hotspot or elsewhere.
struct ClassLatency {
  std::uint64_t packets = 0;
  double cycles = 0;  // summed
};

struct RatePoint {
  double offered = 0, accepted = 0, latency_mean = 0;
  std::uint64_t latency_p99 = 0, measured = 0, undelivered = 0;
  std::vector<ClassLatency> classes;  // by class_of()
};

// Index of a packet's class: hops * 2, plus one if hotspot traffic takes it
// to the hotspot.
std::size_t class_of(const noc::Mesh& mesh, noc::TrafficPattern traffic, NodeId src, NodeId dst) {
  return 2 * std::size_t{mesh.hops(src, dst)} +
         (traffic == noc::TrafficPattern::kHotspot && dst == noc::hotspot_node(mesh) ? 1 : 0);
}

// Totals over the loaded runs of one invocation, for the speed figure.
struct Work {
  std::uint64_t flit_hops = 0;
  double wall_s = 0;
};

std::vector<double> parse_rates(const std::string& text) {
  const std::string expected = "a comma-separated list of loads in (0, 1] flits/node/cycle";
  std::vector<double> rates;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    std::size_t used = 0;
    double r = 0;
    try {
      r = std::stod(item, &used);
    } catch (const std::exception&) {
      throw OptionError("--rates", expected, text);
    }
    if (used != item.size() || !(r > 0 && r <= 1)) throw OptionError("--rates", expected, text);
    rates.push_back(r);
  }
  if (rates.empty() || text.back() == ',') throw OptionError("--rates", expected, text);
  return rates;
}

// What the runs of one rate measured, pooled over their seeds.
struct Measured {
  noc::LatencyHistogram latency;  // of every measured packet
  std::uint64_t tagged = 0;       // packets measured, delivered or not
  std::uint64_t accepted_flits = 0;
  std::vector<ClassLatency> classes;

  void add(std::size_t packet_class, Cycle latency_cycles) {
    latency.add(latency_cycles);
    if (classes.size() <= packet_class) classes.resize(packet_class + 1);
    ++classes[packet_class].packets;
    classes[packet_class].cycles += double(latency_cycles);
  }

  RatePoint point(const BenchOptions& o, double rate, unsigned nodes) const {
    RatePoint p;
    p.offered = rate;
    p.accepted = double(accepted_flits) / double(nodes) / double(o.cycles) / double(o.seeds);
    p.latency_mean = latency.mean();
    p.latency_p99 = latency.percentile(0.99);
    p.measured = latency.count();
    p.undelivered = tagged - latency.count();
    p.classes = classes;
    return p;
  }
};

// A run's cycles: a warm-up of cycles/5, the window, and a drain of another
// window, warm-up and drain each at least twice the mesh's longest zero-load
// latency (corner to corner). A window short beside that once measured a
// network still filling (32x32 at 0.01 flits/node/cycle: half the load
// accepted) and called the packets still on their way at its end saturated.
struct Phases {
  Cycle warmup, end, limit;
};
Phases phases(const BenchOptions& o, const noc::Mesh& mesh) {
  const Cycle fill = 2 * mesh.zero_load_latency(0, mesh.nodes() - 1, o.packet_flits);
  const Cycle warmup = std::max<Cycle>({1, o.cycles / 5, fill}), end = warmup + o.cycles;
  return {warmup, end, end + std::max<Cycle>(o.cycles, fill)};
}

// Packets created in [warmup, end) are measured; throughput is counted over
// that window; the run then continues, still injecting, until they are all
// delivered or the drain has passed.
void run_cycle_level(const BenchOptions& o, double rate, std::uint64_t seed, Measured& into, Work& work) {
  noc::CycleMeshModel model(o.noc);
  noc::TrafficGenerator traffic(model.mesh(), o.traffic, rate, o.packet_flits, seed);
  const auto [warmup, end, limit] = phases(o, model.mesh());
  const noc::LatencyHistogram& latency = into.latency;
  const std::uint64_t measured_before = latency.count();
  std::uint64_t tagged = 0, ejected_at_start = 0, ejected_at_end = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (Cycle c = 0; c < limit && (c < end || latency.count() - measured_before < tagged); ++c) {
    if (c == warmup) ejected_at_start = model.ejected_flits();
    const bool measure = c >= warmup && c < end;
    // A measured packet's tag is its class + 1; 0 marks the others.
    traffic.tick([&](NodeId src, NodeId dst) {
      model.offer(measure ? 1 + class_of(model.mesh(), o.traffic, src, dst) : 0, src, dst, o.packet_flits);
      tagged += measure;
    });
    model.step();
    // Read at the end of the window's last cycle: the loop may stop right
    // there when every measured packet has been delivered.
    if (c + 1 == end) ejected_at_end = model.ejected_flits();
    for (const auto& d : model.take_deliveries())
      if (d.tag != 0) into.add(d.tag - 1, d.done - d.offered);
  }
  work.wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  work.flit_hops += model.stats().flit_hops;
  into.tagged += tagged;
  into.accepted_flits += ejected_at_end - ejected_at_start;
}

// Same windows with the fast model, which times each packet when created; a
// packet's flits count as accepted in the window its tail is delivered in.
void run_fast(const BenchOptions& o, double rate, std::uint64_t seed, Measured& into, Work& work) {
  noc::FastMeshModel model(o.noc);
  noc::TrafficGenerator traffic(model.mesh(), o.traffic, rate, o.packet_flits, seed);
  // Named copies, not a structured binding: the lambda below uses them, which
  // C++17 allows only for variables (clang refuses a binding).
  const Phases window = phases(o, model.mesh());
  const Cycle warmup = window.warmup, end = window.end, limit = window.limit;
  std::uint64_t& tagged = into.tagged;
  std::uint64_t& accepted_flits = into.accepted_flits;
  const auto t0 = std::chrono::steady_clock::now();
  for (Cycle c = 0; c < end; ++c) {
    model.set_horizon(c);
    traffic.tick([&](NodeId src, NodeId dst) {
      const Cycle done = model.unicast(src, dst, o.packet_flits, c);
      if (done > warmup && done <= end) accepted_flits += o.packet_flits;
      if (c < warmup) return;
      ++tagged;
      if (done <= limit) into.add(class_of(model.mesh(), o.traffic, src, dst), done - c);
    });
  }
  work.wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  work.flit_hops += model.stats().flit_hops;
}

using RunOne = void (*)(const BenchOptions&, double, std::uint64_t, Measured&, Work&);

// One rate with one model, over every seed.
RatePoint run_seeds(RunOne run, const BenchOptions& o, double rate, Work& work) {
  Measured m;
  for (std::uint64_t k = 0; k < o.seeds; ++k) run(o, rate, o.seed + k, m, work);
  return m.point(o, rate, noc::Mesh(o.noc).nodes());
}

// Every (source, destination) pair of the pattern timed alone in an empty
// network, weighted like the analytic figure. Above kMaxPairs pairs a seeded
// sample of them is timed instead, drawn without listing them all (a 256x256
// mesh has 4.3 G): sources alike, each pair as likely as its weight.
double measure_zero_load(const BenchOptions& o) {
  constexpr std::size_t kMaxPairs = 4096;
  const noc::Mesh mesh(o.noc);
  struct Pair {
    NodeId src, dst;
    double weight;
  };
  std::vector<Pair> pairs;
  for (NodeId s = 0; s < mesh.nodes() && pairs.size() <= kMaxPairs; ++s)
    for (const auto& [d, p] : noc::destinations(mesh, o.traffic, s)) pairs.push_back({s, d, p});
  if (pairs.size() > kMaxPairs) {
    pairs.clear();
    std::mt19937_64 rng(o.seed);
    noc::TrafficGenerator traffic(mesh, o.traffic, 1.0, o.packet_flits, o.seed);
    while (pairs.size() < kMaxPairs) {
      const auto s = static_cast<NodeId>(rng() % mesh.nodes());
      pairs.push_back({s, traffic.draw(s), 1.0});
    }
  }
  double sum = 0, weights = 0;
  if (o.cycle_level) {
    noc::CycleMeshModel model(o.noc);
    for (const Pair& p : pairs) {
      model.offer(0, p.src, p.dst, o.packet_flits);
      std::vector<noc::CycleMeshModel::Delivery> got;
      while (!model.idle()) {
        model.step();
        for (const auto& d : model.take_deliveries()) got.push_back(d);
      }
      sum += p.weight * double(got.at(0).done - got.at(0).offered);
      weights += p.weight;
    }
  } else {
    noc::FastMeshModel model(o.noc);
    Cycle free_from = 0;  // every channel is free again once the last packet is delivered
    for (const Pair& p : pairs) {
      model.set_horizon(free_from);
      const Cycle done = model.unicast(p.src, p.dst, o.packet_flits, free_from);
      sum += p.weight * double(done - free_from);
      weights += p.weight;
      free_from = done;
    }
  }
  return sum / weights;
}

BenchOptions parse(int argc, const char* const* argv, bool& help) {
  po::options_description desc(
      "npuvp noc-bench: the 2D mesh NoC alone under synthetic traffic\n"
      "Each rate runs a warm-up of cycles/5, then measures over --cycles cycles (packets created\n"
      "then, throughput delivered then) and drains for up to --cycles more cycles, warm-up and drain\n"
      "each at least twice the mesh's longest zero-load latency; with --seeds N,\n"
      "N times with consecutive seeds, the figures those of all N runs' packets and windows.\n"
      "With --replay, the packets of a run instead (npuvp run --traces packets), on the NoC they ran on.\nOptions");
  // clang-format off
  desc.add_options()("help,h", "this help")
      ("mesh", po::value<std::string>(), "WxH routers, e.g. 4x4 (required but with --replay)")
      ("traffic", po::value<std::string>()->default_value("uniform"), "uniform|transpose|hotspot|neighbor")
      ("rates", po::value<std::string>(), "offered loads R1,R2,... in flits/node/cycle, each in (0, 1] (required but with --replay)")
      ("packet-flits", po::value<std::string>()->default_value("4"), "flits per packet, header included")
      ("cycles", po::value<std::string>()->default_value("10000"), "measurement window in cycles")
      ("seed", po::value<std::string>()->default_value("1"), "random seed")
      ("seeds", po::value<std::string>()->default_value("1"),
       "runs per rate, with seeds seed, seed+1, ...; their measured packets and windows pooled")
      ("by-hops", po::bool_switch(),
       "also each rate's mean latency by the number of routers packets cross, and for hotspot traffic by whether "
       "they go to the hotspot; with --replay, the unicasts by routers crossed")
      ("model", po::value<std::string>()->default_value("cycle"),
       "cycle: flit-by-flit reference model; fast: per-packet model of the platform; "
       "both: the two side by side with the fast model's deviation")
      ("set", po::value<std::vector<std::string>>()->composing(),
       "NoC parameter override key=value of the preset's noc section but its size (--mesh), e.g. buffer_flits=16 "
       "(repeatable)")
      ("replay", po::value<std::string>(),
       "a run's noc_packets.csv: its packets timed again, each ready when it was, by the fast model in the run's "
       "order and in ready order and by the cycle-level model, packet class by class; takes no "
       "traffic, mesh or model option")
      ("json", po::value<std::string>(), "also write the results to this JSON file");
  // clang-format on
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    help = true;
    return {};
  }
  po::notify(vm);

  BenchOptions o;
  if (vm.count("json")) o.json = vm["json"].as<std::string>();
  if (vm.count("replay")) {
    // The trace names its NoC; nothing else shapes a replay.
    for (const char* other : {"mesh", "traffic", "rates", "packet-flits", "cycles", "seed", "seeds", "model", "set"})
      if (vm.count(other) && !vm[other].defaulted())
        throw OptionError("--" + std::string(other),
                          "no traffic, mesh or model option with --replay (the trace names its NoC)",
                          "--" + std::string(other) + " with --replay");
    o.replay = vm["replay"].as<std::string>();
    o.by_hops = vm["by-hops"].as<bool>();
    return o;
  }
  for (const char* needed : {"mesh", "rates"})
    if (!vm.count(needed)) throw po::required_option("--" + std::string(needed));
  const std::string mesh = vm["mesh"].as<std::string>();
  const std::string mesh_expected = "WxH with W and H from 1 to 256";
  std::smatch m;
  if (!std::regex_match(mesh, m, std::regex("([0-9]{1,3})x([0-9]{1,3})")))
    throw OptionError("--mesh", mesh_expected, mesh);
  const std::uint64_t width = parse_count("--mesh", m[1].str(), 1, 256);
  const std::uint64_t height = parse_count("--mesh", m[2].str(), 1, 256);
  YAML::Node section(YAML::NodeType::Map);
  section["width"] = width;
  section["height"] = height;
  if (vm.count("set"))
    for (const std::string& kv : vm["set"].as<std::vector<std::string>>()) {
      // --mesh gives the size: an override of it made another mesh than the
      // one named, and the traffic's checks named --mesh's.
      const std::string key = kv.substr(0, kv.find('='));
      if (key == "width" || key == "height")
        throw OptionError("--set", "a NoC parameter other than the mesh's size, which --mesh gives", kv);
      config::apply_override(section, kv, "--set");
    }
  o.noc = config::parse_noc(config::ConfigNode(section, "--set", "noc"));

  const std::string traffic = vm["traffic"].as<std::string>();
  if (!noc::parse_traffic(traffic, o.traffic))
    throw OptionError("--traffic", "one of uniform|transpose|hotspot|neighbor", traffic);
  const std::string needs = noc::traffic_requirement(noc::Mesh(o.noc), o.traffic);
  if (!needs.empty()) throw OptionError("--traffic", needs + " for " + traffic + " traffic", traffic + " on " + mesh);
  o.rates = parse_rates(vm["rates"].as<std::string>());
  o.packet_flits = parse_count("--packet-flits", vm["packet-flits"].as<std::string>(), 1, 1 << 20);
  o.cycles = parse_count("--cycles", vm["cycles"].as<std::string>(), 10, std::uint64_t(1) << 32);
  o.seed = parse_count("--seed", vm["seed"].as<std::string>(), 0, UINT64_MAX);
  o.seeds = parse_count("--seeds", vm["seeds"].as<std::string>(), 1, 1000);
  if (o.seed > UINT64_MAX - (o.seeds - 1))
    throw OptionError("--seeds", "seeds that stay below 2^64 from --seed", vm["seeds"].as<std::string>());
  const std::string model = vm["model"].as<std::string>();
  if (model != "cycle" && model != "fast" && model != "both")
    throw OptionError("--model", "cycle, fast or both", model);
  o.cycle_level = model != "fast";
  o.fast = model != "cycle";
  o.by_hops = vm["by-hops"].as<bool>();
  return o;
}

nlohmann::json point_json(const RatePoint& p) {
  return {{"offered", p.offered},         {"accepted", p.accepted},         {"latency_mean", p.latency_mean},
          {"latency_p99", p.latency_p99}, {"packets_measured", p.measured}, {"packets_undelivered", p.undelivered}};
}

void print_point(const RatePoint& p) {
  std::cout << std::setw(10) << p.accepted << std::setw(14) << std::setprecision(2) << p.latency_mean << std::setw(13)
            << p.latency_p99 << std::setprecision(3);
}

// --by-hops: a row per class either model measured packets of, under the
// rate's row; `ref` or `fast` is null when that model did not run.
nlohmann::json print_classes(const BenchOptions& o, const RatePoint* ref, const RatePoint* fast) {
  const bool hotspot = o.traffic == noc::TrafficPattern::kHotspot;
  const std::size_t classes = std::max(ref ? ref->classes.size() : 0, fast ? fast->classes.size() : 0);
  nlohmann::json rows = nlohmann::json::array();
  const auto of = [](const RatePoint* p, std::size_t k) {
    return p != nullptr && k < p->classes.size() ? p->classes[k] : ClassLatency{};
  };
  const auto model_json = [](const ClassLatency& c) {
    return nlohmann::json{{"packets", c.packets},
                          {"latency_mean", c.packets ? nlohmann::json(c.cycles / double(c.packets)) : nullptr}};
  };
  for (std::size_t k = 0; k < classes; ++k) {
    const ClassLatency c = of(ref, k), f = of(fast, k);
    if (c.packets == 0 && f.packets == 0) continue;
    nlohmann::json row = {{"hops", k / 2}};
    if (hotspot) row["to_hotspot"] = k % 2 == 1;
    std::cout << "    " << std::setw(2) << k / 2 << " hops"
              << (hotspot ? (k % 2 ? ", to the hotspot" : ", elsewhere     ") : "");
    for (const auto& [name, p, m] : {std::tuple{"cycle", ref, c}, std::tuple{"fast", fast, f}}) {
      if (p == nullptr) continue;
      std::cout << " | " << name << ": " << std::setw(7) << m.packets << " packets, latency " << std::setprecision(2)
                << std::setw(7) << (m.packets ? m.cycles / double(m.packets) : 0.0) << std::setprecision(3);
      if (ref != nullptr && fast != nullptr)
        row[name] = model_json(m);
      else
        row.update(model_json(m));
    }
    if (ref != nullptr && fast != nullptr && c.packets != 0 && f.packets != 0) {
      const double d = (f.cycles / double(f.packets)) / (c.cycles / double(c.packets)) - 1;
      row["fast_vs_cycle_latency"] = d;
      std::cout << std::showpos << std::setprecision(1) << " | " << 100 * d << "%" << std::noshowpos
                << std::setprecision(3);
    }
    std::cout << "\n";
    rows.push_back(row);
  }
  return rows;
}

std::string saturation_note(const RatePoint& p) {
  return p.undelivered > 0 ? "  (saturated: " + std::to_string(p.undelivered) + " packets undelivered)" : "";
}

// One row per offered load; with both models the fast one's relative
// deviation from the reference follows.
nlohmann::json run_rates(const BenchOptions& o, Work& work) {
  const bool both = o.cycle_level && o.fast;
  std::cout << (both ? "offered  | cycle: accepted  latency_mean  latency_p99 | fast: accepted  latency_mean  "
                       "latency_p99 | fast vs cycle: accepted latency\n"
                     : "offered  accepted  latency_mean  latency_p99  [flits/node/cycle, cycles]\n");
  nlohmann::json rates = nlohmann::json::array();
  for (double r : o.rates) {
    std::cout << std::setw(7) << r;
    if (!both) {
      const RatePoint p = run_seeds(o.cycle_level ? run_cycle_level : run_fast, o, r, work);
      print_point(p);
      std::cout << saturation_note(p) << "\n";
      rates.push_back(point_json(p));
      if (o.by_hops) rates.back()["by_hops"] = print_classes(o, o.cycle_level ? &p : nullptr, o.fast ? &p : nullptr);
      continue;
    }
    const RatePoint ref = run_seeds(run_cycle_level, o, r, work), fast = run_seeds(run_fast, o, r, work);
    const double d_accepted = fast.accepted / ref.accepted - 1, d_latency = fast.latency_mean / ref.latency_mean - 1;
    print_point(ref);
    print_point(fast);
    std::cout << std::showpos << std::setprecision(1) << std::setw(12) << 100 * d_accepted << "%" << std::setw(8)
              << 100 * d_latency << "%" << std::noshowpos << std::setprecision(3) << saturation_note(ref) << "\n";
    rates.push_back({{"offered", r},
                     {"cycle", point_json(ref)},
                     {"fast", point_json(fast)},
                     {"fast_vs_cycle", {{"accepted", d_accepted}, {"latency_mean", d_latency}}}});
    if (o.by_hops) rates.back()["by_hops"] = print_classes(o, &ref, &fast);
  }
  return rates;
}

nlohmann::json bound_json(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

int write_json(std::ofstream& file, const nlohmann::json& out, const std::string& path) {
  file << out.dump(2) << "\n";
  file.flush();
  if (!file) {
    std::cerr << "npuvp noc-bench: --json: cannot write '" << path << "'\n";
    return 1;
  }
  return 0;
}

}  // namespace

int noc_bench_main(int argc, const char* const* argv) {
  BenchOptions o;
  try {
    bool help = false;
    o = parse(argc, argv, help);
    if (help) return 0;
  } catch (const std::exception& e) {
    std::cerr << "npuvp noc-bench: " << e.what() << "\n";
    return 2;
  }

  // Opened before the runs so a bad path fails at once, not after minutes.
  std::ofstream file;
  if (!o.json.empty()) {
    file.open(o.json);
    if (!file) {
      std::cerr << "npuvp noc-bench: --json: cannot write '" << o.json << "'\n";
      return 1;
    }
  }
  const auto finish = [&](const nlohmann::json& out) { return o.json.empty() ? 0 : write_json(file, out, o.json); };
  if (!o.replay.empty()) {
    nlohmann::json out;
    try {
      out = replay_noc_packets(o.replay, o.by_hops);
    } catch (const std::invalid_argument& e) {
      std::cerr << "npuvp noc-bench: --replay: " << e.what() << "\n";
      return 2;
    }
    return finish(out);
  }

  const noc::Mesh mesh(o.noc);
  Work work;
  const double analytic = noc::zero_load_latency(mesh, o.traffic, o.packet_flits);
  const double measured = measure_zero_load(o);
  const double bisection = noc::bisection_bound(mesh, o.traffic);
  const double endpoints = noc::endpoint_bound(mesh, o.traffic);
  const double bound = std::min(bisection, endpoints);

  std::cout << "noc-bench: " << o.noc.width << "x" << o.noc.height << " mesh, " << noc::to_string(o.traffic)
            << " traffic, " << o.packet_flits << "-flit packets, " << o.cycles << " cycles"
            << (o.seeds > 1 ? " x " + std::to_string(o.seeds) + " seeds" : "") << ", "
            << (o.fast ? (o.cycle_level ? "cycle-level reference and fast" : "fast per-packet")
                       : "cycle-level reference")
            << " model (router " << o.noc.router_cycles << ", link " << o.noc.link_cycles << ", buffer "
            << o.noc.buffer_flits << " x " << o.noc.virtual_channels << " VCs)\n";
  std::cout << std::fixed << std::setprecision(3);
  const nlohmann::json rates = run_rates(o, work);
  const double speed = work.wall_s > 0 ? double(work.flit_hops) / work.wall_s : 0;
  std::cout << std::setprecision(2) << "zero-load latency: analytic " << analytic << " cycles, measured " << measured
            << " cycles\n"
            << std::setprecision(3) << "throughput bound: " << bound << " flits/node/cycle ("
            << (endpoints <= bisection ? "endpoint channels" : "bisection") << "; bisection ";
  if (std::isfinite(bisection))
    std::cout << bisection;
  else
    std::cout << "none, no traffic crosses";
  std::cout << ", injection/ejection " << endpoints << ")\n";
  std::cout << std::scientific << std::setprecision(3) << "speed: " << speed << " flit-hops per wall second\n"
            << std::defaultfloat;

  const nlohmann::json out = {{"mesh", std::to_string(o.noc.width) + "x" + std::to_string(o.noc.height)},
                              {"traffic", noc::to_string(o.traffic)},
                              {"packet_flits", o.packet_flits},
                              {"cycles", o.cycles},
                              {"seed", o.seed},
                              {"seeds", o.seeds},
                              {"model", o.fast ? (o.cycle_level ? "both" : "fast") : "cycle"},
                              {"noc",
                               {{"flit_bytes", o.noc.flit_bytes},
                                {"router_cycles", o.noc.router_cycles},
                                {"link_cycles", o.noc.link_cycles},
                                {"buffer_flits", o.noc.buffer_flits},
                                {"virtual_channels", o.noc.virtual_channels}}},
                              {"rates", rates},
                              {"zero_load_analytic", analytic},
                              {"zero_load_measured", measured},
                              {"bisection_bound", bound_json(bisection)},
                              {"endpoint_bound", endpoints},
                              {"throughput_bound", bound},
                              {"flit_hops_per_wall_s", speed}};
  return finish(out);
}

}  // namespace npuvp::bench
