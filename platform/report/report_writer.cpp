#include "platform/report/report_writer.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include <sys/resource.h>

#include "models/common/output_file.h"
#include "platform/report/charts.h"
#include "platform/report/html_report.h"
#include "platform/report/power_csv.h"
#include "platform/report/report_util.h"

namespace npuvp::report {
namespace {

using detail::csv_number;
using detail::escape_csv;
using detail::number;

std::string cell(const nlohmann::json& v) {
  if (v.is_string()) return escape_csv(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number()) return csv_number(v.get<double>());
  return "";
}

// The leaves of a layer field: "" for a scalar or an array of scalars, the
// '_'-joined keys down to each such leaf of an object.
void scalar_paths(const nlohmann::json& v, const std::string& prefix, std::set<std::string>& out) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) scalar_paths(child, prefix.empty() ? k : prefix + "\x1f" + k, out);
  } else if (v.is_primitive() || (v.is_array() && std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) {
                                    return e.is_primitive();
                                  }))) {
    out.insert(prefix);
  }
}

// A path of scalar_paths (keys separated by \x1f) as a JSON pointer.
std::string path_pointer(const std::string& path) {
  std::string out;
  for (char c : path) out += c == '\x1f' ? std::string("/") : c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

// An array of scalars in one cell, space-separated.
std::string list_cell(const nlohmann::json& v) {
  std::string out;
  for (const auto& e : v) out += (out.empty() ? "" : " ") + (e.is_string() ? e.get<std::string>() : e.dump());
  return escape_csv(out);
}

std::string layers_csv(const nlohmann::json& report) {
  const nlohmann::json& layers = detail::layers_of(report);
  const auto causes = detail::stall_causes(layers);
  const auto components = detail::energy_components(layers);

  using Getter = std::function<std::string(const nlohmann::json&)>;
  std::vector<std::pair<std::string, Getter>> columns;
  // Fields this writer lays out itself; any other scalar field a layer carries
  // follows them, so new report fields reach the CSV without a change here.
  std::set<std::string> handled = {"energy_pj", "stall_cycles_by_cause"};
  auto field = [&](const std::string& key) {
    handled.insert(key);
    columns.emplace_back(key, [key](const nlohmann::json& l) { return l.contains(key) ? cell(l[key]) : ""; });
  };
  // An array field one column per element; a single number (older reports'
  // stride) stands for every element.
  auto dims = [&](const std::string& key, const std::vector<std::string>& names) {
    handled.insert(key);
    for (std::size_t i = 0; i < names.size(); ++i)
      columns.emplace_back(names[i], [key, i](const nlohmann::json& l) {
        if (!l.contains(key)) return std::string();
        if (l[key].is_number()) return cell(l[key]);
        return l[key].is_array() && i < l[key].size() ? cell(l[key][i]) : "";
      });
  };
  field("name");
  field("type");
  dims("in_shape", {"in_c", "in_h", "in_w"});
  dims("out_shape", {"out_c", "out_h", "out_w"});
  dims("kernel", {"kernel_h", "kernel_w"});
  dims("stride", {"stride_h", "stride_w"});
  dims("padding", {"pad_top", "pad_left", "pad_bottom", "pad_right"});
  dims("dilation", {"dilation_h", "dilation_w"});
  for (const char* k : {"groups", "macs", "params", "dataflow", "compute_cycles", "stall_cycles"}) field(k);
  for (const auto& c : causes)
    columns.emplace_back("stall_" + c + "_cycles", [c](const nlohmann::json& l) {
      return l.contains("stall_cycles_by_cause") && l["stall_cycles_by_cause"].contains(c)
                 ? cell(l["stall_cycles_by_cause"][c])
                 : "0";
    });
  for (const char* k : {"cycles", "latency_ns", "utilization", "dram_read_bytes", "dram_write_bytes"}) field(k);
  columns.emplace_back("ops_per_dram_byte", [](const nlohmann::json& l) {
    const auto ai = detail::arithmetic_intensity(l);
    return ai ? csv_number(*ai) : "";
  });
  for (const auto& c : components)
    columns.emplace_back("energy_" + c + "_pj", [c](const nlohmann::json& l) {
      return l.contains("energy_pj") && l["energy_pj"].contains(c) ? cell(l["energy_pj"][c]) : "";
    });
  columns.emplace_back("energy_total_pj", [](const nlohmann::json& l) {
    return l.contains("energy_pj") ? csv_number(number(l["energy_pj"], "total")) : "";
  });
  field("verified");
  handled.insert("folded_into");
  columns.emplace_back("folded_into", [](const nlohmann::json& l) {
    std::string names;
    for (const auto& n : l.value("folded_into", nlohmann::json::array()))
      names += (names.empty() ? "" : ";") + n.get<std::string>();
    return escape_csv(names);
  });
  // Every other scalar: nested objects (tiling, dataflow_costs) one column per
  // leaf named by its path joined with '_', arrays of scalars in one cell.
  std::set<std::string> extra;
  for (const auto& l : layers)
    for (const auto& [k, v] : l.items())
      if (handled.count(k) == 0) extra.insert(k);
  for (const auto& k : extra) {
    std::set<std::string> paths;
    for (const auto& l : layers)
      if (l.contains(k)) scalar_paths(l[k], "", paths);
    for (const auto& path : paths) {
      std::string name = path.empty() ? k : k + "_" + path;
      std::replace(name.begin(), name.end(), '\x1f', '_');
      columns.emplace_back(name, [k, path](const nlohmann::json& l) {
        if (!l.contains(k)) return std::string();
        const nlohmann::json* v = &l[k];
        if (!path.empty()) {
          const nlohmann::json::json_pointer pointer("/" + path_pointer(path));
          if (!v->contains(pointer)) return std::string();
          v = &(*v)[pointer];
        }
        return v->is_array() ? list_cell(*v) : cell(*v);
      });
    }
  }

  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i].first;
  out += '\n';
  for (const auto& l : layers) {
    for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i].second(l);
    out += '\n';
  }
  return out;
}

sc_core::sc_time ns(double value) { return sc_core::sc_time(value, sc_core::SC_NS); }

void write_timeline(const std::filesystem::path& path, const RunRecord& record) {
  trace::TimelineRecorder timeline;
  timeline.stream_to(path.string());
  for (const auto& s : record.timeline)
    timeline.slice(s.track, s.name, s.category, ns(s.start_ns), ns(s.start_ns + s.duration_ns));
  add_power_counters(timeline, record.power);
  timeline.close();
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace

void add_power_counters(trace::TimelineRecorder& timeline, const std::vector<PowerSample>& power) {
  if (power.empty()) return;
  // One counter event per window and series: the names are rendered once.
  std::vector<std::string> series;
  for (const char* c : kPowerComponents) series.push_back(std::string(c) + "_mw");
  const auto by_component = timeline.add_counter("power", "power by component (mW)", series);
  const auto total = timeline.add_counter("power", "total power (mW)", {"total_mw"});
  std::vector<double> values(kPowerComponents.size()), total_value(1);
  auto counters = [&](double at_ns, const PowerSample* s) {
    for (std::size_t i = 0; i < kPowerComponents.size(); ++i) values[i] = s != nullptr ? s->component_mw[i] : 0.0;
    timeline.counter(by_component, ns(at_ns), values);
    total_value[0] = s != nullptr ? s->total_mw : 0.0;
    timeline.counter(total, ns(at_ns), total_value);
  };
  for (const auto& s : power) counters(s.time_ns, &s);
  // A counter holds its value until the next event; end the last window.
  counters(power.back().time_ns + power.back().window_ns, nullptr);
}

nlohmann::json write_run_outputs(const RunRecord& record, const std::string& out_dir, const OutputOptions& options) {
  const std::filesystem::path dir(out_dir);
  io::prepare_output_directory(out_dir);
  const nlohmann::json roof = record.report.contains("roofline") ? record.report["roofline"] : roofline(record.report);

  io::write_file((dir / "layers.csv").string(), layers_csv(record.report));
  if (options.power_csv) {
    PowerCsvWriter power((dir / "power.csv").string());
    for (const auto& sample : record.power) power.append(sample);
    power.close();
  }
  if (options.timeline_json) write_timeline(dir / "timeline.json", record);
  io::write_file((dir / "roofline.svg").string(), detail::roofline_svg(roof));
  io::write_file((dir / "report.html").string(), detail::render_html(record, roof));
  nlohmann::json report = record.report;
  if (options.measure_peak_rss) report["sim"]["peak_rss_mb"] = peak_rss_mb();
  io::write_file((dir / "report.json").string(), report.dump(2) + "\n");
  return report;
}

}  // namespace npuvp::report
