#pragma once
// GTKWave's view of a run's trace: a save file (trace.gtkw) that lists every
// traced signal, grouped per module with scopes in natural order, and
// translate filter files that show enumerations by name (the layer running,
// DRAM commands and bank states, what each cluster waits on). The save file
// names the trace and the filters relative to itself, so the output
// directory can be moved: `gtkwave trace.gtkw` opens it from anywhere.

#include <cstdint>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "models/common/vcd_recorder.h"

namespace npuvp::platform {

class Soc;

struct WaveSignal {
  std::string name;  // hierarchical, '.'-separated
  unsigned width;    // 0 for a real
};

// Values of the signals `signals` matches (whole hierarchical names) shown as
// names, from the filter file `file`.
struct WaveEnum {
  std::string file;
  std::regex signals;
  std::vector<std::pair<std::uint64_t, std::string>> names;
};

// The save file: `dump` is the trace's file name, `lead_groups` the groups
// listed first (in that order), the others follow in natural order. A group
// is a signal's scope down to its third level (soc.npu.cluster_2,
// soc.dram.ch0, soc.power).
std::string gtkw_text(const std::string& dump, const std::vector<WaveSignal>& signals,
                      const std::vector<WaveEnum>& enums, const std::vector<std::string>& lead_groups);

// One "VALUE NAME" line per name; values in decimal, as the save file shows
// translated signals.
std::string filter_text(const WaveEnum& e);

// The platform's enumerations, named by the SoC's modules; `layer_names[i]`
// is layer id i.
std::vector<WaveEnum> platform_enums(Soc& soc, const std::vector<std::string>& layer_names);

// The recorder's signals, in declaration order.
std::vector<WaveSignal> traced_signals(const trace::VcdRecorder& vcd);

// Writes trace.gtkw for `dump` (the trace's file name in `dir`) and the
// filter files that its signals use; returns the names written, save file
// first. Throws std::runtime_error naming a file that cannot be written.
std::vector<std::string> write_gtkwave_files(Soc& soc, const std::string& dir, const std::string& dump,
                                             const std::vector<std::string>& layer_names);

}  // namespace npuvp::platform
