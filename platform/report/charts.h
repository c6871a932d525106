#pragma once
// SVG charts of a run, written as plain markup so they are viewable without a
// script or network access, standalone or inlined into report.html.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "platform/report/run_record.h"

namespace npuvp::report::detail {

// Log-log roofline of roofline()'s result: roofs plus one labelled dot per layer.
std::string roofline_svg(const nlohmann::json& roofline);
// Horizontal stacked bars, one per layer: latency split into compute and
// stalls (by cause when the report has them).
std::string latency_breakdown_svg(const nlohmann::json& report);
// The same per layer for energy by component.
std::string energy_breakdown_svg(const nlohmann::json& report);
// Power over time: a step line per component and the total.
std::string power_svg(const std::vector<PowerSample>& samples);

// The colour a series (energy component, stall cause) has in every chart.
std::string series_colour(const std::string& name, std::size_t index);

}  // namespace npuvp::report::detail
