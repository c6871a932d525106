#include "models/dram/dram_system.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace npuvp::dram {

DramSystem::DramSystem(const DramConfig& config)
    : config_((config.validate(), config)), mapper_(config_), energy_(config_.memspec) {
  stats_.channels.resize(config_.channels);
  for (unsigned c = 0; c < config_.channels; ++c)
    channels_.push_back(
        std::make_unique<ChannelController>(c, config_, energy_, stats_.channels[c], static_cast<BurstSink&>(*this)));
  next_.resize(config_.channels);
  for (unsigned c = 0; c < config_.channels; ++c) touch(c);
}

DramSystem::~DramSystem() = default;

std::uint64_t DramSystem::cycle_at(double ns) const {
  if (ns <= 0) return 0;
  // The epsilon absorbs the rounding of ns values that were cycle multiples.
  return std::uint64_t(std::ceil(ns / config_.memspec.tck_ns - 1e-9));
}

void DramSystem::add_observer(CommandObserver& observer) {
  for (auto& c : channels_) c->add_observer(&observer);
}

std::uint32_t DramSystem::submit(bool write, std::uint64_t address, std::uint64_t bytes, std::uint64_t arrival_cycle) {
  if (bytes == 0 || address >= config_.capacity_bytes() || bytes > config_.capacity_bytes() - address)
    throw std::out_of_range("DRAM request outside the device");
  std::uint32_t id;
  if (!free_requests_.empty()) {
    id = free_requests_.back();
    free_requests_.pop_back();
  } else {
    // The controllers keep a request's handle in 31 bits.
    if (requests_.size() >= (std::size_t(1) << 31)) throw std::length_error("more than 2^31 DRAM requests in flight");
    id = static_cast<std::uint32_t>(requests_.size());
    requests_.push_back({});
  }
  const std::uint64_t burst = config_.memspec.burst_bytes();
  const std::uint64_t first = address / burst;
  const std::uint64_t last = (address + bytes - 1) / burst;
  requests_[id] = {address, bytes, arrival_cycle, arrival_cycle, std::uint32_t(last - first + 1), write};
  ++in_flight_;
  // A channel-interleave chunk lies within one page (DramConfig::validate):
  // its bursts share channel, bank and row, decoded once.
  const std::uint64_t chunk_bursts = config_.channel_interleave_bytes / burst;
  for (std::uint64_t k = first; k <= last;) {
    const DecodedAddress d = mapper_.decode(k * burst);
    const std::uint64_t n = std::min(last + 1, (k / chunk_bursts + 1) * chunk_bursts) - k;
    channels_[d.channel]->enqueue(arrival_cycle, next_seq_, d.row, id, d.bank, write, unsigned(n));
    next_seq_ += n;
    touch(d.channel);
    k += n;
  }
  if (stats_.first_arrival_ns < 0) stats_.first_arrival_ns = ns_of(arrival_cycle);
  stats_.first_arrival_ns = std::min(stats_.first_arrival_ns, ns_of(arrival_cycle));
  return id;
}

void DramSystem::bursts_done(std::uint32_t request, unsigned count, std::uint64_t done_cycle) {
  Request& r = requests_[request];
  r.done = std::max(r.done, done_cycle);
  r.remaining -= count;
  if (r.remaining == 0) finish(request);
}

void DramSystem::finish(std::uint32_t id) {
  const Request& r = requests_[id];
  --in_flight_;
  const float latency = float(ns_of(r.done - r.arrival));
  if (r.write) {
    ++stats_.write_requests;
    stats_.write_bytes += r.bytes;
    stats_.write_latency_ns.push_back(latency);
  } else {
    ++stats_.read_requests;
    stats_.read_bytes += r.bytes;
    stats_.read_latency_ns.push_back(latency);
  }
  stats_.last_completion_ns = std::max(stats_.last_completion_ns, ns_of(r.done));
  if (queue_completions_) done_.insert_sorted({r.done, id}, [](const Done& a, const Done& b) { return a.before(b); });
}

void DramSystem::release(std::uint32_t id) { free_requests_.push_back(id); }

unsigned DramSystem::earliest_channel(std::uint64_t& cycle) const {
  unsigned best = 0;
  cycle = next_[0];
  for (unsigned i = 1; i < next_.size(); ++i) {
    const bool earlier = next_[i] < cycle;
    cycle = earlier ? next_[i] : cycle;
    best = earlier ? i : best;
  }
  return best;
}

void DramSystem::step(unsigned channel) {
  channels_[channel]->step();
  touch(channel);
}

// Stepping the channel with the earliest next event until the request is
// complete does each channel's events in the order of their keys (cycle,
// channel), an event's key being the largest of its own and those of its
// channel's events before it in this loop; it stops after the request's last
// burst, whose key K is the largest of the request's bursts: every event of
// key below K is done, none above. The channels share nothing but that stop
// (docs/dram.md, "How the channels are stepped"). With the request alone in
// flight, a channel may thus issue the request's bursts ahead of the others
// (ChannelController::step's runs): each of them, and what comes before it in
// its channel, has a key up to K. Once the request is complete, the events of
// key below K not yet done are. With other requests in flight, their
// completion order (the latency samples' order) would depend on it: no runs.
std::uint64_t DramSystem::complete(std::uint32_t id) {
  if (queue_completions_) throw std::logic_error("DramSystem::complete used while completions are queued");
  const std::uint32_t run = in_flight_ == 1 ? id : ChannelController::kNoRun;
  // K: the largest (cycle, channel) of the events done.
  std::uint64_t k_cycle = 0;
  unsigned k_channel = 0;
  while (requests_[id].remaining != 0) {
    std::uint64_t t;
    const unsigned c = earliest_channel(t);
    const std::uint64_t last = channels_[c]->step(run);
    touch(c);
    if (last > k_cycle || (last == k_cycle && c > k_channel)) {
      k_cycle = last;
      k_channel = c;
    }
  }
  if (run != ChannelController::kNoRun)
    for (unsigned c = 0; c < channels_.size(); ++c)
      while (next_[c] < k_cycle || (next_[c] == k_cycle && c < k_channel)) step(c);
  const std::uint64_t done = requests_[id].done;
  release(id);
  return done;
}

bool DramSystem::next_completion(Completion& completion) {
  while (in_flight_ != 0 || !done_.empty()) {
    std::uint64_t t;
    const unsigned c = earliest_channel(t);
    // A completion is known once its last burst is scheduled, which is at
    // least a read/write latency before it happens; returning it before any
    // later command keeps requests it triggers in time order.
    if (!done_.empty() && (done_.front().cycle <= t || in_flight_ == 0)) {
      const Done d = done_.front();
      done_.pop_front();
      const Request& r = requests_[d.request];
      completion = {d.request, r.write, r.address, r.bytes, r.arrival, r.done};
      release(d.request);
      return true;
    }
    step(c);
  }
  return false;
}

void DramSystem::drain() {
  Completion dropped;
  while (next_completion(dropped)) {
  }
  flush_observers();
}

void DramSystem::flush_observers() {
  for (auto& c : channels_) c->flush_observers();
}

void DramSystem::release_observers_before(std::uint64_t cycle) {
  for (auto& c : channels_) c->release_observers_before(cycle);
}

void DramSystem::advance_to(std::uint64_t cycle) {
  for (;;) {
    std::uint64_t t;
    const unsigned c = earliest_channel(t);
    if (t >= cycle) break;
    step(c);
  }
}

std::uint64_t DramSystem::now() const {
  std::uint64_t t = 0;
  for (const auto& c : channels_) t = std::max(t, c->now());
  return t;
}

EnergyBreakdown DramSystem::energy_until(std::uint64_t cycle) const {
  EnergyBreakdown e;
  for (const auto& c : channels_) e += c->energy_until(cycle);
  return e;
}

double DramSystem::window_ns() const { return ns_of(channels_.front()->window_cycles()); }

std::vector<double> DramSystem::window_energy_until(std::uint64_t cycle) const {
  const std::uint64_t window = channels_.front()->window_cycles();
  const std::size_t n = cycle / window;
  std::vector<double> cumulative(n + 1, 0.0);
  for (const auto& c : channels_) {
    const auto& stored = c->energy_samples();
    // Boundaries past the channel's last command have not been sampled yet;
    // no command can precede them any more unless it is later submitted in
    // the past, so they are computed now rather than stored.
    for (std::size_t k = 1; k <= n; ++k)
      cumulative[k] += k <= stored.size() ? stored[k - 1] : c->energy_until(k * window).total_pj();
  }
  std::vector<double> per_window(n);
  for (std::size_t k = 0; k < n; ++k) per_window[k] = cumulative[k + 1] - cumulative[k];
  return per_window;
}

nlohmann::json DramSystem::stats_json(std::uint64_t cycle) const {
  using nlohmann::json;
  const Memspec& s = config_.memspec;
  const double elapsed_ns = ns_of(cycle);
  const double busy_ns =
      stats_.first_arrival_ns < 0 ? 0.0 : std::max(0.0, stats_.last_completion_ns - stats_.first_arrival_ns);
  const std::uint64_t bytes = stats_.read_bytes + stats_.write_bytes;
  const double bandwidth = busy_ns > 0 ? double(bytes) / busy_ns : 0.0;  // bytes/ns = GB/s
  const EnergyBreakdown energy = energy_until(cycle);

  json commands = json::object();
  json per_bank = json::array();
  std::uint64_t counts[9] = {};
  for (std::size_t ch = 0; ch < stats_.channels.size(); ++ch) {
    const ChannelStats& c = stats_.channels[ch];
    const std::uint64_t v[9] = {c.act, c.pre, c.pre_all, c.rd, c.wr, c.rda, c.wra, c.ref_all, c.ref_bank};
    for (int i = 0; i < 9; ++i) counts[i] += v[i];
    json banks = json::array();
    for (unsigned bank = 0; bank < c.banks.size(); ++bank) {
      const BankStats& b = c.banks[bank];
      // A row still open at the end counts up to it, as the VCD's bank state shows it.
      const std::uint64_t open = channels_[ch]->open_cycles_until(bank, cycle);
      const double data_cycles = double(b.reads + b.writes) * s.burst_cycles();
      banks.push_back({{"reads", b.reads},
                       {"writes", b.writes},
                       {"activates", b.activates},
                       {"precharges", b.precharges},
                       {"refreshes", b.refreshes},
                       {"utilization", cycle > 0 ? data_cycles / double(cycle) : 0.0},
                       {"row_open_fraction", cycle > 0 ? double(open) / double(cycle) : 0.0}});
    }
    per_bank.push_back(banks);
  }
  const char* names[9] = {"act", "pre", "pre_all", "rd", "wr", "rda", "wra", "ref_all", "ref_bank"};
  for (int i = 0; i < 9; ++i) commands[names[i]] = counts[i];

  std::uint64_t conflicts = 0, turnarounds = 0;
  for (const ChannelStats& c : stats_.channels) {
    conflicts += c.row_conflicts;
    turnarounds += c.turnarounds;
  }
  const std::vector<double> windows = window_energy_until(cycle);
  json power = json::array();
  const double wns = window_ns();
  for (double e : windows) power.push_back(e / wns);  // pJ/ns = mW

  return {{"memspec", s.name},
          {"channels", config_.channels},
          {"mapping", to_string(config_.mapping)},
          {"page_policy", to_string(config_.page_policy)},
          {"refresh", config_.per_bank_refresh ? "per_bank" : "all_bank"},
          {"peak_gbps", config_.peak_gbps()},
          {"elapsed_ns", elapsed_ns},
          {"read_requests", stats_.read_requests},
          {"write_requests", stats_.write_requests},
          {"read_bytes", stats_.read_bytes},
          {"write_bytes", stats_.write_bytes},
          {"bandwidth_gbps", bandwidth},
          {"utilization", bandwidth / config_.peak_gbps()},
          {"read_latency_ns", LatencySummary::of(stats_.read_latency_ns).to_json()},
          {"write_latency_ns", LatencySummary::of(stats_.write_latency_ns).to_json()},
          {"row_hit_rate", stats_.row_hit_rate()},
          {"row_conflicts", conflicts},
          {"turnarounds", turnarounds},
          {"refresh_count", stats_.refreshes()},
          {"commands", commands},
          {"per_bank", per_bank},
          {"energy_pj", energy.to_json()},
          {"energy_pj_per_bit", bytes > 0 ? energy.total_pj() / (8.0 * double(bytes)) : 0.0},
          {"avg_power_mw", elapsed_ns > 0 ? energy.total_pj() / elapsed_ns : 0.0},
          {"power_mw_over_time", {{"window_ns", wns}, {"samples", power}}}};
}

}  // namespace npuvp::dram
