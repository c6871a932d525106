#include "platform/config/data_root.h"

#include <cstdlib>
#include <system_error>

#include "platform/config/config_node.h"

namespace npuvp::config {
namespace fs = std::filesystem;
namespace {

// A file under the data root as messages and reports name it: relative when
// it is under the current directory (from the source tree, what was always
// written: configs/platforms/edge-ip.yaml), absolute otherwise.
fs::path shown(const fs::path& file) {
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  const fs::path rel = file.lexically_relative(cwd);
  if (ec || rel.empty() || *rel.begin() == "..") return file;
  return rel;
}

}  // namespace

fs::path data_root() {
  if (const char* env = std::getenv("NPUVP_DATA"); env != nullptr && *env != '\0') return fs::path(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "npuvp";
    if (fs::is_directory(installed / "configs", ec)) return installed;
  }
  return fs::path(NPUVP_SOURCE_DATA_ROOT);
}

std::optional<fs::path> find_config_file(const std::string& path, const std::string& referrer) {
  const fs::path p(path);
  std::error_code ec;
  if (p.is_absolute()) return fs::is_regular_file(p, ec) ? std::optional<fs::path>(p) : std::nullopt;
  const fs::path beside = fs::path(referrer).parent_path() / p;
  if (fs::is_regular_file(beside, ec)) return beside;
  const fs::path shipped = data_root() / p;
  if (fs::is_regular_file(shipped, ec)) return shown(shipped);
  return std::nullopt;
}

std::string config_file_candidates(const std::string& path, const std::string& referrer) {
  if (fs::path(path).is_absolute()) return path;
  const fs::path dir = fs::path(referrer).parent_path();
  return (dir / path).string() + " and " + (data_root() / path).string();
}

std::string find_platform(const std::string& name_or_file) {
  std::error_code ec;
  const bool is_name = name_or_file.find('/') == std::string::npos && fs::path(name_or_file).extension() != ".yaml";
  if (is_name) {
    const fs::path preset = data_root() / "configs" / "platforms" / (name_or_file + ".yaml");
    if (fs::is_regular_file(preset, ec)) return shown(preset).string();
    throw ConfigError("--platform '" + name_or_file + "': no preset of that name in " + preset.parent_path().string() +
                      " (npuvp list platforms)");
  }
  if (fs::is_regular_file(name_or_file, ec)) return name_or_file;
  // "Cannot open" would send the user looking for a file that is there.
  if (fs::is_directory(name_or_file, ec))
    throw ConfigError(name_or_file + ": a directory, expected a platform file (*.yaml)");
  if (fs::exists(name_or_file, ec))
    throw ConfigError(name_or_file + ": not a regular file, expected a platform file (*.yaml)");
  const fs::path shipped = data_root() / name_or_file;
  if (!fs::path(name_or_file).is_absolute() && fs::is_regular_file(shipped, ec)) return shown(shipped).string();
  throw ConfigError(name_or_file + ": cannot open the file (tried the current directory" +
                    (fs::path(name_or_file).is_absolute() ? std::string() : " and " + shipped.string()) + ")");
}

}  // namespace npuvp::config
