#include "platform/config/config_node.h"

#include <cmath>
#include <map>
#include <sstream>

#include "platform/config/data_root.h"

namespace npuvp::config {
namespace {

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  // The value itself, on one line and cut short: "got a list" alone did not
  // say which entry was wrong.
  YAML::Emitter flow;
  flow.SetSeqFormat(YAML::Flow);
  flow.SetMapFormat(YAML::Flow);
  flow << n;
  std::string text = flow.c_str();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return (n.IsSequence() ? "a list " : "a map ") + text;
}

// yaml-cpp keeps both entries of a repeated key and lookups find the first,
// while dumping the file shows the last: a run and its report would disagree.
void reject_repeated_keys(const YAML::Node& node, const std::string& file, const std::string& path) {
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      reject_repeated_keys(node[i], file, path + "[" + std::to_string(i) + "]");
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, int> lines;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string where = path.empty() ? key : path + "." + key;
    const int line = entry.first.Mark().line + 1;
    const auto [it, first] = lines.emplace(key, line);
    if (!first)
      throw ConfigError(file + ":" + std::to_string(line) + ": key '" + where + "' appears twice (lines " +
                        std::to_string(it->second) + " and " + std::to_string(line) + "); expected each key once");
    reject_repeated_keys(entry.second, file, where);
  }
}

// 0.001 and 1000000 rather than std::to_string's 0.001000 and 1000000.000000.
std::string number_text(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

ConfigNode::ConfigNode(YAML::Node node, std::string file, std::string path,
                       std::shared_ptr<const OverrideOrigins> overrides)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)), overrides_(std::move(overrides)) {}

std::optional<std::string> ConfigNode::override_of(const std::string& key_path) const {
  if (overrides_ == nullptr) return std::nullopt;
  // The override of the key itself or of the closest section above it, else
  // one inside it (a section checked as a whole: npu.control_node).
  const OverrideOrigins::const_iterator none = overrides_->end();
  OverrideOrigins::const_iterator above = none, inside = none;
  for (auto it = overrides_->begin(); it != none; ++it) {
    const std::string& set = it->first;
    if (key_path == set || key_path.rfind(set + ".", 0) == 0 || key_path.rfind(set + "[", 0) == 0) {
      if (above == none || set.size() > above->first.size()) above = it;
    } else if (!key_path.empty() && set.rfind(key_path + ".", 0) == 0 && inside == none) {
      inside = it;
    }
  }
  if (above != none) return above->second;
  if (inside != none) return inside->second;
  return std::nullopt;
}

std::string ConfigNode::source(const std::string& key_path) const {
  const std::optional<std::string> set = override_of(key_path);
  return set ? file_ + " with " + *set : file_;
}

ConfigNode ConfigNode::load_file(const std::string& file) {
  try {
    YAML::Node root = YAML::LoadFile(file);
    if (!root.IsMap()) throw ConfigError(file + ": expected a YAML map at the top level");
    reject_repeated_keys(root, file, "");
    return ConfigNode(root, file);
  } catch (const YAML::BadFile&) {
    throw ConfigError(file + ": cannot open the file");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file + ": malformed YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

std::string ConfigNode::key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

void ConfigNode::fail_at(const std::string& source, const std::string& key, const std::string& expected) const {
  const YAML::Node n = node_.IsMap() && !key.empty() ? node_[key] : node_;
  throw ConfigError(source + ": key '" + (key.empty() ? path_ : key_path(key)) + "': expected " + expected + ", got " +
                    describe(n));
}

void ConfigNode::fail(const std::string& key, const std::string& expected) const {
  fail_at(source(key.empty() ? path_ : key_path(key)), key, expected);
}

void ConfigNode::fail(const std::string& key, const std::string& expected,
                      const std::vector<std::string>& related) const {
  if (!override_of(key_path(key)))
    for (const std::string& other : related)
      if (const std::optional<std::string> set = override_of(other)) fail_at(file_ + " with " + *set, key, expected);
  fail(key, expected);
}

bool ConfigNode::has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull();
}

ConfigNode ConfigNode::child(const std::string& key) const {
  if (!has(key)) fail(key, "a value (the key is required)");
  return ConfigNode(node_[key], file_, key_path(key), overrides_);
}

std::vector<ConfigNode> ConfigNode::items() const {
  if (!node_.IsSequence()) fail("", "a list");
  std::vector<ConfigNode> out;
  for (std::size_t i = 0; i < node_.size(); ++i)
    out.emplace_back(node_[i], file_, path_ + "[" + std::to_string(i) + "]", overrides_);
  return out;
}

std::string ConfigNode::key_text(const YAML::Node& key) const {
  // A list or map used as a key ("? [a]: 1") is no name of a setting.
  if (!key.IsScalar())
    throw ConfigError(source(path_) + ": key under '" + path_ + "': expected a name, got " + describe(key));
  return key.Scalar();
}

std::vector<std::string> ConfigNode::keys() const {
  if (!node_.IsMap()) fail("", "a map");
  std::vector<std::string> out;
  for (const auto& kv : node_) out.push_back(key_text(kv.first));
  return out;
}

YAML::Node ConfigNode::scalar(const std::string& key) const {
  if (!has(key)) fail(key, "a value (the key is required)");
  YAML::Node n = node_[key];
  if (!n.IsScalar()) fail(key, "a single value");
  return n;
}

std::string ConfigNode::get_string(const std::string& key) const { return scalar(key).Scalar(); }
std::string ConfigNode::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

std::string ConfigNode::get_path(const std::string& key) const {
  const std::string named = get_string(key);
  const auto found = find_config_file(named, file_);
  if (!found) fail(key, "the path of an existing file (tried " + config_file_candidates(named, file_) + ")");
  return found->string();
}

std::string ConfigNode::get_path(const std::string& key, const std::string& fallback) const {
  if (has(key)) return get_path(key);
  const auto found = find_config_file(fallback, file_);
  if (!found)
    throw ConfigError(source(key_path(key)) + ": key '" + key_path(key) + "' not given and its default " + fallback +
                      " not found (tried " + config_file_candidates(fallback, file_) + ")");
  return found->string();
}

std::int64_t ConfigNode::parse_int(const std::string& key, const std::string& range) const {
  const std::string text = scalar(key).Scalar();
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used, 0);
  } catch (const std::out_of_range&) {
    // Twenty digits are an integer all the same: say what range it left.
    fail(key, "an integer from " + range);
  } catch (const std::exception&) {
    fail(key, "an integer");
  }
  if (used != text.size()) fail(key, "an integer");
  return v;
}

std::int64_t ConfigNode::get_int(const std::string& key) const {
  return parse_int(key, std::to_string(INT64_MIN) + " to " + std::to_string(INT64_MAX));
}
std::int64_t ConfigNode::get_int(const std::string& key, std::int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

double ConfigNode::get_double(const std::string& key) const {
  const std::string text = scalar(key).Scalar();
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    fail(key, "a number");
  }
  if (used != text.size() || !std::isfinite(v)) fail(key, "a finite number");
  return v;
}
double ConfigNode::get_double(const std::string& key, double fallback) const {
  return has(key) ? get_double(key) : fallback;
}

bool ConfigNode::get_bool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const std::string t = scalar(key).Scalar();
  if (t == "true" || t == "on" || t == "yes") return true;
  if (t == "false" || t == "off" || t == "no") return false;
  fail(key, "true or false");
}

std::int64_t ConfigNode::get_int_in(const std::string& key, std::int64_t lo, std::int64_t hi) const {
  const std::string range = std::to_string(lo) + " to " + std::to_string(hi);
  const std::int64_t v = parse_int(key, range);
  if (v < lo || v > hi) fail(key, "an integer from " + range);
  return v;
}
std::int64_t ConfigNode::get_int_in(const std::string& key, std::int64_t lo, std::int64_t hi,
                                    std::int64_t fallback) const {
  return has(key) ? get_int_in(key, lo, hi) : fallback;
}

double ConfigNode::get_positive(const std::string& key) const {
  const double v = get_double(key);
  if (!(v > 0)) fail(key, "a positive number");
  return v;
}
double ConfigNode::get_positive(const std::string& key, double fallback) const {
  return has(key) ? get_positive(key) : fallback;
}

double ConfigNode::get_positive_at_most(const std::string& key, double hi, const std::string& unit) const {
  const double v = get_double(key);
  if (!(v > 0) || v > hi) fail(key, "a positive number up to " + number_text(hi) + " " + unit);
  return v;
}

double ConfigNode::get_double_in(const std::string& key, double lo, double hi, const std::string& unit) const {
  const double v = get_double(key);
  if (v < lo || v > hi) fail(key, "a number from " + number_text(lo) + " to " + number_text(hi) + " " + unit);
  return v;
}
double ConfigNode::get_double_in(const std::string& key, double lo, double hi, const std::string& unit,
                                 double fallback) const {
  return has(key) ? get_double_in(key, lo, hi, unit) : fallback;
}

std::string ConfigNode::get_choice(const std::string& key, const std::vector<std::string>& choices) const {
  const std::string v = get_string(key);
  for (const auto& c : choices)
    if (v == c) return v;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
  fail(key, "one of " + list);
}
std::string ConfigNode::get_choice(const std::string& key, const std::vector<std::string>& choices,
                                   const std::string& fallback) const {
  return has(key) ? get_choice(key, choices) : fallback;
}

void ConfigNode::reject_unknown(const std::set<std::string>& known) const {
  if (!node_.IsMap()) fail("", "a map");
  for (const auto& kv : node_) {
    const std::string k = key_text(kv.first);
    if (known.count(k) == 0) {
      std::string list;
      for (const auto& c : known) list += (list.empty() ? "" : ", ") + c;
      throw ConfigError(source(key_path(k)) + ": unknown key '" + key_path(k) + "' (known here: " + list + ")");
    }
  }
}

void apply_override(YAML::Node& root, const std::string& assignment, const std::string& origin,
                    OverrideOrigins* record) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(origin + ": override '" + assignment + "': expected key=value");
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception&) {
    value = YAML::Node(text);
  }
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string p; std::getline(ss, p, '.');) {
    if (p.empty()) throw ConfigError(origin + ": override key '" + key + "' has an empty component");
    parts.push_back(p);
  }
  const std::string as_given = origin.empty() ? assignment : origin + " " + assignment;
  std::string walked;
  // yaml-cpp nodes are handles, so walking with reset() keeps writes in the tree.
  YAML::Node cur;
  cur.reset(root);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (i == 0 ? "" : ".") + parts[i];
    YAML::Node next = cur[parts[i]];
    if (!next.IsDefined() || next.IsNull()) {
      cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = cur[parts[i]];
      if (record != nullptr) record->emplace(walked, as_given);
    } else if (!next.IsMap()) {
      throw ConfigError(as_given + ": key '" + key + "': '" + walked + "' holds a value, not a section of keys");
    }
    cur.reset(next);
  }
  cur[parts.back()] = value;
  if (record != nullptr) (*record)[key] = as_given;
}

}  // namespace npuvp::config
