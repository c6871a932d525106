#include "platform/report/report_compare.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "platform/report/report_util.h"

namespace npuvp::report {
namespace {

using detail::number;
using detail::Table;

// The scalar leaves of a section, keyed by their dotted path.
void leaves(const nlohmann::json& v, const std::string& path, std::map<std::string, nlohmann::json>& out) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) leaves(child, path.empty() ? k : path + "." + k, out);
  } else if (v.is_array() &&
             !std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) { return e.is_primitive(); })) {
    for (std::size_t i = 0; i < v.size(); ++i) leaves(v[i], path + "[" + std::to_string(i) + "]", out);
  } else {
    out[path] = v;
  }
}

std::string general(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return general(v.get<double>());
  return v.dump();
}

std::string ratio(double a, double b) {
  if (a == b) return "1";
  if (a == 0) return "-";
  return detail::fixed(b / a, 4);
}

const nlohmann::json& section(const nlohmann::json& report, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  return report.is_object() && report.contains(key) ? report[key] : empty;
}

// Differing leaves of one section; numbers get the ratio B/A.
std::size_t compare_section(std::ostream& os, const char* title, const nlohmann::json& a, const nlohmann::json& b) {
  std::map<std::string, nlohmann::json> la, lb;
  leaves(a, "", la);
  leaves(b, "", lb);
  for (const auto& [k, v] : lb) la.emplace(k, nullptr);
  Table t;
  t.column(title, true);
  t.column("A");
  t.column("B");
  t.column("B/A");
  std::size_t differ = 0;
  for (const auto& [k, va] : la) {
    const nlohmann::json vb = lb.count(k) != 0 ? lb[k] : nlohmann::json();
    if (va == vb) continue;
    ++differ;
    const bool numbers = va.is_number() && vb.is_number();
    t.row({k, value_text(va), value_text(vb), numbers ? ratio(va.get<double>(), vb.get<double>()) : ""});
  }
  if (!t.empty()) {
    os << '\n';
    t.print(os);
  }
  return differ;
}

double energy_total(const nlohmann::json& layer) {
  return layer.contains("energy_pj") ? number(layer["energy_pj"], "total") : 0.0;
}

std::size_t compare_layers(std::ostream& os, const nlohmann::json& a, const nlohmann::json& b) {
  // A name may repeat (SCALE-Sim topologies): its n-th layer in A meets its
  // n-th in B. With one per name, the second "c1" was "only in A".
  std::map<std::string, std::deque<const nlohmann::json*>> by_name;
  for (const auto& l : b) by_name[detail::text(l, "name")].push_back(&l);
  Table t;
  for (const char* h : {"layer", "cycles A", "cycles B", "B/A", "energy_uJ A", "energy_uJ B", "B/A", "DRAM_KiB A",
                        "DRAM_KiB B", "B/A", "dataflow", "verified"})
    t.column(h, std::string(h) == "layer" || std::string(h) == "dataflow" || std::string(h) == "verified");
  std::size_t differ = 0;
  std::string only_a, only_b;
  for (const auto& la : a) {
    const std::string name = detail::text(la, "name");
    const auto it = by_name.find(name);
    if (it == by_name.end() || it->second.empty()) {
      only_a += (only_a.empty() ? "" : ", ") + name;
      continue;
    }
    const nlohmann::json& lb = *it->second.front();
    it->second.pop_front();
    if (la == lb) continue;
    ++differ;
    const double ca = number(la, "cycles"), cb = number(lb, "cycles");
    const double ea = energy_total(la) * 1e-6, eb = energy_total(lb) * 1e-6;
    const double da = detail::layer_dram_bytes(la) / 1024.0, db = detail::layer_dram_bytes(lb) / 1024.0;
    const std::string dfa = detail::text(la, "dataflow", "-"), dfb = detail::text(lb, "dataflow", "-");
    const auto verdict = [](const nlohmann::json& l) {
      return !l.contains("verified") ? std::string("-") : l["verified"].get<bool>() ? "yes" : "NO";
    };
    t.row({name, detail::fixed(ca, 0), detail::fixed(cb, 0), ratio(ca, cb), detail::fixed(ea, 3), detail::fixed(eb, 3),
           ratio(ea, eb), detail::fixed(da, 1), detail::fixed(db, 1), ratio(da, db),
           dfa == dfb ? dfa : dfa + " -> " + dfb,
           verdict(la) == verdict(lb) ? verdict(la) : verdict(la) + " -> " + verdict(lb)});
  }
  for (const auto& [name, left] : by_name)
    for (std::size_t k = 0; k < left.size(); ++k) only_b += (only_b.empty() ? "" : ", ") + name;
  os << "\nlayers: " << differ << " of " << a.size() << " differ (matched by name)\n";
  if (!t.empty()) t.print(os);
  if (!only_a.empty()) os << "only in A: " << only_a << '\n';
  if (!only_b.empty()) os << "only in B: " << only_b << '\n';
  return differ + (only_a.empty() ? 0 : 1) + (only_b.empty() ? 0 : 1);
}

// The models' statistics beside them (dram, noc, counters, roofline, units,
// ...): a line for each section that differs, with how many figures and the
// first, all counted in the total, so that "identical" covers everything but
// `sim` (a doubled dram.read_bytes was "identical").
std::size_t summarize_other_sections(std::ostream& os, const nlohmann::json& a, const nlohmann::json& b) {
  std::set<std::string> keys;
  for (const nlohmann::json* r : {&a, &b})
    for (const auto& [k, v] : r->items()) keys.insert(k);
  for (const char* shown : {"sim", "platform", "network", "totals", "layers"}) keys.erase(shown);
  std::size_t total = 0;
  bool first_line = true;
  for (const std::string& key : keys) {
    std::map<std::string, nlohmann::json> la, lb;
    leaves(section(a, key.c_str()), "", la);
    leaves(section(b, key.c_str()), "", lb);
    for (const auto& [k, v] : lb) la.emplace(k, nullptr);
    std::size_t differ = 0;
    std::string example;
    for (const auto& [k, va] : la) {
      const nlohmann::json vb = lb.count(k) != 0 ? lb[k] : nlohmann::json();
      if (va == vb) continue;
      if (differ++ == 0) example = (k.empty() ? key : k) + ": " + value_text(va) + " -> " + value_text(vb);
    }
    if (differ == 0) continue;
    os << (first_line ? "\n" : "") << key << ": " << differ << (differ == 1 ? " figure differs" : " figures differ")
       << ", first " << example << '\n';
    first_line = false;
    total += differ;
  }
  return total;
}

std::string describe(const nlohmann::json& report, const std::string& file) {
  std::string out = file + ": " + detail::text(section(report, "network"), "name", "?") + " on " +
                    detail::text(section(report, "platform"), "name", "?");
  const nlohmann::json& sim = section(report, "sim");
  if (sim.contains("command_line") && sim["command_line"].is_array()) {
    std::string line;
    for (const auto& arg : sim["command_line"]) line += (line.empty() ? "" : " ") + value_text(arg);
    out += "\n   " + line;
  }
  // Its totals cover fewer layers: a ratio against a whole run would read as
  // a speed-up.
  if (const auto stopped = detail::interruption(report))
    out += "\n   interrupted " + *stopped + ", which are all its totals cover";
  return out;
}

}  // namespace

ReportComparison compare_reports(const nlohmann::json& a, const nlohmann::json& b, const std::string& name_a,
                                 const std::string& name_b) {
  // Any JSON compared as a report differed in every figure it lacked.
  for (const auto& [report, name] : {std::pair{&a, &name_a}, std::pair{&b, &name_b}})
    if (!report->is_object() || !report->contains("layers") || !(*report)["layers"].is_array() ||
        !report->contains("totals") || !(*report)["totals"].is_object())
      throw std::invalid_argument(*name +
                                  ": not an npuvp report (expected a map with a 'layers' list and a 'totals' "
                                  "map, as npuvp run writes report.json)");
  std::ostringstream os;
  os << "A " << describe(a, name_a) << "\nB " << describe(b, name_b) << '\n';
  std::size_t differ = 0;
  differ += compare_section(os, "platform", section(a, "platform"), section(b, "platform"));
  differ += compare_section(os, "network", section(a, "network"), section(b, "network"));
  differ += compare_section(os, "totals", section(a, "totals"), section(b, "totals"));
  differ += compare_layers(os, section(a, "layers"), section(b, "layers"));
  differ += summarize_other_sections(os, a, b);
  os << '\n'
     << (differ == 0 ? std::string("identical (sim.* aside)") : std::to_string(differ) + " figures differ") << '\n';
  return {os.str(), differ};
}

}  // namespace npuvp::report
