#include "platform/report/report_writer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "platform/report/charts.h"
#include "platform/report/html_report.h"
#include "platform/report/power_csv.h"
#include "platform/report/report_util.h"

namespace npuvp::report {
namespace {

using detail::csv_number;
using detail::escape_csv;
using detail::number;

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream os(path, std::ios::binary);
  os << content;
  os.flush();
  if (!os) throw std::runtime_error("cannot write " + path.string());
}

std::string cell(const nlohmann::json& v) {
  if (v.is_string()) return escape_csv(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number()) return csv_number(v.get<double>());
  return "";
}

std::string layers_csv(const nlohmann::json& report) {
  const nlohmann::json layers = report.value("layers", nlohmann::json::array());
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
  auto dims = [&](const std::string& key, const std::vector<std::string>& names) {
    handled.insert(key);
    for (std::size_t i = 0; i < names.size(); ++i)
      columns.emplace_back(names[i], [key, i](const nlohmann::json& l) {
        return l.contains(key) && l[key].is_array() && i < l[key].size() ? cell(l[key][i]) : "";
      });
  };
  field("name");
  field("type");
  dims("in_shape", {"in_c", "in_h", "in_w"});
  dims("out_shape", {"out_c", "out_h", "out_w"});
  dims("kernel", {"kernel_h", "kernel_w"});
  for (const char* k : {"stride", "groups", "macs", "params", "dataflow", "compute_cycles", "stall_cycles"}) field(k);
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
  std::set<std::string> extra;
  for (const auto& l : layers)
    for (const auto& [k, v] : l.items())
      if (handled.count(k) == 0 && v.is_primitive()) extra.insert(k);
  for (const auto& k : extra) field(k);

  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i].first;
  out += '\n';
  for (const auto& l : layers) {
    for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i].second(l);
    out += '\n';
  }
  return out;
}

// Chrome trace-event format: times in microseconds. A track "npu.cluster3"
// becomes thread "npu.cluster3" of process "npu", so viewers group the rows
// of one component; tids are unique across processes as some viewers key
// threads by tid alone.
nlohmann::json timeline_json(const RunRecord& record) {
  nlohmann::json events = nlohmann::json::array();
  std::map<std::string, int> pids;
  std::map<std::string, std::pair<int, int>> tracks;  // track -> (pid, tid)
  auto pid_of = [&](const std::string& process) {
    auto [it, inserted] = pids.emplace(process, static_cast<int>(pids.size()) + 1);
    if (inserted) {
      events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", it->second}, {"args", {{"name", process}}}});
      events.push_back(
          {{"ph", "M"}, {"name", "process_sort_index"}, {"pid", it->second}, {"args", {{"sort_index", it->second}}}});
    }
    return it->second;
  };

  std::vector<const TimelineSlice*> slices;
  for (const auto& s : record.timeline) slices.push_back(&s);
  // Tracks numbered in order of first appearance in time, so rows read top
  // to bottom in the order the run used them.
  std::stable_sort(slices.begin(), slices.end(), [](const TimelineSlice* a, const TimelineSlice* b) {
    return a->start_ns != b->start_ns ? a->start_ns < b->start_ns : a->duration_ns > b->duration_ns;
  });
  int next_tid = 1;
  for (const TimelineSlice* s : slices) {
    auto it = tracks.find(s->track);
    if (it == tracks.end()) {
      const int pid = pid_of(s->track.substr(0, s->track.find('.')));
      const int tid = next_tid++;
      it = tracks.emplace(s->track, std::make_pair(pid, tid)).first;
      events.push_back(
          {{"ph", "M"}, {"name", "thread_name"}, {"pid", pid}, {"tid", tid}, {"args", {{"name", s->track}}}});
      events.push_back(
          {{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", pid}, {"tid", tid}, {"args", {{"sort_index", tid}}}});
    }
    events.push_back({{"ph", "X"},
                      {"name", s->name},
                      {"cat", s->category},
                      {"pid", it->second.first},
                      {"tid", it->second.second},
                      {"ts", s->start_ns * 1e-3},
                      {"dur", s->duration_ns * 1e-3}});
  }

  if (!record.power.empty()) {
    const int pid = pid_of("power");
    const auto components = detail::power_components(record.power);
    auto counters = [&](double ts_us, const PowerSample* s) {
      nlohmann::json args = nlohmann::json::object();
      for (const auto& c : components) {
        double mw = 0;
        if (s != nullptr && s->component_mw.count(c) != 0) mw = s->component_mw.at(c);
        args[c + "_mw"] = mw;
      }
      events.push_back({{"ph", "C"}, {"name", "power by component (mW)"}, {"pid", pid}, {"ts", ts_us}, {"args", args}});
      events.push_back({{"ph", "C"},
                        {"name", "total power (mW)"},
                        {"pid", pid},
                        {"ts", ts_us},
                        {"args", {{"total_mw", s ? s->total_mw : 0.0}}}});
    };
    for (const auto& s : record.power) counters(s.time_ns * 1e-3, &s);
    // A counter holds its value until the next event; end the last window.
    counters((record.power.back().time_ns + record.power.back().window_ns) * 1e-3, nullptr);
  }
  return {{"traceEvents", events}, {"displayTimeUnit", "ns"}};
}

}  // namespace

void write_run_outputs(const RunRecord& record, const std::string& out_dir) {
  create_output_directory(out_dir);
  PowerCsvWriter power(out_dir + "/power.csv", detail::power_components(record.power));
  for (const auto& s : record.power) power.append(s);
  write_report_outputs(record, out_dir);
}

void create_output_directory(const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error("cannot create output directory " + out_dir + ": " + ec.message());
}

void write_report_outputs(const RunRecord& record, const std::string& out_dir) {
  const std::filesystem::path dir(out_dir);
  create_output_directory(out_dir);
  const nlohmann::json roof = record.report.contains("roofline") ? record.report["roofline"] : roofline(record.report);

  write_file(dir / "report.json", record.report.dump(2) + "\n");
  write_file(dir / "layers.csv", layers_csv(record.report));
  write_file(dir / "timeline.json", timeline_json(record).dump(1) + "\n");
  write_file(dir / "roofline.svg", detail::roofline_svg(roof));
  write_file(dir / "report.html", detail::render_html(record, roof));
}

std::vector<TimelineSlice> timeline_slices(const std::vector<trace::Slice>& slices) {
  const sc_core::sc_time ns(1, sc_core::SC_NS);
  std::vector<TimelineSlice> out;
  out.reserve(slices.size());
  for (const auto& s : slices) out.push_back({s.name, s.category, s.track, s.start / ns, (s.end - s.start) / ns});
  return out;
}

}  // namespace npuvp::report
