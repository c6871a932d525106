#pragma once
// report.html: one self-contained page (inline CSS and SVG, no scripts, no
// external fonts), viewable offline.

#include <nlohmann/json.hpp>
#include <string>

#include "platform/report/run_record.h"

namespace npuvp::report::detail {

std::string render_html(const RunRecord& record, const nlohmann::json& roofline);

}  // namespace npuvp::report::detail
