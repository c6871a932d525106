#include "models/common/vcd_recorder.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>

#include <spdlog/fmt/fmt.h>

namespace npuvp::trace {
namespace {

std::string identifier(VcdRecorder::SignalId id) {
  // VCD identifiers are strings over the printable characters '!'..'~'.
  std::string s;
  do {
    s.push_back(static_cast<char>('!' + id % 94));
    id /= 94;
  } while (id != 0);
  return s;
}

std::vector<std::string> split(const std::string& name) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1)
    parts.push_back(name.substr(start, dot - start));
  parts.push_back(name.substr(start));
  return parts;
}

struct Scope {
  std::map<std::string, std::unique_ptr<Scope>> children;
  std::vector<std::pair<std::string, VcdRecorder::SignalId>> vars;
};

}  // namespace

VcdRecorder::VcdRecorder(VcdOptions options) : options_(std::move(options)) {}

bool VcdRecorder::accept(const std::string& name) const {
  if (options_.include_prefixes.empty()) return true;
  return std::any_of(options_.include_prefixes.begin(), options_.include_prefixes.end(),
                     [&](const std::string& p) { return name.compare(0, p.size(), p) == 0; });
}

VcdRecorder::SignalId VcdRecorder::add(const std::string& name, unsigned width) {
  if (!accept(name)) return kFiltered;
  signals_.push_back({name, width});
  return static_cast<SignalId>(signals_.size() - 1);
}

VcdRecorder::SignalId VcdRecorder::add_wire(const std::string& name, unsigned width) {
  return add(name, std::clamp(width, 1u, 64u));
}

VcdRecorder::SignalId VcdRecorder::add_real(const std::string& name) { return add(name, 0); }

void VcdRecorder::push(SignalId id, const sc_core::sc_time& at, std::uint64_t bits) {
  if (id == kFiltered) return;
  if (changes_.size() >= options_.max_changes) {
    truncated_ = true;
    return;
  }
  changes_.push_back({static_cast<std::uint64_t>(at.value() / sc_core::sc_time(1, sc_core::SC_PS).value()),
                      id, bits});
}

void VcdRecorder::record(SignalId id, const sc_core::sc_time& at, std::uint64_t value) {
  push(id, at, value);
}

void VcdRecorder::record_real(SignalId id, const sc_core::sc_time& at, double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  push(id, at, bits);
}

void VcdRecorder::write(std::ostream& os) const {
  os << "$date\n  npuvp simulation\n$end\n$version\n  npuvp\n$end\n$timescale 1ps $end\n";
  if (truncated_) os << "$comment\n  truncated after " << options_.max_changes << " changes\n$end\n";

  Scope root;
  for (SignalId id = 0; id < signals_.size(); ++id) {
    auto parts = split(signals_[id].name);
    Scope* scope = &root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      auto& child = scope->children[parts[i]];
      if (!child) child = std::make_unique<Scope>();
      scope = child.get();
    }
    scope->vars.emplace_back(parts.back(), id);
  }
  auto emit = [&](auto&& self, const Scope& scope) -> void {
    for (const auto& [var, id] : scope.vars) {
      const Signal& s = signals_[id];
      if (s.width == 0)
        os << "$var real 64 " << identifier(id) << ' ' << var << " $end\n";
      else
        os << "$var wire " << s.width << ' ' << identifier(id) << ' ' << var << " $end\n";
    }
    for (const auto& [name, child] : scope.children) {
      os << "$scope module " << name << " $end\n";
      self(self, *child);
      os << "$upscope $end\n";
    }
  };
  emit(emit, root);
  os << "$enddefinitions $end\n";

  auto value_text = [&](SignalId id, std::uint64_t bits) {
    const Signal& s = signals_[id];
    std::string out;
    if (s.width == 0) {
      double v;
      std::memcpy(&v, &bits, sizeof v);
      out = fmt::format("r{:.9g} ", v);
    } else if (s.width == 1) {
      out = (bits & 1) ? "1" : "0";
    } else {
      out = "b";
      int top = 63;
      while (top > 0 && ((bits >> top) & 1) == 0) --top;
      for (int b = top; b >= 0; --b) out.push_back(((bits >> b) & 1) ? '1' : '0');
      out.push_back(' ');
    }
    return out + identifier(id);
  };

  os << "#0\n$dumpvars\n";
  for (SignalId id = 0; id < signals_.size(); ++id) os << value_text(id, 0) << '\n';
  os << "$end\n";

  // Stable sort keeps the order in which a model recorded changes at one time,
  // so the last value recorded for a signal at a timestamp is the one written.
  std::vector<std::size_t> order(changes_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return changes_[a].time_ps < changes_[b].time_ps;
  });
  std::vector<std::uint64_t> last_written(signals_.size(), 0);
  std::size_t i = 0;
  while (i < order.size()) {
    const std::uint64_t t = changes_[order[i]].time_ps;
    std::size_t j = i;
    while (j < order.size() && changes_[order[j]].time_ps == t) ++j;
    // Within one timestamp, the final value of each signal wins.
    std::map<SignalId, std::uint64_t> final_values;
    for (std::size_t k = i; k < j; ++k) final_values[changes_[order[k]].id] = changes_[order[k]].bits;
    bool header = false;
    for (const auto& [id, bits] : final_values) {
      if (last_written[id] == bits) continue;
      if (!header) {
        os << '#' << t << '\n';
        header = true;
      }
      os << value_text(id, bits) << '\n';
      last_written[id] = bits;
    }
    i = j;
  }
}

}  // namespace npuvp::trace
