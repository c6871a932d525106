#include "platform/sweep/sweep_results.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "models/common/number_text.h"
#include "platform/report/report_util.h"

namespace npuvp::sweep {
namespace {

namespace fs = std::filesystem;

// The run's own last word on why it failed: npuvp prefixes its errors.
std::string error_of(const Task& task, int code) {
  std::ifstream is(task.dir + "/run.log");
  std::string line, last;
  while (std::getline(is, line))
    if (line.rfind("npuvp", 0) == 0) last = line;
  if (!last.empty()) return last;
  return code > 128 ? "killed by signal " + std::to_string(code - 128) : "exit status " + std::to_string(code);
}

double number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

void add_metrics(nlohmann::json& row, const nlohmann::json& report) {
  const nlohmann::json& totals = report["totals"];
  row["latency_ms"] = number(totals, "latency_ms");
  row["fps"] = number(totals, "fps");
  row["energy_uj"] = number(totals, "energy_uj");
  row["energy_per_inference_uj"] = number(totals, "energy_per_inference_uj");
  row["avg_power_mw"] = number(totals, "avg_power_mw");
  std::uint64_t bytes = 0;
  double busy = 0, cycles = 0;
  for (const auto& l : report["layers"]) {
    bytes += l.value("dram_read_bytes", std::uint64_t{0}) + l.value("dram_write_bytes", std::uint64_t{0});
    busy += number(l, "utilization") * number(l, "cycles");
    cycles += number(l, "cycles");
  }
  row["dram_bytes"] = bytes;
  // The layers' utilization weighted by their cycles: MACs performed over
  // those the array could have performed in the whole run.
  row["utilization"] = cycles > 0 ? busy / cycles : 0.0;
  if (number(totals, "area_mm2") > 0) row["area_mm2"] = number(totals, "area_mm2");
  row["wall_s"] = number(report["sim"], "wall_seconds");
}

// A varied value as JSON: numbers stay numbers.
nlohmann::json typed(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) {
    if (text.find_first_not_of("+-0123456789") == std::string::npos) return std::stoll(text);
    return v;
  }
  return text;
}

std::string csv_cell(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return v.dump();
  if (v.is_number()) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", v.get<double>());
    return buf;
  }
  return report::detail::escape_csv(v.get<std::string>());
}

}  // namespace

std::string varied_cell(const nlohmann::json& v) {
  if (!v.is_number_float()) return csv_cell(v);
  char buf[text::kLongestNumber];
  return std::string(buf, text::write_shortest(buf, v.get<double>()));
}

namespace {

void write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream os(tmp);
    os << text;
    if (!os) throw std::runtime_error(path + ": cannot write");
  }
  fs::rename(tmp, path);
}

}  // namespace

std::vector<std::string> result_columns(const SweepSpec& spec) {
  std::vector<std::string> cols = {"point"};
  cols.insert(cols.end(), spec.varied.begin(), spec.varied.end());
  cols.insert(cols.end(), {"network", "status", "error"});
  cols.insert(cols.end(), metric_columns().begin(), metric_columns().end());
  cols.insert(cols.end(), {"pareto", "wall_s"});
  return cols;
}

nlohmann::json gather_rows(const SweepSpec& spec, const std::vector<Task>& tasks) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& t : tasks) {
    const Point& p = spec.points[t.point];
    nlohmann::json row = {{"point", p.hash}};
    for (std::size_t i = 0; i < spec.varied.size(); ++i) row[spec.varied[i]] = typed(p.values[i]);
    row["network"] = network_dir_name(t.network);
    for (const auto& c : metric_columns()) row[c] = nullptr;
    row["wall_s"] = nullptr;
    row["pareto"] = false;
    const auto code = exit_code(t);
    if (!code && !fs::exists(t.dir)) {
      // An interrupted sweep starts no new run; a rerun runs it.
      row["status"] = "pending";
      row["error"] = "not started";
    } else if (!code) {
      row["status"] = "failed";
      row["error"] = "did not finish (no exit status in " + t.dir + ")";
    } else if (*code == 0 || *code == 3) {
      std::string error;
      if (const std::optional<nlohmann::json> report = read_report(t, error)) {
        add_metrics(row, *report);
        row["status"] = *code == 0 ? "ok" : "unverified";
        row["error"] = *code == 0 ? "" : "an output was not bit-exact (exit status 3)";
      } else {
        row["status"] = "failed";
        row["error"] = error;
      }
    } else {
      row["status"] = "failed";
      row["error"] = error_of(t, *code);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void mark_front(nlohmann::json& rows, const std::vector<Objective>& objectives) {
  // b dominates a: no worse on every objective, better on one.
  const auto dominates = [&](const nlohmann::json& b, const nlohmann::json& a) {
    bool better = false;
    for (const auto& o : objectives) {
      if (b[o.column].is_null() || a[o.column].is_null()) return false;
      const double x = a[o.column].get<double>(), y = b[o.column].get<double>();
      if (o.maximize ? y < x : y > x) return false;
      better = better || y != x;
    }
    return better;
  };
  for (auto& a : rows) {
    if (a["status"] != "ok") continue;
    bool dominated = false;
    for (const auto& b : rows)
      if (b["status"] == "ok" && b["network"] == a["network"] && dominates(b, a)) {
        dominated = true;
        break;
      }
    a["pareto"] = !dominated;
  }
}

void write_results(const SweepSpec& spec, const nlohmann::json& rows, const std::string& out_dir) {
  const std::vector<std::string> cols = result_columns(spec);
  std::string csv;
  for (std::size_t i = 0; i < cols.size(); ++i) csv += (i ? "," : "") + csv_cell(cols[i]);
  csv += '\n';
  const std::set<std::string> varied(spec.varied.begin(), spec.varied.end());
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < cols.size(); ++i)
      csv += (i ? "," : "") + (varied.count(cols[i]) != 0 ? varied_cell(row[cols[i]]) : csv_cell(row[cols[i]]));
    csv += '\n';
  }
  write_file(out_dir + "/results.csv", csv);
  nlohmann::json objectives = nlohmann::json::array();
  for (const auto& o : spec.objectives) objectives.push_back({{"column", o.column}, {"maximize", o.maximize}});
  const nlohmann::json doc = {{"sweep", fs::absolute(spec.file).lexically_normal().string()},
                              {"platform", spec.platform},
                              {"varied", spec.varied},
                              {"objectives", objectives},
                              {"columns", cols},
                              {"rows", rows}};
  write_file(out_dir + "/results.json", doc.dump(2) + "\n");
  write_file(out_dir + "/pareto.svg", pareto_svg(rows, spec.objectives));
  write_file(out_dir + "/index.html", index_html(spec, rows));
}

}  // namespace npuvp::sweep
