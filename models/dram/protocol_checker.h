#pragma once
// An independent JEDEC LPDDR4 protocol checker: it watches every command sent
// to the device and records each bank-state or timing rule broken. Its rule
// table is written from the standard on its own, not shared with the
// controller, so a scheduling bug cannot hide behind a shared formula.

#include <cstdint>
#include <string>
#include <vector>

#include "models/dram/command.h"
#include "models/dram/memspec.h"

namespace npuvp::dram {

struct Violation {
  unsigned channel;
  std::uint64_t cycle;
  Command command;
  unsigned bank;
  std::string rule;           // e.g. "tRCD", "ACT to an open bank"
  std::int64_t required = 0;  // minimum distance in tCK (0 for state rules)
  std::int64_t actual = 0;
};

class ProtocolChecker final : public CommandObserver {
 public:
  ProtocolChecker(const Memspec& spec, unsigned channels);

  void on_command(unsigned channel, const IssuedCommand& command) override;
  // Refresh may fall at most 8 tREFI behind (JEDEC postponement limit);
  // call at the end of a run to check the tail.
  void check_refresh_until(std::uint64_t cycle);

  std::uint64_t violation_count() const { return count_; }
  std::uint64_t commands_checked() const { return commands_; }
  // The first violations (at most 1000), for messages.
  const std::vector<Violation>& violations() const { return kept_; }
  std::string summary(std::size_t max_lines = 10) const;

 private:
  static constexpr std::int64_t kLongAgo = INT64_MIN / 4;
  // Edges are cycles: ACT-1 is a command's own cycle, ACT-2 comes half an
  // ACT later, CAS-2 ends on the last cycle of a RD/WR.
  struct Bank {
    bool open = false;
    std::int64_t act1 = kLongAgo, act2 = kLongAgo;
    std::int64_t idle = kLongAgo;     // precharge start + its tRP
    std::int64_t rd_cas2 = kLongAgo;  // last edge of the last RD's CAS-2
    std::int64_t wr_data = kLongAgo;  // end of the last write's data
    std::int64_t refpb = kLongAgo;
  };
  struct Channel {
    std::vector<Bank> banks;
    std::int64_t last_cmd = kLongAgo, ca_free = kLongAgo;
    std::int64_t act1 = kLongAgo, rd1 = kLongAgo, wr1 = kLongAgo, rd_cas2 = kLongAgo, wr_data = kLongAgo;
    std::int64_t refab = kLongAgo, refpb = kLongAgo;
    std::int64_t recent[4] = {kLongAgo, kLongAgo, kLongAgo, kLongAgo};  // last four ACT-1/REFpb, for tFAW
    unsigned recent_next = 0;
    double refreshes = 0;  // in all-bank equivalents
    // The first cycle whose tREFI count exceeds refreshes + 8 (the check
    // without a division per command).
    std::int64_t refresh_late = 0;
  };
  void count_refresh(Channel& ch, double all_bank_equivalents);

  // Records a violation unless the edge `at` of command c came at least `min`
  // cycles after `since`.
  void need(unsigned ch, const IssuedCommand& c, const char* rule, std::int64_t at, std::int64_t since,
            std::int64_t min) {
    if (at - since < min) violate(ch, c, rule, at - since, min);
  }
  void violate(unsigned ch, const IssuedCommand& c, const char* rule, std::int64_t actual, std::int64_t min);
  void state(unsigned ch, const IssuedCommand& c, const char* rule);
  void precharge(Bank& b, std::int64_t at, unsigned trp);
  void check_precharge_allowed(unsigned ch, const IssuedCommand& c, const Bank& b);
  void check_activate(unsigned ch, const IssuedCommand& c, Channel& channel, Bank& b);
  void check_column(unsigned ch, const IssuedCommand& c, Channel& channel, Bank& b);
  void check_refresh(unsigned ch, const IssuedCommand& c, Channel& channel, Bank* b);
  unsigned length_of(Command command) const;

  Memspec spec_;
  std::vector<Channel> channels_;
  std::int64_t bl2_, ccd_, rd_to_wr_, rtp_;
  std::uint64_t count_ = 0, commands_ = 0;
  std::vector<Violation> kept_;
};

}  // namespace npuvp::dram
