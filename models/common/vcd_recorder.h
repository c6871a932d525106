#pragma once
// Value-change recorder that writes a VCD file at the end of simulation.
//
// TLM models have no wires, so state worth seeing is published on purpose.
// Loosely-timed models know the time of a change before simulated time reaches
// it (an annotated delay), so changes are recorded with an explicit timestamp
// and sorted when the file is written; recording costs no SystemC event.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <systemc>

namespace npuvp::trace {

struct VcdOptions {
  // Only signals whose hierarchical name starts with one of these are kept;
  // empty keeps everything.
  std::vector<std::string> include_prefixes;
  // Recording stops (and the file says so in a comment) past this many changes.
  std::size_t max_changes = 20'000'000;
};

class VcdRecorder {
 public:
  using SignalId = std::uint32_t;
  static constexpr SignalId kFiltered = UINT32_MAX;

  explicit VcdRecorder(VcdOptions options = {});

  // Hierarchical names use '.' between scopes: "top.npu.dma.ch0.busy".
  SignalId add_wire(const std::string& hierarchical_name, unsigned width);
  SignalId add_real(const std::string& hierarchical_name);

  void record(SignalId id, const sc_core::sc_time& at, std::uint64_t value);
  void record_real(SignalId id, const sc_core::sc_time& at, double value);

  void write(std::ostream& os) const;

  std::size_t change_count() const { return changes_.size(); }
  bool truncated() const { return truncated_; }
  std::size_t signal_count() const { return signals_.size(); }

 private:
  struct Signal {
    std::string name;  // hierarchical, '.'-separated
    unsigned width;    // 0 for real
  };
  struct Change {
    std::uint64_t time_ps;
    SignalId id;
    std::uint64_t bits;  // value, or the bit pattern of a double for reals
  };
  SignalId add(const std::string& name, unsigned width);
  bool accept(const std::string& name) const;
  void push(SignalId id, const sc_core::sc_time& at, std::uint64_t bits);

  VcdOptions options_;
  std::vector<Signal> signals_;
  std::vector<Change> changes_;
  bool truncated_ = false;
};

// A model's handle on one traced value: does nothing until bound to a recorder,
// so models can trace unconditionally.
class Wire {
 public:
  void bind(VcdRecorder& recorder, const std::string& hierarchical_name, unsigned width = 1) {
    recorder_ = &recorder;
    id_ = recorder.add_wire(hierarchical_name, width);
  }
  void set(const sc_core::sc_time& at, std::uint64_t value) const {
    if (recorder_ != nullptr) recorder_->record(id_, at, value);
  }
  bool bound() const { return recorder_ != nullptr && id_ != VcdRecorder::kFiltered; }

 private:
  VcdRecorder* recorder_ = nullptr;
  VcdRecorder::SignalId id_ = VcdRecorder::kFiltered;
};

class RealWire {
 public:
  void bind(VcdRecorder& recorder, const std::string& hierarchical_name) {
    recorder_ = &recorder;
    id_ = recorder.add_real(hierarchical_name);
  }
  void set(const sc_core::sc_time& at, double value) const {
    if (recorder_ != nullptr) recorder_->record_real(id_, at, value);
  }

 private:
  VcdRecorder* recorder_ = nullptr;
  VcdRecorder::SignalId id_ = VcdRecorder::kFiltered;
};

}  // namespace npuvp::trace
