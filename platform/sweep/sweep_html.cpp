// pareto.svg and index.html of a sweep: plain markup, viewable offline.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "platform/report/report_util.h"
#include "platform/sweep/sweep_results.h"

namespace npuvp::sweep {
namespace {

using report::detail::escape_xml;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// Tick labels: 70000 rather than 7e+04.
std::string tick(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::abs(v) < 1e9 ? "%.10g" : "%.4g", v);
  return buf;
}

// Ten colours distinguishable from each other, one per network.
const std::vector<std::string> kColours = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                           "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

std::string axis_title(const Objective& o) { return o.column + (o.maximize ? " (higher is better)" : ""); }

// Round tick positions: 1, 2 or 5 times a power of ten apart.
std::vector<double> ticks(double lo, double hi) {
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  const double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);  // no "-0" from rounding
  return out;
}

}  // namespace

std::string pareto_svg(const nlohmann::json& rows, const std::vector<Objective>& objectives) {
  constexpr double kW = 720, kH = 460, kL = 80, kR = 170, kT = 30, kB = 60;
  const std::string& xc = objectives.at(0).column;
  const std::string& yc = objectives.at(1).column;
  std::vector<const nlohmann::json*> measured;
  std::vector<std::string> networks;
  for (const auto& r : rows) {
    if (r[xc].is_null() || r[yc].is_null()) continue;
    measured.push_back(&r);
    const std::string net = r["network"].get<std::string>();
    if (std::find(networks.begin(), networks.end(), net) == networks.end()) networks.push_back(net);
  }
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kW) + "\" height=\"" + num(kH) +
                    "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  if (measured.empty()) return svg + "<text x=\"20\" y=\"30\">no measured points</text>\n</svg>\n";
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const auto* r : measured) {
    x0 = std::min(x0, (*r)[xc].get<double>());
    x1 = std::max(x1, (*r)[xc].get<double>());
    y0 = std::min(y0, (*r)[yc].get<double>());
    y1 = std::max(y1, (*r)[yc].get<double>());
  }
  const auto pad = [](double& lo, double& hi) {
    const double span = hi > lo ? hi - lo : std::max(std::abs(hi), 1.0);
    lo -= span * 0.05;
    hi += span * 0.05;
  };
  pad(x0, x1);
  pad(y0, y1);
  const auto px = [&](double v) { return kL + (v - x0) / (x1 - x0) * (kW - kL - kR); };
  const auto py = [&](double v) { return kH - kB - (v - y0) / (y1 - y0) * (kH - kT - kB); };
  svg += "<rect x=\"" + num(kL) + "\" y=\"" + num(kT) + "\" width=\"" + num(kW - kL - kR) + "\" height=\"" +
         num(kH - kT - kB) + "\" fill=\"none\" stroke=\"#888\"/>\n";
  for (const double t : ticks(x0, x1))
    svg += "<text x=\"" + num(px(t)) + "\" y=\"" + num(kH - kB + 16) + "\" text-anchor=\"middle\">" + tick(t) +
           "</text>\n";
  for (const double t : ticks(y0, y1))
    svg += "<text x=\"" + num(kL - 6) + "\" y=\"" + num(py(t) + 4) + "\" text-anchor=\"end\">" + tick(t) + "</text>\n";
  svg += "<text x=\"" + num((kL + kW - kR) / 2) + "\" y=\"" + num(kH - 16) + "\" text-anchor=\"middle\">" +
         escape_xml(axis_title(objectives[0])) + "</text>\n";
  svg += "<text transform=\"translate(18," + num((kT + kH - kB) / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         escape_xml(axis_title(objectives[1])) + "</text>\n";
  for (std::size_t n = 0; n < networks.size(); ++n) {
    const std::string colour = kColours[n % kColours.size()];
    std::vector<std::pair<double, double>> front;
    for (const auto* r : measured) {
      if ((*r)["network"] != networks[n]) continue;
      const double x = (*r)[xc].get<double>(), y = (*r)[yc].get<double>();
      const bool on_front = (*r)["pareto"].get<bool>();
      if (on_front) front.emplace_back(x, y);
      svg += "<circle cx=\"" + num(px(x)) + "\" cy=\"" + num(py(y)) + "\" r=\"" + (on_front ? "5" : "3") +
             "\" fill=\"" + (on_front ? colour : "none") + "\" stroke=\"" + colour + "\"><title>" +
             escape_xml((*r)["point"].get<std::string>() + " " + networks[n]) + "</title></circle>\n";
    }
    std::sort(front.begin(), front.end());
    if (front.size() > 1) {
      std::string points;
      for (const auto& [x, y] : front) points += num(px(x)) + "," + num(py(y)) + " ";
      svg += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + colour + "\"/>\n";
    }
    const double ly = kT + 16 + 18 * static_cast<double>(n);
    svg += "<circle cx=\"" + num(kW - kR + 16) + "\" cy=\"" + num(ly - 4) + "\" r=\"5\" fill=\"" + colour +
           "\"/><text x=\"" + num(kW - kR + 26) + "\" y=\"" + num(ly) + "\">" + escape_xml(networks[n]) + "</text>\n";
  }
  svg += "<text x=\"" + num(kW - kR + 10) + "\" y=\"" + num(kT + 30 + 18 * static_cast<double>(networks.size())) +
         "\" fill=\"#555\">filled: Pareto front</text>\n";
  return svg + "</svg>\n";
}

std::string index_html(const SweepSpec& spec, const nlohmann::json& rows) {
  const std::vector<std::string> cols = result_columns(spec);
  std::size_t ok = 0;
  for (const auto& r : rows) ok += r["status"] == "ok" ? 1 : 0;
  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>npuvp sweep</title>\n"
      "<style>body{font-family:sans-serif}table{border-collapse:collapse;font-size:13px}"
      "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}tr.front{font-weight:bold}"
      "tr.failed{color:#b00}</style></head><body>\n<h1>npuvp sweep</h1>\n<p>" +
      escape_xml(spec.file) + ": " + std::to_string(spec.points.size()) + " points &times; " +
      std::to_string(spec.networks.size()) + " networks, " + std::to_string(ok) + " of " + std::to_string(rows.size()) +
      " runs ok. Bold rows are on their network's Pareto front; results.csv and "
      "results.json hold the same table.</p>\n<img src=\"pareto.svg\" alt=\"Pareto front\">\n<table>\n<tr>";
  for (const auto& c : cols) html += "<th>" + escape_xml(c) + "</th>";
  html += "<th>report</th></tr>\n";
  for (const auto& r : rows) {
    const std::string cls = r["pareto"].get<bool>()   ? " class=\"front\""
                            : r["status"] == "failed" ? " class=\"failed\""
                                                      : "";
    html += "<tr" + cls + ">";
    for (const auto& c : cols) {
      const nlohmann::json& v = r[c];
      const bool varied = std::find(spec.varied.begin(), spec.varied.end(), c) != spec.varied.end();
      html += "<td>" +
              escape_xml(v.is_null()           ? ""
                         : v.is_string()       ? v.get<std::string>()
                         : varied              ? varied_cell(v)
                         : v.is_number_float() ? num(v.get<double>())
                                               : v.dump()) +
              "</td>";
    }
    const std::string dir = "points/" + r["point"].get<std::string>() + "/" + r["network"].get<std::string>() + "/";
    const bool failed = r["status"] == "failed";
    if (r["status"] == "pending")
      html += "<td></td></tr>\n";  // no directory to link to
    else
      html += "<td><a href=\"" + escape_xml(dir + (failed ? "run.log" : "report.html")) + "\">" +
              (failed ? "log" : "report") + "</a></td></tr>\n";
  }
  return html + "</table>\n</body></html>\n";
}

}  // namespace npuvp::sweep
