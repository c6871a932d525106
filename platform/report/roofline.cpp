#include <algorithm>
#include <map>
#include <stdexcept>

#include "platform/config/dram_yaml.h"
#include "platform/report/report_util.h"
#include "platform/report/report_writer.h"

namespace npuvp::report {
namespace {

using detail::number;

const nlohmann::json& section(const nlohmann::json& object, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  return object.is_object() && object.contains(key) && object[key].is_object() ? object[key] : empty;
}

double required(const nlohmann::json& object, const char* path, const char* key) {
  const double v = number(object, key, -1);
  if (v <= 0)
    throw std::invalid_argument(std::string("roofline: report.platform.") + path + "." + key +
                                ": expected a positive number");
  return v;
}

}  // namespace

double needed_macs(double macs, double performed_macs) { return std::min(macs, performed_macs); }

double mac_lanes(bool int4_packing, const std::string& datatype) {
  return int4_packing && datatype == "int4" ? 2.0 : 1.0;
}

double roofline_attainment(const nlohmann::json& layers, const AttainmentPeaks& peaks) {
  std::map<std::string, double> elements;  // per layer name: its output's elements
  const auto product = [](const nlohmann::json& shape) {
    double n = 1;
    for (const auto& d : shape) n *= d.get<double>();
    return n;
  };
  for (const auto& l : layers) elements[l.value("name", "")] = product(l.value("out_shape", nlohmann::json::array()));
  double bound_s = 0, cycles = 0;
  for (const auto& l : layers) {
    const double c = number(l, "cycles");
    if (c <= 0) continue;
    cycles += c;
    const std::string datatype = l.value("datatype", "int8");
    // int4 values are stored two per byte (docs/memory.md).
    const double element = datatype == "int16" || datatype == "fp16" ? 2.0 : datatype == "int4" ? 0.5 : 1.0;
    double inputs = 0;
    if (l.contains("inputs") && !l["inputs"].empty())
      for (const auto& name : l["inputs"]) inputs += elements[name.get<std::string>()];
    else
      inputs = product(l.value("in_shape", nlohmann::json::array()));
    const double bytes =
        ((inputs + product(l.value("out_shape", nlohmann::json::array()))) * peaks.images + number(l, "params")) *
        element;
    const double lanes = mac_lanes(peaks.int4_packing, datatype);
    const double batch_macs = number(l, "macs") * peaks.images;
    const double macs = needed_macs(batch_macs, number(l, "performed_macs", batch_macs));
    bound_s += std::max(macs / (peaks.macs_per_s * lanes), peaks.ideal_memory ? 0.0 : bytes / peaks.dram_bytes_per_s);
  }
  return cycles > 0 ? bound_s / (cycles / peaks.clock_hz) : 0.0;
}

std::optional<double> arithmetic_intensity(double macs, double dram_bytes) {
  if (dram_bytes <= 0) return std::nullopt;
  return 2.0 * macs / dram_bytes;
}

nlohmann::json roofline(const RooflineInput& in) {
  // One MAC per PE per cycle at the array's datatype; layers whose datatype
  // runs more lanes per MAC unit (packed int4) have a roof of their own.
  const double peak_ops = 2.0 * in.macs_per_cycle * in.clock_hz;
  nlohmann::json compute_roofs = nlohmann::json::array({{{"datatype", in.datatype},
                                                         {"peak_ops_per_s", peak_ops},
                                                         {"macs_per_cycle", in.macs_per_cycle},
                                                         {"clock_hz", in.clock_hz}}});
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : in.layers) {
    const double layer_peak = peak_ops * l.lanes;
    if (l.lanes != 1 && std::none_of(compute_roofs.begin(), compute_roofs.end(),
                                     [&](const nlohmann::json& r) { return r["datatype"] == l.datatype; }))
      compute_roofs.push_back({{"datatype", l.datatype},
                               {"peak_ops_per_s", layer_peak},
                               {"macs_per_cycle", in.macs_per_cycle * l.lanes},
                               {"clock_hz", in.clock_hz}});
    const double ops = 2.0 * l.macs;
    const double seconds = l.latency_ns * 1e-9;
    const auto ai = arithmetic_intensity(l.macs, l.dram_bytes);
    nlohmann::json row = {{"name", l.name},
                          {"type", l.type},
                          {"ops", ops},
                          {"dram_bytes", l.dram_bytes},
                          {"achieved_ops_per_s", seconds > 0 ? ops / seconds : 0.0},
                          {"peak_ops_per_s", layer_peak}};
    if (ai && !in.ideal_memory) {
      const double dram_ceiling = in.dram_bytes_per_s * *ai;
      const double attainable = std::min(layer_peak, dram_ceiling);
      row["intensity_ops_per_byte"] = *ai;
      row["attainable_ops_per_s"] = attainable;
      row["bound"] = dram_ceiling < layer_peak ? "dram" : "compute";
      row["fraction_of_attainable"] = attainable > 0 ? row["achieved_ops_per_s"].get<double>() / attainable : 0.0;
    } else {
      // No DRAM traffic (infinitely far right) or ideal memory (no DRAM
      // roof): only the compute roof applies.
      row["intensity_ops_per_byte"] = ai ? nlohmann::json(*ai) : nlohmann::json();
      row["attainable_ops_per_s"] = layer_peak;
      row["bound"] = "compute";
      row["fraction_of_attainable"] = row["achieved_ops_per_s"].get<double>() / layer_peak;
    }
    layers.push_back(row);
  }

  return {{"intensity_unit", "ops per DRAM byte (read + write), 1 MAC = 2 ops"},
          {"compute_roofs", compute_roofs},
          {"dram_bytes_per_s", in.dram_bytes_per_s},
          {"dram_bandwidth_source", in.dram_bandwidth_source},
          {"sram_bytes_per_s", in.sram_bytes_per_s},
          {"ridge_ops_per_byte", {{"dram", peak_ops / in.dram_bytes_per_s}, {"sram", peak_ops / in.sram_bytes_per_s}}},
          {"layers", layers}};
}

nlohmann::json roofline(const nlohmann::json& report) {
  const auto& platform = section(report, "platform");
  const auto& npu = section(platform, "npu");
  const auto& pe = section(platform, "pe_array");
  const auto& sram = section(platform, "sram");
  RooflineInput in;
  in.clock_hz = required(npu, "npu", "clock_mhz") * 1e6;
  in.macs_per_cycle = number(npu, "clusters", 1) * required(pe, "pe_array", "rows") * required(pe, "pe_array", "cols");
  in.datatype = detail::text(pe, "datatype", "int8");
  const auto& dram_stats = section(report, "dram");
  if (number(dram_stats, "peak_gbps") > 0) {
    in.dram_bytes_per_s = number(dram_stats, "peak_gbps") * 1e9;
    in.dram_bandwidth_source = "report.dram.peak_gbps";
  } else {
    const auto& dram_cfg = section(platform, "dram");
    const std::string file = detail::text(dram_cfg, "memspec");
    if (file.empty())
      throw std::invalid_argument("roofline: report has neither dram.peak_gbps nor platform.dram.memspec");
    in.dram_bytes_per_s = config::load_memspec(file).peak_gbps() * 1e9 * number(dram_cfg, "channels", 1);
    in.dram_bandwidth_source = "memspec " + file;
  }
  // Every bank delivers one word per port per cycle when accesses spread
  // across banks: the SRAM's ceiling, not what conflicts leave of it.
  in.sram_bytes_per_s =
      required(sram, "sram", "banks") * required(sram, "sram", "word_bytes") * number(sram, "ports", 1) * in.clock_hz;
  const auto& network = section(report, "network");
  const double images = number(network, "batch", 1);
  in.ideal_memory = network.value("ideal_memory", false);
  const bool int4_packing = pe.value("int4_packing", false);
  if (report.contains("layers"))
    for (const auto& l : report["layers"]) {
      const double batch_macs = number(l, "macs") * images;
      const std::string datatype = detail::text(l, "datatype", "int8");
      in.layers.push_back({detail::text(l, "name"), detail::text(l, "type"),
                           needed_macs(batch_macs, number(l, "performed_macs", batch_macs)),
                           detail::layer_dram_bytes(l), number(l, "latency_ns"), mac_lanes(int4_packing, datatype),
                           datatype});
    }
  return roofline(in);
}

}  // namespace npuvp::report
