#include "platform/report/report_util.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "platform/report/report_writer.h"

namespace npuvp::report::detail {
namespace {

// Known names first in a meaningful order, unknown ones after, sorted.
std::vector<std::string> ordered(const std::set<std::string>& present, const std::vector<std::string>& known) {
  std::vector<std::string> out;
  for (const auto& k : known)
    if (present.count(k) != 0) out.push_back(k);
  for (const auto& p : present)
    if (std::find(known.begin(), known.end(), p) == known.end()) out.push_back(p);
  return out;
}

const std::vector<std::string> kEnergyOrder(kPowerComponents.begin(), kPowerComponents.end());

void collect_energy_keys(const nlohmann::json& energy, std::set<std::string>& keys) {
  if (!energy.is_object()) return;
  for (const auto& [k, v] : energy.items())
    if (k != "total" && v.is_number()) keys.insert(k);
}

}  // namespace

const nlohmann::json& layers_of(const nlohmann::json& report) {
  static const nlohmann::json kNone = nlohmann::json::array();
  const auto it = report.find("layers");
  return it != report.end() ? *it : kNone;
}

double number(const nlohmann::json& object, const char* key, double fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : fallback;
}

std::string text(const nlohmann::json& object, const char* key, const std::string& fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::vector<std::string> energy_components(const nlohmann::json& layers_or_totals) {
  std::set<std::string> keys;
  if (layers_or_totals.is_array()) {
    for (const auto& l : layers_or_totals)
      if (l.is_object() && l.contains("energy_pj")) collect_energy_keys(l["energy_pj"], keys);
  } else if (layers_or_totals.is_object() && layers_or_totals.contains("energy_pj")) {
    collect_energy_keys(layers_or_totals["energy_pj"], keys);
  }
  return ordered(keys, kEnergyOrder);
}

std::vector<std::string> stall_causes(const nlohmann::json& layers) {
  std::set<std::string> keys;
  if (layers.is_array())
    for (const auto& l : layers)
      if (l.is_object() && l.contains("stall_cycles_by_cause") && l["stall_cycles_by_cause"].is_object())
        for (const auto& [k, v] : l["stall_cycles_by_cause"].items()) keys.insert(k);
  return ordered(keys, {"dram", "noc", "sram_conflict", "buffer_port", "dependency"});
}

double layer_dram_bytes(const nlohmann::json& layer) {
  return number(layer, "dram_read_bytes") + number(layer, "dram_write_bytes");
}

std::optional<double> arithmetic_intensity(const nlohmann::json& layer) {
  const double bytes = layer_dram_bytes(layer);
  // The layer's own figure counts a batch's MACs, which its `macs` (one
  // image's) does not; a report without it is of batch 1.
  if (bytes > 0 && layer.contains("arithmetic_intensity") && layer["arithmetic_intensity"].is_number())
    return layer["arithmetic_intensity"].get<double>();
  return report::arithmetic_intensity(number(layer, "macs"), bytes);
}

std::string platform_as_run(const nlohmann::json& platform) {
  const nlohmann::json empty = nlohmann::json::object();
  const auto& npu = platform.contains("npu") ? platform["npu"] : empty;
  const auto& pe = platform.contains("pe_array") ? platform["pe_array"] : empty;
  const auto& sram = platform.contains("sram") ? platform["sram"] : empty;
  const auto& dram = platform.contains("dram") ? platform["dram"] : empty;
  const auto whole = [](double v) { return fixed(v, 0); };
  const double clusters = number(npu, "clusters"), rows = number(pe, "rows"), cols = number(pe, "cols");
  std::string out = whole(clusters) + " clusters of " + whole(rows) + "x" + whole(cols) +
                    " PEs = " + whole(clusters * rows * cols) + " MACs @ " + whole(number(npu, "clock_mhz")) +
                    " MHz, " + whole(number(sram, "banks")) + " x " + whole(number(sram, "bank_kb")) +
                    " KiB SRAM banks";
  const std::string memspec = text(dram, "memspec");
  if (!memspec.empty()) {
    const auto slash = memspec.find_last_of('/');
    const std::string part = memspec.substr(slash == std::string::npos ? 0 : slash + 1);
    out += ", " + whole(number(dram, "channels")) + "ch " + part.substr(0, part.rfind(".yaml"));
  }
  return out;
}

std::optional<std::string> interruption(const nlohmann::json& report) {
  const auto is_true = [](const nlohmann::json& o, const char* key) {
    return o.is_object() && o.contains(key) && o[key].is_boolean() && o[key].get<bool>();
  };
  if (!report.is_object() || !report.contains("sim") || !is_true(report["sim"], "interrupted")) return std::nullopt;
  const nlohmann::json& sim = report["sim"];
  const nlohmann::json empty = nlohmann::json::array();
  const nlohmann::json& layers = report.contains("layers") && report["layers"].is_array() ? report["layers"] : empty;
  const auto done =
      std::count_if(layers.begin(), layers.end(), [&](const nlohmann::json& l) { return is_true(l, "completed"); });
  const bool named = sim.contains("interrupted_by") && sim["interrupted_by"].is_string();
  return "by " + (named ? sim["interrupted_by"].get<std::string>() : std::string("a signal")) + ": " +
         std::to_string(done) + " of " + std::to_string(layers.size()) + " layers completed";
}

Summary summarize(const nlohmann::json& report) {
  Summary s;
  const nlohmann::json empty = nlohmann::json::object();
  const auto& net = report.contains("network") ? report["network"] : empty;
  const auto& plat = report.contains("platform") ? report["platform"] : empty;
  const auto& totals = report.contains("totals") ? report["totals"] : empty;
  const auto& layers = layers_of(report);
  s.network = text(net, "name", "network");
  s.ideal_memory = net.value("ideal_memory", false);
  s.platform = text(plat, "name", "platform");
  s.description = text(plat, "description");
  // The preset's description is prose about the preset as shipped: after
  // --set overrides the header describes the platform from its resolved values.
  const auto& sim = report.contains("sim") ? report["sim"] : empty;
  if (sim.contains("overrides") && sim["overrides"].is_array() && !sim["overrides"].empty()) {
    std::string sets;
    for (const auto& o : sim["overrides"]) sets += (sets.empty() ? "" : ", ") + o.get<std::string>();
    s.description = platform_as_run(plat) + "; --set " + sets;
  }

  // Layers' MACs are one image's, the MACs performed, latency and energy the
  // batch's.
  const double images = number(net, "batch", 1);
  double layer_macs = 0, performed_macs = 0, layer_latency_ns = 0, layer_energy_pj = 0, layer_cycles = 0;
  // An interrupted run's totals cover the layers it completed
  // (layers[].completed), so its rates count those layers' MACs only: the
  // network's would credit the latency with work never done.
  double completed_macs = 0;
  bool interrupted = false;
  for (const auto& l : layers) {
    layer_macs += number(l, "macs");
    if (l.contains("completed") && l["completed"].is_boolean() && !l["completed"].get<bool>())
      interrupted = true;
    else
      completed_macs += number(l, "macs");
    performed_macs += number(l, "performed_macs", number(l, "macs") * images);
    layer_latency_ns += number(l, "latency_ns");
    layer_cycles += number(l, "cycles");
    if (l.contains("energy_pj")) layer_energy_pj += number(l["energy_pj"], "total");
  }
  s.total_macs = number(net, "total_macs", layer_macs);
  s.done_macs = interrupted ? completed_macs : s.total_macs;
  s.cycles = number(totals, "cycles", layer_cycles);
  s.latency_ms = number(totals, "latency_ms", layer_latency_ns * 1e-6);
  const double latency_s = s.latency_ms * 1e-3;
  s.fps = number(totals, "fps", latency_s > 0 ? 1.0 / latency_s : 0.0);
  s.energy_uj = number(totals, "energy_uj", layer_energy_pj * 1e-6);
  const double energy_j = s.energy_uj * 1e-6;
  s.avg_power_mw = number(totals, "avg_power_mw", latency_s > 0 ? energy_j / latency_s * 1e3 : 0.0);
  s.peak_power_mw = number(totals, "peak_power_mw", s.avg_power_mw);
  s.peak_power_window_ns = number(totals, "peak_power_window_ns", 0.0);
  const double batch_macs = s.done_macs * images;
  s.effective_tops = latency_s > 0 ? 2.0 * batch_macs / latency_s * 1e-12 : 0.0;
  s.performed_tops = latency_s > 0 ? 2.0 * performed_macs / latency_s * 1e-12 : 0.0;
  s.tops_per_w = energy_j > 0 ? 2.0 * batch_macs / energy_j * 1e-12 : 0.0;
  if (plat.contains("derived") && plat["derived"].contains("area_mm2"))
    s.area_mm2 = number(plat["derived"]["area_mm2"], "total");
  s.tops_per_mm2 = s.area_mm2 > 0 ? s.effective_tops / s.area_mm2 : 0.0;
  if (totals.contains("all_verified") && totals["all_verified"].is_boolean())
    s.all_verified = totals["all_verified"].get<bool>();
  return s;
}

std::string peak_power_text(const Summary& s) {
  std::string text = fixed(s.peak_power_mw, 1) + " mW";
  if (s.peak_power_window_ns > 0)
    text += " (highest " + fixed(s.peak_power_window_ns, 0) + " ns window" +
            (s.ideal_memory ? " of the simulated run, not of the ideal-memory latency" : "") + ")";
  return text;
}

void Table::column(std::string header, bool left) {
  headers_.push_back(std::move(header));
  left_.push_back(left);
}

void Table::row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

void Table::print(std::ostream& os) const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) {
    width[c] = headers_[c].size();
    for (const auto& r : rows_) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      out += c == 0 ? "" : "  ";
      out += left_[c] ? cells[c] + pad : pad + cells[c];
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    os << out << '\n';
  };
  line(headers_);
  std::size_t total = 0;
  for (auto w : width) total += w + 2;
  os << std::string(total > 2 ? total - 2 : 0, '-') << '\n';
  for (const auto& r : rows_) line(r);
}

std::string fixed(double value, int decimals) {
  // report.html's power chart prints some 60,000 numbers; snprintf's "%.*f"
  // took about 2,000 instructions each. to_chars writes the same characters
  // (printf's in the C locale) at a fraction of that. The buffer holds any
  // double with the few decimals the reports ask for (309 digits and more).
  char buf[512];
  const auto [end, error] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals);
  if (error != std::errc{}) throw std::length_error("fixed: " + std::to_string(decimals) + " decimals");
  return std::string(buf, end);
}

std::string si(double value, const std::string& unit) {
  static constexpr std::array<std::pair<double, const char*>, 8> kPrefixes = {
      {{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}, {1e-3, "m"}, {1e-6, "u"}}};
  const std::string space = unit.empty() ? "" : " ";
  if (value == 0 || !std::isfinite(value)) return fixed(value, 0) + space + unit;
  const double mag = std::fabs(value);
  for (const auto& [scale, prefix] : kPrefixes) {
    if (mag >= scale * 0.9995) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.3g", value / scale);
      return buf + space + prefix + unit;
    }
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", value);
  return buf + space + unit;
}

std::string escape_xml(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_csv(std::string_view field) {
  if (field.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string csv_number(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", value);
  return buf;
}

}  // namespace npuvp::report::detail
