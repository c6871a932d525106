#include "platform/trace_gtkw.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "models/common/natural_order.h"
#include "models/common/output_file.h"
#include "models/dram/command.h"
#include "models/pe_array/pe_cluster.h"
#include "platform/soc.h"

namespace npuvp::platform {
namespace {

// GTKWave trace flags (its analyzer.h), as its save files write them: hex.
constexpr unsigned kHex = 0x2, kDec = 0x4, kBin = 0x8, kRightJustify = 0x20, kBlank = 0x200, kTranslated = 0x2000,
                   kGroupBegin = 0x800000, kGroupEnd = 0x1000000;

// The command processor shows no layer as layer id -1 in 16 bits.
constexpr std::uint64_t kNoLayer = 0xFFFF;

std::string group_of(const std::string& name) {
  const std::size_t leaf = name.rfind('.');
  if (leaf == std::string::npos) return "";
  const std::string scope = name.substr(0, leaf);
  std::size_t end = std::string::npos;
  for (int level = 0; level < 3; ++level) {
    end = scope.find('.', end == std::string::npos ? 0 : end + 1);
    if (end == std::string::npos) return scope;
  }
  return scope.substr(0, end);
}

// How GTKWave names a signal: vectors carry their bit range.
std::string gtkwave_name(const WaveSignal& s) {
  return s.width > 1 ? s.name + "[" + std::to_string(s.width - 1) + ":0]" : s.name;
}

std::string escaped(const std::string& module_name) {
  std::string out;
  for (const char c : module_name) {
    if (c == '.') out += '\\';
    out += c;
  }
  return out;
}

// A filter file's name is one line of text: control characters would end it.
std::string printable(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  return s;
}

}  // namespace

std::string gtkw_text(const std::string& dump, const std::vector<WaveSignal>& signals,
                      const std::vector<WaveEnum>& enums, const std::vector<std::string>& lead_groups) {
  std::map<std::string, std::vector<const WaveSignal*>, NaturalLess> groups;
  for (const WaveSignal& s : signals) groups[group_of(s.name)].push_back(&s);
  std::vector<std::string> order;
  for (const auto& g : lead_groups)
    if (groups.count(g) != 0) order.push_back(g);
  for (const auto& [g, members] : groups)
    if (std::find(order.begin(), order.end(), g) == order.end()) order.push_back(g);

  std::string out =
      "[*] npuvp: GTKWave save file for " + dump + "\n[dumpfile] \"" + dump + "\"\n[savefile] \"trace.gtkw\"\n";
  unsigned flags = 0;
  auto set_flags = [&](unsigned f) {
    if (f == flags) return;
    flags = f;
    char text[16];
    std::snprintf(text, sizeof text, "@%x\n", f);
    out += text;
  };
  std::vector<std::string> filters_used;  // GTKWave numbers its filters from 1
  for (const auto& g : order) {
    auto members = groups.at(g);
    std::stable_sort(members.begin(), members.end(),
                     [](const WaveSignal* a, const WaveSignal* b) { return natural_less(a->name, b->name); });
    set_flags(kGroupBegin | kBlank);
    out += "-" + g + "\n";
    for (const WaveSignal* s : members) {
      const auto e = std::find_if(enums.begin(), enums.end(),
                                  [&](const WaveEnum& w) { return std::regex_match(s->name, w.signals); });
      if (e != enums.end()) {
        auto used = std::find(filters_used.begin(), filters_used.end(), e->file);
        if (used == filters_used.end()) used = filters_used.insert(used, e->file);
        set_flags(kTranslated | kRightJustify | kDec);
        out += "^" + std::to_string(used - filters_used.begin() + 1) + " " + e->file + "\n";
      } else {
        // Addresses in hex; counts and codes without a name in decimal.
        const bool address = s->name.size() > 8 && s->name.compare(s->name.size() - 8, 8, ".address") == 0;
        set_flags(s->width > 1 ? kRightJustify | (address ? kHex : kDec) : kRightJustify | kBin);
      }
      out += gtkwave_name(*s) + "\n";
    }
    set_flags(kGroupEnd | kBlank);
    out += "-" + g + "\n";
  }
  return out;
}

std::string filter_text(const WaveEnum& e) {
  std::string out;
  for (const auto& [value, name] : e.names) out += std::to_string(value) + " " + printable(name) + "\n";
  return out;
}

std::vector<WaveEnum> platform_enums(Soc& soc, const std::vector<std::string>& layer_names) {
  std::vector<WaveEnum> enums;
  WaveEnum layers{"trace.layer.txt", std::regex(escaped(soc.npu().command_processor().name()) + "\\.layer"), {}};
  for (std::size_t i = 0; i < layer_names.size() && i < kNoLayer; ++i)
    layers.names.emplace_back(i, layer_names[i].empty() ? "layer_" + std::to_string(i) : layer_names[i]);
  layers.names.emplace_back(kNoLayer, "idle");
  enums.push_back(std::move(layers));

  const std::string dram = escaped(soc.dram().name());
  WaveEnum commands{"trace.dram_command.txt", std::regex(dram + "\\.ch[0-9]+\\.command"), {}};
  for (unsigned c = 0; c <= static_cast<unsigned>(dram::kLastCommand); ++c)
    commands.names.emplace_back(c, dram::to_string(static_cast<dram::Command>(c)));
  enums.push_back(std::move(commands));
  WaveEnum banks{"trace.bank_state.txt", std::regex(dram + "\\.ch[0-9]+\\.bank[0-9]+"), {}};
  for (const dram::BankState b : dram::kBankStates) banks.names.emplace_back(static_cast<unsigned>(b), to_string(b));
  enums.push_back(std::move(banks));

  WaveEnum stalls{"trace.cluster_stall.txt", std::regex(escaped(soc.npu().name()) + "\\.[^.]+\\.stall"), {}};
  for (const pe_array::ClusterStall s : pe_array::kClusterStalls)
    stalls.names.emplace_back(static_cast<unsigned>(s), pe_array::to_string(s));
  enums.push_back(std::move(stalls));
  return enums;
}

std::vector<WaveSignal> traced_signals(const trace::VcdRecorder& vcd) {
  std::vector<WaveSignal> signals;
  for (trace::VcdRecorder::SignalId id = 0; id < vcd.signal_count(); ++id)
    signals.push_back({vcd.signal_name(id), vcd.signal_width(id)});
  return signals;
}

std::vector<std::string> write_gtkwave_files(Soc& soc, const std::string& dir, const std::string& dump,
                                             const std::vector<std::string>& layer_names) {
  const std::vector<WaveSignal> signals = traced_signals(soc.vcd());
  const std::vector<WaveEnum> enums = platform_enums(soc, layer_names);
  std::vector<std::string> written = {"trace.gtkw"};
  io::write_file(dir + "/trace.gtkw", gtkw_text(dump, signals, enums, {soc.npu().command_processor().name()}));
  for (const WaveEnum& e : enums) {
    const bool used = std::any_of(signals.begin(), signals.end(),
                                  [&](const WaveSignal& s) { return std::regex_match(s.name, e.signals); });
    if (!used) continue;
    io::write_file(dir + "/" + e.file, filter_text(e));
    written.push_back(e.file);
  }
  return written;
}

}  // namespace npuvp::platform
