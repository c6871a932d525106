#include "models/dram/protocol_checker.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace npuvp::dram {

ProtocolChecker::ProtocolChecker(const Memspec& spec, unsigned channels) : spec_(spec), channels_(channels) {
  for (Channel& c : channels_) {
    c.banks.resize(spec_.banks);
    count_refresh(c, 0);
  }
  bl2_ = spec_.burst_length / 2;
  ccd_ = std::max<std::int64_t>(spec_.tccd, bl2_);
  // JESD209-4: RD→WR = RL + tDQSCK + BL/2 − WL + tWPRE + RD(tRPST) between
  // the two CAS-2 (RL and WL both count from there), and the read-to-
  // precharge term BL/2 + max(8, nRTP) − 8 from the RD's CAS-2.
  rd_to_wr_ = std::int64_t(spec_.rl + spec_.tdqsck) + bl2_ - std::int64_t(spec_.wl) + spec_.twpre + spec_.trpst;
  rtp_ = bl2_ + std::max<std::int64_t>(8, spec_.trtp) - 8;
}

// floor(t / tREFI) > refreshes + 8  <=>  t >= (floor(refreshes + 8) + 1) * tREFI.
void ProtocolChecker::count_refresh(Channel& ch, double all_bank_equivalents) {
  ch.refreshes += all_bank_equivalents;
  ch.refresh_late = (std::int64_t(std::floor(ch.refreshes + 8)) + 1) * std::int64_t(spec_.trefi);
}

void ProtocolChecker::violate(unsigned ch, const IssuedCommand& c, const char* rule, std::int64_t actual,
                              std::int64_t min) {
  ++count_;
  if (kept_.size() < 1000) kept_.push_back({ch, c.cycle, c.command, c.bank, rule, min, actual});
}

void ProtocolChecker::state(unsigned ch, const IssuedCommand& c, const char* rule) {
  ++count_;
  if (kept_.size() < 1000) kept_.push_back({ch, c.cycle, c.command, c.bank, rule, 0, 0});
}

void ProtocolChecker::precharge(Bank& b, std::int64_t at, unsigned trp) {
  b.open = false;
  b.idle = at + trp;
}

// CA-bus cycles: ACT-1 + ACT-2 and RD-1/WR-1 + CAS-2 are two words, PRE and
// REF one.
unsigned ProtocolChecker::length_of(Command command) const {
  switch (command) {
    case Command::kAct:
      return spec_.act_cycles;
    case Command::kRd:
    case Command::kRda:
    case Command::kWr:
    case Command::kWra:
      return spec_.cas_cycles;
    case Command::kPre:
    case Command::kPreAll:
      return spec_.pre_cycles;
    case Command::kRefAll:
    case Command::kRefBank:
      return spec_.ref_cycles;
    case Command::kNop:
      return 0;
  }
  return 0;
}

void ProtocolChecker::check_precharge_allowed(unsigned ch, const IssuedCommand& c, const Bank& b) {
  if (!b.open) return;  // precharging an idle bank is a legal no-op
  const std::int64_t t = std::int64_t(c.cycle);
  need(ch, c, "tRAS (ACT-2 to PRE)", t, b.act2, spec_.tras);
  need(ch, c, "tRTP (CAS-2 to PRE)", t, b.rd_cas2, rtp_);
  need(ch, c, "tWR (write data to PRE)", t, b.wr_data, spec_.twr);
}

void ProtocolChecker::check_activate(unsigned ch, const IssuedCommand& c, Channel& channel, Bank& b) {
  const std::int64_t act1 = std::int64_t(c.cycle), act2 = act1 + spec_.act_cycles / 2;
  if (b.open) state(ch, c, "ACT to an open bank");
  // The row opens at ACT-2: precharge and refresh must be over by then.
  need(ch, c, "tRP (PRE to ACT-2)", act2, b.idle, 0);
  need(ch, c, "tRFCab (REFab to ACT-2)", act2, channel.refab, spec_.trfcab);
  need(ch, c, "tRFCpb (REFpb to ACT-2)", act2, b.refpb, spec_.trfcpb);
  need(ch, c, "tRC (ACT-1 to ACT-1)", act1, b.act1, spec_.trc);
  need(ch, c, "tRRD (ACT-1 to ACT-1)", act1, channel.act1, spec_.trrd);
  need(ch, c, "tRRD (REFpb to ACT-1)", act1, channel.refpb, spec_.trrd);
  need(ch, c, "tFAW", act1, channel.recent[channel.recent_next], spec_.tfaw);
  b.open = true;
  b.act1 = channel.act1 = act1;
  b.act2 = act2;
  channel.recent[channel.recent_next] = act1;
  channel.recent_next = (channel.recent_next + 1) % 4;
}

void ProtocolChecker::check_column(unsigned ch, const IssuedCommand& c, Channel& channel, Bank& b) {
  const bool write = c.command == Command::kWr || c.command == Command::kWra;
  const std::int64_t first = std::int64_t(c.cycle), cas2 = first + spec_.cas_cycles - 1;
  if (!b.open) state(ch, c, write ? "WR to a closed bank" : "RD to a closed bank");
  need(ch, c, "tRCD (ACT-2 to RD-1/WR-1)", first, b.act2, spec_.trcd);
  if (write) {
    need(ch, c, "tCCD (WR to WR)", first, channel.wr1, ccd_);
    need(ch, c, "RD to WR turnaround (CAS-2 to CAS-2)", cas2, channel.rd_cas2, rd_to_wr_);
    // WL counts from the last edge of CAS-2; data follow tDQSS (1 tCK) later.
    b.wr_data = channel.wr_data = cas2 + spec_.wl + 1 + bl2_;
    channel.wr1 = first;
  } else {
    need(ch, c, "tCCD (RD to RD)", first, channel.rd1, ccd_);
    need(ch, c, "tWTR (write data to RD-1)", first, channel.wr_data, spec_.twtr);
    b.rd_cas2 = channel.rd_cas2 = cas2;
    channel.rd1 = first;
  }
  if (c.command == Command::kRda || c.command == Command::kWra) {
    // Auto-precharge starts once both tRAS and tRTP/tWR have passed (LPDDR4
    // tRAS lockout).
    const std::int64_t start = std::max(b.act2 + spec_.tras, write ? b.wr_data + spec_.twr : cas2 + rtp_);
    precharge(b, start, spec_.trppb);
  }
}

void ProtocolChecker::check_refresh(unsigned ch, const IssuedCommand& c, Channel& channel, Bank* b) {
  const std::int64_t t = std::int64_t(c.cycle);
  if (b == nullptr) {
    for (const Bank& x : channel.banks) {
      if (x.open) state(ch, c, "REFab with a bank open");
      need(ch, c, "tRP (PRE to REF)", t, x.idle, 0);
      need(ch, c, "tRFCpb (REFpb to REFab)", t, x.refpb, spec_.trfcpb);
    }
    need(ch, c, "tRFCab (REF to REF)", t, channel.refab, spec_.trfcab);
    channel.refab = t;
    count_refresh(channel, 1);
    return;
  }
  // Towards the other banks REFpb counts as an activation (tRRD, tFAW).
  if (b->open) state(ch, c, "REFpb to an open bank");
  need(ch, c, "tRP (PRE to REFpb)", t, b->idle, 0);
  need(ch, c, "tRFCpb (REFpb to REFpb)", t, channel.refpb, spec_.trfcpb);
  need(ch, c, "tRFCab (REFab to REFpb)", t, channel.refab, spec_.trfcab);
  need(ch, c, "tRRD (ACT-1 to REFpb)", t, channel.act1, spec_.trrd);
  need(ch, c, "tFAW", t, channel.recent[channel.recent_next], spec_.tfaw);
  b->refpb = channel.refpb = t;
  channel.recent[channel.recent_next] = t;
  channel.recent_next = (channel.recent_next + 1) % 4;
  count_refresh(channel, 1.0 / double(spec_.banks));
}

void ProtocolChecker::on_command(unsigned channel, const IssuedCommand& c) {
  ++commands_;
  if (channel >= channels_.size()) {
    state(channel, c, "channel out of range");
    return;
  }
  Channel& ch = channels_[channel];
  const std::int64_t t = std::int64_t(c.cycle);
  if (t < ch.last_cmd) state(channel, c, "commands out of time order");
  // No edge of this command may fall on an edge of the one before.
  if (c.command != Command::kNop) need(channel, c, "command bus busy", t, ch.ca_free, 0);
  ch.last_cmd = t;

  const bool bank_command = c.command != Command::kPreAll && c.command != Command::kRefAll;
  if (bank_command && c.bank >= ch.banks.size()) {
    state(channel, c, "bank out of range");
    return;
  }
  Bank* b = bank_command ? &ch.banks[c.bank] : nullptr;
  switch (c.command) {
    case Command::kAct:
      check_activate(channel, c, ch, *b);
      break;
    case Command::kRd:
    case Command::kRda:
    case Command::kWr:
    case Command::kWra:
      check_column(channel, c, ch, *b);
      break;
    case Command::kPre:
      check_precharge_allowed(channel, c, *b);
      if (b->open) precharge(*b, t, spec_.trppb);
      break;
    case Command::kPreAll:
      for (Bank& x : ch.banks) {
        check_precharge_allowed(channel, c, x);
        if (x.open) precharge(x, t, spec_.trpab);
      }
      break;
    case Command::kRefAll:
      check_refresh(channel, c, ch, nullptr);
      break;
    case Command::kRefBank:
      check_refresh(channel, c, ch, b);
      break;
    case Command::kNop:
      break;
  }
  if (c.command != Command::kNop) ch.ca_free = t + length_of(c.command);
  if (t >= ch.refresh_late) state(channel, c, "refresh postponed more than 8 tREFI");
}

void ProtocolChecker::check_refresh_until(std::uint64_t cycle) {
  for (unsigned i = 0; i < channels_.size(); ++i)
    if (channels_[i].refreshes + 8 < double(cycle / spec_.trefi))
      state(i, {cycle, Command::kNop, 0, 0, 0}, "refresh postponed more than 8 tREFI");
}

std::string ProtocolChecker::summary(std::size_t max_lines) const {
  std::ostringstream os;
  os << count_ << " violation(s) in " << commands_ << " commands";
  for (std::size_t i = 0; i < kept_.size() && i < max_lines; ++i) {
    const Violation& v = kept_[i];
    os << "\n  ch" << v.channel << " cycle " << v.cycle << " " << to_string(v.command) << " bank " << v.bank << ": "
       << v.rule;
    if (v.required != 0) os << " (needs " << v.required << " tCK, got " << v.actual << ")";
  }
  return os.str();
}

}  // namespace npuvp::dram
