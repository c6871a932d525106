// A run's column commands issued as a group (ChannelController::run_columns,
// docs/dram.md "How the channels are stepped").
#include <algorithm>

#include "models/dram/channel_controller.h"

namespace npuvp::dram {

// The run's next bursts while each is a front hit (decide()'s first case) and
// the run's conditions hold, issued as issue_column issues them one by one,
// with an open page and no observer of plain column commands (no
// auto-precharge, no notification). Per burst only what the next burst or a
// power window reads: the time, the command bus, the energy, the starvation
// bound, a waiting burst taking the freed entry, the longest wait; the
// queue, the counters, the other constraints and the held commands once for
// them all. Returns the bursts issued: none if the first would be at or
// after `stop`.
unsigned ChannelController::issue_front_hits(unsigned i, std::uint32_t front_hit, std::uint64_t stop,
                                             std::uint64_t& done) {
  Bank& b = banks_[i];
  const bool write = (front_hit & 1) != 0;
  const unsigned kind = write ? kKindWr : kKindRd;
  const unsigned cas = spec_.cas_cycles;
  // After a column command at t the next one in the same direction waits for
  // the command bus (t + cas) and tCCD (t + ccd_) only: the bank's tRCD is
  // behind, the other direction's constraint is not involved.
  const std::uint64_t spacing = std::max(ccd_, cas);
  // In locals while the loop runs (the members are written back for a power
  // window and at the end): the stores in between would make the compiler
  // load them again. Nothing in the loop reads the time or the command bus.
  EnergyBreakdown& energy = stats_.command_energy;
  double& column_pj = write ? energy.write_pj : energy.read_pj;
  double column = column_pj, io = energy.io_pj;
  const double burst_pj = write ? energy_.write_pj : energy_.read_pj;
  const double io_pj = energy_.io_burst_pj;
  std::uint64_t bound = oldest_bound_, max_queued = stats_.max_queued_cycles;
  const std::uint64_t redecide = min_redecide_, max_wait = max_wait_;
  const std::uint64_t open_row = std::uint64_t(b.open_row);
  const std::size_t size = b.queue.size();
  Queued* const queue = &b.queue[0];  // a Ring's entries are contiguous
  const std::uint64_t first = std::max(timing_.earliest(kind, now_), b.cas_ok);
  std::uint64_t t = first;
  std::size_t n = 0;
  for (; t < stop; t += spacing) {
    if (next_sample_ <= t) {
      column_pj = column;
      energy.io_pj = io;
      sample_windows(t);
    }
    const std::uint64_t queued = queue[n].queued;
    // The oldest waiting burst takes the freed entry and ages from now on.
    if (size - n > depth_) {
      Queued& entering = queue[n + depth_];
      entering.queued = t;
      count_visible(entering.write(), +1);
    }
    max_queued = std::max(max_queued, t - queued);
    column += burst_pj;
    io += io_pj;
    ++n;
    if (n == size) break;
    const Queued& next = queue[n];
    bound = std::min(bound, next.queued);
    if (t >= redecide || t >= bound + max_wait || next.tag != front_hit || next.row != open_row) break;
  }
  if (n == 0) return 0;
  t = first + (n - 1) * spacing;  // the last burst's cycle
  now_ = t;
  record_front_hits(first, n, spacing);
  column_pj = column;
  energy.io_pj = io;
  oldest_bound_ = bound;
  stats_.max_queued_cycles = max_queued;
  done = t + (write ? write_latency_ : read_latency_);
  b.queue.pop_front_n(n);
  count_visible(write, -int(n));
  front_[i] = b.queue.empty() ? kNever : b.queue.front().queued;
  if (b.queue.empty()) late_ &= ~(std::uint64_t(1) << i);
  mark_stale(i);
  occupy(timing_, kind, t);
  b.pre_ok = std::max(b.pre_ok, t + (write ? wr_to_pre_ : rd_to_pre_));
  BankStats& bs = stats_.banks[i];
  (write ? bs.writes : bs.reads) += n;
  (write ? stats_.wr : stats_.rd) += n;
  dirty_ = true;
  scan_valid_ = false;
  release_held();
  return unsigned(n);
}

// The command bus's gaps before and between `n` column commands from
// `first` on, `spacing` apart, as record_bus would leave them.
void ChannelController::record_front_hits(std::uint64_t first, std::size_t n, std::uint64_t spacing) {
  const unsigned cas = spec_.cas_cycles;
  const bool before = first > timing_.ca_free;
  const bool between = spacing > cas;
  if (bus_gaps_.size() >= kKeptGaps) drop_old_gaps();
  Gap* gap = bus_gaps_.push_back_n(std::size_t(before) + (between ? n - 1 : 0));
  if (before) *gap++ = {timing_.ca_free, first};
  if (between)
    for (std::uint64_t end = first + spacing, last = first + (n - 1) * spacing; end <= last; end += spacing)
      *gap++ = {end - spacing + cas, end};
  timing_.ca_free = first + (n - 1) * spacing + cas;
}

}  // namespace npuvp::dram
