// The SCALE-Sim topology reader and the arithmetic every accepted layer goes
// through next: output size, GEMM shape and SCALE-Sim's compute cycles.
// (scalesim_expand_depthwise is left out: it makes one layer per channel by
// design, so a valid depthwise row of a million channels is a million layers.)
#include <sstream>
#include <stdexcept>
#include <string>

#include "contract/cluster_regs.h"
#include "sw/runtime/frontend/scalesim_topology.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace npuvp;
  using namespace npuvp::runtime;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    for (const ScaleSimLayer& layer : parse_scalesim_topology(in, "fuzz.csv")) {
      (void)scalesim_gemm(layer);
      for (const auto dataflow : {pe_array::Dataflow::kWeightStationary, pe_array::Dataflow::kOutputStationary})
        (void)scalesim_compute_cycles(layer, dataflow, pe_array::ArrayShape{32, 32});
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
