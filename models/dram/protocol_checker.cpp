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
  const std::int64_t rl = spec_.rl, wl = spec_.wl;
  bl2_ = spec_.burst_length / 2;
  ccd_ = std::max<std::int64_t>(spec_.tccd, bl2_);
  // JESD209-4, minimum delays between command starts.
  rd_to_wr_ = rl + spec_.tdqsck + bl2_ - wl + spec_.twpre + spec_.trpst;
  wr_to_rd_ = wl + 1 + bl2_ + spec_.twtr;
  rd_to_pre_ = bl2_ + std::max<std::int64_t>(8, spec_.trtp) - 8;
  wr_to_pre_ = wl + 1 + bl2_ + spec_.twr;
}

// floor(t / tREFI) > refreshes + 8  <=>  t >= (floor(refreshes + 8) + 1) * tREFI.
void ProtocolChecker::count_refresh(Channel& ch, double all_bank_equivalents) {
  ch.refreshes += all_bank_equivalents;
  ch.refresh_late = (std::int64_t(std::floor(ch.refreshes + 8)) + 1) * std::int64_t(spec_.trefi);
}

void ProtocolChecker::violate(unsigned ch, const IssuedCommand& c, const char* rule, std::int64_t since,
                              std::int64_t min) {
  const std::int64_t actual = std::int64_t(c.cycle) - since;
  ++count_;
  if (kept_.size() < 1000) kept_.push_back({ch, c.cycle, c.command, c.bank, rule, min, actual});
}

void ProtocolChecker::state(unsigned ch, const IssuedCommand& c, const char* rule) {
  ++count_;
  if (kept_.size() < 1000) kept_.push_back({ch, c.cycle, c.command, c.bank, rule, 0, 0});
}

void ProtocolChecker::precharge(Bank& b, std::int64_t at, unsigned trp) {
  b.open = false;
  b.pre_done = at + trp;
}

void ProtocolChecker::check_precharge_allowed(unsigned ch, const IssuedCommand& c, const Bank& b) {
  if (!b.open) return;  // precharging an idle bank is a legal no-op
  need(ch, c, "tRAS", b.act, spec_.tras);
  need(ch, c, "tRTP (RD to PRE)", b.rd, rd_to_pre_);
  need(ch, c, "tWR (WR to PRE)", b.wr, wr_to_pre_);
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
  if (t < ch.ca_free) need(channel, c, "command bus busy", ch.ca_free, 0);
  ch.last_cmd = t;

  const bool bank_command = c.command != Command::kPreAll && c.command != Command::kRefAll;
  if (bank_command && c.bank >= ch.banks.size()) {
    state(channel, c, "bank out of range");
    return;
  }
  Bank* b = bank_command ? &ch.banks[c.bank] : nullptr;
  unsigned length = spec_.pre_cycles;

  switch (c.command) {
    case Command::kAct:
      length = spec_.act_cycles;
      if (b->open) state(channel, c, "ACT to an open bank");
      need(channel, c, "tRP (PRE to ACT)", b->pre_done, 0);
      need(channel, c, "tRC", b->act, spec_.trc);
      need(channel, c, "tRRD", ch.act, spec_.trrd);
      need(channel, c, "tRRD (REFpb to ACT)", ch.refpb, spec_.trrd);
      need(channel, c, "tFAW", ch.recent[ch.recent_next], spec_.tfaw);
      need(channel, c, "tRFCab", ch.refab, spec_.trfcab);
      need(channel, c, "tRFCpb", b->refpb, spec_.trfcpb);
      b->open = true;
      b->act = t;
      ch.act = t;
      ch.recent[ch.recent_next] = t;
      ch.recent_next = (ch.recent_next + 1) % 4;
      break;
    case Command::kRd:
    case Command::kRda:
    case Command::kWr:
    case Command::kWra: {
      length = spec_.cas_cycles;
      const bool write = c.command == Command::kWr || c.command == Command::kWra;
      if (!b->open) state(channel, c, write ? "WR to a closed bank" : "RD to a closed bank");
      need(channel, c, "tRCD", b->act, spec_.trcd);
      if (write) {
        need(channel, c, "tCCD (WR to WR)", ch.wr, ccd_);
        need(channel, c, "RD to WR turnaround", ch.rd, rd_to_wr_);
        b->wr = ch.wr = t;
      } else {
        need(channel, c, "tCCD (RD to RD)", ch.rd, ccd_);
        need(channel, c, "tWTR (WR to RD)", ch.wr, wr_to_rd_);
        b->rd = ch.rd = t;
      }
      if (c.command == Command::kRda || c.command == Command::kWra) {
        // Auto-precharge starts once both tRAS and the RD/WR-to-PRE distance
        // have passed (LPDDR4 tRAS lockout).
        const std::int64_t start = std::max(b->act + spec_.tras, t + (write ? wr_to_pre_ : rd_to_pre_));
        precharge(*b, start, spec_.trppb);
      }
      break;
    }
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
      length = spec_.ref_cycles;
      for (const Bank& x : ch.banks) {
        if (x.open) state(channel, c, "REFab with a bank open");
        need(channel, c, "tRP (PRE to REF)", x.pre_done, 0);
        need(channel, c, "tRFCpb (REFpb to REFab)", x.refpb, spec_.trfcpb);
      }
      need(channel, c, "tRFCab (REF to REF)", ch.refab, spec_.trfcab);
      ch.refab = t;
      count_refresh(ch, 1);
      break;
    case Command::kRefBank:
      length = spec_.ref_cycles;
      if (b->open) state(channel, c, "REFpb to an open bank");
      need(channel, c, "tRP (PRE to REFpb)", b->pre_done, 0);
      need(channel, c, "tRFCpb (REFpb to REFpb)", ch.refpb, spec_.trfcpb);
      need(channel, c, "tRFCab (REFab to REFpb)", ch.refab, spec_.trfcab);
      need(channel, c, "tRRD (ACT to REFpb)", ch.act, spec_.trrd);
      need(channel, c, "tFAW", ch.recent[ch.recent_next], spec_.tfaw);
      b->refpb = ch.refpb = t;
      ch.recent[ch.recent_next] = t;
      ch.recent_next = (ch.recent_next + 1) % 4;
      count_refresh(ch, 1.0 / double(spec_.banks));
      break;
    case Command::kNop:
      length = 0;
      break;
  }
  ch.ca_free = t + length;
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
