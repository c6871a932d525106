#pragma once
// Logging for every component: one named spdlog logger per SystemC module,
// every line prefixed with the simulated time and the hierarchical name.

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace npuvp::log {

// Installs the shared sink and the pattern (with the %* flag that prints the
// current SystemC time). Called once by the application or test main; before
// it, loggers still work with spdlog's defaults.
void setup(spdlog::level::level_enum level);

// The logger of one component, named by its hierarchical SystemC name. Loggers
// are created on first use and share the sink installed by setup().
std::shared_ptr<spdlog::logger> component(const std::string& hierarchical_name);

}  // namespace npuvp::log
