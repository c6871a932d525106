// Row commands placed before the cycle the controller has reached, and the
// observers held back for them (ChannelController, "backfill" in the header).
#include <algorithm>

#include "models/dram/channel_controller.h"

namespace npuvp::dram {

// The first cycle from `from` on with a PRE's or an ACT's length free on the
// command bus, between the commands already issued (kNever past the window).
std::uint64_t ChannelController::free_bus_slot(std::uint64_t from, bool act) const {
  if (!fits_valid_) {
    const unsigned lengths[2] = {spec_.pre_cycles, spec_.act_cycles};
    for (int k = 0; k < 2; ++k) {
      fits_[k] = ~bus_busy_;
      for (unsigned j = 1; j < lengths[k]; ++j) fits_[k] &= ~bus_busy_ >> j;
    }
    fits_valid_ = true;
  }
  if (from < bus_base_) from = bus_base_;
  const std::uint64_t offset = from - bus_base_;
  if (offset >= kBusWindow) return kNever;
  const std::bitset<kBusWindow>& fits = fits_[act ? 1 : 0];
  const std::size_t first = offset == 0 ? fits._Find_first() : fits._Find_next(std::size_t(offset) - 1);
  return first < kBusWindow ? bus_base_ + first : kNever;
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
  const std::uint64_t t = free_bus_slot(from, act);
  return t < now_ ? t : kNever;
}

// The earliest row command that can go before `before` at a passed cycle;
// false if there is none.
bool ChannelController::best_backfill(unsigned skip, std::uint64_t before, unsigned& bank, std::uint64_t& cycle) const {
  // Only a bank given a burst late can have a row command to place back.
  const std::uint64_t late = late_ & active_;
  if (late == 0) return false;
  const std::uint64_t floor = backfill_floor();
  // Nothing fits, not even a PRE: the usual case under load.
  if (floor >= now_ || free_bus_slot(floor, false) >= now_) return false;
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

void ChannelController::record_bus(std::uint64_t cycle, Command command) {
  unsigned length = spec_.cas_cycles;
  switch (command) {
    case Command::kAct:
      length = spec_.act_cycles;
      break;
    case Command::kPre:
    case Command::kPreAll:
      length = spec_.pre_cycles;
      break;
    case Command::kRefAll:
    case Command::kRefBank:
      length = spec_.ref_cycles;
      break;
    default:
      break;
  }
  const std::uint64_t end = cycle + length;
  if (end > bus_base_ + kBusWindow) {
    // Keep the horizon, and move on as far as that allows, so that the
    // window moves once per about kBusWindow - horizon cycles.
    const std::uint64_t base = std::max(bus_base_ + 1, now_ > horizon_ ? now_ - horizon_ : 0);
    const std::uint64_t shift = std::max(base, end - kBusWindow) - bus_base_;
    bus_busy_ = shift >= kBusWindow ? std::bitset<kBusWindow>() : bus_busy_ >> shift;
    bus_base_ += shift;
  }
  for (std::uint64_t c = std::max(cycle, bus_base_); c < end; ++c) bus_busy_.set(c - bus_base_);
  fits_valid_ = false;
}

void ChannelController::notify(std::uint64_t cycle, Command command, unsigned bank, std::uint32_t row,
                               std::uint64_t auto_pre) {
  const auto& to = command == Command::kRd || command == Command::kWr ? column_observers_ : observers_;
  if (to.empty()) return;
  const IssuedCommand c{cycle, command, static_cast<std::uint8_t>(bank), row, auto_pre};
  if (held_.empty() || held_.back().cycle <= cycle)
    held_.push_back(c);
  else
    held_.insert_sorted(c, [](const IssuedCommand& x, const IssuedCommand& y) { return x.cycle < y.cycle; });
}

// Passes the held commands issued before `before` on: no backfill can go
// before them any more.
void ChannelController::release_notifications(std::uint64_t before) {
  while (!held_.empty() && held_.front().cycle < before) {
    const IssuedCommand c = held_.front();
    held_.pop_front();
    const auto& to = c.command == Command::kRd || c.command == Command::kWr ? column_observers_ : observers_;
    for (CommandObserver* o : to) o->on_command(index_, c);
  }
}

void ChannelController::flush_observers() {
  floor_ = std::max(floor_, timing_.ca_free);
  release_notifications(kNever);
}

}  // namespace npuvp::dram
