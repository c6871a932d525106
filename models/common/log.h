#pragma once
// Logging for every component: one named spdlog logger per SystemC module,
// every line prefixed with the simulated time and the hierarchical name.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

namespace npuvp::log {

// A level for every component whose hierarchical name starts with `prefix`
// (`soc.npu.dma` covers `soc.npu.dma` and `soc.npu.dma_ch1` alike).
struct ModuleLevel {
  std::string prefix;
  spdlog::level::level_enum level;
};

// A simulated time as every log line shows it: nanoseconds whatever its size
// ("9230 ns", "9242.5 ns"), where sc_time's own text picked a unit per value
// and printed the second as "9242500 ps".
std::string time_text(std::uint64_t picoseconds);

// The level of `name`: the longest matching module prefix's, else `base`.
spdlog::level::level_enum level_for(const std::string& name, spdlog::level::level_enum base,
                                    const std::vector<ModuleLevel>& modules);

// Reads one --log value, "LEVEL" or "MODULE=LEVEL", into `base` or `modules`.
// Throws std::invalid_argument naming the levels it accepts.
void parse_option(const std::string& value, spdlog::level::level_enum& base, std::vector<ModuleLevel>& modules);

// Installs the shared sink and the pattern (with the %* flag that prints the
// current SystemC time). Called once by the application or test main; before
// it, loggers still work with spdlog's defaults.
void setup(spdlog::level::level_enum level, std::vector<ModuleLevel> modules = {});

// The logger of one component, named by its hierarchical SystemC name. Loggers
// are created on first use and share the sink installed by setup().
std::shared_ptr<spdlog::logger> component(const std::string& hierarchical_name);

}  // namespace npuvp::log
