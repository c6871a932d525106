#pragma once
// The whole DRAM subsystem in plain C++: address mapping, splitting of
// requests into bursts, one controller per channel, request bookkeeping,
// statistics and energy. The TLM module wraps it; the benchmark drives it
// directly.

#include <cstdint>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/dram/channel_controller.h"
#include "models/dram/command.h"
#include "models/dram/dram_config.h"
#include "models/dram/dram_stats.h"
#include "models/dram/energy.h"
#include "models/dram/ring.h"

namespace npuvp::dram {

class DramSystem final : private BurstSink {
 public:
  struct Completion {
    std::uint32_t request;
    bool write;
    std::uint64_t address;
    std::uint64_t bytes;
    std::uint64_t arrival_cycle;
    std::uint64_t done_cycle;  // last data beat
  };

  // Throws std::invalid_argument if the configuration is inconsistent.
  explicit DramSystem(const DramConfig& config);
  ~DramSystem() override;
  DramSystem(const DramSystem&) = delete;
  DramSystem& operator=(const DramSystem&) = delete;

  const DramConfig& config() const { return config_; }
  double tck_ns() const { return config_.memspec.tck_ns; }
  double ns_of(std::uint64_t cycle) const { return double(cycle) * config_.memspec.tck_ns; }
  // The first clock edge at or after `ns`.
  std::uint64_t cycle_at(double ns) const;

  // Observers see every command of every channel (checker, traces).
  void add_observer(CommandObserver& observer);

  // For a closed-loop traffic generator: while on, every completion is queued
  // for next_completion(). Off, use complete().
  void queue_completions(bool on) { queue_completions_ = on; }
  // Runs the channels until the earliest queued completion precedes every
  // command still to come and returns it, so that requests the caller submits
  // in response stay in time order; false once every submitted request has
  // completed (and, queueing, been returned).
  bool next_completion(Completion& completion);

  // Queues a request of any size (split into bursts here) that the controller
  // sees from `arrival_cycle` on. The range must lie inside the device.
  std::uint32_t submit(bool write, std::uint64_t address, std::uint64_t bytes, std::uint64_t arrival_cycle);
  // Runs the channels in time order until `request` has completed and returns
  // its last data cycle. Only while completions are not queued.
  std::uint64_t complete(std::uint32_t request);
  // Runs until every submitted request has completed; drops queued
  // completions.
  void drain();
  // Runs every command (refreshes included) earlier than `cycle`.
  void advance_to(std::uint64_t cycle);
  // Passes every command issued so far to the observers (they are held back
  // while a row command may still be placed before them); drain() does too.
  void flush_observers();
  // Passes the commands before `cycle` on; the caller promises that no
  // request arrives before `cycle` any more. Changes no timing.
  void release_observers_before(std::uint64_t cycle);
  // The latest cycle any channel has reached.
  std::uint64_t now() const;

  const DramStats& stats() const { return stats_; }
  EnergyBreakdown energy_until(std::uint64_t cycle) const;
  // Total energy per power window ending at or before `cycle` (pJ each).
  std::vector<double> window_energy_until(std::uint64_t cycle) const;
  double window_ns() const;
  nlohmann::json stats_json(std::uint64_t cycle) const;

 private:
  struct Request {
    std::uint64_t address, bytes, arrival, done;
    std::uint32_t remaining;  // bursts not yet scheduled
    bool write;
  };
  struct Done {
    std::uint64_t cycle;
    std::uint32_t request;
    bool before(const Done& o) const { return cycle != o.cycle ? cycle < o.cycle : request < o.request; }
  };

  void bursts_done(std::uint32_t request, unsigned count, std::uint64_t done_cycle) override;
  void finish(std::uint32_t request);
  void release(std::uint32_t request);
  // The channel with the earliest next event (the lowest index on a tie).
  unsigned earliest_channel(std::uint64_t& cycle) const;
  void step(unsigned channel);
  void touch(unsigned channel) { next_[channel] = channels_[channel]->next_event_cycle(); }

  DramConfig config_;
  AddressMapper mapper_;
  EnergyModel energy_;
  DramStats stats_;
  std::vector<std::unique_ptr<ChannelController>> channels_;
  // Each channel's next event cycle, kept up to date after every change so
  // that finding the earliest channel is a scan of one small array.
  std::vector<std::uint64_t> next_;
  std::vector<Request> requests_;
  std::vector<std::uint32_t> free_requests_;
  std::uint64_t in_flight_ = 0;  // requests with bursts not yet scheduled
  std::uint64_t next_seq_ = 0;
  bool queue_completions_ = false;
  // Completions not yet returned, earliest first. Channels run in time
  // order, so a new completion lands at most a read/write latency difference
  // (or a multi-burst request's spread) from the back.
  Ring<Done> done_;
};

}  // namespace npuvp::dram
