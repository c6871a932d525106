#include "platform/sweep/sweep_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "contract/cluster_regs.h"
#include "platform/config/config_node.h"
#include "platform/config/data_root.h"
#include "platform/platform_config.h"
#include "platform/trace_options.h"
#include "sw/apps/workloads.h"

namespace npuvp::sweep {
namespace {

namespace fs = std::filesystem;
using config::ConfigError;

// Every problem of the file, each naming its key, thrown together at the end.
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}
  void add(const std::string& key, const std::string& what) {
    const std::string line = file_ + ": key '" + key + "': " + what;
    if (seen_.insert(line).second) lines_.push_back(line);
  }
  void add_line(const std::string& line) {
    if (seen_.insert(line).second) lines_.push_back(line);
  }
  bool empty() const { return lines_.empty(); }
  void throw_if_any() const {
    if (lines_.empty()) return;
    std::string all = std::to_string(lines_.size()) + (lines_.size() == 1 ? " problem" : " problems") +
                      " in the sweep file, nothing was run:";
    for (const auto& l : lines_) all += "\n  " + l;
    throw ConfigError(all);
  }

 private:
  std::string file_;
  std::vector<std::string> lines_;
  std::set<std::string> seen_;
};

std::string value_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

bool parse_number(const YAML::Node& n, double& out) {
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(out);
}

bool is_integer_text(const std::string& s) { return s.find_first_not_of("+-0123456789") == std::string::npos; }

std::string number_text(double v, bool integer) {
  if (integer) return std::to_string(static_cast<long long>(std::llround(v)));
  std::ostringstream os;
  os.precision(12);
  os << v;
  return os.str();
}

// A vary entry: a list of values, {from, to, step} (arithmetic) or
// {from, to, factor} (geometric), both ends included.
std::vector<std::string> axis_values(const std::string& key, const YAML::Node& n, Problems& problems) {
  std::vector<std::string> out;
  if (n.IsSequence()) {
    for (const auto& v : n) out.push_back(value_text(v));
    if (out.empty()) problems.add(key, "expected at least one value, got an empty list");
    return out;
  }
  if (!n.IsMap()) {
    problems.add(key,
                 "expected a list of values or {from, to, step} or {from, to, factor}, got '" + value_text(n) + "'");
    return out;
  }
  for (const auto& e : n)
    if (const std::string k = e.first.Scalar(); k != "from" && k != "to" && k != "step" && k != "factor")
      problems.add(key + "." + k, "expected one of from, to, step, factor");
  double from = 0, to = 0, by = 0;
  const bool geometric = n["factor"].IsDefined();
  const char* by_key = geometric ? "factor" : "step";
  if (n["step"].IsDefined() == geometric) {
    problems.add(key, "expected exactly one of step and factor");
    return out;
  }
  if (!parse_number(n["from"], from) || !parse_number(n["to"], to) || !parse_number(n[by_key], by)) {
    problems.add(key, std::string("expected numbers for from, to and ") + by_key);
    return out;
  }
  if (geometric ? by <= 1 : by <= 0) {
    problems.add(key + "." + by_key, geometric ? "expected a factor above 1" : "expected a step above 0");
    return out;
  }
  if (from > to || (geometric && from <= 0)) {
    problems.add(key, geometric ? "expected 0 < from <= to" : "expected from <= to");
    return out;
  }
  const bool integer = is_integer_text(n["from"].Scalar()) && is_integer_text(n[by_key].Scalar());
  const double slack = 1e-9 * std::max(std::abs(to), 1.0);
  // Counted before any is made: a step too small to move `from` (100 + 1e-300
  // is 100) would otherwise repeat it, and ten million values are not worth
  // making to refuse.
  const double steps = geometric ? std::log(to / from) / std::log(by) : (to - from) / by;
  if (!(steps < 100000) || (to > from && (geometric ? from * by : from + by) == from)) {
    problems.add(key, "expected at most 100000 values (from " + number_text(from, false) + " to " +
                          number_text(to, false) + " by " + by_key + " " + number_text(by, false) + ")");
    return out;
  }
  for (double v = from; v <= to + slack;) {
    out.push_back(number_text(v, integer));
    const double next = geometric ? v * by : v + by;
    if (next == v) break;  // from == to, by below its resolution
    v = next;
  }
  return out;
}

// `npuvp run` options a sweep may set (underscored), each with its check,
// which returns what is wrong with a value (the value quoted) or nothing.
// Where `npuvp run` has a parser of its own the check is that parser, so
// the two accept the same values.
// --platform, --network, --out and --set belong to the sweep itself.
using RunCheck = std::function<std::string(const YAML::Node&)>;
const std::map<std::string, RunCheck>& run_options() {
  const auto got = [](const YAML::Node& n) { return ", got '" + value_text(n) + "'"; };
  const auto choice = [got](std::vector<std::string> words) {
    return RunCheck([words, got](const YAML::Node& n) {
      for (const auto& w : words)
        if (n.IsScalar() && n.Scalar() == w) return std::string();
      std::string list;
      for (const auto& w : words) list += (list.empty() ? "" : " | ") + w;
      return "expected " + list + got(n);
    });
  };
  const auto integer = [got](long long lo, long long hi) {
    return RunCheck([lo, hi, got](const YAML::Node& n) {
      double v = 0;
      if (parse_number(n, v) && is_integer_text(n.Scalar()) && v >= lo && v <= hi) return std::string();
      return "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) + got(n);
    });
  };
  // The run's own parser; its message names the option and the value.
  const auto rethrown = [got](std::function<void(const std::string&)> parse) {
    return RunCheck([parse, got](const YAML::Node& n) {
      try {
        if (!n.IsScalar()) return "expected a single value" + got(n);
        parse(n.Scalar());
        return std::string();
      } catch (const std::exception& e) {
        return std::string(e.what());
      }
    });
  };
  // One LAYER=DATAFLOW assignment, or a list of them; which layers the
  // network has is checked when the point runs.
  const auto layer_dataflow = [got](const YAML::Node& n) {
    const std::string expected = "expected LAYER=ws|os|os2d or a list of them";
    if (!n.IsScalar() && !n.IsSequence()) return expected + got(n);
    std::vector<YAML::Node> items;
    if (n.IsScalar()) items.push_back(n);
    for (const YAML::Node& item : n) items.push_back(item);
    for (const YAML::Node& item : items) {
      const std::string text = item.IsScalar() ? item.Scalar() : std::string();
      const auto eq = text.find('=');
      const std::string dataflow = eq == std::string::npos ? std::string() : text.substr(eq + 1);
      const auto& names = pe_array::kDataflowNames;
      if (eq == 0 || std::find(std::begin(names), std::end(names), dataflow) == std::end(names))
        return expected + got(item);
    }
    return std::string();
  };
  static const std::map<std::string, RunCheck> options = {
      {"dataflow", rethrown([](const std::string& s) { apps::parse_dataflow(s, "latency"); })},
      {"objective", choice({"latency", "energy"})},
      {"datatype", choice({"int8", "int4", "int16", "fp16"})},
      {"batch", integer(1, apps::kMaxBatch)},
      {"seed", integer(0, UINT32_MAX)},
      {"input_size", rethrown([](const std::string& s) { apps::parse_input_size(s); })},
      {"traces", rethrown([](const std::string& s) { platform::parse_traces(s); })},
      {"ideal_memory", choice({"true", "false"})},
      {"weight_sparsity",
       [got](const YAML::Node& n) {
         double v = 0;
         return parse_number(n, v) && v >= 0 && v < 1 ? std::string() : "expected a number in [0, 1)" + got(n);
       }},
      {"layer_dataflow", layer_dataflow},
      {"input", [got](const YAML::Node& n) { return n.IsScalar() ? std::string() : "expected a .npy file" + got(n); }},
  };
  return options;
}

void check_run_option(const std::string& key, const std::string& option, const YAML::Node& value, Problems& problems) {
  const auto& options = run_options();
  const auto it = options.find(option);
  if (it == options.end()) {
    std::string names;
    for (const auto& [name, check] : options) names += (names.empty() ? "" : ", ") + name;
    problems.add(key, "expected an npuvp run option (" + names + ")");
    return;
  }
  if (const std::string what = it->second(value); !what.empty()) problems.add(key, what);
}

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string short_hash(const std::string& text) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(text)));
  return std::string(buf, 12);
}

}  // namespace

const std::vector<std::string>& metric_columns() {
  // energy_uj is the whole batch's: energy_per_inference_uj compares points
  // of different run.batch.
  static const std::vector<std::string> columns = {
      "latency_ms",   "fps",        "energy_uj",   "energy_per_inference_uj",
      "avg_power_mw", "dram_bytes", "utilization", "area_mm2"};
  return columns;
}

std::string network_dir_name(const std::string& network) { return fs::path(network).stem().string(); }

namespace {

struct Axis {
  std::string key;
  std::vector<std::string> values;
};

std::string resolve_platform(const std::string& named, const std::string& file, Problems& problems) {
  try {
    const bool is_file = named.find('/') != std::string::npos || fs::path(named).extension() == ".yaml";
    const auto found =
        is_file ? config::find_config_file(named, file) : std::optional<fs::path>(config::find_platform(named));
    if (found) return fs::absolute(*found).lexically_normal().string();
    problems.add("platform", "expected a preset name or an existing platform file (tried " +
                                 config::config_file_candidates(named, file) + ")");
  } catch (const ConfigError& e) {
    problems.add("platform", e.what());
  }
  return "";
}

std::vector<std::string> resolve_networks(const YAML::Node& n, const std::string& file, Problems& problems) {
  std::vector<std::string> out;
  if (!n.IsDefined() || n.IsNull() || (!n.IsSequence() && !n.IsScalar()) || (n.IsSequence() && n.size() == 0)) {
    problems.add("networks", "expected a network name or a list of them (npuvp list networks)");
    return out;
  }
  std::set<std::string> known;
  for (const auto& net : apps::list_networks()) known.insert(net["name"].get<std::string>());
  std::set<std::string> dirs;
  const auto add = [&](const std::string& name) {
    const std::string ext = fs::path(name).extension().string();
    if (ext == ".yaml" || ext == ".onnx" || ext == ".csv") {
      const auto found = config::find_config_file(name, file);
      if (!found)
        return problems.add("networks",
                            "no network file " + name + " (tried " + config::config_file_candidates(name, file) + ")");
      out.push_back(fs::absolute(*found).lexically_normal().string());
    } else if (known.count(name) != 0) {
      out.push_back(name);
    } else {
      return problems.add("networks",
                          "expected a network from npuvp list networks or a .yaml/.onnx/.csv file, got '" + name + "'");
    }
    if (!dirs.insert(network_dir_name(out.back())).second)
      problems.add("networks", "two networks named " + network_dir_name(out.back()));
  };
  if (n.IsScalar()) add(n.Scalar());
  for (const auto& item : n) {
    if (item.IsScalar())
      add(item.Scalar());
    else
      problems.add("networks", "expected network names or files, got " + value_text(item));
  }
  return out;
}

std::vector<Axis> read_axes(const YAML::Node& n, const std::string& section, Problems& problems) {
  std::vector<Axis> axes;
  if (!n.IsDefined() || n.IsNull()) return axes;
  if (!n.IsMap()) {
    problems.add(section, "expected a map of keys to values");
    return axes;
  }
  for (const auto& e : n) {
    const std::string key = e.first.Scalar();
    axes.push_back({key, axis_values(section + "." + key, e.second, problems)});
    if (key.rfind("run.", 0) == 0)
      for (const auto& v : axes.back().values)
        check_run_option(section + "." + key, key.substr(4), YAML::Load(v), problems);
  }
  return axes;
}

std::vector<Objective> read_objectives(const YAML::Node& root, Problems& problems) {
  std::vector<Objective> out;
  const auto& columns = metric_columns();
  std::string names;
  for (const auto& c : columns) names += (names.empty() ? "" : ", ") + c;
  for (const bool maximize : {false, true}) {
    const char* key = maximize ? "maximize" : "objectives";
    const YAML::Node given = root[key];
    const bool absent = !given.IsDefined() || given.IsNull();
    if (absent && maximize) continue;
    // Latency and energy unless the file says otherwise.
    const YAML::Node list = absent ? YAML::Load("[latency_ms, energy_uj]") : given;
    if (!list.IsSequence()) {
      problems.add(key, "expected a list of columns (" + names + ")");
      continue;
    }
    for (const auto& item : list) {
      const std::string c = item.IsScalar() ? item.Scalar() : value_text(item);
      if (std::find(columns.begin(), columns.end(), c) == columns.end())
        problems.add(key, "expected columns from " + names + ", got '" + c + "'");
      else if (std::any_of(out.begin(), out.end(), [&](const Objective& o) { return o.column == c; }))
        problems.add(key, "'" + c + "' is listed twice");
      else
        out.push_back({c, maximize});
    }
  }
  if (out.size() < 2 && problems.empty())
    problems.add("objectives", "expected two or more Pareto axes (objectives and maximize together)");
  return out;
}

std::string describe_point(const SweepSpec& spec, const Point& p) {
  std::string s;
  for (std::size_t i = 0; i < spec.varied.size(); ++i)
    s += (s.empty() ? "" : ", ") + spec.varied[i] + "=" + p.values[i];
  return s.empty() ? "the only point" : "point {" + s + "}";
}

// The cross product of `vary`, times the element-by-element tuples of `zip`.
void expand(SweepSpec& spec, const std::vector<Axis>& vary, const std::vector<Axis>& zip,
            const std::vector<std::string>& fixed_sets, const std::map<std::string, nlohmann::json>& fixed_run,
            Problems& problems) {
  std::size_t tuples = zip.empty() ? 1 : zip.front().values.size();
  for (const auto& z : zip)
    if (z.values.size() != tuples)
      return problems.add("zip." + z.key, "expected " + std::to_string(tuples) + " values like zip." + zip.front().key +
                                              ", got " + std::to_string(z.values.size()));
  std::size_t total = tuples;
  for (const auto& a : vary) total *= a.values.size();
  if (total > 100000) return problems.add("vary", "expected at most 100000 points, got " + std::to_string(total));
  std::vector<const Axis*> axes;
  for (const auto& a : vary) axes.push_back(&a);
  for (const auto& z : zip) axes.push_back(&z);
  for (std::size_t index = 0; index < total; ++index) {
    Point p;
    p.overrides = fixed_sets;
    p.run = fixed_run;
    // The first vary key changes slowest; the zip tuple fastest.
    std::size_t rest = index;
    std::vector<std::size_t> pick(axes.size());
    const std::size_t tuple = rest % tuples;
    rest /= tuples;
    for (std::size_t i = vary.size(); i-- > 0;) {
      pick[i] = rest % vary[i].values.size();
      rest /= vary[i].values.size();
    }
    for (std::size_t i = vary.size(); i < axes.size(); ++i) pick[i] = tuple;
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const std::string& key = axes[i]->key;
      const std::string& value = axes[i]->values[pick[i]];
      p.values.push_back(value);
      if (key.rfind("run.", 0) == 0) {
        const YAML::Node v = YAML::Load(value);
        p.run[key.substr(4)] = v.IsScalar() ? nlohmann::json(v.Scalar()) : nlohmann::json(value);
      } else {
        p.overrides.push_back(key + "=" + value);
      }
    }
    spec.points.push_back(std::move(p));
  }
}

}  // namespace

SweepSpec load_sweep(const std::string& file) {
  const config::ConfigNode loaded = config::ConfigNode::load_file(file);
  const YAML::Node& root = loaded.yaml();
  Problems problems(file);
  static const std::set<std::string> known = {"description", "platform", "networks",   "set",     "vary",
                                              "zip",         "run",      "objectives", "maximize"};
  for (const auto& e : root)
    if (known.count(e.first.Scalar()) == 0)
      problems.add(e.first.Scalar(),
                   "expected one of description, platform, networks, set, vary, zip, run, "
                   "objectives, maximize");
  SweepSpec spec;
  spec.file = file;
  if (!root["platform"].IsScalar())
    problems.add("platform", "expected a preset name or a platform file (the key is required)");
  else
    spec.platform = resolve_platform(root["platform"].Scalar(), file, problems);
  spec.networks = resolve_networks(root["networks"], file, problems);

  std::vector<std::string> sets;
  if (root["set"].IsDefined() && !root["set"].IsNull()) {
    // A list iterated as a map escaped as yaml-cpp's "invalid node".
    if (!root["set"].IsMap())
      problems.add("set", "expected a map of config keys to values");
    else
      for (const auto& e : root["set"]) sets.push_back(e.first.Scalar() + "=" + value_text(e.second));
  }
  std::map<std::string, nlohmann::json> run;
  if (root["run"].IsDefined() && !root["run"].IsNull()) {
    if (!root["run"].IsMap())
      problems.add("run", "expected a map of npuvp run options to values");
    else
      for (const auto& e : root["run"]) {
        const std::string key = e.first.Scalar();
        check_run_option("run." + key, key, e.second, problems);
        run[key] = e.second.IsScalar() ? nlohmann::json(e.second.Scalar()) : nlohmann::json(value_text(e.second));
      }
  }
  const std::vector<Axis> vary = read_axes(root["vary"], "vary", problems);
  const std::vector<Axis> zip = read_axes(root["zip"], "zip", problems);
  std::set<std::string> varied;
  for (const auto* axes : {&vary, &zip})
    for (const auto& a : *axes) {
      if (!varied.insert(a.key).second) problems.add("zip." + a.key, "a key in both vary and zip");
      spec.varied.push_back(a.key);
      const bool is_run = a.key.rfind("run.", 0) == 0;
      if (is_run ? run.count(a.key.substr(4)) != 0 : std::any_of(sets.begin(), sets.end(), [&](const std::string& s) {
            return s.rfind(a.key + "=", 0) == 0;
          }))
        problems.add(a.key, std::string("both fixed (") + (is_run ? "run" : "set") + ") and varied");
    }
  // An --input file is looked for as the tasks will look for it: a missing
  // one failed every point it reached, each naming the path unresolved.
  const auto check_input = [&](const std::string& key, const std::string& named) {
    if (!config::find_config_file(named, file))
      problems.add(key, "expected an existing .npy file (tried " + config::config_file_candidates(named, file) +
                            "), got '" + named + "'");
  };
  if (run.count("input") && run["input"].is_string()) check_input("run.input", run["input"].get<std::string>());
  for (const std::vector<Axis>* axes : {&vary, &zip})
    for (const Axis& a : *axes)
      if (a.key == "run.input")
        for (const std::string& v : a.values) check_input(a.key, v);
  spec.objectives = read_objectives(root, problems);
  expand(spec, vary, zip, sets, run, problems);
  // Each point's platform is built as npuvp run will build it: a bad key or
  // value is found now, and the point's hash covers the configuration as used.
  // An error every point shares (a typo in `set`) is listed once.
  std::vector<std::pair<std::string, std::string>> failures;  // error, first point with it
  std::map<std::string, std::size_t> count;
  for (auto& p : spec.points) {
    if (spec.platform.empty()) break;
    try {
      const platform::PlatformConfig config = platform::load_platform(spec.platform, p.overrides, "");
      p.hash = short_hash(config.resolved.dump() + "\n" + nlohmann::json(p.run).dump());
    } catch (const std::exception& e) {
      if (count[e.what()]++ == 0) failures.emplace_back(e.what(), describe_point(spec, p));
    }
  }
  for (const auto& [what, point] : failures) {
    const std::size_t n = count[what];
    problems.add_line(file + ": " + point + (n > 1 ? " and " + std::to_string(n - 1) + " more" : "") + ": " + what);
  }
  problems.throw_if_any();
  std::set<std::string> hashes;
  for (const auto& p : spec.points)
    if (!hashes.insert(p.hash).second)
      problems.add_line(file + ": " + describe_point(spec, p) + ": the same platform and options as an earlier point");
  problems.throw_if_any();
  return spec;
}

}  // namespace npuvp::sweep
