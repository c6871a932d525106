#include "models/dram/lpddr4.h"

#include <new>
#include <string>

#include "models/common/log.h"
#include "models/common/tlm_target_checks.h"
#include "models/dram/dram_system.h"
#include "models/dram/protocol_checker.h"

namespace npuvp::dram {

// Publishes bank states and, optionally, the command bus as VCD signals.
// Times come from the command cycles, which may be ahead of simulated time
// under loose timing; the recorder takes explicit timestamps for that reason.
class DramTrace final : public CommandObserver {
 public:
  DramTrace(trace::VcdRecorder& recorder, const std::string& prefix, const Memspec& spec, unsigned channels,
            bool command_bus)
      : spec_(spec),
        ticks_per_cycle_(spec.tck_ns * double(sc_core::sc_time(1, sc_core::SC_NS).value())),
        channels_(channels),
        command_bus_(command_bus) {
    for (unsigned c = 0; c < channels; ++c) {
      const std::string ch = prefix + ".ch" + std::to_string(c);
      if (command_bus) channels_[c].command.bind(recorder, ch + ".command", 4);
      channels_[c].banks.resize(spec.banks);
      channels_[c].refresh_end.assign(spec.banks, 0);
      for (unsigned b = 0; b < spec.banks; ++b)
        channels_[c].banks[b].bind(recorder, ch + ".bank" + std::to_string(b), 2);
    }
  }

  // Bank states change only with row commands and auto-precharge.
  bool wants_plain_columns() const override { return command_bus_; }

  void on_command(unsigned channel, const IssuedCommand& c) override {
    Channel& ch = channels_[channel];
    if (ch.command.bound()) publish_command(ch, c);
    switch (c.command) {
      case Command::kAct:
        ch.banks[c.bank].set_ticks(at(c.cycle), kActive);
        // An ACT may start before a refresh's tRFC ends (its second part
        // lands on the end): the refresh's idle there, recorded before the
        // ACT was known, is replaced (the last change at a time wins).
        if (c.cycle < ch.refresh_end[c.bank]) ch.banks[c.bank].set_ticks(at(ch.refresh_end[c.bank]), kActive);
        break;
      case Command::kPre:
        ch.banks[c.bank].set_ticks(at(c.cycle), kIdle);
        break;
      case Command::kPreAll:
        for (auto& b : ch.banks) b.set_ticks(at(c.cycle), kIdle);
        break;
      case Command::kRda:
      case Command::kWra:
        ch.banks[c.bank].set_ticks(at(c.auto_precharge_cycle), kIdle);
        break;
      case Command::kRefAll:
        for (unsigned b = 0; b < ch.banks.size(); ++b) refresh(ch, b, c.cycle, spec_.trfcab);
        break;
      case Command::kRefBank:
        refresh(ch, c.bank, c.cycle, spec_.trfcpb);
        break;
      default:
        break;
    }
  }

 private:
  static constexpr auto kIdle = static_cast<std::uint64_t>(BankState::kIdle);
  static constexpr auto kActive = static_cast<std::uint64_t>(BankState::kActive);
  static constexpr auto kRefreshing = static_cast<std::uint64_t>(BankState::kRefreshing);
  struct Channel {
    trace::Wire command;
    std::vector<trace::Wire> banks;
    std::vector<std::uint64_t> refresh_end;  // per bank: the cycle its last refresh's tRFC ends
  };
  void refresh(Channel& ch, unsigned bank, std::uint64_t cycle, std::uint64_t trfc) {
    ch.banks[bank].set_ticks(at(cycle), kRefreshing);
    ch.banks[bank].set_ticks(at(cycle + trfc), kIdle);
    ch.refresh_end[bank] = cycle + trfc;
  }
  // A command holds the CA bus for its length; the bus shows NOP (deselect)
  // between commands.
  void publish_command(const Channel& ch, const IssuedCommand& c) const {
    const unsigned length = c.command == Command::kAct                                        ? spec_.act_cycles
                            : c.command == Command::kPre || c.command == Command::kPreAll     ? spec_.pre_cycles
                            : c.command == Command::kRefAll || c.command == Command::kRefBank ? spec_.ref_cycles
                                                                                              : spec_.cas_cycles;
    ch.command.set_ticks(at(c.cycle), std::uint64_t(c.command));
    ch.command.set_ticks(at(c.cycle + length), std::uint64_t(Command::kNop));
  }
  // Called for every command: sc_time ticks from the cycle count, without
  // constructing an sc_time.
  std::uint64_t at(std::uint64_t cycle) const {
    return static_cast<std::uint64_t>(double(cycle) * ticks_per_cycle_ + 0.5);
  }

  const Memspec& spec_;
  double ticks_per_cycle_;
  std::vector<Channel> channels_;
  bool command_bus_;
};

Lpddr4::Lpddr4(const sc_core::sc_module_name& name, const DramConfig& config)
    : sc_module(name),
      target_socket("target_socket"),
      config_(config),
      core_(std::make_unique<DramSystem>(config)),
      storage_(config.backing_bytes) {
  if (config_.protocol_check) {
    checker_ = std::make_unique<ProtocolChecker>(config_.memspec, config_.channels);
    core_->add_observer(*checker_);
  }
  target_socket.register_b_transport(this, &Lpddr4::b_transport);
  target_socket.register_transport_dbg(this, &Lpddr4::transport_dbg);
  target_socket.register_get_direct_mem_ptr(this, &Lpddr4::get_direct_mem_ptr);
  // DMI bypasses the controller; its latency is that of one unloaded burst to
  // an idle bank, so that a DMI user is at least not faster than the device.
  const Memspec& s = config_.memspec;
  dmi_read_latency_ = sc_core::sc_time((s.act2_edge() + s.trcd + s.read_data_end()) * s.tck_ns, sc_core::SC_NS);
  dmi_write_latency_ = sc_core::sc_time((s.act2_edge() + s.trcd + s.write_data_end()) * s.tck_ns, sc_core::SC_NS);
  auto log = npuvp::log::component(this->name());
  log->info("{} × {} channels, {} GB/s peak, {} mapping, {} page, {} refresh, {} MiB stored", s.name, config_.channels,
            config_.peak_gbps(), to_string(config_.mapping), to_string(config_.page_policy),
            config_.per_bank_refresh ? "per-bank" : "all-bank", config_.backing_bytes >> 20);
}

Lpddr4::~Lpddr4() = default;

void Lpddr4::attach_trace(trace::VcdRecorder& recorder, bool command_bus) {
  trace_ = std::make_unique<DramTrace>(recorder, name(), config_.memspec, config_.channels, command_bus);
  core_->add_observer(*trace_);
  // The controller holds its last commands back while a row command may still
  // go before them; none can go before the present (a request arrives no
  // earlier than it), so those before it are final and the trace gets them
  // before it writes that time out. Timing does not depend on this.
  recorder.on_flush([this](const sc_core::sc_time&) { core_->release_observers_before(now_cycle()); });
}

void Lpddr4::attach_observer(CommandObserver& observer) { core_->add_observer(observer); }

std::uint64_t Lpddr4::now_cycle() const {
  return std::uint64_t(sc_core::sc_time_stamp().to_seconds() * 1e9 / config_.memspec.tck_ns);
}

void Lpddr4::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const tlm::tlm_response_status status = tlmx::check_memory_access(gp, config_.backing_bytes);
  if (status != tlm::TLM_OK_RESPONSE) {
    auto log = npuvp::log::component(name());
    if (log->should_log(spdlog::level::debug))
      log->debug("rejected {} at {:#x}+{}: {}", gp.get_command() == tlm::TLM_WRITE_COMMAND ? "write" : "read",
                 gp.get_address(), gp.get_data_length(), gp.get_response_string());
    gp.set_response_status(status);
    return;
  }
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const double arrival_ns = (now + delay).to_seconds() * 1e9;
  const std::uint32_t id =
      core_->submit(gp.is_write(), gp.get_address(), gp.get_data_length(), core_->cycle_at(arrival_ns));
  const std::uint64_t done = core_->complete(id);
  tlmx::copy_payload(gp, storage_);
  const sc_core::sc_time completion(core_->ns_of(done), sc_core::SC_NS);
  delay = completion > now ? completion - now : sc_core::SC_ZERO_TIME;
  gp.set_dmi_allowed(config_.allow_dmi);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned Lpddr4::transport_dbg(tlm::tlm_generic_payload& gp) {
  if (tlmx::check_memory_access(gp, config_.backing_bytes) != tlm::TLM_OK_RESPONSE) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return 0;
  }
  tlmx::copy_payload(gp, storage_);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  return gp.get_data_length();
}

bool Lpddr4::get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
  if (!config_.allow_dmi || gp.get_address() >= config_.backing_bytes) return false;
  // The chunk holding the address: the store is not one block.
  const std::uint64_t address = gp.get_address();
  std::size_t room = 0;
  std::uint8_t* const at = storage_.writable(address, room);
  const std::uint64_t into_chunk = address % BackingStore::kChunkBytes;
  dmi.set_dmi_ptr(at - into_chunk);
  dmi.set_start_address(address - into_chunk);
  dmi.set_end_address(address + room - 1);
  dmi.allow_read_write();
  dmi.set_read_latency(dmi_read_latency_);
  dmi.set_write_latency(dmi_write_latency_);
  return true;
}

const DramStats& Lpddr4::stats() const { return core_->stats(); }

// The queries at the end of a run see every command: the controller holds the
// last ones back while a row command may still go before them.
std::uint64_t Lpddr4::protocol_violations() const {
  core_->flush_observers();
  return checker_ ? checker_->violation_count() : 0;
}

std::string Lpddr4::protocol_summary() const {
  core_->flush_observers();
  return checker_ && checker_->violation_count() > 0 ? checker_->summary() : std::string();
}

// The controller runs refreshes lazily, when a later request needs the
// channel; bring it up to the present before reporting so that refreshes and
// their energy up to now are in the figures.
void Lpddr4::sample(stats::Counters& into, const sc_core::sc_time&) {
  const EnergyBreakdown energy = energy_now();
  into.add(stats::Counter::kDramEnergy, energy.total_pj());
  into.add(stats::Counter::kDramBackgroundEnergy, energy.background_active_pj + energy.background_precharged_pj);
  into.add(stats::Counter::kDramReadBytes, static_cast<double>(stats().read_bytes));
  into.add(stats::Counter::kDramWriteBytes, static_cast<double>(stats().write_bytes));
}

nlohmann::json Lpddr4::stats_json() const {
  const std::uint64_t now = now_cycle();
  core_->advance_to(now);
  core_->flush_observers();
  nlohmann::json j = core_->stats_json(std::max(now, core_->now()));
  if (checker_) j["timing_violations"] = checker_->violation_count();
  return j;
}

double Lpddr4::energy_pj() const { return energy_now().total_pj(); }

EnergyBreakdown Lpddr4::energy_now() const {
  const std::uint64_t now = now_cycle();
  core_->advance_to(now);
  return core_->energy_until(now);
}

}  // namespace npuvp::dram
