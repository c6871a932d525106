#pragma once
// The controller and bank state of one LPDDR4 channel, in plain C++.
//
// Time advances by events, not by clock ticks: the controller computes the
// earliest cycle at which each bank's next command would satisfy every JEDEC
// constraint and issues the earliest (column commands first on a tie, then the
// oldest burst). That is what a cycle-stepped FR-FCFS controller would issue,
// at the cost of a few comparisons per command. Among a bank's row hits the
// oldest in the direction the data bus last went is served first (read/write
// grouping, FR-FCFS-Grp), so a mix turns the bus around only when one
// direction runs out of hits or the other starves. Once the oldest burst has
// waited max_wait in the queue, its bank's next command has priority: another
// bank's command goes first only if it cannot make that one later. A burst
// that arrives at a cycle already passed may still have its row opened in a
// free command-bus slot before that cycle (backfill, channel_backfill.cpp).
// No SystemC event is involved; the TLM wrapper and the benchmark drive it
// alike.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/dram/command.h"
#include "models/dram/dram_config.h"
#include "models/dram/dram_stats.h"
#include "models/dram/energy.h"
#include "models/dram/ring.h"

namespace npuvp::dram {

inline constexpr std::uint64_t kNever = UINT64_MAX;

// Column accesses of burst_length beats each on the channel's data bus:
// `count` bursts of one request to one row, numbered from `seq` on.
struct Burst {
  std::uint64_t arrival;  // cycle at which the controller may see them
  std::uint64_t seq;      // submission order, breaks ties between equal arrivals
  std::uint32_t row;
  std::uint32_t request;  // owner's handle, returned in BurstSink::bursts_done
  std::uint16_t bank;
  bool write;
  std::uint32_t count;
};

class BurstSink {
 public:
  virtual ~BurstSink() = default;
  // `count` bursts of `request` are scheduled, the last data beat of the
  // latest at `done_cycle`.
  virtual void bursts_done(std::uint32_t request, unsigned count, std::uint64_t done_cycle) = 0;
};

class ChannelController {
 public:
  ChannelController(unsigned index, const DramConfig& config, const EnergyModel& energy, ChannelStats& stats,
                    BurstSink& sink);
  ChannelController(const ChannelController&) = delete;
  ChannelController& operator=(const ChannelController&) = delete;

  void add_observer(CommandObserver* observer) {
    observers_.push_back(observer);
    if (observer->wants_plain_columns()) column_observers_.push_back(observer);
  }

  // `count` bursts of one request to one row, numbered from `seq` on.
  void enqueue(std::uint64_t arrival, std::uint64_t seq, std::uint32_t row, std::uint32_t request, unsigned bank,
               bool write, unsigned count);

  // Cycle of the next thing this channel does: admit an arrived burst or issue
  // a command. Never kNever, because refresh is always coming. Memoised: only
  // an admit, an issue or an earlier arrival makes it work again.
  std::uint64_t next_event_cycle() { return dirty_ ? recompute() : next_cycle_; }
  // Does that next thing, and returns its cycle. After a column command
  // for a burst of `run_request`, also the next column commands for that
  // request's bursts in the same bank while each is the channel's next thing
  // anyway (run_columns), and returns the last one's cycle: one scheduling
  // pass per run instead of one per burst (DramSystem::complete).
  std::uint64_t step(std::uint32_t run_request = kNoRun);
  static constexpr std::uint32_t kNoRun = ~std::uint32_t(0);  // no handle has 32 bits

  std::uint64_t now() const { return now_; }
  // Passes every command issued so far to the observers. Commands are held
  // back up to one backfill horizon (a row command may still be placed
  // before them), so observers see them in cycle order; after this no
  // command goes before the last one passed.
  void flush_observers();
  // Passes the commands before `cycle` on, for a caller that knows no burst
  // arrives before `cycle` any more; those before a burst already given
  // stay held (its row command may still go back).
  void release_observers_before(std::uint64_t cycle);
  // True while write batching has the channel serving writes only.
  bool draining_writes() const { return write_mode_; }

  // Cycles in [0, cycle) during which at least one bank had a row open.
  std::uint64_t active_cycles_until(std::uint64_t cycle) const;
  // Total energy (commands, I/O and background) up to `cycle`.
  EnergyBreakdown energy_until(std::uint64_t cycle) const;
  // Cumulative energy at the end of each power window that has closed so far.
  const std::vector<double>& energy_samples() const { return samples_; }
  // Cycles bank `bank` has had a row open up to `cycle`: the closed rows'
  // (BankStats::open_cycles) and the open one's so far.
  std::uint64_t open_cycles_until(unsigned bank, std::uint64_t cycle) const;
  std::uint64_t window_cycles() const { return window_cycles_; }

 private:
  // A queued burst with everything deciding and issuing read, inline, so that
  // the scan of a bank's queue chases no indices.
  struct Queued {
    // Cycle at which the burst entered the scheduler's queue (its arrival,
    // or for a burst that waited for a free entry, the cycle one freed): a
    // burst's age, for FCFS and for starvation, counts from there, as a
    // controller can only age what its queue holds.
    std::uint64_t queued;
    std::uint32_t row;
    std::uint32_t tag;  // request << 1 | write: 16 bytes per entry
    bool write() const { return (tag & 1) != 0; }
    std::uint32_t request() const { return tag >> 1; }
  };
  struct Bank {
    std::int64_t open_row = -1;
    // Earliest first edge of the bank's next command of each kind.
    std::uint64_t act_ok = 0;   // tRC, tRP, tRFC
    std::uint64_t cas_ok = 0;   // tRCD
    std::uint64_t pre_ok = 0;   // tRAS, tRTP, tWR
    std::uint64_t idle_at = 0;  // precharge and refresh complete: a refresh may start, ACT-2 may come
    std::uint64_t opened_at = 0;
    // Arrived bursts, oldest first. The first depth_ are visible to the
    // scheduler; the rest wait for a free queue entry.
    Ring<Queued> queue;
    // The scheduling decision, cached by decide() (its timing part in the
    // per-bank arrays below) and made again when the bank is marked stale.
    Command next = Command::kNop;
    std::uint32_t target = 0;  // position in queue of the burst served next
  };
  enum class Choice { kNone, kAdmit, kBank, kRefresh };
  // Bank::kind: the channel-wide constraint a bank's next command waits for.
  enum Kind : std::uint8_t { kKindAct, kKindPre, kKindRd, kKindWr };
  // The channel-wide constraints, apart from the banks' own: a value, so that
  // the scheduler can work out what one command would do to another.
  struct ChannelTiming {
    std::uint64_t ca_free = 0;  // command/address bus
    std::uint64_t rd_ok = 0, wr_ok = 0;
    std::uint64_t rrd_ok = 0;
    std::uint64_t faw_ok[4] = {0, 0, 0, 0};  // ring: each entry = an ACT's cycle + tFAW
    unsigned faw_next = 0;
    // Earliest cycle, from `now` on, at which they let a command of `kind` issue.
    std::uint64_t earliest(unsigned kind, std::uint64_t now) const {
      const std::uint64_t base = std::max(now, ca_free);
      switch (kind) {
        case kKindAct:
          return std::max({base, rrd_ok, faw_ok[faw_next]});
        case kKindRd:
          return std::max(base, rd_ok);
        case kKindWr:
          return std::max(base, wr_ok);
        default:
          return base;
      }
    }
  };

  // Orders candidate commands: earliest cycle (high half), then column
  // commands before row commands, then the oldest burst (Bank rank).
  __extension__ typedef unsigned __int128 Key;
  struct Scan {
    Key best = ~Key(0);
    unsigned best_bank = 0;
    // Without branches on the key: the scans' outcome is data-dependent.
    void consider(Key key, unsigned bank) {
      const bool better = key < best;
      best = better ? key : best;
      best_bank = better ? bank : best_bank;
    }
  };
  template <unsigned kBanks>
  void scan(const std::uint64_t* bases, unsigned skip, Scan& out) const;
  void scan_active(const std::uint64_t* bases, unsigned skip, Scan& out) const;
  void scan_all(const std::uint64_t* bases, unsigned skip);
  void best_candidate(const std::uint64_t* bases, unsigned skip, std::uint64_t changed);
  // A bank's candidate command (never for `skip`).
  Key candidate(unsigned bank, const std::uint64_t* bases, unsigned skip) const {
    const std::uint64_t t = bank == skip ? kNever : std::max(bases[kind_[bank]], ready_[bank]);
    return Key(t) << 64 | rank_[bank];
  }
  int starving_bank();
  void serve_around(unsigned starving, const std::uint64_t* bases, unsigned skip, unsigned& bank,
                    std::uint64_t& cycle) const;
  bool delays(unsigned bank, std::uint64_t cycle, unsigned starving, std::uint64_t due) const;
  void set_front(unsigned bank, std::uint64_t queued);

  std::uint64_t recompute();
  std::uint64_t step_run(std::uint64_t cycle, std::uint32_t run_request);
  std::uint64_t run_columns(unsigned bank, std::uint32_t request);
  // Inline in step_run(), its only caller.
  [[gnu::always_inline]] inline bool starts_group(unsigned bank, std::uint32_t request, std::uint64_t cycle) const;
  unsigned issue_front_hits(unsigned bank, std::uint32_t front_hit, std::uint64_t stop, std::uint64_t& done);
  void record_front_hits(std::uint64_t first, std::size_t n, std::uint64_t spacing);
  void release_held() {
    if (!held_.empty()) release_notifications(std::max(floor_, now_ > horizon_ ? now_ - horizon_ : 0));
  }
  // Returns the banks decided.
  std::uint64_t decide_stale();
  void decide(unsigned bank);
  // Sets the bank's decision: its next command for the burst at `target`.
  void choose(unsigned bank, Command command, std::uint8_t kind, std::uint32_t target, std::uint64_t ready);
  void mark_stale(unsigned bank) { stale_ |= std::uint64_t(1) << bank; }
  bool update_write_mode(int starving_bank);
  void count_visible(bool write, int delta) { (write ? visible_writes_ : visible_reads_) += delta; }
  unsigned visible(const Bank& b) const { return unsigned(std::min<std::size_t>(b.queue.size(), depth_)); }
  std::uint64_t refresh_step(Command& command, unsigned& bank) const;
  void admit(std::uint64_t cycle);
  void issue(Command command, unsigned bank, std::uint64_t cycle);
  // Returns the cycle of the burst's last data beat and sets its request:
  // the caller tells the sink, once per run (run_columns).
  // Inline in its two callers: a run issues one per burst.
  [[gnu::always_inline]] inline std::uint64_t issue_column(unsigned index, std::uint64_t cycle, std::uint32_t& request);
  void busy_until(Bank& bank, std::uint64_t until);
  void close(Bank& bank, unsigned index, std::uint64_t cycle, unsigned trp);
  // Holds the command for the observers that want it; a run without any (no
  // checker, no trace, or a trace of bank states only for a plain RD or WR,
  // nearly every command) makes no call.
  void notify(std::uint64_t cycle, Command command, unsigned bank, std::uint32_t row, std::uint64_t auto_pre = 0) {
    if (observers_.empty() || ((command == Command::kRd || command == Command::kWr) && column_observers_.empty()))
      return;
    hold(cycle, command, bank, row, auto_pre);
  }
  void hold(std::uint64_t cycle, Command command, unsigned bank, std::uint32_t row, std::uint64_t auto_pre);
  // Closes the power windows that end by `cycle` (rarely any: inline check).
  void sample_until(std::uint64_t cycle) {
    if (next_sample_ <= cycle) sample_windows(cycle);
  }
  void sample_windows(std::uint64_t cycle);
  // Backfill (channel_backfill.cpp): the earliest cycle before now_ at which
  // bank's row command could have gone, or kNever.
  std::uint64_t backfill_cycle(unsigned bank, std::uint64_t floor) const;
  // Only a bank given a burst late can have a row command to place back:
  // without one, no call (nearly every command).
  bool may_backfill() const { return (late_ & active_) != 0; }
  // Only when may_backfill().
  bool best_backfill(unsigned skip, std::uint64_t before, unsigned& bank, std::uint64_t& cycle) const;
  std::uint64_t free_bus_slot(std::uint64_t from, unsigned length) const;
  std::uint64_t backfill_floor() const;
  // A command on the bus from `cycle` for `length` cycles: after the last one
  // it may leave a gap; placed back, it splits one. Inline: once per command.
  // The gaps that have fallen behind the horizon are dropped only once they
  // are many, or before a search (drop_old_gaps).
  void record_bus(std::uint64_t cycle, unsigned length) {
    if (cycle >= timing_.ca_free) {
      if (cycle > timing_.ca_free) push_gap(timing_.ca_free, cycle);
    } else {
      split_bus_gap(cycle, cycle + length);
    }
  }
  void push_gap(std::uint64_t start, std::uint64_t end) {
    if (bus_gaps_.size() >= kKeptGaps) drop_old_gaps();
    bus_gaps_.push_back({start, end});
  }
  // A gap that ends by now_ - horizon_ can never take a command again (every
  // backfill starts at or after that cycle, and now_ only grows), so
  // searching past it finds what searching without it does: dropping it is
  // only a matter of memory and of the searches' length. The gaps do not
  // overlap, so their ends increase: those to drop are a prefix.
  void drop_old_gaps() {
    const std::uint64_t oldest = now_ > horizon_ ? now_ - horizon_ : 0;
    if (!bus_gaps_.empty() && bus_gaps_.front().end <= oldest)
      bus_gaps_.pop_front_while([oldest](const Gap& g) { return g.end <= oldest; });
  }
  static constexpr std::size_t kKeptGaps = 64;
  // What every command does first: the time, the command bus, the memo.
  void begin_command(std::uint64_t cycle, unsigned length) {
    now_ = std::max(now_, cycle);
    record_bus(cycle, length);
    dirty_ = true;
    scan_valid_ = false;
  }
  // A row command placed back into the idle stretch it falls in: out of
  // line, so that recording a command after the last keeps no registers for it.
  void split_bus_gap(std::uint64_t cycle, std::uint64_t end);
  void release_notifications(std::uint64_t before);
  void occupy(ChannelTiming& timing, unsigned kind, std::uint64_t cycle) const;

  unsigned index_;
  const Memspec& spec_;
  const EnergyModel& energy_;
  ChannelStats& stats_;
  BurstSink& sink_;
  std::vector<CommandObserver*> observers_;
  std::vector<CommandObserver*> column_observers_;  // those that see plain RD and WR too
  unsigned depth_;
  bool closed_page_;
  bool per_bank_refresh_;
  std::uint64_t max_wait_;
  // Write batching (DramConfig::write_high_watermark); off when high_ == 0.
  unsigned write_high_, write_low_;
  bool write_mode_ = false;                          // serving writes only
  int last_column_ = -1;                             // direction of the last column command: 1 write, 0 read
  unsigned visible_reads_ = 0, visible_writes_ = 0;  // bursts in the bank queues

  // Distances between first edges from the memspec (JESD209-4 formulas and
  // edges, see Memspec), and the offset of ACT-2 in an ACT.
  unsigned ccd_, rd_to_wr_, wr_to_rd_, rd_to_pre_, wr_to_pre_, read_latency_, write_latency_, act2_;
  unsigned bus_cycles_[4];  // command-bus occupancy, by Kind

  std::vector<Bank> banks_;
  // Per bank, side by side so that the scan over banks at every command is a
  // few branch-free loads. A decision is stale when the bank's queue or state
  // changes (every change of act_ok, cas_ok or pre_ok marks it) or when the
  // write-batching mode flips; it also changes once the front burst starts
  // starving (redecide_).
  std::uint64_t stale_ = ~std::uint64_t(0);  // bit per bank (at most 64, see Memspec)
  std::vector<std::uint64_t> front_;         // queued of queue.front() (kNever: empty)
  std::vector<std::uint64_t> ready_;         // the bank's own earliest cycle for its next command (kNever: none)
  std::vector<std::uint64_t> rank_;          // tie-break among equal cycles: column commands, then the oldest
  std::vector<std::uint64_t> redecide_;      // cycle at which the decision must be made again
  std::vector<std::uint8_t> kind_;           // Kind: which channel-wide constraint the command waits for
  // Bit per bank with a command to issue (rank_ below kNever): the others
  // can never be the best candidate, so the scans pass over them.
  std::uint64_t active_ = 0;
  std::uint64_t min_redecide_ = kNever;
  // A lower bound of front_: the fronts only move later except through
  // set_front, which lowers this with them, so the pass over the fronts
  // that finds a starving burst is needed only once this bound has waited
  // max_wait.
  std::uint64_t oldest_bound_ = kNever;
  Ring<Burst> arrivals_;  // not yet arrived, in (arrival, seq) order, a chunk's bursts in one entry

  std::uint64_t now_ = 0;
  ChannelTiming timing_;
  // The controller runs ahead of the requests it has not yet been given (the
  // TLM wrapper completes one request before the next is submitted), so a
  // burst may arrive at a cycle it has passed. Its bank's precharge and
  // activate may then still go in a free command-bus slot between the
  // commands already issued, as they would have had the controller seen the
  // burst on time: up to horizon_ (one tRC, longer than a row miss's tRP +
  // tRCD) before now_, never before floor_ (the last command observers have
  // seen). Column commands never go back: the data bus is in order.
  // The command bus's idle stretches between the commands issued, oldest
  // first; those ending before now_ - horizon_ are dropped now and then
  // (drop_old_gaps). A bus busy most of the time has few, and recording one
  // costs a comparison per command.
  struct Gap {
    std::uint64_t start, end;
  };
  Ring<Gap> bus_gaps_;
  std::uint64_t horizon_;
  std::uint64_t floor_ = 0;
  std::uint64_t late_ = 0;    // bit per bank that was given a burst at a cycle already passed
  Ring<IssuedCommand> held_;  // commands not yet passed to observers, by cycle
  std::uint64_t refresh_due_;
  std::uint64_t refab_ok_ = 0, refpb_ok_ = 0;
  unsigned refresh_bank_ = 0;  // next bank for per-bank refresh

  // The last scan, valid until a command issues; see best_candidate. Scans
  // write it field by field and are read the same way: whole-struct copies
  // of just-written fields stall on store forwarding.
  Scan last_scan_;
  bool scan_valid_ = false;
  unsigned scan_skip_ = 0;

  // Memoised next event.
  bool dirty_ = true;
  std::uint64_t next_cycle_ = 0;
  Choice choice_ = Choice::kNone;
  Command choice_command_ = Command::kNop;
  unsigned choice_bank_ = 0;

  // Union of the banks' open intervals, for background energy. ACTs come in
  // cycle order, so one open stretch at a time is enough.
  unsigned open_banks_ = 0;
  std::uint64_t stretch_start_ = 0, stretch_end_ = 0, active_cycles_ = 0;

  std::uint64_t window_cycles_;
  std::uint64_t next_sample_;
  std::vector<double> samples_;
};

}  // namespace npuvp::dram
