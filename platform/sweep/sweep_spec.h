#pragma once
// A sweep file (docs/sweeps.md): a platform, networks, fixed overrides, the
// keys to vary, `npuvp run` options and the Pareto objectives, expanded into
// points and checked whole before anything runs.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace npuvp::sweep {

// The figures a sweep reports per point and network; objectives name them.
const std::vector<std::string>& metric_columns();

struct Point {
  std::string hash;                           // short hash of the resolved platform and run options
  std::vector<std::string> values;            // one per SweepSpec::varied, as the file wrote it
  std::vector<std::string> overrides;         // "key=value" for npuvp run --set: set, then varied config keys
  std::map<std::string, nlohmann::json> run;  // npuvp run options (underscored names), fixed and varied
};

struct Objective {
  std::string column;
  bool maximize = false;
};

struct SweepSpec {
  std::string file;
  std::string platform;               // the preset file to run, absolute
  std::vector<std::string> networks;  // zoo names or absolute network files
  std::vector<std::string> varied;    // vary keys, then zip keys, as written
  std::vector<Point> points;
  std::vector<Objective> objectives;  // minimized, then maximized
};

// Reads and checks the whole file: every problem is listed in one
// config::ConfigError naming the file and the key, before any point runs.
SweepSpec load_sweep(const std::string& file);

// A network's directory name under points/<point>/.
std::string network_dir_name(const std::string& network);

}  // namespace npuvp::sweep
