#pragma once
// A sweep's results: one row per point and network gathered from each run's
// report.json and exit status, the Pareto front per network, and the files
// written from them (results.csv, results.json, pareto.svg, index.html).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/sweep/sweep_spec.h"
#include "platform/sweep/sweep_tasks.h"

namespace npuvp::sweep {

// Rows in task order: point, the varied keys, network, status (ok | failed |
// unverified | pending: never started, as when the sweep was interrupted),
// error, the metric_columns() (null when not measured), pareto (on its
// network's front), wall_s (the run's wall-clock time: last, the one column
// that differs between two sweeps of the same points).
nlohmann::json gather_rows(const SweepSpec& spec, const std::vector<Task>& tasks);

// Marks each row's `pareto`: ok rows no other ok row of the same network
// dominates on the objectives.
void mark_front(nlohmann::json& rows, const std::vector<Objective>& objectives);

// A varied value's cell: the shortest text that reads back as the value, so
// that two points a file tells apart are told apart in the table (0.1234567891
// and 0.1234567894 were both "0.123456789").
std::string varied_cell(const nlohmann::json& v);

// The columns of results.csv, in order.
std::vector<std::string> result_columns(const SweepSpec& spec);

// Writes results.csv, results.json, pareto.svg and index.html into `out_dir`.
void write_results(const SweepSpec& spec, const nlohmann::json& rows, const std::string& out_dir);

// pareto.svg: every measured row on the first two objectives, the front of
// each network joined.
std::string pareto_svg(const nlohmann::json& rows, const std::vector<Objective>& objectives);
std::string index_html(const SweepSpec& spec, const nlohmann::json& rows);

}  // namespace npuvp::sweep
