#include "models/dram/channel_controller.h"

#include <algorithm>
#include <cmath>

namespace npuvp::dram {

ChannelController::ChannelController(unsigned index, const DramConfig& config, const EnergyModel& energy,
                                     ChannelStats& stats, BurstSink& sink)
    : index_(index),
      spec_(config.memspec),
      energy_(energy),
      stats_(stats),
      sink_(sink),
      depth_(config.queue_depth),
      closed_page_(config.page_policy == PagePolicy::kClosed),
      per_bank_refresh_(config.per_bank_refresh),
      max_wait_(std::uint64_t(std::ceil(config.max_wait_ns / config.memspec.tck_ns))),
      write_high_(config.write_high_watermark),
      write_low_(config.write_low_watermark),
      banks_(config.memspec.banks),
      front_(config.memspec.banks, kNever),
      ready_(config.memspec.banks, kNever),
      rank_(config.memspec.banks, kNever),
      redecide_(config.memspec.banks, kNever),
      kind_(config.memspec.banks, 0) {
  const Memspec& s = spec_;
  ccd_ = s.ccd();
  rd_to_wr_ = s.rd_to_wr();
  wr_to_rd_ = s.wr_to_rd();
  rd_to_pre_ = s.rd_to_pre();
  wr_to_pre_ = s.wr_to_pre();
  read_latency_ = s.read_data_end();
  write_latency_ = s.write_data_end();
  act2_ = s.act2_edge();
  bus_cycles_[kKindAct] = s.act_cycles;
  bus_cycles_[kKindPre] = s.pre_cycles;
  bus_cycles_[kKindRd] = bus_cycles_[kKindWr] = s.cas_cycles;
  refresh_due_ = per_bank_refresh_ ? s.trefipb() : s.trefi;
  horizon_ = s.trc;
  window_cycles_ = std::max<std::uint64_t>(1, std::llround(config.power_window_ns / s.tck_ns));
  next_sample_ = window_cycles_;
  stats_.banks.assign(s.banks, BankStats{});
}

void ChannelController::enqueue(std::uint64_t arrival, std::uint64_t seq, std::uint32_t row, std::uint32_t request,
                                unsigned bank, bool write, unsigned count) {
  // Arrivals come nearly in order: the new one nearly always goes at the back.
  // Entries never interleave: each holds consecutive seq.
  auto before = [](const Burst& x, const Burst& y) {
    return x.arrival != y.arrival ? x.arrival < y.arrival : x.seq < y.seq;
  };
  const Burst burst{arrival, seq, row, request, static_cast<std::uint16_t>(bank), write, count};
  if (arrivals_.empty() || !before(burst, arrivals_.back())) {
    // Field by field (Ring::push_back_slot).
    Burst& b = arrivals_.push_back_slot();
    b.arrival = arrival;
    b.seq = seq;
    b.row = row;
    b.request = request;
    b.bank = static_cast<std::uint16_t>(bank);
    b.write = write;
    b.count = count;
  } else {
    arrivals_.insert_sorted(burst, before);
  }
  // A new arrival changes the next event only if it comes no later than it:
  // then admitting it is the next event (arrivals win ties).
  if (!dirty_ && arrival <= next_cycle_) {
    choice_ = Choice::kAdmit;
    next_cycle_ = arrival;
  }
}

void ChannelController::admit(std::uint64_t cycle) {
  now_ = std::max(now_, cycle);
  while (!arrivals_.empty() && arrivals_.front().arrival <= cycle) {
    const Burst& x = arrivals_.front();
    Bank& b = banks_[x.bank];
    // The bursts that find a free queue entry are visible to the scheduler.
    const std::size_t size = b.queue.size();
    if (size < depth_) {
      if (size == 0) set_front(x.bank, x.arrival);
      count_visible(x.write, int(std::min<std::size_t>(depth_ - size, x.count)));
    }
    const std::uint32_t tag = x.request << 1 | std::uint32_t(x.write);
    Queued* const slots = b.queue.push_back_n(x.count);
    for (unsigned k = 0; k < x.count; ++k) {
      // Field by field, as enqueue does (Ring::push_back_slot).
      slots[k].queued = x.arrival;
      slots[k].row = x.row;
      slots[k].tag = tag;
    }
    mark_stale(x.bank);
    if (x.arrival < now_) late_ |= std::uint64_t(1) << x.bank;
    arrivals_.pop_front();
  }
  dirty_ = true;
}

void ChannelController::set_front(unsigned bank, std::uint64_t queued) {
  front_[bank] = queued;
  oldest_bound_ = std::min(oldest_bound_, queued);
}

void ChannelController::choose(unsigned i, Command command, std::uint8_t kind, std::uint32_t target,
                               std::uint64_t ready) {
  Bank& b = banks_[i];
  b.next = command;
  b.target = target;
  kind_[i] = kind;
  ready_[i] = ready;
  const bool column = kind >= kKindRd;
  rank_[i] = (column ? 0 : std::uint64_t(1) << 63) | b.queue[target].queued;
  active_ |= std::uint64_t(1) << i;
}

void ChannelController::decide(unsigned i) {
  Bank& b = banks_[i];
  redecide_[i] = kNever;
  // A front burst that hits the open row in the direction the bus last went
  // (or before any column command) is what the search below would choose,
  // starving or not, unless write batching filters the queue: most
  // decisions, made without it.
  if (write_high_ == 0 && !b.queue.empty()) {
    const Queued& front = b.queue.front();
    if (front.row == b.open_row && (last_column_ < 0 || int(front.write()) == last_column_)) {
      const bool write = front.write();
      choose(i, write ? Command::kWr : Command::kRd, write ? kKindWr : kKindRd, 0, b.cas_ok);
      return;
    }
  }
  b.next = Command::kNop;
  ready_[i] = kNever;
  rank_[i] = kNever;
  active_ &= ~(std::uint64_t(1) << i);
  const std::uint32_t n = visible(b);
  // The oldest burst of the direction the channel serves (any, unbatched).
  std::uint32_t first = 0;
  const bool filter = write_high_ != 0;
  if (filter)
    while (first < n && b.queue[first].write() != write_mode_) ++first;
  if (first == n) return;
  const Queued& front = b.queue[first];
  if (b.open_row >= 0) {
    // A front burst that has waited too long is served next even if younger
    // bursts hit the open row: FR-FCFS must not starve it.
    const std::uint64_t starving_at = front.queued + max_wait_;
    const bool starving = now_ >= starving_at;
    if (!starving || front.row == b.open_row) {
      // The oldest hit, or while the front is not starving, the oldest hit
      // in the direction the data bus last went: grouping reads and writes
      // (FR-FCFS-Grp) saves the turnaround a change of direction costs.
      const bool group = !filter && last_column_ >= 0 && !starving;
      std::uint32_t hit = n;
      for (std::uint32_t k = first; k < n; ++k) {
        const Queued& x = b.queue[k];
        if (x.row != b.open_row || (filter && x.write() != write_mode_)) continue;
        if (hit == n) hit = k;
        if (!group || int(x.write()) == last_column_) {
          hit = k;
          break;
        }
      }
      if (hit != n) {
        const bool write = b.queue[hit].write();
        choose(i, write ? Command::kWr : Command::kRd, write ? kKindWr : kKindRd, hit, b.cas_ok);
        // Passing the front over for a hit holds until the front starves.
        if (hit != first) {
          redecide_[i] = starving_at;
          min_redecide_ = std::min(min_redecide_, starving_at);
        }
        return;
      }
    }
    choose(i, Command::kPre, kKindPre, first, b.pre_ok);
    return;
  }
  choose(i, Command::kAct, kKindAct, first, b.act_ok);
}

// Write batching: which direction the channel serves from now on; true if
// that changed (and every decision with it).
bool ChannelController::update_write_mode(int starving_bank) {
  bool writes = write_mode_;
  if (!write_mode_)
    writes = visible_writes_ >= write_high_ || (visible_reads_ == 0 && visible_writes_ > 0);
  else
    writes = !(visible_writes_ == 0 || (visible_reads_ > 0 && visible_writes_ <= write_low_));
  if (starving_bank >= 0) writes = banks_[starving_bank].queue.front().write();
  if (writes == write_mode_) return false;
  write_mode_ = writes;
  stale_ = ~std::uint64_t(0);
  return true;
}

// The next step of a refresh: close what is open, then refresh.
std::uint64_t ChannelController::refresh_step(Command& command, unsigned& bank) const {
  std::uint64_t t = std::max({now_, timing_.ca_free, refresh_due_});
  if (!per_bank_refresh_) {
    bank = 0;
    // open_banks_ counts the banks with a row open: one pass over the banks
    // for the one constraint the step needs.
    std::uint64_t at = t;
    if (open_banks_ > 0) {
      for (const Bank& b : banks_)
        if (b.open_row >= 0) at = std::max(at, b.pre_ok);
      command = Command::kPreAll;
      return at;
    }
    for (const Bank& b : banks_) at = std::max(at, b.idle_at);
    command = Command::kRefAll;
    return std::max(at, refab_ok_);
  }
  bank = refresh_bank_;
  const Bank& b = banks_[bank];
  if (b.open_row >= 0) {
    command = Command::kPre;
    return std::max(t, b.pre_ok);
  }
  command = Command::kRefBank;
  // REFpb behaves like an ACT towards the other banks (tRRD, tFAW).
  return std::max({timing_.earliest(kKindAct, t), b.idle_at, refpb_ok_});
}

std::uint64_t ChannelController::decide_stale() {
  const unsigned n = static_cast<unsigned>(banks_.size());
  const std::uint64_t all = n == 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << n) - 1;
  const std::uint64_t decided = stale_ & all;
  for (std::uint64_t m = decided; m != 0; m &= m - 1) decide(unsigned(__builtin_ctzll(m)));
  stale_ = 0;
  return decided;
}

// The bank of the oldest burst of the channel if that burst has waited too
// long (the first such bank on a tie), else -1. The fronts are enough: a
// bank's bursts enter its queue in arrival order, so the one queued longest
// is always a front, and the waiting list has not started to age.
int ChannelController::starving_bank() {
  if (oldest_bound_ == kNever || now_ < oldest_bound_ + max_wait_) return -1;
  const unsigned n = static_cast<unsigned>(banks_.size());
  unsigned bank = 0;
  for (unsigned i = 1; i < n; ++i)
    if (front_[i] < front_[bank]) bank = i;
  oldest_bound_ = front_[bank];
  return oldest_bound_ != kNever && now_ >= oldest_bound_ + max_wait_ ? int(bank) : -1;
}

std::uint64_t ChannelController::recompute() {
  dirty_ = false;
  const unsigned nbanks = static_cast<unsigned>(banks_.size());

  // Bring the banks' decisions up to date. Deciding a bank earlier than it is
  // needed gives the same decision: a decision depends on the time only
  // through starvation, which redecide_ tracks.
  const bool redecide = now_ >= min_redecide_;
  if (redecide)
    for (unsigned i = 0; i < nbanks; ++i)
      if (now_ >= redecide_[i]) mark_stale(i);
  const std::uint64_t changed = decide_stale();
  if (redecide) min_redecide_ = *std::min_element(redecide_.begin(), redecide_.end());

  unsigned best_bank = 0;
  std::uint64_t best = kNever;
  if (active_ == 0 && write_high_ == 0) {
    // No bank has a command, so every queue is empty (decide() gives a bank
    // with bursts one) and nothing starves: the scan would find nothing, and
    // is recorded as best_candidate records it.
    last_scan_.best = ~Key(0);
    last_scan_.best_bank = 0;
    scan_valid_ = true;
    scan_skip_ = per_bank_refresh_ ? refresh_bank_ : nbanks;
    starving_bank();  // brings the starvation bound up to date, as the scan's pass does
  } else {
    // The channel-wide part of each command's earliest cycle, shared by all
    // banks, indexed by Kind.
    const std::uint64_t bases[4] = {timing_.earliest(kKindAct, now_), timing_.earliest(kKindPre, now_),
                                    timing_.earliest(kKindRd, now_), timing_.earliest(kKindWr, now_)};
    // Refresh owns the bank (or all banks) from its due cycle on: per-bank
    // refresh takes its bank out of the scan, all-bank refresh every command
    // from refresh_due_ on.
    auto owned_by_refresh = [&](unsigned i) {
      return std::uint64_t(candidate(i, bases, nbanks) >> 64) >= refresh_due_;
    };
    const unsigned skip = per_bank_refresh_ && owned_by_refresh(refresh_bank_) ? refresh_bank_ : nbanks;
    best_candidate(bases, skip, changed);

    // A burst that has waited too long goes first, beside whatever cannot
    // delay it.
    const int starving = starving_bank();
    if (write_high_ != 0 && update_write_mode(starving)) best_candidate(bases, skip, decide_stale());
    best_bank = last_scan_.best_bank;
    best = std::uint64_t(last_scan_.best >> 64);
    if (starving >= 0 && best_bank != unsigned(starving))
      serve_around(unsigned(starving), bases, skip, best_bank, best);
    if (!per_bank_refresh_ && best >= refresh_due_) best = kNever;
    // A precharge or activate that fits before the cycle reached goes there,
    // unless a burst starves or a refresh is due.
    if (starving < 0 && now_ < refresh_due_ && may_backfill()) {
      drop_old_gaps();
      best_backfill(skip, std::min(best, now_), best_bank, best);
    }
  }

  // A refresh step never starts before the due cycle, so while a bank command
  // comes earlier there is no need to work it out.
  Command refresh_command = Command::kNop;
  unsigned refresh_bank = 0;
  const std::uint64_t refresh_at = best < refresh_due_ ? kNever : refresh_step(refresh_command, refresh_bank);
  const std::uint64_t arrival = arrivals_.empty() ? kNever : arrivals_.front().arrival;

  if (arrival <= best && arrival <= refresh_at) {
    choice_ = Choice::kAdmit;
    next_cycle_ = arrival;
  } else if (refresh_at <= best) {
    choice_ = Choice::kRefresh;
    choice_command_ = refresh_command;
    choice_bank_ = refresh_bank;
    next_cycle_ = refresh_at;
  } else {
    choice_ = Choice::kBank;
    choice_command_ = banks_[best_bank].next;
    choice_bank_ = best_bank;
    next_cycle_ = best;
  }
  return next_cycle_;
}

// Whether the column command the pass chose for bank `i` at `cycle` is the
// first of a group of front hits for `request` that run_columns would issue
// at that cycle (its conditions, and those of issue_front_hits): then the
// run issues it too.
bool ChannelController::starts_group(unsigned i, std::uint32_t request, std::uint64_t cycle) const {
  const Bank& b = banks_[i];
  if (closed_page_ || !column_observers_.empty() || write_high_ != 0 || b.target != 0 ||
      ((active_ | stale_) & ~(std::uint64_t(1) << i)) != 0)
    return false;
  const Queued& front = b.queue.front();
  if (front.request() != request || int(front.write()) != last_column_) return false;
  const std::uint64_t arrival = arrivals_.empty() ? kNever : arrivals_.front().arrival;
  const std::uint64_t at = std::max(timing_.earliest(front.write() ? kKindWr : kKindRd, now_), b.cas_ok);
  return now_ < min_redecide_ && (oldest_bound_ == kNever || now_ < oldest_bound_ + max_wait_) && at == cycle &&
         at < std::min(refresh_due_, arrival);
}

std::uint64_t ChannelController::step(std::uint32_t run_request) {
  const std::uint64_t t = next_event_cycle();
  if (choice_ == Choice::kAdmit) {
    admit(t);
    return t;
  }
  // Apart, so that a step without runs keeps nothing across the call.
  if (run_request != kNoRun) return step_run(t, run_request);
  sample_until(t);
  issue(choice_command_, choice_bank_, t);
  release_held();
  return t;
}

std::uint64_t ChannelController::step_run(std::uint64_t t, std::uint32_t run_request) {
  const bool column = choice_ == Choice::kBank && (choice_command_ == Command::kRd || choice_command_ == Command::kWr);
  // A run that starts with a group of front hits issues its first burst too.
  if (column && starts_group(choice_bank_, run_request, t)) return run_columns(choice_bank_, run_request);
  sample_until(t);
  issue(choice_command_, choice_bank_, t);
  release_held();
  return column ? run_columns(choice_bank_, run_request) : t;
}

// A request's bursts to one open row, with nothing else queued, are most of a
// network's commands. While no other bank has or may get a command (none
// active, none stale), nothing arrives, no burst starves or needs a decision
// made again, write batching is off and no refresh is due, the scheduling
// pass (recompute) has one candidate, the bank's own next command: this
// makes the decision that pass would make, and issues the command as step()
// does, until it is not a column command for `request` or another of those
// conditions fails. Backfill would leave the bank alone too: it places row
// commands only. Returns the cycle of the last command issued.
std::uint64_t ChannelController::run_columns(unsigned i, std::uint32_t request) {
  // Nothing in a run changes the other banks (its bursts go the way the
  // bus last went: no turnaround marks them stale), write batching, the
  // arrivals or the refresh due: checked once.
  if (write_high_ != 0 || ((active_ | stale_) & ~(std::uint64_t(1) << i)) != 0) return now_;
  const std::uint64_t stop = std::min(refresh_due_, arrivals_.empty() ? kNever : arrivals_.front().arrival);
  Bank& b = banks_[i];
  // The run follows a column command, so last_column_ is its direction.
  const std::uint32_t front_hit = request << 1 | std::uint32_t(last_column_);
  unsigned bursts = 0;
  std::uint64_t done = 0;
  while (now_ < min_redecide_ && (oldest_bound_ == kNever || now_ < oldest_bound_ + max_wait_)) {
    std::uint64_t t;
    if (!b.queue.empty() && b.queue.front().tag == front_hit && b.queue.front().row == b.open_row) {
      if (!closed_page_ && column_observers_.empty()) {
        const unsigned n = issue_front_hits(i, front_hit, stop, done);
        if (n == 0) break;
        bursts += n;
        continue;
      }
      // decide()'s first case, its choice not stored: the bank stays stale,
      // and the pass after the run decides it again from the same state.
      b.target = 0;
      t = std::max(timing_.earliest(last_column_ ? kKindWr : kKindRd, now_), b.cas_ok);
    } else {
      decide(i);
      stale_ = 0;
      const Command command = b.next;
      if ((command != Command::kRd && command != Command::kWr) || b.queue[b.target].request() != request) break;
      t = std::max(timing_.earliest(kind_[i], now_), ready_[i]);
    }
    if (t >= stop) break;
    sample_until(t);
    std::uint32_t burst_request;  // `request`: the loop stops at another's burst
    done = issue_column(i, t, burst_request);
    ++bursts;
    release_held();
  }
  // A run's bursts go one way, so the last one's data beat is the latest.
  if (bursts != 0) sink_.bursts_done(request, bursts, done);
  return now_;
}

// What a command of `kind` issued at `cycle` does to the channel-wide
// constraints; shared by issuing and by delays(), so that the two agree.
void ChannelController::occupy(ChannelTiming& c, unsigned kind, std::uint64_t cycle) const {
  // A row command placed before the last one (backfill) leaves the bus busy
  // until the later one's end.
  c.ca_free = std::max(c.ca_free, cycle + bus_cycles_[kind]);
  switch (kind) {
    case kKindAct:
      c.rrd_ok = std::max(c.rrd_ok, cycle + spec_.trrd);
      c.faw_ok[c.faw_next] = cycle + spec_.tfaw;
      c.faw_next = (c.faw_next + 1) & 3;
      return;
    case kKindRd:
      c.rd_ok = cycle + ccd_;
      c.wr_ok = std::max(c.wr_ok, cycle + rd_to_wr_);
      return;
    case kKindWr:
      c.wr_ok = cycle + ccd_;
      c.rd_ok = std::max(c.rd_ok, cycle + wr_to_rd_);
      return;
    default:
      return;
  }
}

// The bank is busy (precharging or refreshing) until `until`: a refresh may
// start then, and an ACT-1 act2_ earlier, since the row opens at ACT-2.
void ChannelController::busy_until(Bank& b, std::uint64_t until) {
  b.idle_at = std::max(b.idle_at, until);
  b.act_ok = std::max(b.act_ok, until - act2_);
}

std::uint64_t ChannelController::open_cycles_until(unsigned bank, std::uint64_t cycle) const {
  const Bank& b = banks_[bank];
  const std::uint64_t open = b.open_row >= 0 && cycle > b.opened_at ? cycle - b.opened_at : 0;
  return stats_.banks[bank].open_cycles + open;
}

void ChannelController::close(Bank& b, unsigned index, std::uint64_t cycle, unsigned trp) {
  b.open_row = -1;
  busy_until(b, cycle + trp);
  BankStats& bs = stats_.banks[index];
  bs.open_cycles += cycle - b.opened_at;
  ++bs.precharges;
  stats_.command_energy.pre_pj += energy_.pre_pj;
  --open_banks_;
  stretch_end_ = std::max(stretch_end_, cycle);
  mark_stale(index);
}

void ChannelController::issue(Command command, unsigned index, std::uint64_t t) {
  // Column commands first, before the switch's indirect jump: they are most
  // commands, and a conditional branch predicts the mix better.
  if (command == Command::kRd || command == Command::kWr) {
    std::uint32_t request;
    const std::uint64_t done = issue_column(index, t, request);
    sink_.bursts_done(request, 1, done);
    return;
  }
  begin_command(t, command == Command::kAct                                      ? spec_.act_cycles
                   : command == Command::kRefAll || command == Command::kRefBank ? spec_.ref_cycles
                                                                                 : spec_.pre_cycles);
  Bank& b = banks_[index];
  switch (command) {
    case Command::kAct: {
      const Queued& x = b.queue[b.target];
      if (open_banks_ == 0 && t >= stretch_end_) {
        active_cycles_ += stretch_end_ - stretch_start_;
        stretch_start_ = stretch_end_ = t;
      }
      ++open_banks_;
      b.open_row = x.row;
      b.opened_at = t;
      b.cas_ok = t + act2_ + spec_.trcd;
      b.pre_ok = t + act2_ + spec_.tras;
      b.act_ok = t + spec_.trc;
      // Which of the row's bursts goes first depends on the direction the
      // data bus goes by then: decide() works it out.
      mark_stale(index);
      occupy(timing_, kKindAct, t);
      ++stats_.act;
      ++stats_.banks[index].activates;
      stats_.command_energy.act_pj += energy_.act_pj;
      notify(t, command, index, x.row);
      return;
    }
    case Command::kPre: {
      // Either the scheduler needs another row, or refresh needs the bank.
      const bool for_refresh = choice_ == Choice::kRefresh;
      const std::uint32_t row = static_cast<std::uint32_t>(b.open_row);
      close(b, index, t, spec_.trppb);
      if (!for_refresh) ++stats_.row_conflicts;
      occupy(timing_, kKindPre, t);
      ++stats_.pre;
      notify(t, command, index, row);
      return;
    }
    case Command::kPreAll:
      for (unsigned i = 0; i < banks_.size(); ++i)
        if (banks_[i].open_row >= 0) close(banks_[i], i, t, spec_.trpab);
      occupy(timing_, kKindPre, t);
      ++stats_.pre_all;
      notify(t, command, 0, 0);
      return;
    case Command::kRefAll:
      for (Bank& x : banks_) busy_until(x, t + spec_.trfcab);
      refab_ok_ = t + spec_.trfcab;
      refresh_due_ += spec_.trefi;
      timing_.ca_free = t + spec_.ref_cycles;
      ++stats_.ref_all;
      stats_.command_energy.refresh_pj += energy_.refresh_all_pj;
      stale_ = ~std::uint64_t(0);
      notify(t, command, 0, 0);
      return;
    case Command::kRefBank:
      busy_until(b, t + spec_.trfcpb);
      mark_stale(index);
      refpb_ok_ = t + spec_.trfcpb;
      // Towards the other banks an ACT (tRRD, tFAW), for its own bus cycles.
      occupy(timing_, kKindAct, t);
      timing_.ca_free = t + spec_.ref_cycles;
      refresh_due_ += spec_.trefipb();
      refresh_bank_ = (refresh_bank_ + 1) % unsigned(banks_.size());
      ++stats_.ref_bank;
      ++stats_.banks[index].refreshes;
      stats_.command_energy.refresh_pj += energy_.refresh_bank_pj;
      notify(t, command, index, 0);
      return;
    default:
      return;
  }
}

std::uint64_t ChannelController::issue_column(unsigned index, std::uint64_t t, std::uint32_t& request) {
  begin_command(t, spec_.cas_cycles);
  Bank& b = banks_[index];
  // Field by field: the entry may have been stored moments ago, and a wider
  // load than its stores would wait for them to reach the cache.
  const Queued& e = b.queue[b.target];
  struct {
    std::uint32_t row, request;
    bool write;
  } x{e.row, e.request(), e.write()};
  const std::uint64_t e_queued = e.queued;
  b.queue.erase(b.target);
  count_visible(x.write, -1);
  // The oldest waiting burst, if any, takes the freed queue entry, and ages
  // from now on.
  if (b.queue.size() >= depth_) {
    Queued& entering = b.queue[depth_ - 1];
    entering.queued = t;
    count_visible(entering.write(), +1);
  }
  set_front(index, b.queue.empty() ? kNever : b.queue.front().queued);
  if (b.queue.empty()) late_ &= ~(std::uint64_t(1) << index);
  mark_stale(index);

  BankStats& bs = stats_.banks[index];
  stats_.max_queued_cycles = std::max(stats_.max_queued_cycles, t - e_queued);
  if (last_column_ != int(x.write)) {
    if (last_column_ >= 0) ++stats_.turnarounds;
    last_column_ = int(x.write);
    // Every bank's choice among its row hits follows the direction.
    if (write_high_ == 0) stale_ = ~std::uint64_t(0);
  }
  occupy(timing_, x.write ? kKindWr : kKindRd, t);
  if (x.write) {
    b.pre_ok = std::max(b.pre_ok, t + wr_to_pre_);
    ++bs.writes;
    stats_.command_energy.write_pj += energy_.write_pj;
  } else {
    b.pre_ok = std::max(b.pre_ok, t + rd_to_pre_);
    ++bs.reads;
    stats_.command_energy.read_pj += energy_.read_pj;
  }
  stats_.command_energy.io_pj += energy_.io_burst_pj;

  // Closed page: the last queued access to the row takes auto-precharge, which
  // the device starts as soon as tRAS and tRTP/tWR allow.
  bool auto_pre = false;
  if (closed_page_) {
    auto_pre = true;
    for (unsigned k = 0, n = visible(b); k < n; ++k)
      if (b.queue[k].row == x.row) {
        auto_pre = false;
        break;
      }
  }
  Command command = x.write ? Command::kWr : Command::kRd;
  std::uint64_t pre_at = 0;
  if (auto_pre) {
    command = x.write ? Command::kWra : Command::kRda;
    pre_at = b.pre_ok;
    close(b, index, pre_at, spec_.trppb);
  }
  if (x.write)
    ++(auto_pre ? stats_.wra : stats_.wr);
  else
    ++(auto_pre ? stats_.rda : stats_.rd);
  notify(t, command, index, x.row, pre_at);
  request = x.request;
  return t + (x.write ? write_latency_ : read_latency_);
}

std::uint64_t ChannelController::active_cycles_until(std::uint64_t cycle) const {
  std::uint64_t active = active_cycles_;
  const std::uint64_t end = open_banks_ > 0 ? cycle : std::min(stretch_end_, cycle);
  if (end > stretch_start_) active += end - stretch_start_;
  return std::min(active, cycle);
}

EnergyBreakdown ChannelController::energy_until(std::uint64_t cycle) const {
  EnergyBreakdown e = stats_.command_energy;
  const std::uint64_t active = active_cycles_until(cycle);
  e.background_active_pj = double(active) * energy_.active_pj_per_cycle;
  e.background_precharged_pj = double(cycle - active) * energy_.precharged_pj_per_cycle;
  return e;
}

void ChannelController::sample_windows(std::uint64_t cycle) {
  while (next_sample_ <= cycle) {
    samples_.push_back(energy_until(next_sample_).total_pj());
    next_sample_ += window_cycles_;
  }
}

}  // namespace npuvp::dram
