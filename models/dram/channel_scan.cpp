// The scheduling pass's scans over the banks (ChannelController::recompute):
// the best candidate command, and around a starving burst the commands that
// cannot delay it.
#include <algorithm>

#include "models/dram/channel_controller.h"

namespace npuvp::dram {

// One pass over the banks, without branches on their data: the best
// candidate command (`skip` is left out; the first bank on a tie). LPDDR4 has
// 8 banks; the count is a template argument so that the loop unrolls.
template <unsigned kBanks>
void ChannelController::scan(const std::uint64_t* bases, unsigned skip, Scan& out) const {
  const unsigned n = kBanks != 0 ? kBanks : static_cast<unsigned>(banks_.size());
  Scan s;
  for (unsigned i = 0; i < n; ++i) s.consider(candidate(i, bases, skip), i);
  out = s;
}

// The same pass over the banks with a command to issue only. A bank without
// one has the largest key and never wins, so passing over it changes nothing.
void ChannelController::scan_active(const std::uint64_t* bases, unsigned skip, Scan& out) const {
  Scan s;
  for (std::uint64_t m = active_; m != 0; m &= m - 1) {
    const unsigned i = unsigned(__builtin_ctzll(m));
    s.consider(candidate(i, bases, skip), i);
  }
  out = s;
}

// Streams keep one or two banks busy, random traffic all of them: the loop
// over the active banks wins in the first case, the unrolled one in the
// second. Leaving out a bank that does not win changes nothing, so the
// unrolled scan runs without `skip` and the bank is left out only when it
// would win.
void ChannelController::scan_all(const std::uint64_t* bases, unsigned skip) {
  // At most two bits set (popcount is a library call without -mpopcnt).
  const std::uint64_t rest = active_ & (active_ - 1);
  if ((rest & (rest - 1)) == 0) {
    scan_active(bases, skip, last_scan_);
    return;
  }
  if (banks_.size() == 8)
    scan<8>(bases, 8, last_scan_);
  else
    scan<0>(bases, unsigned(banks_.size()), last_scan_);
  if (last_scan_.best_bank == skip) scan<0>(bases, skip, last_scan_);
}

// The scan, or the last scan updated with the banks whose decisions have
// `changed` since. An admission is the only other change between two
// commands, and moving the time to it (no later than the last best) leaves
// every other bank's earliest cycle where it was.
void ChannelController::best_candidate(const std::uint64_t* bases, unsigned skip, std::uint64_t changed) {
  if (!scan_valid_ || skip != scan_skip_ || now_ > std::uint64_t(last_scan_.best >> 64) ||
      (changed >> last_scan_.best_bank & 1) != 0) {
    scan_all(bases, skip);
  } else {
    for (std::uint64_t m = changed; m != 0; m &= m - 1) {
      const unsigned i = unsigned(__builtin_ctzll(m));
      const Key key = candidate(i, bases, skip);
      if (key < last_scan_.best || (key == last_scan_.best && i < last_scan_.best_bank)) {
        last_scan_.best = key;
        last_scan_.best_bank = i;
      }
    }
  }
  scan_valid_ = true;
  scan_skip_ = skip;
}

// The oldest visible burst of the channel has waited too long: its bank's
// next command comes first, and another bank's command may go before it only
// if that cannot make it any later. Stopping the other banks instead would
// leave the channel serving one bank at a time once queueing alone makes
// every burst wait max_wait. Sets `bank` and `cycle` to the best such
// command, the starving bank's own if there is none.
void ChannelController::serve_around(unsigned starving, const std::uint64_t* bases, unsigned skip, unsigned& bank,
                                     std::uint64_t& cycle) const {
  Key best = candidate(starving, bases, skip);
  const std::uint64_t due = std::uint64_t(best >> 64);
  bank = starving;
  const unsigned n = static_cast<unsigned>(banks_.size());
  for (unsigned i = 0; i < n; ++i) {
    const Key key = candidate(i, bases, skip);
    if (key < best && !delays(i, std::uint64_t(key >> 64), starving, due)) {
      best = key;
      bank = i;
    }
  }
  cycle = std::uint64_t(best >> 64);
}

// Would `bank`'s next command, issued at `cycle`, push the starving bank's
// next command past `due`? Exactly: the channel-wide constraints are replayed
// with that command. The banks' own constraints are untouched by another
// bank's command, and while a burst starves the write-batching direction is
// its own (update_write_mode), so these are all it could change.
bool ChannelController::delays(unsigned bank, std::uint64_t cycle, unsigned starving, std::uint64_t due) const {
  ChannelTiming after = timing_;
  occupy(after, kind_[bank], cycle);
  return std::max(after.earliest(kind_[starving], cycle), ready_[starving]) > due;
}

}  // namespace npuvp::dram
