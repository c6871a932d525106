// Row commands placed before the cycle the controller has reached, and the
// observers held back for them (ChannelController, "backfill" in the header).
#include <algorithm>

#include "models/dram/channel_controller.h"

namespace npuvp::dram {

// The first cycle from `from` on with `length` free cycles on the command
// bus between the commands already issued; kNever if there is none.
std::uint64_t ChannelController::free_bus_slot(std::uint64_t from, unsigned length) const {
  for (std::size_t k = 0; k < bus_gaps_.size(); ++k) {
    const Gap& gap = bus_gaps_[k];
    const std::uint64_t t = std::max(from, gap.start);
    if (t + length <= gap.end) return t;
  }
  return kNever;
}

// The earliest cycle any row command may be placed at: not before the last
// command observers have seen, nor more than the horizon back, nor before
// the background energy's open stretch started (or the last one ended).
std::uint64_t ChannelController::backfill_floor() const {
  return std::max({floor_, now_ > horizon_ ? now_ - horizon_ : 0, open_banks_ > 0 ? stretch_start_ : stretch_end_});
}

// Every constraint a row command placed at a passed cycle must meet apart
// from the command bus: the bank's own (absolute cycles since its last
// command), the burst's queue entry, and for an ACT tRRD and tFAW, which
// then also put it after every ACT already issued, so that the ACTs stay in
// order.
std::uint64_t ChannelController::backfill_cycle(unsigned i, std::uint64_t floor) const {
  const Bank& b = banks_[i];
  const bool act = kind_[i] == kKindAct;
  std::uint64_t from = std::max({ready_[i], b.queue[b.target].queued, floor});
  if (act) from = std::max({from, timing_.rrd_ok, timing_.faw_ok[timing_.faw_next]});
  if (from >= now_) return kNever;
  const std::uint64_t t = free_bus_slot(from, bus_cycles_[kind_[i]]);
  return t < now_ ? t : kNever;
}

// The earliest row command that can go before `before` at a passed cycle;
// false if there is none.
bool ChannelController::best_backfill(unsigned skip, std::uint64_t before, unsigned& bank, std::uint64_t& cycle) const {
  const std::uint64_t late = late_ & active_;
  const std::uint64_t floor = backfill_floor();
  // Nothing fits, not even a PRE: the usual case under load.
  if (floor >= now_ || free_bus_slot(floor, spec_.pre_cycles) >= now_) return false;
  bool found = false;
  for (std::uint64_t m = late; m != 0; m &= m - 1) {
    const unsigned i = unsigned(__builtin_ctzll(m));
    if (i == skip || kind_[i] > kKindPre || ready_[i] >= now_) continue;
    const std::uint64_t t = backfill_cycle(i, floor);
    if (t < before && (!found || t < cycle)) {
      found = true;
      bank = i;
      cycle = t;
    }
  }
  return found;
}

void ChannelController::split_bus_gap(std::uint64_t cycle, std::uint64_t end) {
  for (std::size_t k = 0; k < bus_gaps_.size(); ++k) {
    const Gap gap = bus_gaps_[k];
    if (cycle < gap.start || end > gap.end) continue;
    // What is left of the gap before and after the command, in place.
    if (gap.start < cycle) {
      bus_gaps_[k].end = cycle;
      if (end < gap.end) bus_gaps_.insert(k + 1, {end, gap.end});
    } else if (end < gap.end) {
      bus_gaps_[k].start = end;
    } else {
      bus_gaps_.erase(k);
    }
    return;
  }
}

void ChannelController::hold(std::uint64_t cycle, Command command, unsigned bank, std::uint32_t row,
                             std::uint64_t auto_pre) {
  if (held_.empty() || held_.back().cycle <= cycle) {
    // Field by field (Ring::push_back_slot).
    IssuedCommand& c = held_.push_back_slot();
    c.cycle = cycle;
    c.command = command;
    c.bank = static_cast<std::uint8_t>(bank);
    c.row = row;
    c.auto_precharge_cycle = auto_pre;
  } else {
    const IssuedCommand c{cycle, command, static_cast<std::uint8_t>(bank), row, auto_pre};
    held_.insert_sorted(c, [](const IssuedCommand& x, const IssuedCommand& y) { return x.cycle < y.cycle; });
  }
}

// Passes the held commands issued before `before` on: no backfill can go
// before them any more.
void ChannelController::release_notifications(std::uint64_t before) {
  while (!held_.empty() && held_.front().cycle < before) {
    const IssuedCommand& c = held_.front();
    const auto& to = c.command == Command::kRd || c.command == Command::kWr ? column_observers_ : observers_;
    for (CommandObserver* o : to) o->on_command(index_, c);
    held_.pop_front();
  }
}

void ChannelController::release_observers_before(std::uint64_t cycle) {
  std::uint64_t before = std::min(cycle, arrivals_.empty() ? kNever : arrivals_.front().arrival);
  for (std::uint64_t queued : front_) before = std::min(before, queued);
  release_notifications(before);
}

void ChannelController::flush_observers() {
  floor_ = std::max(floor_, timing_.ca_free);
  release_notifications(kNever);
}

}  // namespace npuvp::dram
