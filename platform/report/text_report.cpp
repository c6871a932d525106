#include <algorithm>
#include <sstream>

#include "platform/report/report_util.h"
#include "platform/report/report_writer.h"

namespace npuvp::report {
namespace {

using detail::fixed;
using detail::number;
using detail::peak_power_text;
using detail::Table;
using detail::text;

std::string count(double v) { return fixed(v, 0); }

// One row per layer: work, dataflow, cycles and their stall causes, latency,
// utilization, DRAM traffic, intensity, energy and the verdict.
void print_layer_table(std::ostream& os, const nlohmann::json& layers) {
  const auto causes = detail::stall_causes(layers);
  const bool has_verified =
      std::any_of(layers.begin(), layers.end(), [](const auto& l) { return l.contains("verified"); });
  Table t;
  t.column("layer", true);
  t.column("type", true);
  t.column("MMACs");
  t.column("dataflow", true);
  t.column("cycles");
  t.column("compute");
  if (causes.empty()) t.column("stall");
  for (const auto& c : causes) t.column("stall:" + c);
  t.column("latency_us");
  t.column("util");
  t.column("DRAM_KiB");
  t.column("ops/B");
  t.column("energy_uJ");
  if (has_verified) t.column("verified", true);

  for (const auto& l : layers) {
    std::vector<std::string> r = {text(l, "name"),
                                  text(l, "type"),
                                  fixed(number(l, "macs") * 1e-6, 3),
                                  text(l, "dataflow"),
                                  count(number(l, "cycles")),
                                  count(number(l, "compute_cycles"))};
    if (causes.empty()) r.push_back(count(number(l, "stall_cycles")));
    for (const auto& c : causes)
      r.push_back(count(l.contains("stall_cycles_by_cause") ? number(l["stall_cycles_by_cause"], c.c_str()) : 0));
    const auto ai = detail::arithmetic_intensity(l);
    r.push_back(fixed(number(l, "latency_ns") * 1e-3, 2));
    r.push_back(fixed(number(l, "utilization"), 3));
    r.push_back(fixed(detail::layer_dram_bytes(l) / 1024.0, 1));
    r.push_back(ai ? fixed(*ai, 1) : "-");
    r.push_back(fixed(l.contains("energy_pj") ? number(l["energy_pj"], "total") * 1e-6 : 0.0, 3));
    if (has_verified)
      r.push_back(!l.contains("verified") || !l.value("completed", true) ? "-"
                  : l["verified"].get<bool>()                            ? "yes"
                                                                         : "NO");
    t.row(std::move(r));
  }
  t.print(os);
}

}  // namespace

std::string format_text_report(const nlohmann::json& report, bool layer_table) {
  const auto s = detail::summarize(report);
  const nlohmann::json& layers = detail::layers_of(report);

  std::ostringstream os;
  os << "npuvp: " << s.network << " on " << s.platform;
  if (!s.description.empty()) os << " (" << s.description << ")";
  os << "\n";

  if (layer_table) {
    os << '\n';
    print_layer_table(os, layers);
  }

  os << "\ntotals\n";
  os << "  latency           " << fixed(s.latency_ms, 4) << " ms (" << count(s.cycles) << " cycles)\n";
  const nlohmann::json network = report.value("network", nlohmann::json::object());
  const double batch = network.contains("batch") ? number(network, "batch") : 1.0;
  os << "  throughput        " << fixed(s.fps, 1) << " FPS at batch " << count(static_cast<std::uint64_t>(batch))
     << "\n";
  os << "  energy/inference  " << fixed(s.energy_uj / batch, 3) << " uJ";
  const nlohmann::json totals = report.value("totals", nlohmann::json::object());
  const auto components = detail::energy_components(totals);
  if (!components.empty()) {
    os << " =";
    for (std::size_t i = 0; i < components.size(); ++i)
      os << (i == 0 ? " " : " + ") << components[i] << ' '
         << fixed(number(totals["energy_pj"], components[i].c_str()) * 1e-6 / batch, 3);
  }
  os << '\n';
  os << "  power             avg " << fixed(s.avg_power_mw, 1) << " mW, peak " << peak_power_text(s) << '\n';
  os << "  efficiency        " << fixed(s.effective_tops, 3) << " effective TOPS";
  // Skipped zero weights make the effective figure pass the array's peak;
  // the work it did is beside it.
  if (s.performed_tops < s.effective_tops) os << " (" << fixed(s.performed_tops, 3) << " performed)";
  os << ", " << fixed(s.tops_per_w, 3) << " TOPS/W (1 MAC = 2 ops)\n";
  if (totals.contains("roofline_attainment"))
    os << "  roofline          " << fixed(number(totals, "roofline_attainment"), 3)
       << " attained (per-layer roofline bounds on compulsory traffic / latency)\n";
  const auto folded =
      std::count_if(layers.begin(), layers.end(), [](const auto& l) { return l.contains("folded_into"); });
  const auto fused = std::count_if(layers.begin(), layers.end(), [](const auto& l) {
    return l.contains("folded_into") && l.value("type", "") == "add";
  });
  if (folded > fused)
    os << "  folded            " << folded - fused
       << " data-movement layers, no commands (their work in producers' and consumers' addressing)\n";
  if (fused > 0) os << "  fused             " << fused << " adds into the epilogues of the convolutions feeding them\n";
  if (s.area_mm2 > 0) {
    const nlohmann::json& area = report["platform"]["derived"]["area_mm2"];
    os << "  area              " << fixed(s.area_mm2, 3) << " mm2 =";
    const char* parts[] = {"pe", "rf", "buffer", "sram", "noc", "other"};
    for (const char* part : parts)
      os << (part == parts[0] ? " " : " + ") << part << ' ' << fixed(number(area, part), 3);
    os << "; " << fixed(s.tops_per_mm2, 3) << " effective TOPS/mm2\n";
  }
  // fp16 layers are checked against a tolerance (sw/runtime/lowering/conv_workload.h), the rest bit-exact.
  const bool any_fp16 = std::any_of(layers.begin(), layers.end(),
                                    [](const nlohmann::json& l) { return l.value("datatype", "int8") == "fp16"; });
  if (const auto stopped = detail::interruption(report))
    os << "  interrupted       " << *stopped
       << " (layers[].completed): the totals cover those; the network output was not checked\n";
  else if (s.all_verified)
    os << "  verified          "
       << (!*s.all_verified ? "NO: mismatches"
           : any_fp16       ? "all outputs match the reference (integers bit-exact, fp16 within tolerance)"
                            : "all outputs bit-exact against the reference")
       << '\n';
  if (totals.contains("onnx_spec_mismatches")) {
    const auto differ = static_cast<std::uint64_t>(number(totals, "onnx_spec_mismatches"));
    os << "  onnx spec         "
       << (differ == 0 ? std::string("every conv/FC/add/average-pool output equals the ONNX operators' arithmetic")
                       : count(static_cast<double>(differ)) +
                             " conv/FC/add/average-pool output elements differ from the ONNX operators' arithmetic "
                             "(the NPU rounds in fixed point; layers[].onnx_spec_mismatches)")
       << '\n';
  }
  return os.str();
}

nlohmann::json derived_totals(const nlohmann::json& report) {
  const auto s = detail::summarize(report);
  return {{"effective_tops", s.effective_tops},
          {"performed_tops", s.performed_tops},
          {"tops_per_w", s.tops_per_w},
          {"area_mm2", s.area_mm2},
          {"tops_per_mm2", s.tops_per_mm2},
          {"energy_per_inference_uj", s.energy_uj / (report.contains("network") && report["network"].contains("batch")
                                                         ? number(report["network"], "batch")
                                                         : 1.0)},
          {"fps", s.fps}};
}

}  // namespace npuvp::report
