#include "platform/report/charts.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "platform/report/report_util.h"

namespace npuvp::report::detail {
namespace {

constexpr const char* kFont = "font-family=\"system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif\"";
constexpr const char* kAxis = "#5b6270";
constexpr const char* kGrid = "#e3e6eb";
constexpr double kPi = 3.14159265358979323846;

std::string num(double v) { return fixed(v, 1); }

// 1-2-5 steps, about `target` of them between 0 and hi.
std::vector<double> linear_ticks(double hi, int target = 5) {
  // No axis to divide: nothing, or a figure that overflowed (the config
  // bounds prevent it; a chart must not loop on it regardless).
  if (!(hi > 0) || !std::isfinite(hi)) return {0};
  const double raw = hi / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  std::vector<double> ticks;
  for (int i = 0; i * step <= hi * (1 + 1e-9); ++i) ticks.push_back(i * step);
  if (ticks.back() < hi) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string tick_label(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string svg_open(double w, double h, const std::string& label) {
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << num(w) << ' ' << num(h) << "\" width=\"" << num(w)
     << "\" height=\"" << num(h) << "\" role=\"img\" aria-label=\"" << escape_xml(label) << "\" " << kFont
     << " font-size=\"11\">\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  return os.str();
}

std::string svg_text(double x, double y, const std::string& s, const std::string& attrs = "") {
  std::ostringstream os;
  os << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\"" << (attrs.empty() ? "" : " " + attrs) << '>'
     << escape_xml(s) << "</text>\n";
  return os.str();
}

// Legend swatches laid out left to right from (x, y).
std::string legend(double x, double y, const std::vector<std::pair<std::string, std::string>>& entries) {
  std::ostringstream os;
  for (const auto& [name, colour] : entries) {
    os << "<rect x=\"" << num(x) << "\" y=\"" << num(y - 9) << "\" width=\"10\" height=\"10\" rx=\"2\" fill=\""
       << colour << "\"/>\n"
       << svg_text(x + 14, y, name, "fill=\"#333\"");
    x += 24 + 6.5 * static_cast<double>(name.size());
  }
  return os.str();
}

std::string shorten(const std::string& s, std::size_t max_chars) {
  return s.size() <= max_chars ? s : s.substr(0, max_chars - 1) + "~";
}

struct BarRow {
  std::string label;
  std::vector<double> values;  // one per series
};

std::string stacked_bars(const std::string& title, const std::string& unit, const std::vector<std::string>& series,
                         const std::vector<BarRow>& rows) {
  std::size_t longest = 4;
  for (const auto& r : rows) longest = std::max(longest, std::min<std::size_t>(r.label.size(), 28));
  const double left = 16 + 6.6 * static_cast<double>(longest), right = 80, top = 40, row_h = 22, bottom = 40;
  const double width = 1100, plot_w = width - left - right;
  const double height = top + row_h * static_cast<double>(std::max<std::size_t>(rows.size(), 1)) + bottom;
  double max_total = 0;
  for (const auto& r : rows) {
    double t = 0;
    for (double v : r.values) t += std::max(v, 0.0);
    max_total = std::max(max_total, t);
  }
  const auto ticks = linear_ticks(max_total);
  const double x_max = ticks.back() > 0 ? ticks.back() : 1;
  auto X = [&](double v) { return left + v / x_max * plot_w; };

  std::ostringstream os;
  os << svg_open(width, height, title);
  std::vector<std::pair<std::string, std::string>> entries;
  for (std::size_t i = 0; i < series.size(); ++i) entries.emplace_back(series[i], series_colour(series[i], i));
  os << legend(left, 20, entries);
  const double axis_y = top + row_h * static_cast<double>(rows.size());
  for (double t : ticks) {
    os << "<line x1=\"" << num(X(t)) << "\" y1=\"" << num(top - 4) << "\" x2=\"" << num(X(t)) << "\" y2=\""
       << num(axis_y) << "\" stroke=\"" << kGrid << "\"/>\n"
       << svg_text(X(t), axis_y + 14, tick_label(t), "text-anchor=\"middle\" fill=\"" + std::string(kAxis) + "\"");
  }
  os << svg_text(left + plot_w / 2, axis_y + 32, unit, "text-anchor=\"middle\" fill=\"#333\"");
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double y = top + row_h * static_cast<double>(r);
    os << "<g><title>" << escape_xml(rows[r].label) << "</title>"
       << svg_text(left - 8, y + row_h / 2 + 4, shorten(rows[r].label, 28), "text-anchor=\"end\" fill=\"#333\"")
       << "</g>\n";
    double acc = 0;
    for (std::size_t s = 0; s < series.size() && s < rows[r].values.size(); ++s) {
      const double v = std::max(rows[r].values[s], 0.0);
      if (v <= 0) continue;
      os << "<rect x=\"" << num(X(acc)) << "\" y=\"" << num(y + 3) << "\" width=\"" << fixed(X(acc + v) - X(acc), 2)
         << "\" height=\"" << num(row_h - 6) << "\" fill=\"" << series_colour(series[s], s) << "\"><title>"
         << escape_xml(rows[r].label + " - " + series[s] + ": " + fixed(v, 3) + " " + unit) << "</title></rect>\n";
      acc += v;
    }
    os << svg_text(X(acc) + 5, y + row_h / 2 + 4, fixed(acc, 2), "fill=\"#333\"");
  }
  os << "<line x1=\"" << num(left) << "\" y1=\"" << num(top - 4) << "\" x2=\"" << num(left) << "\" y2=\"" << num(axis_y)
     << "\" stroke=\"" << kAxis << "\"/>\n";
  os << "</svg>\n";
  return os.str();
}

}  // namespace

std::string series_colour(const std::string& name, std::size_t index) {
  static const std::map<std::string, std::string> kNamed = {
      {"mac", "#4e79a7"},       {"rf", "#f28e2b"},    {"buffer", "#76b7b2"},  {"sram", "#59a14f"},
      {"noc", "#b07aa1"},       {"dram", "#e15759"},  {"leakage", "#9c755f"}, {"buffer_port", "#76b7b2"},
      {"compute", "#4e79a7"},   {"stall", "#bab0ac"}, {"total", "#1f2430"},   {"sram_conflict", "#59a14f"},
      {"dependency", "#edc948"}};
  static const std::vector<std::string> kOthers = {"#76b7b2", "#edc948", "#ff9da7", "#bab0ac", "#86bcb6"};
  // A stall cause wears the colour of the component it waits for.
  const std::string key = name.rfind("stall:", 0) == 0 ? name.substr(6) : name;
  const auto it = kNamed.find(key);
  return it != kNamed.end() ? it->second : kOthers[index % kOthers.size()];
}

std::string latency_breakdown_svg(const nlohmann::json& report) {
  const nlohmann::json& layers = layers_of(report);
  const auto causes = stall_causes(layers);
  std::vector<std::string> series = {"compute"};
  if (causes.empty()) series.push_back("stall");
  for (const auto& c : causes) series.push_back("stall:" + c);
  std::vector<BarRow> rows;
  for (const auto& l : layers) {
    // Cycles give the split, latency the scale: a layer's latency is its cycles
    // at the NPU clock, stalls included.
    const double cycles = number(l, "cycles");
    const double us_per_cycle = cycles > 0 ? number(l, "latency_ns") * 1e-3 / cycles : 0.0;
    BarRow row{text(l, "name"), {number(l, "compute_cycles") * us_per_cycle}};
    if (causes.empty()) row.values.push_back(number(l, "stall_cycles") * us_per_cycle);
    for (const auto& c : causes)
      row.values.push_back((l.contains("stall_cycles_by_cause") ? number(l["stall_cycles_by_cause"], c.c_str()) : 0) *
                           us_per_cycle);
    rows.push_back(std::move(row));
  }
  return stacked_bars("Latency per layer", "latency (\u00b5s)", series, rows);
}

std::string energy_breakdown_svg(const nlohmann::json& report) {
  const nlohmann::json& layers = layers_of(report);
  const auto components = energy_components(layers);
  std::vector<BarRow> rows;
  for (const auto& l : layers) {
    BarRow row{text(l, "name"), {}};
    for (const auto& c : components)
      row.values.push_back(l.contains("energy_pj") ? number(l["energy_pj"], c.c_str()) * 1e-6 : 0.0);
    rows.push_back(std::move(row));
  }
  return stacked_bars("Energy per layer", "energy (\u00b5J)", components, rows);
}

std::string power_svg(const std::vector<PowerSample>& in) {
  // A long run has millions of windows; merge neighbours (keeping their
  // energy) so the page stays light. 1500 points exceed the plot's pixels.
  constexpr std::size_t kMaxPoints = 1500;
  std::vector<PowerSample> samples;
  const std::size_t group = in.size() / kMaxPoints + 1;
  for (std::size_t i = 0; i < in.size(); i += group) {
    PowerSample merged{in[i].time_ns, 0, {}, 0};
    for (std::size_t j = i; j < std::min(in.size(), i + group); ++j) {
      merged.window_ns += in[j].window_ns;
      merged.total_mw += in[j].total_mw * in[j].window_ns;
      for (std::size_t k = 0; k < kPowerComponents.size(); ++k)
        merged.component_mw[k] += in[j].component_mw[k] * in[j].window_ns;
    }
    if (merged.window_ns <= 0) continue;
    merged.total_mw /= merged.window_ns;
    for (double& mw : merged.component_mw) mw /= merged.window_ns;
    samples.push_back(std::move(merged));
  }

  const double width = 1100, height = 400, left = 70, right = 24, top = 40, bottom = 50;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  std::ostringstream os;
  os << svg_open(width, height, "Power over time");
  if (samples.empty()) {
    os << svg_text(width / 2, height / 2, "no power samples", "text-anchor=\"middle\" fill=\"#888\"") << "</svg>\n";
    return os.str();
  }
  const double t0 = samples.front().time_ns;
  const double t1 = samples.back().time_ns + samples.back().window_ns;
  const double span_ns = std::max(t1 - t0, 1e-9);
  const double time_scale = span_ns >= 1e7 ? 1e6 : span_ns >= 1e4 ? 1e3 : 1.0;
  const std::string time_unit = time_scale == 1e6 ? "ms" : time_scale == 1e3 ? "\u00b5s" : "ns";
  double p_max = 0;
  for (const auto& s : samples) {
    p_max = std::max(p_max, s.total_mw);
    for (const double mw : s.component_mw) p_max = std::max(p_max, mw);
  }
  const auto y_ticks = linear_ticks(p_max);
  const double y_max = y_ticks.back() > 0 ? y_ticks.back() : 1;
  // The time axis ends where the run does; ticks past it are dropped.
  const double x_max = span_ns / time_scale;
  auto x_ticks = linear_ticks(x_max, 8);
  while (x_ticks.size() > 1 && x_ticks.back() > x_max * (1 + 1e-9)) x_ticks.pop_back();
  auto X = [&](double t_ns) { return left + (t_ns - t0) / time_scale / x_max * plot_w; };
  auto Y = [&](double mw) { return top + plot_h - mw / y_max * plot_h; };

  for (double t : y_ticks)
    os << "<line x1=\"" << num(left) << "\" y1=\"" << num(Y(t)) << "\" x2=\"" << num(left + plot_w) << "\" y2=\""
       << num(Y(t)) << "\" stroke=\"" << kGrid << "\"/>\n"
       << svg_text(left - 6, Y(t) + 4, tick_label(t), "text-anchor=\"end\" fill=\"" + std::string(kAxis) + "\"");
  for (double t : x_ticks)
    os << "<line x1=\"" << num(X(t0 + t * time_scale)) << "\" y1=\"" << num(top) << "\" x2=\""
       << num(X(t0 + t * time_scale)) << "\" y2=\"" << num(top + plot_h) << "\" stroke=\"" << kGrid << "\"/>\n"
       << svg_text(X(t0 + t * time_scale), top + plot_h + 16, tick_label(t),
                   "text-anchor=\"middle\" fill=\"" + std::string(kAxis) + "\"");
  os << "<rect x=\"" << num(left) << "\" y=\"" << num(top) << "\" width=\"" << num(plot_w) << "\" height=\""
     << num(plot_h) << "\" fill=\"none\" stroke=\"" << kAxis << "\"/>\n";
  os << svg_text(left + plot_w / 2, height - 12, "time (" + time_unit + ")", "text-anchor=\"middle\" fill=\"#333\"");
  os << svg_text(16, top + plot_h / 2, "power (mW)",
                 "text-anchor=\"middle\" fill=\"#333\" transform=\"rotate(-90 16 " + num(top + plot_h / 2) + ")\"");

  // Step lines: a window's figure is its average, flat across the window.
  auto polyline = [&](auto value_of, const std::string& colour, double stroke, const std::string& name) {
    os << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"" << stroke
       << "\" stroke-linejoin=\"round\" points=\"";
    for (const auto& s : samples) {
      const double y = Y(value_of(s));
      os << num(X(s.time_ns)) << ',' << num(y) << ' ' << num(X(s.time_ns + s.window_ns)) << ',' << num(y) << ' ';
    }
    os << "\"><title>" << escape_xml(name) << "</title></polyline>\n";
  };
  std::vector<std::pair<std::string, std::string>> entries;
  for (std::size_t i = 0; i < kPowerComponents.size(); ++i) {
    const std::string c = kPowerComponents[i];
    polyline([&](const PowerSample& s) { return s.component_mw[i]; }, series_colour(c, i), 1.4, c);
    entries.emplace_back(c, series_colour(c, i));
  }
  polyline([](const PowerSample& s) { return s.total_mw; }, series_colour("total", 0), 2.2, "total");
  entries.emplace_back("total", series_colour("total", 0));
  os << legend(left, 22, entries);
  os << "</svg>\n";
  return os.str();
}

namespace {

// A layer's point on the roofline.
struct RooflineDot {
  std::string name;
  std::size_t index;  // the layer's position, the short label when the name has no room
  double x, y;
  bool dram_bound;
};

// Layers with DRAM traffic and time, and how many others were left out.
std::vector<RooflineDot> roofline_dots(const nlohmann::json& roof, std::size_t& unplotted) {
  std::vector<RooflineDot> dots;
  unplotted = 0;
  for (std::size_t i = 0; i < roof["layers"].size(); ++i) {
    const auto& l = roof["layers"][i];
    const auto& ai = l["intensity_ops_per_byte"];
    const double achieved = l.value("achieved_ops_per_s", 0.0);
    if (!ai.is_number() || ai.get<double>() <= 0 || achieved <= 0) {
      ++unplotted;
      continue;
    }
    dots.push_back({l.value("name", ""), i, ai.get<double>(), achieved, l.value("bound", "") == "dram"});
  }
  return dots;
}

// A text or marker's extent on screen, for keeping labels apart.
struct Box {
  double x0, y0, x1, y1;
  bool overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

// Extent of a 10 px label: DejaVu Sans (the fallback every Debian system
// has) averages under 6 px per character at that size.
constexpr double kLabelCharPx = 6.2, kLabelHeightPx = 12;

// The plot area and its log-log axes: decade-aligned ranges covering the
// dots and both ridge points.
struct RooflineFrame {
  static constexpr double width = 900, height = 520, left = 78, right = 28, top = 44, bottom = 56;
  static constexpr double plot_w = width - left - right, plot_h = height - top - bottom;
  double lx0, lx1, ly0, ly1;

  RooflineFrame(const std::vector<RooflineDot>& dots, double peak, double dram_bw, double sram_bw) {
    double x_lo = std::min(peak / dram_bw, peak / sram_bw), x_hi = std::max(peak / dram_bw, peak / sram_bw);
    double y_lo = peak / 1e3;
    for (const auto& d : dots) {
      x_lo = std::min(x_lo, d.x);
      x_hi = std::max(x_hi, d.x);
      y_lo = std::min(y_lo, d.y);
    }
    lx0 = std::floor(std::log10(x_lo / 2));
    lx1 = std::ceil(std::log10(x_hi * 2));
    ly0 = std::floor(std::log10(y_lo / 1.5));
    ly1 = std::ceil(std::log10(peak * 1.5));
  }
  double X(double x) const { return left + (std::log10(x) - lx0) / (lx1 - lx0) * plot_w; }
  double Y(double y) const { return top + plot_h - (std::log10(y) - ly0) / (ly1 - ly0) * plot_h; }
};

void draw_roofline_axes(std::ostream& os, const RooflineFrame& f) {
  const double left = f.left, top = f.top, plot_w = f.plot_w, plot_h = f.plot_h;
  os << "<defs><clipPath id=\"roofline-plot\"><rect x=\"" << num(left) << "\" y=\"" << num(top) << "\" width=\""
     << num(plot_w) << "\" height=\"" << num(plot_h) << "\"/></clipPath></defs>\n";
  for (double e = f.lx0; e <= f.lx1; ++e) {
    const double x = f.X(std::pow(10.0, e));
    os << "<line x1=\"" << num(x) << "\" y1=\"" << num(top) << "\" x2=\"" << num(x) << "\" y2=\"" << num(top + plot_h)
       << "\" stroke=\"" << kGrid << "\"/>\n"
       << svg_text(x, top + plot_h + 16,
                   std::pow(10.0, e) < 1000 ? tick_label(std::pow(10.0, e)) : si(std::pow(10.0, e)),
                   "text-anchor=\"middle\" fill=\"" + std::string(kAxis) + "\"");
  }
  for (double e = f.ly0; e <= f.ly1; ++e) {
    const double y = f.Y(std::pow(10.0, e));
    os << "<line x1=\"" << num(left) << "\" y1=\"" << num(y) << "\" x2=\"" << num(left + plot_w) << "\" y2=\"" << num(y)
       << "\" stroke=\"" << kGrid << "\"/>\n"
       << svg_text(left - 6, y + 4, si(std::pow(10.0, e)), "text-anchor=\"end\" fill=\"" + std::string(kAxis) + "\"");
  }
  os << "<rect x=\"" << num(left) << "\" y=\"" << num(top) << "\" width=\"" << num(plot_w) << "\" height=\""
     << num(plot_h) << "\" fill=\"none\" stroke=\"" << kAxis << "\"/>\n";
  os << svg_text(left + plot_w / 2, f.height - 14, "operational intensity (ops per DRAM byte, 1 MAC = 2 ops)",
                 "text-anchor=\"middle\" fill=\"#333\"");
  os << svg_text(18, top + plot_h / 2, "performance (ops/s)",
                 "text-anchor=\"middle\" fill=\"#333\" transform=\"rotate(-90 18 " + num(top + plot_h / 2) + ")\"");
}

// Each roof: the bandwidth slope up to its ridge point, then the compute peak.
std::optional<Box> draw_roof(std::ostream& os, const RooflineFrame& f, double peak, double bw,
                             const std::string& colour, const std::string& dash, const std::string& label) {
  const double x_min = std::pow(10.0, f.lx0), x_max = std::pow(10.0, f.lx1);
  // On log-log axes a bandwidth line has slope 1 in decades; its screen angle
  // follows from the pixels per decade of each axis.
  const double angle = -std::atan((f.plot_h / (f.ly1 - f.ly0)) / (f.plot_w / (f.lx1 - f.lx0))) * 180.0 / kPi;
  const double ridge = peak / bw;
  os << "<polyline clip-path=\"url(#roofline-plot)\" fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\""
     << dash << " points=\"" << num(f.X(x_min)) << ',' << num(f.Y(bw * x_min)) << ' ' << num(f.X(ridge)) << ','
     << num(f.Y(peak)) << ' ' << num(f.X(x_max)) << ',' << num(f.Y(peak)) << "\"/>\n";
  // The label rides the slope a decade and a half left of the ridge, when that is on the plot.
  const double lx = ridge / std::pow(10.0, 1.5);
  if (label.empty() || lx <= x_min || f.Y(bw * lx) >= f.top + f.plot_h - 10) return std::nullopt;
  const double x = f.X(lx), y = f.Y(bw * lx) - 6;
  os << svg_text(x, y, label,
                 "fill=\"" + colour + "\" transform=\"rotate(" + fixed(angle, 2) + ' ' + num(x) + ' ' + num(y) + ")\"");
  const double radians = angle * kPi / 180.0;
  const double w = kLabelCharPx * static_cast<double>(label.size());
  // The text runs from (x, y) along the slope (upwards to the right).
  const double dx = w * std::cos(radians), dy = w * std::sin(radians);
  return Box{x - 2, std::min(y, y + dy) - kLabelHeightPx, x + dx + 2, std::max(y, y + dy) + 3};
}

// Labels are placed greedily where they overlap no dot, no roof label and
// no earlier label: the layer's name if it fits somewhere around its dot,
// else its index (as in the tables), else none (the dot's tooltip still
// names it), so labels never collide however dense the network.
void draw_roofline_dots(std::ostream& os, const RooflineFrame& f, const std::vector<RooflineDot>& dots,
                        std::vector<Box> taken, const std::string& compute_colour, const std::string& dram_colour) {
  for (const auto& d : dots) taken.push_back({f.X(d.x) - 5, f.Y(d.y) - 5, f.X(d.x) + 5, f.Y(d.y) + 5});
  struct Spot {
    double dx, dy;
    const char* anchor;
  };
  static constexpr Spot kSpots[] = {{7, -6, "start"}, {7, 12, "start"},  {-7, -6, "end"},
                                    {-7, 12, "end"},  {0, -9, "middle"}, {0, 17, "middle"}};
  auto place = [&](double cx, double cy, const std::string& label) -> std::optional<std::pair<Spot, Box>> {
    const double w = kLabelCharPx * static_cast<double>(label.size()), h = kLabelHeightPx;
    for (const Spot& spot : kSpots) {
      const double x = cx + spot.dx, base = cy + spot.dy;
      const double x0 = spot.anchor[0] == 's' ? x : spot.anchor[0] == 'e' ? x - w : x - w / 2;
      const Box box{x0, base - h + 3, x0 + w, base + 3};
      if (box.x0 < f.left || box.x1 > f.left + f.plot_w || box.y0 < f.top || box.y1 > f.top + f.plot_h) continue;
      if (std::none_of(taken.begin(), taken.end(), [&](const Box& b) { return b.overlaps(box); }))
        return std::make_pair(spot, box);
    }
    return std::nullopt;
  };
  for (const auto& d : dots) {
    const std::string colour = d.dram_bound ? dram_colour : compute_colour;
    const double cx = f.X(d.x), cy = f.Y(d.y);
    std::string label = shorten(d.name, 24);
    auto spot = place(cx, cy, label);
    if (!spot) {
      label = std::to_string(d.index);
      spot = place(cx, cy, label);
    }
    if (spot) taken.push_back(spot->second);
    os << "<g><title>"
       << escape_xml(std::to_string(d.index) + " " + d.name + ": " + fixed(d.x, 2) + " ops/B, " + si(d.y, "ops/s"))
       << "</title>"
       << "<circle cx=\"" << num(cx) << "\" cy=\"" << num(cy) << "\" r=\"4.5\" fill=\"" << colour
       << "\" stroke=\"#fff\" stroke-width=\"1\"/>";
    if (spot)
      os << svg_text(
          cx + spot->first.dx, cy + spot->first.dy, label,
          "class=\"dot-label\" fill=\"#333\" font-size=\"10\" text-anchor=\"" + std::string(spot->first.anchor) + "\"");
    os << "</g>\n";
  }
}

}  // namespace

std::string roofline_svg(const nlohmann::json& roof) {
  const double peak = roof["compute_roofs"][0]["peak_ops_per_s"].get<double>();
  const std::string datatype = roof["compute_roofs"][0].value("datatype", "");
  const double dram_bw = roof["dram_bytes_per_s"].get<double>();
  const double sram_bw = roof["sram_bytes_per_s"].get<double>();
  std::size_t unplotted = 0;
  const std::vector<RooflineDot> dots = roofline_dots(roof, unplotted);
  // Datatypes that run more MACs per unit (packed int4) have a higher roof of their own.
  double top_peak = peak;
  for (const auto& r : roof["compute_roofs"]) top_peak = std::max(top_peak, r["peak_ops_per_s"].get<double>());
  const RooflineFrame f(dots, top_peak, dram_bw, sram_bw);

  std::ostringstream os;
  os << svg_open(f.width, f.height, "Roofline");
  draw_roofline_axes(os, f);
  std::vector<Box> roof_labels;
  for (const auto& box :
       {draw_roof(os, f, peak, sram_bw, "#8a94a6", " stroke-dasharray=\"6 4\"", "SRAM " + si(sram_bw, "B/s")),
        draw_roof(os, f, peak, dram_bw, "#1f2430", "", "DRAM " + si(dram_bw, "B/s"))})
    if (box) roof_labels.push_back(*box);
  const std::string peak_label = "peak " + datatype + " " + si(peak, "ops/s");
  const double peak_x = f.left + f.plot_w - 6, peak_y = f.Y(peak) - 7;
  os << svg_text(peak_x, peak_y, peak_label, "text-anchor=\"end\" fill=\"#1f2430\" font-weight=\"600\"");
  // The peak label is 12 px semibold: wider per character than the dots' 10 px.
  roof_labels.push_back({peak_x - 8.0 * static_cast<double>(peak_label.size()), peak_y - 13, peak_x + 2, peak_y + 4});
  for (std::size_t i = 1; i < roof["compute_roofs"].size(); ++i) {
    const auto& r = roof["compute_roofs"][i];
    const double other = r["peak_ops_per_s"].get<double>();
    draw_roof(os, f, other, dram_bw, "#1f2430", " stroke-dasharray=\"2 3\"", "");
    const std::string label = "peak " + r.value("datatype", "") + " " + si(other, "ops/s");
    const double y = f.Y(other) - 7;
    os << svg_text(peak_x, y, label, "text-anchor=\"end\" fill=\"#1f2430\" font-weight=\"600\"");
    roof_labels.push_back({peak_x - 8.0 * static_cast<double>(label.size()), y - 13, peak_x + 2, y + 4});
  }
  const std::string unplotted_note =
      unplotted > 0 ? std::to_string(unplotted) + " layer(s) without DRAM traffic or time not plotted" : "";
  const double note_x = f.left + f.plot_w - 6, note_y = f.top + f.plot_h - 8;
  if (!unplotted_note.empty())
    roof_labels.push_back(
        {note_x - 7.0 * static_cast<double>(unplotted_note.size()), note_y - 13, note_x + 2, note_y + 4});
  const std::string compute_colour = "#4e79a7", dram_colour = "#e15759";
  draw_roofline_dots(os, f, dots, roof_labels, compute_colour, dram_colour);
  os << legend(f.left, 24,
               {{"compute-bound layer", compute_colour},
                {"DRAM-bound layer", dram_colour},
                {"DRAM roof " + si(dram_bw, "B/s"), "#1f2430"},
                {"SRAM roof " + si(sram_bw, "B/s") + " (dashed)", "#8a94a6"}});
  if (!unplotted_note.empty()) os << svg_text(note_x, note_y, unplotted_note, "text-anchor=\"end\" fill=\"#888\"");
  os << "</svg>\n";
  return os.str();
}

}  // namespace npuvp::report::detail
