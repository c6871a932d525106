#include "models/common/vcd_recorder.h"

#include <algorithm>
#include <climits>
#include <cstdint>
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
  changes_.push_back({static_cast<std::uint64_t>(at.value() / sc_core::sc_time(1, sc_core::SC_PS).value()), id, bits});
}

void VcdRecorder::record(SignalId id, const sc_core::sc_time& at, std::uint64_t value) { push(id, at, value); }

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

  std::string line;
  auto write_value = [&](SignalId id, std::uint64_t bits) {
    const Signal& s = signals_[id];
    line.clear();
    if (s.width == 0) {
      double v;
      std::memcpy(&v, &bits, sizeof v);
      line = fmt::format("r{:.9g} ", v);
    } else if (s.width == 1) {
      line.push_back((bits & 1) ? '1' : '0');
    } else {
      line.push_back('b');
      int top = 63;
      while (top > 0 && ((bits >> top) & 1) == 0) --top;
      for (int b = top; b >= 0; --b) line.push_back(((bits >> b) & 1) ? '1' : '0');
      line.push_back(' ');
    }
    line += identifier(id);
    line.push_back('\n');
    os << line;
  };

  os << "#0\n$dumpvars\n";
  for (SignalId id = 0; id < signals_.size(); ++id) write_value(id, 0);
  os << "$end\n";

  // A stable sort keeps the order in which a model recorded changes at one
  // time, so the last value recorded for a signal at a timestamp is written.
  std::vector<Change> sorted(changes_);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Change& a, const Change& b) { return a.time_ps < b.time_ps; });
  std::vector<std::uint64_t> last_written(signals_.size(), 0);
  std::vector<std::uint64_t> final_value(signals_.size(), 0);
  std::vector<std::size_t> seen_in_group(signals_.size(), SIZE_MAX);
  std::vector<SignalId> touched;
  for (std::size_t i = 0, group = 0; i < sorted.size(); ++group) {
    const std::uint64_t t = sorted[i].time_ps;
    touched.clear();
    for (; i < sorted.size() && sorted[i].time_ps == t; ++i) {
      const SignalId id = sorted[i].id;
      if (seen_in_group[id] != group) {
        seen_in_group[id] = group;
        touched.push_back(id);
      }
      final_value[id] = sorted[i].bits;
    }
    // Signals in id order, so equal inputs give byte-identical files.
    std::sort(touched.begin(), touched.end());
    bool header = false;
    for (const SignalId id : touched) {
      if (last_written[id] == final_value[id]) continue;
      if (!header) {
        os << '#' << t << '\n';
        header = true;
      }
      write_value(id, final_value[id]);
      last_written[id] = final_value[id];
    }
  }
}

}  // namespace npuvp::trace
