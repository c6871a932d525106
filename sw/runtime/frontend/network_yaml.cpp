#include "sw/runtime/frontend/network_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <stdexcept>

namespace npuvp::runtime {
namespace {

std::string where(const std::string& source, const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  if (m.is_null()) return source + ": ";
  return source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ": ";
}

// Reads the keys of one layer mapping, remembering which were used so that
// the rest can be reported as unknown.
class LayerReader {
 public:
  LayerReader(const YAML::Node& node, std::string source, std::string layer)
      : node_(node), source_(std::move(source)), layer_(std::move(layer)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
    throw std::invalid_argument(where(source_, at) + "layer '" + layer_ + "': " + what);
  }

  YAML::Node get(const std::string& key) {
    used_.insert(key);
    return node_[key];
  }

  bool has(const std::string& key) const { return static_cast<bool>(node_[key]); }

  int integer(const std::string& key, std::optional<int> fallback) {
    const YAML::Node v = get(key);
    if (!v) {
      if (!fallback) fail(node_, "missing required key '" + key + "'");
      return *fallback;
    }
    return scalar_int(v, key);
  }

  bool boolean(const std::string& key, bool fallback) {
    const YAML::Node v = get(key);
    if (!v) return fallback;
    try {
      return v.as<bool>();
    } catch (const YAML::Exception&) {
      fail(v, "key '" + key + "': expected true or false");
    }
  }

  // One of `choices`; "" when absent.
  std::string choice(const std::string& key, std::initializer_list<const char*> choices) {
    const YAML::Node v = get(key);
    if (!v) return "";
    std::string list;
    for (const char* c : choices) list += (list.empty() ? "" : " or ") + std::string(c);
    if (!v.IsScalar()) fail(v, "key '" + key + "': expected " + list);
    for (const char* c : choices)
      if (v.Scalar() == c) return c;
    fail(v, "key '" + key + "': expected " + list + ", got '" + v.Scalar() + "'");
  }

  double real(const std::string& key, double fallback) {
    const YAML::Node v = get(key);
    if (!v) return fallback;
    try {
      return v.as<double>();
    } catch (const YAML::Exception&) {
      fail(v, "key '" + key + "': expected a number");
    }
  }

  // n or [h, w]; nullopt when absent.
  std::optional<std::pair<int, int>> pair(const std::string& key) {
    const YAML::Node v = get(key);
    if (!v) return std::nullopt;
    if (v.IsScalar()) {
      const int x = scalar_int(v, key);
      return std::make_pair(x, x);
    }
    if (v.IsSequence() && v.size() == 2) return std::make_pair(scalar_int(v[0], key), scalar_int(v[1], key));
    fail(v, "key '" + key + "': expected an integer or [h, w]");
  }

  Padding padding(const std::string& key) {
    const YAML::Node v = get(key);
    if (!v) return {};
    if (v.IsScalar()) return Padding::uniform(scalar_int(v, key));
    if (v.IsSequence() && v.size() == 2) return Padding::symmetric(scalar_int(v[0], key), scalar_int(v[1], key));
    if (v.IsSequence() && v.size() == 4)
      return {scalar_int(v[0], key), scalar_int(v[1], key), scalar_int(v[2], key), scalar_int(v[3], key)};
    fail(v, "key '" + key + "': expected an integer, [h, w] or [top, left, bottom, right]");
  }

  int scalar_int(const YAML::Node& v, const std::string& key) const {
    if (v.IsScalar()) {
      try {
        return v.as<int>();
      } catch (const YAML::Exception&) {
      }
    }
    fail(v, "key '" + key + "': expected an integer");
  }

  void reject_unknown_keys() const {
    std::set<std::string> seen;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (!it->first.IsScalar()) fail(it->first, "a key must be a name");
      const std::string key = it->first.Scalar();
      // yaml-cpp keeps both and finds the first: the second was ignored.
      if (!seen.insert(key).second) fail(it->first, "key '" + key + "' appears twice; expected each key once");
      if (!used_.count(key)) {
        std::string known;
        for (const auto& k : used_) known += (known.empty() ? "" : ", ") + k;
        fail(it->first, "unknown key '" + key + "' (this layer type takes: " + known + ")");
      }
    }
  }

 private:
  YAML::Node node_;
  std::string source_;
  std::string layer_;
  std::set<std::string> used_;
};

Layer read_layer(LayerReader& r, LayerType type, const YAML::Node& node) {
  Layer l;
  l.type = type;
  switch (type) {
    case LayerType::kConv2d: {
      l.conv.out_channels = r.integer("out_channels", std::nullopt);
      const auto k = r.pair("kernel");
      if (!k) r.fail(node, "missing required key 'kernel'");
      l.conv.kernel_h = k->first;
      l.conv.kernel_w = k->second;
      const auto s = r.pair("stride").value_or(std::make_pair(1, 1));
      l.conv.stride_h = s.first;
      l.conv.stride_w = s.second;
      l.conv.pad = r.padding("padding");
      const auto d = r.pair("dilation").value_or(std::make_pair(1, 1));
      l.conv.dilation_h = d.first;
      l.conv.dilation_w = d.second;
      l.conv.groups = r.integer("groups", 1);
      l.conv.bias = r.boolean("bias", false);
      l.conv.dataflow = r.choice("dataflow", {"ws", "os", "os2d"});
      l.datatype = r.choice("datatype", {"int4", "int8", "int16"});
      break;
    }
    case LayerType::kFullyConnected:
      l.fc.out_features = r.integer("out_features", std::nullopt);
      l.fc.bias = r.boolean("bias", true);
      l.datatype = r.choice("datatype", {"int4", "int8", "int16"});
      break;
    case LayerType::kMaxPool:
    case LayerType::kAvgPool: {
      const auto k = r.pair("kernel");
      if (!k) r.fail(node, "missing required key 'kernel'");
      l.pool.kernel_h = k->first;
      l.pool.kernel_w = k->second;
      const auto s = r.pair("stride").value_or(*k);
      l.pool.stride_h = s.first;
      l.pool.stride_w = s.second;
      l.pool.pad = r.padding("padding");
      l.pool.ceil_mode = r.boolean("ceil_mode", false);
      if (type == LayerType::kAvgPool) l.pool.count_include_pad = r.boolean("count_include_pad", true);
      break;
    }
    case LayerType::kAdaptiveAvgPool: {
      const auto o = r.pair("output");
      if (!o) r.fail(node, "missing required key 'output'");
      l.adaptive = {o->first, o->second};
      break;
    }
    case LayerType::kBatchNorm: {
      // Added to the variance under a square root: a negative one made the
      // folded weights NaN.
      const double eps = r.real("eps", 1e-5);
      if (!(eps > 0) || !std::isfinite(eps)) r.fail(node, "key 'eps': expected a positive number");
      l.bn_eps = static_cast<float>(eps);
      break;
    }
    case LayerType::kChannelShuffle:
      l.shuffle_groups = r.integer("groups", std::nullopt);
      break;
    case LayerType::kSliceChannels:
      l.begin = r.integer("begin", std::nullopt);
      l.end = r.integer("end", std::nullopt);
      break;
    case LayerType::kPadChannels:
      l.pad_before = r.integer("before", 0);
      l.pad_after = r.integer("after", 0);
      break;
    case LayerType::kShift:
      // Resolved against the input channel count by the caller.
      r.get("pattern");
      r.get("kernel_size");
      r.get("shifts");
      break;
    default:
      break;
  }
  return l;
}

std::vector<ChannelShift> read_shifts(LayerReader& r, const YAML::Node& node, int channels) {
  const YAML::Node pattern = node["pattern"], kernel = node["kernel_size"], list = node["shifts"];
  const int given = (pattern ? 1 : 0) + (kernel ? 1 : 0) + (list ? 1 : 0);
  if (given != 1) r.fail(node, "a shift needs exactly one of 'pattern', 'kernel_size' or 'shifts'");
  if (pattern) {
    const std::string p = pattern.IsScalar() ? pattern.as<std::string>() : "";
    if (p != "five_direction") r.fail(pattern, "key 'pattern': expected 'five_direction', got '" + p + "'");
    return five_direction_shifts(channels);
  }
  if (kernel) {
    const int k = r.scalar_int(kernel, "kernel_size");
    if (k <= 0 || k % 2 == 0) r.fail(kernel, "key 'kernel_size': expected a positive odd integer");
    return grouped_shifts(channels, k);
  }
  if (!list.IsSequence()) r.fail(list, "key 'shifts': expected a list of [dy, dx]");
  std::vector<ChannelShift> out;
  for (const auto& s : list) {
    if (!s.IsSequence() || s.size() != 2) r.fail(s, "key 'shifts': expected [dy, dx] per channel");
    out.push_back({r.scalar_int(s[0], "shifts"), r.scalar_int(s[1], "shifts")});
  }
  return out;
}

std::string pair_str(int a, int b) {
  return a == b ? std::to_string(a) : "[" + std::to_string(a) + ", " + std::to_string(b) + "]";
}

std::string padding_str(const Padding& p) {
  if (p.top == p.bottom && p.left == p.right) return pair_str(p.top, p.left);
  return "[" + std::to_string(p.top) + ", " + std::to_string(p.left) + ", " + std::to_string(p.bottom) + ", " +
         std::to_string(p.right) + "]";
}

// Layer names are written plainly when YAML reads them back as the same string.
std::string name_str(const std::string& s) {
  const bool plain =
      !s.empty() &&
      std::all_of(
          s.begin(), s.end(),
          [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }) &&
      !std::isdigit(static_cast<unsigned char>(s[0])) && s != "true" && s != "false" && s != "null";
  if (plain) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

}  // namespace

Network parse_network_yaml(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw std::invalid_argument(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                std::to_string(e.mark.column + 1) + ": malformed YAML: " + e.msg);
  }
  if (!root.IsMap()) throw std::invalid_argument(where(source, root) + "expected a mapping with 'input' and 'layers'");
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->first.IsScalar()) throw std::invalid_argument(where(source, it->first) + "a key must be a name");
    const std::string key = it->first.Scalar();
    if (key != "name" && key != "input" && key != "layers" && key != "description")
      throw std::invalid_argument(where(source, it->first) + "unknown key '" + key +
                                  "' (expected name, description, input, layers)");
  }
  std::string name = std::filesystem::path(source).stem().string();
  if (root["name"]) {
    if (!root["name"].IsScalar())
      throw std::invalid_argument(where(source, root["name"]) + "key 'name': expected a name");
    name = root["name"].Scalar();
  }
  const YAML::Node input = root["input"];
  if (!input) throw std::invalid_argument(where(source, root) + "missing key 'input' ([C, H, W])");
  TensorShape in{0, 0, 0};
  try {
    if (!input.IsSequence() || input.size() != 3) throw YAML::Exception(input.Mark(), "");
    in = {input[0].as<int>(), input[1].as<int>(), input[2].as<int>()};
  } catch (const YAML::Exception&) {
    throw std::invalid_argument(where(source, input) + "key 'input': expected [C, H, W] of integers");
  }
  Network net = [&] {
    try {
      return Network(name, in);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where(source, input) + "key 'input': " + e.what());
    }
  }();
  const YAML::Node layers = root["layers"];
  if (!layers || !layers.IsSequence() || layers.size() == 0)
    throw std::invalid_argument(where(source, layers ? layers : root) + "key 'layers': expected a non-empty list");
  for (const auto& node : layers) {
    if (!node.IsMap()) throw std::invalid_argument(where(source, node) + "each layer must be a mapping");
    const YAML::Node name_node = node["name"];
    if (!name_node || !name_node.IsScalar())
      throw std::invalid_argument(where(source, node) + "layer without a 'name'");
    const std::string layer_name = name_node.as<std::string>();
    LayerReader r(node, source, layer_name);
    r.get("name");
    const YAML::Node type_node = r.get("type");
    if (!type_node || !type_node.IsScalar()) r.fail(node, "missing key 'type'");
    const auto type = parse_layer_type(type_node.as<std::string>());
    if (!type || *type == LayerType::kInput) {
      std::string known;
      for (const auto& t : layer_type_names())
        if (t != "input") known += (known.empty() ? "" : ", ") + t;
      r.fail(type_node, "key 'type': unknown layer type '" + type_node.as<std::string>() + "' (known: " + known + ")");
    }
    Layer l = read_layer(r, *type, node);
    l.name = layer_name;
    const YAML::Node inputs = r.get("inputs");
    if (inputs) {
      if (!inputs.IsSequence()) r.fail(inputs, "key 'inputs': expected a list of layer names");
      for (const auto& i : inputs) {
        if (!i.IsScalar()) r.fail(i, "key 'inputs': expected a list of layer names");
        const std::string ref = i.Scalar();
        const int idx = net.index_of(ref);
        if (idx < 0) r.fail(i, "key 'inputs': no earlier layer named '" + ref + "'");
        l.inputs.push_back(idx);
      }
    } else {
      l.inputs = {net.output()};
    }
    if (*type == LayerType::kShift) {
      if (l.inputs.size() != 1) r.fail(node, "a shift takes one input");
      l.shifts = read_shifts(r, node, net.layer(l.inputs[0]).out_shape.c);
      l.channels = static_cast<int>(l.shifts.size());
    }
    r.reject_unknown_keys();
    try {
      net.append(std::move(l));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where(source, node) + e.what());
    }
  }
  return net;
}

Network load_network_yaml(const std::string& path) {
  std::ifstream is(path);
  if (!is) throw std::invalid_argument(path + ": cannot read the network file");
  std::stringstream ss;
  ss << is.rdbuf();
  return parse_network_yaml(ss.str(), path);
}

std::string network_to_yaml(const Network& network) {
  std::ostringstream os;
  const TensorShape in = network.default_input_shape();
  os << "name: " << name_str(network.name()) << "\n";
  os << "input: [" << in.c << ", " << in.h << ", " << in.w << "]\n";
  os << "layers:\n";
  const auto& layers = network.layers();
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    os << "  - {name: " << name_str(l.name) << ", type: " << layer_type_name(l.type);
    if (!(l.inputs.size() == 1 && l.inputs[0] == static_cast<int>(i) - 1)) {
      os << ", inputs: [";
      for (std::size_t k = 0; k < l.inputs.size(); ++k)
        os << (k ? ", " : "") << name_str(layers[static_cast<std::size_t>(l.inputs[k])].name);
      os << "]";
    }
    switch (l.type) {
      case LayerType::kConv2d: {
        const auto& c = l.conv;
        os << ", out_channels: " << c.out_channels << ", kernel: " << pair_str(c.kernel_h, c.kernel_w);
        if (c.stride_h != 1 || c.stride_w != 1) os << ", stride: " << pair_str(c.stride_h, c.stride_w);
        if (!(c.pad == Padding{})) os << ", padding: " << padding_str(c.pad);
        if (c.dilation_h != 1 || c.dilation_w != 1) os << ", dilation: " << pair_str(c.dilation_h, c.dilation_w);
        if (c.groups != 1) os << ", groups: " << c.groups;
        if (c.bias) os << ", bias: true";
        if (!c.dataflow.empty()) os << ", dataflow: " << c.dataflow;
        if (!l.datatype.empty()) os << ", datatype: " << l.datatype;
        break;
      }
      case LayerType::kFullyConnected:
        os << ", out_features: " << l.fc.out_features;
        if (!l.fc.bias) os << ", bias: false";
        if (!l.datatype.empty()) os << ", datatype: " << l.datatype;
        break;
      case LayerType::kMaxPool:
      case LayerType::kAvgPool: {
        const auto& p = l.pool;
        os << ", kernel: " << pair_str(p.kernel_h, p.kernel_w);
        if (p.stride_h != p.kernel_h || p.stride_w != p.kernel_w)
          os << ", stride: " << pair_str(p.stride_h, p.stride_w);
        if (!(p.pad == Padding{})) os << ", padding: " << padding_str(p.pad);
        if (p.ceil_mode) os << ", ceil_mode: true";
        if (l.type == LayerType::kAvgPool && !p.count_include_pad) os << ", count_include_pad: false";
        break;
      }
      case LayerType::kAdaptiveAvgPool:
        os << ", output: " << pair_str(l.adaptive.out_h, l.adaptive.out_w);
        break;
      case LayerType::kBatchNorm:
        if (l.bn_eps != 1e-5f) os << ", eps: " << l.bn_eps;
        break;
      case LayerType::kChannelShuffle:
        os << ", groups: " << l.shuffle_groups;
        break;
      case LayerType::kSliceChannels:
        os << ", begin: " << l.begin << ", end: " << l.end;
        break;
      case LayerType::kPadChannels:
        os << ", before: " << l.pad_before << ", after: " << l.pad_after;
        break;
      case LayerType::kShift: {
        const int c = static_cast<int>(l.shifts.size());
        auto same = [&](const std::vector<ChannelShift>& s) {
          return std::equal(s.begin(), s.end(), l.shifts.begin(), l.shifts.end(),
                            [](const ChannelShift& a, const ChannelShift& b) { return a.dy == b.dy && a.dx == b.dx; });
        };
        if (same(five_direction_shifts(c))) {
          os << ", pattern: five_direction";
          break;
        }
        bool grouped = false;
        for (int k = 1; k * k <= c && !grouped; k += 2) {
          if (same(grouped_shifts(c, k))) {
            os << ", kernel_size: " << k;
            grouped = true;
          }
        }
        if (grouped) break;
        os << ", shifts: [";
        for (int k = 0; k < c; ++k)
          os << (k ? ", " : "") << "[" << l.shifts[static_cast<std::size_t>(k)].dy << ", "
             << l.shifts[static_cast<std::size_t>(k)].dx << "]";
        os << "]";
        break;
      }
      default:
        break;
    }
    os << "}\n";
  }
  return os.str();
}

}  // namespace npuvp::runtime
