#include "models/common/log.h"

#include <cmath>
#include <cstdint>
#include <mutex>
#include <stdexcept>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <systemc>

namespace npuvp::log {
namespace {

class SimTimeFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    const auto ps = static_cast<std::uint64_t>(std::llround(sc_core::sc_time_stamp().to_seconds() * 1e12));
    const std::string t = time_text(ps);
    dest.append(t.data(), t.data() + t.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SimTimeFlag>(); }
};

std::mutex registry_mutex;
spdlog::level::level_enum current_level = spdlog::level::warn;
std::vector<ModuleLevel> current_modules;

constexpr const char* kLevels = "trace|debug|info|warn|error|off";

spdlog::level::level_enum parse_level(const std::string& text, const std::string& option) {
  static const std::pair<const char*, spdlog::level::level_enum> kByWord[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (const auto& [word, level] : kByWord)
    if (text == word) return level;
  throw std::invalid_argument("--log: expected one of " + std::string(kLevels) + " or MODULE=LEVEL, got '" + option +
                              "'");
}

std::unique_ptr<spdlog::formatter> make_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<SimTimeFlag>('*').set_pattern("[%*] [%n] [%^%l%$] %v");
  return f;
}

}  // namespace

std::string time_text(std::uint64_t picoseconds) {
  std::string text = std::to_string(picoseconds / 1000);
  if (const std::uint64_t ps = picoseconds % 1000; ps != 0) {
    std::string fraction = std::to_string(1000 + ps).substr(1);
    fraction.erase(fraction.find_last_not_of('0') + 1);
    text += "." + fraction;
  }
  return text + " ns";
}

spdlog::level::level_enum level_for(const std::string& name, spdlog::level::level_enum base,
                                    const std::vector<ModuleLevel>& modules) {
  std::size_t longest = 0;
  spdlog::level::level_enum level = base;
  for (const auto& m : modules)
    if (name.compare(0, m.prefix.size(), m.prefix) == 0 && m.prefix.size() >= longest) {
      longest = m.prefix.size();
      level = m.level;
    }
  return level;
}

void parse_option(const std::string& value, spdlog::level::level_enum& base, std::vector<ModuleLevel>& modules) {
  const auto eq = value.find('=');
  if (eq == std::string::npos) {
    base = parse_level(value, value);
    return;
  }
  if (eq == 0)
    throw std::invalid_argument(
        "--log: MODULE=LEVEL needs a module (a hierarchical name prefix such as soc.npu), got '" + value + "'");
  modules.push_back({value.substr(0, eq), parse_level(value.substr(eq + 1), value)});
}

void setup(spdlog::level::level_enum level, std::vector<ModuleLevel> modules) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  current_level = level;
  current_modules = std::move(modules);
  // Logs go to stderr so that reports printed on stdout stay machine-readable.
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto root = std::make_shared<spdlog::logger>("npuvp", sink);
  root->set_formatter(make_formatter());
  root->set_level(level);
  spdlog::set_default_logger(root);
  spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& l) {
    l->set_level(level_for(l->name(), level, current_modules));
  });
}

std::shared_ptr<spdlog::logger> component(const std::string& hierarchical_name) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  if (auto existing = spdlog::get(hierarchical_name)) return existing;
  auto logger = spdlog::default_logger()->clone(hierarchical_name);
  logger->set_formatter(make_formatter());
  logger->set_level(level_for(hierarchical_name, current_level, current_modules));
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace npuvp::log
