#pragma once
// The commands a controller issues to an LPDDR4 channel, and the interface of
// everything that watches them (protocol checker, VCD trace).

#include <cstdint>

namespace npuvp::dram {

enum class Command : std::uint8_t {
  kNop = 0,  // only used as the idle value of traces
  kAct,
  kPre,     // one bank (PREpb)
  kPreAll,  // all banks (PREab)
  kRd,
  kWr,
  kRda,      // read with auto-precharge
  kWra,      // write with auto-precharge
  kRefAll,   // REFab
  kRefBank,  // REFpb
};

const char* to_string(Command command);
inline constexpr Command kLastCommand = Command::kRefBank;

// A bank's state as the VCD trace shows it (signal bankN of each channel).
enum class BankState : std::uint8_t { kIdle, kActive, kRefreshing };
inline constexpr BankState kBankStates[] = {BankState::kIdle, BankState::kActive, BankState::kRefreshing};
const char* to_string(BankState state);

// Times are in clock cycles of the channel; a command's time is its first
// command/address-bus edge (ACT-1, RD-1/WR-1 for the two-word commands). Each
// JEDEC constraint counts from the edge of the command that JESD209-4 names
// for it, which may lie later in the command (docs/dram.md).
struct IssuedCommand {
  std::uint64_t cycle;
  Command command;
  std::uint8_t bank;  // ignored for kPreAll and kRefAll
  std::uint32_t row;  // the row opened by kAct; informative otherwise
  // For kRda/kWra: when the device's internal precharge starts. Observers that
  // follow bank state need it; the protocol checker derives its own.
  std::uint64_t auto_precharge_cycle;
};

class CommandObserver {
 public:
  virtual ~CommandObserver() = default;
  // Called once per command, in non-decreasing cycle order per channel.
  virtual void on_command(unsigned channel, const IssuedCommand& command) = 0;
  // False if RD and WR without auto-precharge, which change no bank state and
  // are nearly every command, are of no interest: they are then not passed.
  virtual bool wants_plain_columns() const { return true; }
};

}  // namespace npuvp::dram
