#include "platform/report/html_report.h"

#include <sstream>

#include "platform/report/charts.h"
#include "platform/report/report_util.h"

namespace npuvp::report::detail {
namespace {

constexpr const char* kStyle = R"css(
:root { --ink:#1f2430; --muted:#5b6270; --line:#e3e6eb; --accent:#4e79a7; --bg:#f6f7f9; --ok:#2e7d32; --bad:#c62828; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { background:var(--ink); color:#fff; padding:22px 24px 18px; }
header h1 { margin:0 0 4px; font-size:22px; font-weight:600; }
header p { margin:0; color:#c8ccd4; }
main { max-width:1400px; margin:0 auto; padding:20px 24px 40px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:18px 20px; margin:18px 0; }
h2 { font-size:16px; margin:0 0 12px; font-weight:600; }
p.note { color:var(--muted); margin:6px 0 0; font-size:12.5px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(165px, 1fr)); gap:12px;
         background:none; border:none; padding:0; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .value { font-size:22px; font-weight:600; font-variant-numeric:tabular-nums; }
.card .unit { color:var(--muted); font-size:13px; margin-left:3px; font-weight:400; }
.sub { color:var(--muted); font-size:11px; }
td .sub { white-space:normal; }
td.l { overflow-wrap:anywhere; }
td.name { min-width:9em; max-width:19em; }
td.why { max-width:14em; }
.ok { color:var(--ok); } .bad { color:var(--bad); }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:12px; font-variant-numeric:tabular-nums; }
th, td { padding:5px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
th { text-align:right; color:var(--muted); font-weight:600; background:#fafbfc; white-space:normal;
     vertical-align:bottom; }
td { text-align:right; }
th.l, td.l { text-align:left; }
tbody tr:hover { background:#f3f6fa; }
tfoot td { font-weight:600; border-top:2px solid var(--line); }
.share { display:inline-block; height:8px; border-radius:2px; vertical-align:middle; margin-right:6px; }
svg { max-width:100%; height:auto; display:block; margin:0 auto; }
details summary { cursor:pointer; color:var(--accent); }
pre { background:#fafbfc; border:1px solid var(--line); border-radius:6px; padding:10px; overflow:auto;
      font-size:12px; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:0 0 30px; }
)css";

class Html {
 public:
  Html& raw(const std::string& s) {
    os_ << s;
    return *this;
  }
  Html& text(const std::string& s) {
    os_ << escape_xml(s);
    return *this;
  }
  // <td>, right-aligned (numbers) unless `left`.
  Html& cell(const std::string& s, bool left = false) {
    os_ << (left ? "<td class=\"l\">" : "<td>") << escape_xml(s) << "</td>";
    return *this;
  }
  Html& head(const std::string& s, bool left = false) {
    os_ << (left ? "<th class=\"l\">" : "<th>") << escape_xml(s) << "</th>";
    return *this;
  }
  std::string str() const { return os_.str(); }

 private:
  std::ostringstream os_;
};

std::string shape(const nlohmann::json& l, const char* key) {
  if (!l.contains(key) || !l[key].is_array()) return "-";
  std::string out;
  for (const auto& d : l[key]) out += (out.empty() ? "" : "\u00d7") + d.dump();
  return out;
}

void card(Html& h, const std::string& label, const std::string& value, const std::string& unit,
          const std::string& value_class = "") {
  h.raw("<div class=\"card\"><div class=\"label\">").text(label).raw("</div><div class=\"value");
  if (!value_class.empty()) h.raw(" " + value_class);
  h.raw("\">").text(value);
  if (!unit.empty()) h.raw("<span class=\"unit\">").text(unit).raw("</span>");
  h.raw("</div></div>\n");
}

void layer_table(Html& h, const nlohmann::json& report) {
  const nlohmann::json& layers = layers_of(report);
  const auto causes = stall_causes(layers);
  h.raw("<section><h2>Layers</h2><div class=\"scroll\"><table><thead><tr>");
  h.head("#").head("layer", true).head("MMACs").head("dataflow", true).head("cycles").head("compute");
  h.head("stall");
  h.head("latency (\u00b5s)")
      .head("util")
      .head("DRAM rd / wr (KiB)")
      .head("ops/B")
      .head("energy (\u00b5J)")
      .head("verified", true);
  h.raw("</tr></thead><tbody>\n");
  std::size_t index = 0;
  for (const auto& l : layers) {
    const auto ai = arithmetic_intensity(l);
    // The layer's shape rides under its name, so the table's numeric
    // columns fit a laptop screen.
    const std::string detail = text(l, "type") + " \u00b7 " + shape(l, "in_shape") + " \u2192 " +
                               shape(l, "out_shape") + " \u00b7 k " + shape(l, "kernel") + " s " +
                               (l.contains("stride") ? l["stride"].dump() : "-") + " g " +
                               (l.contains("groups") ? l["groups"].dump() : "-");
    h.raw("<tr>").cell(std::to_string(index++));
    h.raw("<td class=\"l name\">").text(text(l, "name")).raw("<div class=\"sub\">").text(detail).raw("</div></td>");
    h.cell(fixed(number(l, "macs") * 1e-6, 3));
    // Why: the firmware's two estimates behind the choice.
    const bool costed = l.contains("dataflow_costs") && l["dataflow_costs"].is_object();
    h.raw("<td class=\"l why\">").text(text(l, "dataflow"));
    if (costed) h.raw("<div class=\"sub\">").text(text(l["dataflow_costs"], "reason")).raw("</div>");
    if (l.contains("folded_into")) {
      std::string into;
      for (const auto& n : l["folded_into"]) into += (into.empty() ? "" : ", ") + n.get<std::string>();
      h.raw("<div class=\"sub\">").text("into " + into).raw("</div>");
    }
    h.raw("</td>");
    h.cell(fixed(number(l, "cycles"), 0)).cell(fixed(number(l, "compute_cycles"), 0));
    // One stall column with its causes beneath, so the table's width does
    // not grow with the number of causes a run happened to see.
    std::string by_cause;
    for (const auto& c : causes) {
      const double v = l.contains("stall_cycles_by_cause") ? number(l["stall_cycles_by_cause"], c.c_str()) : 0;
      if (v > 0) by_cause += (by_cause.empty() ? "" : " \u00b7 ") + c + " " + fixed(v, 0);
    }
    h.raw("<td>").text(fixed(number(l, "stall_cycles"), 0));
    if (!by_cause.empty()) h.raw("<div class=\"sub\">").text(by_cause).raw("</div>");
    h.raw("</td>");
    h.cell(fixed(number(l, "latency_ns") * 1e-3, 2)).cell(fixed(number(l, "utilization") * 100, 1) + "%");
    h.cell(fixed(number(l, "dram_read_bytes") / 1024, 1) + " / " + fixed(number(l, "dram_write_bytes") / 1024, 1));
    h.cell(ai ? fixed(*ai, 1) : "-");
    h.cell(fixed(l.contains("energy_pj") ? number(l["energy_pj"], "total") * 1e-6 : 0.0, 3));
    if (!l.contains("verified") || !l.value("completed", true))
      h.cell("-", true);
    else if (l["verified"].get<bool>())
      h.raw(l.value("datatype", "int8") == "fp16" ? "<td class=\"l ok\">within tolerance</td>"
                                                  : "<td class=\"l ok\">bit-exact</td>");
    else
      h.raw("<td class=\"l bad\">MISMATCH</td>");
    h.raw("</tr>\n");
  }
  h.raw("</tbody></table></div></section>\n");
}

void energy_table(Html& h, const nlohmann::json& report) {
  const nlohmann::json totals = report.value("totals", nlohmann::json::object());
  const auto components = energy_components(totals);
  if (components.empty()) return;
  const double total = number(totals["energy_pj"], "total");
  h.raw("<section><h2>Energy per inference by component</h2><table><thead><tr>");
  h.head("component", true).head("energy (\u00b5J)").head("share", true);
  h.raw("</tr></thead><tbody>\n");
  for (std::size_t i = 0; i < components.size(); ++i) {
    const double e = number(totals["energy_pj"], components[i].c_str());
    const double share = total > 0 ? e / total : 0.0;
    h.raw("<tr>").cell(components[i], true).cell(fixed(e * 1e-6, 3));
    h.raw("<td class=\"l\"><span class=\"share\" style=\"width:" + fixed(share * 240, 1) +
          "px;background:" + series_colour(components[i], i) + "\"></span>")
        .text(fixed(share * 100, 1) + "%")
        .raw("</td></tr>\n");
  }
  h.raw("</tbody><tfoot><tr>").cell("total", true).cell(fixed(total * 1e-6, 3)).cell("100%", true);
  h.raw("</tr></tfoot></table></section>\n");
}

void roofline_section(Html& h, const nlohmann::json& roof) {
  const auto& compute = roof["compute_roofs"][0];
  h.raw("<section><h2>Roofline</h2>\n").raw(roofline_svg(roof));
  const std::string note =
      "Intensity: " + roof.value("intensity_unit", "") + ". Peak " + compute.value("datatype", "") + " " +
      si(compute["peak_ops_per_s"].get<double>(), "ops/s") + "; DRAM " +
      si(roof["dram_bytes_per_s"].get<double>(), "B/s") + " (" + roof.value("dram_bandwidth_source", "") + "); SRAM " +
      si(roof["sram_bytes_per_s"].get<double>(), "B/s") + "; DRAM ridge at " +
      fixed(roof["ridge_ops_per_byte"]["dram"].get<double>(), 1) +
      " ops/B. The SRAM roof bounds a layer by its ops per SRAM byte, which is at least its ops per DRAM byte"
      " when every DRAM byte passes through SRAM, so a dot right of the SRAM ridge cannot be SRAM-bound.";
  h.raw("<p class=\"note\">").text(note).raw("</p>\n");
  h.raw("<div class=\"scroll\"><table><thead><tr>");
  h.head("#")
      .head("layer", true)
      .head("ops/B")
      .head("achieved")
      .head("attainable")
      .head("of attainable")
      .head("bound", true);
  h.raw("</tr></thead><tbody>\n");
  std::size_t index = 0;
  for (const auto& l : roof["layers"]) {
    const auto& ai = l["intensity_ops_per_byte"];
    h.raw("<tr>")
        .cell(std::to_string(index++))
        .cell(l.value("name", ""), true)
        .cell(ai.is_number() ? fixed(ai.get<double>(), 2) : "-");
    h.cell(si(l.value("achieved_ops_per_s", 0.0), "ops/s")).cell(si(l.value("attainable_ops_per_s", 0.0), "ops/s"));
    h.cell(fixed(l.value("fraction_of_attainable", 0.0) * 100, 1) + "%").cell(l.value("bound", ""), true);
    h.raw("</tr>\n");
  }
  h.raw("</tbody></table></div></section>\n");
}

}  // namespace

std::string render_html(const RunRecord& record, const nlohmann::json& roof) {
  const auto& report = record.report;
  const auto s = summarize(report);
  Html h;
  h.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
      .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
      .text("npuvp: " + s.network + " on " + s.platform)
      .raw("</title>\n<style>")
      .raw(kStyle)
      .raw("</style>\n</head>\n<body>\n<header><h1>")
      .text(s.network + " on " + s.platform)
      .raw("</h1><p>");
  std::string sub = s.description;
  if (report.contains("network") && report["network"].contains("input_shape"))
    sub += (sub.empty() ? "" : " | ") + std::string("input ") + shape(report["network"], "input_shape");
  sub += (sub.empty() ? "" : " | ") + std::string("batch 1");
  h.text(sub).raw("</p></header>\n<main>\n");

  h.raw("<section class=\"cards\">\n");
  card(h, "Latency", fixed(s.latency_ms, 3), "ms");
  card(h, "Throughput", fixed(s.fps, 1), "FPS");
  card(h, "Energy / inference", fixed(s.energy_uj, 2), "\u00b5J");
  card(h, "Average power", fixed(s.avg_power_mw, 1), "mW");
  card(h,
       s.peak_power_window_ns > 0 ? "Peak power (" + fixed(s.peak_power_window_ns, 0) + " ns window" +
                                        (s.ideal_memory ? " of the simulated run" : "") + ")"
                                  : std::string("Peak power"),
       fixed(s.peak_power_mw, 1), "mW");
  card(h, "Effective compute", fixed(s.effective_tops, 3), "TOPS");
  card(h, "Efficiency", fixed(s.tops_per_w, 3), "TOPS/W");
  if (s.area_mm2 > 0) {
    card(h, "Area", fixed(s.area_mm2, 2), "mm\u00b2");
    card(h, "Area efficiency", fixed(s.tops_per_mm2, 3), "TOPS/mm\u00b2");
  }
  if (report.contains("totals") && report["totals"].contains("roofline_attainment"))
    card(h, "Roofline attainment", fixed(number(report["totals"], "roofline_attainment"), 3), "");
  card(h, "Network", fixed(s.total_macs * 1e-6, 1), "MMACs");
  if (report.contains("sim") && report["sim"].value("interrupted", false))
    card(h, "Outputs", "INTERRUPTED", "", "bad");
  else if (s.all_verified)
    card(h, "Outputs", *s.all_verified ? "bit-exact" : "MISMATCH", "", *s.all_verified ? "ok" : "bad");
  h.raw("</section>\n");

  layer_table(h, report);
  energy_table(h, report);
  h.raw("<section><h2>Latency breakdown per layer</h2>\n").raw(latency_breakdown_svg(report)).raw("</section>\n");
  h.raw("<section><h2>Energy breakdown per layer</h2>\n").raw(energy_breakdown_svg(report)).raw("</section>\n");
  h.raw("<section><h2>Power over time</h2>\n").raw(power_svg(record.power));
  if (!record.power.empty())
    h.raw("<p class=\"note\">")
        .text("Average power per window of " + fixed(record.power.front().window_ns, 0) +
              " ns; the same figures as power.csv.")
        .raw("</p>\n");
  h.raw("</section>\n");
  roofline_section(h, roof);

  if (report.contains("platform")) {
    h.raw("<section><h2>Platform</h2><details><summary>resolved configuration</summary><pre>")
        .text(report["platform"].dump(2))
        .raw("</pre></details></section>\n");
  }
  h.raw("</main>\n<footer>");
  const nlohmann::json sim = report.value("sim", nlohmann::json::object());
  std::string foot = text(sim, "simulator", "npuvp");
  if (sim.contains("wall_seconds")) foot += " | simulated in " + fixed(number(sim, "wall_seconds"), 2) + " s wall time";
  if (sim.contains("seed")) foot += " | seed " + sim["seed"].dump();
  h.text(foot).raw("</footer>\n</body>\n</html>\n");
  return h.str();
}

}  // namespace npuvp::report::detail
