#pragma once
// A YAML node that knows where it came from (file and dotted key path), so every
// configuration error names the file, the key and what was expected.

#include <cstdint>
#include <map>
#include <memory>
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

// Which keys a command line or sweep point set over the file: the dotted key
// of each override and the override as given ("--set pe_array.rows=0").
using OverrideOrigins = std::map<std::string, std::string>;

class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::string file, std::string path = "",
             std::shared_ptr<const OverrideOrigins> overrides = nullptr);

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
  // Reads the file `key` names with `read`; what it throws about that file
  // names this key too ("the file of key 'dram.memspec' in edge-ip.yaml"):
  // a platform file given as a memspec said only "unknown key 'description'".
  template <typename Read>
  auto read_file_of(const std::string& key, Read&& read) const {
    const std::string file = get_path(key);
    try {
      return read(file);
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      if (what.rfind(file + ":", 0) != 0) throw;  // about another file or key
      throw ConfigError(what + " (the file of key '" + key_path(key) + "' in " + source(key_path(key)) + ")");
    }
  }
  // The same for a value that disagrees with others (dotted paths from the
  // root): the message names the override that set any of them.
  [[noreturn]] void fail(const std::string& key, const std::string& expected,
                         const std::vector<std::string>& related) const;

  const std::string& file() const { return file_; }
  // Where the value at `key_path` came from, as an error names it: the file,
  // or the file with the override that set the key, a section above it or a
  // key inside it.
  std::string source(const std::string& key_path) const;
  // The override as given that set what source() names, if any.
  std::optional<std::string> override_of(const std::string& key_path) const;
  const std::string& path() const { return path_; }
  std::string key_path(const std::string& key) const;
  const YAML::Node& yaml() const { return node_; }

 private:
  YAML::Node scalar(const std::string& key) const;
  [[noreturn]] void fail_at(const std::string& source, const std::string& key, const std::string& expected) const;
  // An integer; one beyond 64 bits is refused as outside `range`.
  std::int64_t parse_int(const std::string& key, const std::string& range) const;
  std::string key_text(const YAML::Node& key) const;

  YAML::Node node_;
  std::string file_;
  std::string path_;
  std::shared_ptr<const OverrideOrigins> overrides_;
};

// Applies "a.b.c=value" overrides to a YAML tree (last one wins). The value is
// parsed as YAML so numbers, booleans and lists keep their types. Sections
// missing on the way are made (an optional section the file leaves out, such
// as energy_scaling; a misspelt one is then an unknown key to the reader); one
// that holds a value is an error naming the key. `record`, when given, maps
// each key set and each section made to the override as given ("--set
// pe_array.rows=0" for origin "--set"), for ConfigNode::source().
void apply_override(YAML::Node& root, const std::string& assignment, const std::string& origin,
                    OverrideOrigins* record = nullptr);

}  // namespace npuvp::config
