#pragma once
// A YAML node that knows where it came from (file and dotted key path), so every
// configuration error names the file, the key and what was expected.

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace npuvp::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::string file, std::string path = "");

  // Loads a YAML file; a missing or malformed file is a ConfigError naming it.
  static ConfigNode load_file(const std::string& file);

  bool has(const std::string& key) const;
  ConfigNode child(const std::string& key) const;  // required
  std::vector<ConfigNode> items() const;           // elements of a sequence
  std::vector<std::string> keys() const;           // keys of a map

  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  std::int64_t get_int(const std::string& key) const;
  std::int64_t get_int(const std::string& key, std::int64_t fallback) const;
  double get_double(const std::string& key) const;
  double get_double(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  // A file the value names, found as find_config_file does (data_root.h):
  // the path to open. A missing file is an error naming the key and where it
  // was looked for.
  std::string get_path(const std::string& key) const;
  std::string get_path(const std::string& key, const std::string& fallback) const;
  // An integer in [lo, hi].
  std::int64_t get_int_in(const std::string& key, std::int64_t lo, std::int64_t hi) const;
  std::int64_t get_int_in(const std::string& key, std::int64_t lo, std::int64_t hi, std::int64_t fallback) const;
  double get_positive(const std::string& key) const;
  double get_positive(const std::string& key, double fallback) const;
  // A number in (0, hi] of `unit`: a physical figure whose products must
  // stay finite.
  double get_positive_at_most(const std::string& key, double hi, const std::string& unit) const;
  // A number in [lo, hi] of `unit`, which the error message names.
  double get_double_in(const std::string& key, double lo, double hi, const std::string& unit) const;
  double get_double_in(const std::string& key, double lo, double hi, const std::string& unit, double fallback) const;
  // One of the listed words.
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices) const;
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices,
                         const std::string& fallback) const;

  // A key in this map that is not in `known` is an error: a typo in a config
  // must not be ignored silently.
  void reject_unknown(const std::set<std::string>& known) const;

  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  std::string key_path(const std::string& key) const;
  const YAML::Node& yaml() const { return node_; }

 private:
  YAML::Node scalar(const std::string& key) const;
  std::string key_text(const YAML::Node& key) const;

  YAML::Node node_;
  std::string file_;
  std::string path_;
};

// Applies "a.b.c=value" overrides to a YAML tree (last one wins). The value is
// parsed as YAML so numbers, booleans and lists keep their types. An override
// whose parent path does not exist is an error naming the key.
void apply_override(YAML::Node& root, const std::string& assignment, const std::string& origin);

}  // namespace npuvp::config
