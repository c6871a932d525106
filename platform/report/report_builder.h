#pragma once
// The one place report.json is assembled: from the platform's typed config, the
// workload and what the run monitor measured. Writes every output of a run
// but the streamed ones: power.csv (the monitor's), trace.vcd and
// timeline.json (the platform's recorders).

#include <chrono>

#include <nlohmann/json.hpp>

#include "platform/platform_config.h"
#include "platform/report/run_figures.h"
#include "platform/run.h"
#include "sw/apps/workloads.h"

namespace npuvp::report {

struct RunInputs {
  const platform::PlatformConfig& config;
  const platform::RunOptions& options;
  const apps::Workload& work;
  std::chrono::steady_clock::time_point wall_start;
};

// Returns report.json's content after writing it, layers.csv, roofline.svg and
// report.html into inputs.options.out_dir.
nlohmann::json write_run_report(const RunInputs& inputs, RunFigures figures);

}  // namespace npuvp::report
