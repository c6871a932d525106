#include "sw/runtime/frontend/scalesim_topology.h"

#include <array>
#include <cctype>
#include <charconv>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace npuvp::runtime {
namespace {

constexpr std::array<const char*, 8> kColumns{"Layer name",   "IFMAP Height", "IFMAP Width", "Filter Height",
                                              "Filter Width", "Channels",     "Num Filter",  "Strides"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(
        trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

class RowParser {
 public:
  RowParser(const std::string& source, std::size_t line) : source_(source), line_(line) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument(source_ + ":" + std::to_string(line_) + ": " + what);
  }
  [[noreturn]] void fail_column(std::size_t column, const std::string& what) const {
    const std::string name = column <= kColumns.size() ? std::string(" (") + kColumns[column - 1] + ")" : "";
    fail("column " + std::to_string(column) + name + ": " + what);
  }

  int positive_int(std::string_view field, std::size_t column) const {
    int value = 0;
    const char* end = field.data() + field.size();
    const auto [ptr, ec] = std::from_chars(field.data(), end, value);
    if (field.empty() || ec != std::errc() || ptr != end || value <= 0)
      fail_column(column, "expected a positive integer, got '" + std::string(field) + "'");
    return value;
  }

  ScaleSimLayer layer(std::string_view text) const {
    std::vector<std::string_view> f = split(text);
    if (f.size() > 1 && f.back().empty()) f.pop_back();  // the trailing comma SCALE-Sim's files carry
    if (f.size() < kColumns.size())
      fail_column(f.size() + 1, "missing (a row has " + std::to_string(kColumns.size()) + " fields)");
    if (f.size() > kColumns.size() + 1)
      fail_column(kColumns.size() + 2, "unexpected field '" + std::string(f[9]) + "'");
    ScaleSimLayer l;
    if (f[0].empty()) fail_column(1, "empty layer name");
    l.name = std::string(f[0]);
    l.ifmap_h = positive_int(f[1], 2);
    l.ifmap_w = positive_int(f[2], 3);
    l.filter_h = positive_int(f[3], 4);
    l.filter_w = positive_int(f[4], 5);
    l.channels = positive_int(f[5], 6);
    l.num_filter = positive_int(f[6], 7);
    l.stride = positive_int(f[7], 8);
    if (f.size() == kColumns.size() + 1 && positive_int(f[8], 9) != l.stride)
      fail_column(9, "stride along the width must equal Strides (" + std::to_string(l.stride) + "), got '" +
                         std::string(f[8]) + "'");
    if (l.filter_h > l.ifmap_h)
      fail_column(4,
                  "filter height " + std::to_string(l.filter_h) + " exceeds IFMAP height " + std::to_string(l.ifmap_h));
    if (l.filter_w > l.ifmap_w)
      fail_column(5,
                  "filter width " + std::to_string(l.filter_w) + " exceeds IFMAP width " + std::to_string(l.ifmap_w));
    return l;
  }

 private:
  const std::string& source_;
  std::size_t line_;
};

}  // namespace

std::vector<ScaleSimLayer> parse_scalesim_topology(std::istream& in, const std::string& source) {
  std::vector<ScaleSimLayer> layers;
  std::string raw;
  std::size_t line = 0;
  while (std::getline(in, raw)) {
    ++line;
    const std::string_view text = trim(raw);
    if (line == 1) {
      // SCALE-Sim skips the first row unread; insist it is the header so a
      // file without one does not silently lose its first layer.
      std::string first(trim(text.substr(0, text.find(','))));
      for (char& ch : first) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (first.rfind("layer", 0) != 0)
        RowParser(source, line)
            .fail(
                "expected the header row 'Layer name, IFMAP Height, IFMAP Width, Filter Height, "
                "Filter Width, Channels, Num Filter, Strides,'");
      continue;
    }
    if (text.empty()) continue;
    layers.push_back(RowParser(source, line).layer(text));
  }
  if (line == 0) throw std::invalid_argument(source + ": empty file, expected the header row of a SCALE-Sim topology");
  if (layers.empty()) throw std::invalid_argument(source + ": no layers, expected at least one row after the header");
  return layers;
}

std::vector<ScaleSimLayer> load_scalesim_topology(const std::string& csv_path) {
  std::ifstream in(csv_path);
  if (!in) throw std::invalid_argument(csv_path + ": cannot open SCALE-Sim topology file");
  return parse_scalesim_topology(in, csv_path);
}

std::vector<ScaleSimLayer> scalesim_expand_depthwise(const std::vector<ScaleSimLayer>& layers) {
  std::vector<ScaleSimLayer> out;
  for (const ScaleSimLayer& l : layers) {
    if (l.name.find("DP") == std::string::npos) {
      out.push_back(l);
      continue;
    }
    for (int c = 0; c < l.channels; ++c) {
      ScaleSimLayer one = l;
      one.name = l.name + "Channel_" + std::to_string(c);
      one.channels = 1;
      out.push_back(one);
    }
  }
  return out;
}

int scalesim_ofmap_dim(int in, int filter, int stride) {
  if (stride <= 0 || filter <= 0 || filter > in) throw std::invalid_argument("scalesim_ofmap_dim: invalid geometry");
  // In 64 bits: a stride near INT_MAX is a valid row, and 2 * stride is not an int.
  return static_cast<int>((std::int64_t{in} - filter + 2 * std::int64_t{stride} - 1) / stride);
}

pe_array::GemmShape scalesim_gemm(const ScaleSimLayer& l) {
  const std::uint64_t oh = static_cast<std::uint64_t>(scalesim_ofmap_dim(l.ifmap_h, l.filter_h, l.stride));
  const std::uint64_t ow = static_cast<std::uint64_t>(scalesim_ofmap_dim(l.ifmap_w, l.filter_w, l.stride));
  return {oh * ow, static_cast<std::uint64_t>(l.num_filter),
          static_cast<std::uint64_t>(l.filter_h) * static_cast<std::uint64_t>(l.filter_w) *
              static_cast<std::uint64_t>(l.channels)};
}

std::uint64_t scalesim_compute_cycles(const ScaleSimLayer& layer, pe_array::Dataflow dataflow,
                                      pe_array::ArrayShape array) {
  return pe_array::scalesim_reported_cycles(
      pe_array::systolic_tile_timing(dataflow, array, scalesim_gemm(layer), /*preload_overlap=*/false));
}

}  // namespace npuvp::runtime
