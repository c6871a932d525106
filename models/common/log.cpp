#include "models/common/log.h"

#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <systemc>

namespace npuvp::log {
namespace {

class SimTimeFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string t = sc_core::sc_time_stamp().to_string();
    dest.append(t.data(), t.data() + t.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SimTimeFlag>(); }
};

std::mutex registry_mutex;
spdlog::level::level_enum current_level = spdlog::level::warn;

std::unique_ptr<spdlog::formatter> make_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<SimTimeFlag>('*').set_pattern("[%*] [%n] [%^%l%$] %v");
  return f;
}

}  // namespace

void setup(spdlog::level::level_enum level) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  current_level = level;
  // Logs go to stderr so that reports printed on stdout stay machine-readable.
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto root = std::make_shared<spdlog::logger>("npuvp", sink);
  root->set_formatter(make_formatter());
  root->set_level(level);
  spdlog::set_default_logger(root);
  spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level); });
}

std::shared_ptr<spdlog::logger> component(const std::string& hierarchical_name) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  if (auto existing = spdlog::get(hierarchical_name)) return existing;
  auto logger = spdlog::default_logger()->clone(hierarchical_name);
  logger->set_formatter(make_formatter());
  logger->set_level(current_level);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace npuvp::log
