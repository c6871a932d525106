#include <algorithm>
#include <cmath>
#include <map>

#include "platform/report/report_util.h"
#include "platform/report/report_writer.h"

namespace npuvp::report {
namespace {

bool close(double a, double b, double tolerance) {
  return std::fabs(a - b) <= tolerance * std::max({std::fabs(a), std::fabs(b), 1e-30});
}

std::string pj(double v) { return detail::csv_number(v) + " pJ"; }

}  // namespace

std::vector<std::string> energy_inconsistencies(const nlohmann::json& report, double tolerance) {
  std::vector<std::string> problems;
  const nlohmann::json& layers = detail::layers_of(report);
  const nlohmann::json totals = report.value("totals", nlohmann::json::object());
  const nlohmann::json total_energy = totals.value("energy_pj", nlohmann::json::object());
  auto components = detail::energy_components(layers);
  for (const auto& c : detail::energy_components(totals))
    if (std::find(components.begin(), components.end(), c) == components.end()) components.push_back(c);

  std::map<std::string, double> over_layers;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const nlohmann::json e = layers[i].value("energy_pj", nlohmann::json::object());
    const std::string where = "layers[" + std::to_string(i) + "] (" + detail::text(layers[i], "name") + ")";
    double sum = 0;
    for (const auto& c : components) {
      sum += detail::number(e, c.c_str());
      over_layers[c] += detail::number(e, c.c_str());
    }
    if (!close(sum, detail::number(e, "total"), tolerance))
      problems.push_back(where + ": energy_pj components sum to " + pj(sum) + ", total says " +
                         pj(detail::number(e, "total")));
  }
  double sum = 0;
  for (const auto& c : components) {
    const double t = detail::number(total_energy, c.c_str());
    sum += t;
    if (!close(t, over_layers[c], tolerance))
      problems.push_back("totals.energy_pj." + c + " is " + pj(t) + ", the layers sum to " + pj(over_layers[c]));
  }
  const double total = detail::number(total_energy, "total");
  if (!close(sum, total, tolerance))
    problems.push_back("totals.energy_pj components sum to " + pj(sum) + ", total says " + pj(total));
  const double uj = detail::number(totals, "energy_uj");
  if (!close(uj * 1e6, total, tolerance))
    problems.push_back("totals.energy_uj is " + detail::csv_number(uj) + " uJ, totals.energy_pj.total is " + pj(total));
  return problems;
}

}  // namespace npuvp::report
