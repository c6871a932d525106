#pragma once
// Where npuvp finds its shipped data (configs/), so the binary runs from any
// directory: the source tree it was built from, or the share/npuvp an install
// put beside it. docs/sweeps.md ("Running from anywhere") has the rules.

#include <filesystem>
#include <optional>
#include <string>

namespace npuvp::config {

// The folder holding configs/: $NPUVP_DATA if set; else <exe>/../share/npuvp
// when that holds configs/ (an installed binary); else the source tree the
// binary was configured from.
std::filesystem::path data_root();

// A file named inside a config file: as given if absolute; else relative to
// the directory of `referrer` (the file naming it); else relative to the data
// root. nullopt when none of these exists.
std::optional<std::filesystem::path> find_config_file(const std::string& path, const std::string& referrer);

// Where find_config_file looked, for an error message.
std::string config_file_candidates(const std::string& path, const std::string& referrer);

// A --platform value: a preset name (edge-ip, as npuvp list platforms shows)
// or a file, relative to the current directory or else to the data root.
// Throws ConfigError naming what was tried when neither exists.
std::string find_platform(const std::string& name_or_file);

}  // namespace npuvp::config
