// The fast per-packet model against the cycle-level reference, and the
// reference against the analytic figures. Pure C++: no SystemC kernel.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include <gtest/gtest.h>

#include "models/noc/cycle_model.h"
#include "models/noc/fast_model.h"
#include "models/noc/traffic.h"
#include "tests/noc/mesh_config.h"

namespace npuvp::noc {
namespace {

// Latency of one packet alone in an empty cycle-level network.
Cycle reference_alone(const NocConfig& c, NodeId src, NodeId dst, std::uint64_t flits) {
  CycleMeshModel ref(c);
  ref.offer(0, src, dst, flits);
  std::vector<CycleMeshModel::Delivery> got;
  while (!ref.idle()) {
    ref.step();
    for (const auto& d : ref.take_deliveries()) got.push_back(d);
  }
  EXPECT_EQ(got.size(), 1u);
  return got.empty() ? 0 : got[0].done - got[0].offered;
}

TEST(ZeroLoad, HandDerivedLatency) {
  // 4x4, router 2 cycles, link 1 cycle; (0,0) -> (3,2) crosses 3 + 2 links
  // between routers, so 6 routers each followed by a link (the last one into
  // the endpoint): 6 * (2 + 1) = 18 cycles for the head, and the 5-flit
  // packet's tail follows 5 cycles of serialization later: 23.
  const NocConfig c = mesh_config(4);
  const Mesh mesh(c);
  const NodeId src = mesh.node(0, 0), dst = mesh.node(3, 2);
  EXPECT_EQ(mesh.zero_load_latency(src, dst, 5), 23u);
  EXPECT_EQ(reference_alone(c, src, dst, 5), 23u);
  FastMeshModel fast(c);
  EXPECT_EQ(fast.unicast(src, dst, 5, 100), 123u);
}

TEST(ZeroLoad, BothModelsEqualAnalyticForEveryPairAndTiming) {
  struct Timing {
    unsigned router, link, buffer, vcs;
  };
  for (const Timing t : {Timing{2, 1, 8, 2}, Timing{1, 1, 3, 1}, Timing{3, 2, 7, 4}}) {
    NocConfig c = mesh_config(4, t.vcs);
    c.router_cycles = t.router;
    c.link_cycles = t.link;
    c.buffer_flits = t.buffer;
    const Mesh mesh(c);
    for (std::uint64_t flits : {1, 4, 40}) {
      for (NodeId s = 0; s < mesh.nodes(); ++s) {
        for (NodeId d = 0; d < mesh.nodes(); ++d) {
          const Cycle analytic = mesh.hops(s, d) * (t.router + t.link) + flits;
          ASSERT_EQ(reference_alone(c, s, d, flits), analytic) << s << "->" << d << " flits " << flits;
          FastMeshModel fast(c);
          ASSERT_EQ(fast.unicast(s, d, flits, 7) - 7, analytic) << s << "->" << d << " flits " << flits;
        }
      }
    }
  }
}

struct Comparison {
  LatencyHistogram reference, fast;
  double reference_accepted = 0;
};

// The same random packets through both models; packets created after a
// warm-up of a fifth of the window are measured.
Comparison run_both(const NocConfig& c, double rate, std::uint64_t flits, Cycle window, std::uint64_t seed) {
  CycleMeshModel ref(c);
  FastMeshModel fast(c);
  TrafficGenerator traffic(ref.mesh(), TrafficPattern::kUniform, rate, flits, seed);
  Comparison out;
  const Cycle warmup = window / 5, end = warmup + window;
  std::uint64_t ejected_at_warmup = 0;
  for (Cycle now = 0; now < end || !ref.idle(); ++now) {
    if (now == warmup) ejected_at_warmup = ref.ejected_flits();
    if (now == end)
      out.reference_accepted = double(ref.ejected_flits() - ejected_at_warmup) / ref.mesh().nodes() / window;
    if (now < end) {
      fast.set_horizon(now);
      traffic.tick([&](NodeId s, NodeId d) {
        ref.offer(now >= warmup, s, d, flits);
        const Cycle done = fast.unicast(s, d, flits, now);
        if (now >= warmup) out.fast.add(done - now);
      });
    }
    ref.step();
    for (const auto& d : ref.take_deliveries())
      if (d.tag == 1) out.reference.add(d.done - d.offered);
  }
  return out;
}

// Stated bound: for uniform random traffic at up to half the bisection bound,
// the fast model's mean packet latency is within 15% of the cycle-level
// model's, for any VC count (NocBench.FastModelAgrees... holds the platform's
// 2 VCs to 5%).
constexpr double kMeanLatencyTolerance = 0.15;

TEST(FastVsReference, AgreeUnderContentionForRandomTraffic) {
  struct Case {
    unsigned k, vcs;
    double load;  // share of the bisection bound 4/k
  };
  for (const Case cs :
       {Case{4, 2, 0.25}, Case{4, 2, 0.5}, Case{8, 2, 0.25}, Case{8, 2, 0.5}, Case{4, 1, 0.3}, Case{8, 4, 0.5}}) {
    const double rate = cs.load * 4.0 / cs.k;
    const Comparison r = run_both(mesh_config(cs.k, cs.vcs), rate, 4, 5000, 7);
    const double rel = (r.fast.mean() - r.reference.mean()) / r.reference.mean();
    std::printf("%ux%u, %u VCs, offered %.3f: mean latency reference %.2f fast %.2f (%+.1f%%), p99 %lu / %lu\n", cs.k,
                cs.k, cs.vcs, rate, r.reference.mean(), r.fast.mean(), 100 * rel,
                static_cast<unsigned long>(r.reference.percentile(0.99)),
                static_cast<unsigned long>(r.fast.percentile(0.99)));
    EXPECT_EQ(r.reference.count(), r.fast.count());
    EXPECT_LE(std::abs(rel), kMeanLatencyTolerance) << cs.k << "x" << cs.k << " at " << rate;
    EXPECT_NEAR(r.reference_accepted, rate, 0.05 * rate);
  }
}

TEST(FastVsReference, BackPressureHoldsUpstreamLinks) {
  // One virtual channel, 8-flit buffers. P1 (1,1)->(1,2) holds (1,1)'s south
  // output for 32 cycles; P2 (0,0)->(1,2) waits behind it, its flits fill the
  // buffers back to (1,0)'s south output; P3 (1,0)->(1,1) needs that output
  // ten cycles later and waits until P2's tail has left it.
  const NocConfig c = mesh_config(4, 1);
  const Mesh mesh(c);
  CycleMeshModel ref(c);
  FastMeshModel fast(c);
  ref.offer(1, mesh.node(1, 1), mesh.node(1, 2), 32);
  ref.offer(2, mesh.node(0, 0), mesh.node(1, 2), 32);
  fast.unicast(mesh.node(1, 1), mesh.node(1, 2), 32, 0);
  fast.unicast(mesh.node(0, 0), mesh.node(1, 2), 32, 0);
  while (ref.now() < 10) ref.step();
  ref.offer(3, mesh.node(1, 0), mesh.node(1, 1), 4);
  const Cycle fast_p3 = fast.unicast(mesh.node(1, 0), mesh.node(1, 1), 4, 10) - 10;
  Cycle ref_p3 = 0;
  while (!ref.idle()) {
    ref.step();
    for (const auto& d : ref.take_deliveries())
      if (d.tag == 3) ref_p3 = d.done - d.offered;
  }
  const Cycle alone = mesh.zero_load_latency(mesh.node(1, 0), mesh.node(1, 1), 4);
  std::printf("P3 latency: alone %lu, reference %lu, fast %lu cycles\n", static_cast<unsigned long>(alone),
              static_cast<unsigned long>(ref_p3), static_cast<unsigned long>(fast_p3));
  // Without back-pressure P3 would only wait for P2's 32 flits to pass.
  EXPECT_GT(ref_p3, alone + 40);
  EXPECT_GT(fast_p3, alone + 40);
  EXPECT_LE(std::abs(double(fast_p3) - double(ref_p3)), 0.15 * double(ref_p3));
}

TEST(Saturation, UniformRandomReachesSeventyPercentOfBisectionBound) {
  const unsigned k = 8;
  const NocConfig c = mesh_config(k);
  CycleMeshModel ref(c);
  // Offered well beyond saturation: the sources always have a packet.
  TrafficGenerator traffic(ref.mesh(), TrafficPattern::kUniform, 0.8, 4, 3);
  const Cycle warmup = 2000, window = 8000;
  std::uint64_t at_warmup = 0;
  for (Cycle now = 0; now < warmup + window; ++now) {
    if (now == warmup) at_warmup = ref.ejected_flits();
    traffic.tick([&](NodeId s, NodeId d) { ref.offer(0, s, d, 4); });
    ref.step();
    ref.take_deliveries();
  }
  const double accepted = double(ref.ejected_flits() - at_warmup) / ref.mesh().nodes() / window;
  const double bound = 4.0 / k;
  const double exact = bisection_bound(ref.mesh(), TrafficPattern::kUniform);
  std::printf(
      "%ux%u uniform saturation throughput %.3f flits/node/cycle; bisection bound 4/k %.3f "
      "(%.3f for uniform traffic that excludes the source); %.0f%% of 4/k\n",
      k, k, accepted, bound, exact, 100 * accepted / bound);
  EXPECT_GE(accepted, 0.7 * bound);
  EXPECT_LE(accepted, exact);
  EXPECT_LE(exact, bound);
}

TEST(Traffic, PatternsAndBounds) {
  const Mesh mesh(mesh_config(4));
  for (auto p :
       {TrafficPattern::kUniform, TrafficPattern::kTranspose, TrafficPattern::kHotspot, TrafficPattern::kNeighbor}) {
    for (NodeId s = 0; s < mesh.nodes(); ++s) {
      double sum = 0;
      for (const auto& [d, prob] : destinations(mesh, p, s)) sum += prob;
      EXPECT_NEAR(sum, 1.0, 1e-12) << to_string(p);
    }
  }
  // Uniform including the source would give exactly 4/k = 1; excluding it,
  // 8 nodes per side send 8/15 of their load across 4 links.
  EXPECT_NEAR(bisection_bound(mesh, TrafficPattern::kUniform), 4.0 / (8 * 8.0 / 15), 1e-12);
  // Transpose: the 4 nodes of each half whose row lies in the other half cross 4 links.
  EXPECT_NEAR(bisection_bound(mesh, TrafficPattern::kTranspose), 4.0 / 4, 1e-12);
  EXPECT_NEAR(zero_load_latency(mesh, TrafficPattern::kNeighbor, 1), (12 * 2 * 3 + 4 * 4 * 3) / 16.0 + 1, 1e-12);
  TrafficPattern parsed;
  EXPECT_TRUE(parse_traffic("hotspot", parsed));
  EXPECT_EQ(parsed, TrafficPattern::kHotspot);
  EXPECT_FALSE(parse_traffic("tornado", parsed));
  EXPECT_FALSE(traffic_requirement(Mesh([] {
                                     NocConfig c;
                                     c.width = 4;
                                     c.height = 2;
                                     return c;
                                   }()),
                                   TrafficPattern::kTranspose)
                   .empty());
}

TEST(FastModel, MulticastUsesEachTreeLinkOnce) {
  const NocConfig c = mesh_config(4);
  FastMeshModel fast(c);
  const Mesh& mesh = fast.mesh();
  const NodeId src = mesh.node(0, 0);
  const std::vector<NodeId> dsts = {mesh.node(1, 1), mesh.node(3, 1), mesh.node(1, 3)};
  std::vector<Cycle> done;
  const Cycle last = fast.multicast(src, dsts, 6, 0, done);
  ASSERT_EQ(done.size(), 3u);
  for (std::size_t i = 0; i < dsts.size(); ++i) EXPECT_EQ(done[i], mesh.zero_load_latency(src, dsts[i], 6));
  EXPECT_EQ(last, std::max({done[0], done[1], done[2]}));
  // XY tree: inject, (0,0)E, (1,0)S, (1,1)eject | (1,0)E, (2,0)E, (3,0)S,
  // (3,1)eject | (1,1)S, (1,2)S, (1,3)eject: 11 channels instead of the
  // 4 + 6 + 6 of three unicasts.
  std::uint64_t used = 0;
  for (const LinkStats& l : fast.stats().links) {
    if (l.flits == 0) continue;
    ++used;
    EXPECT_EQ(l.flits, 6u) << l.name;
  }
  EXPECT_EQ(used, 11u);
  EXPECT_EQ(fast.stats().flit_hops, 6u * 10);
  EXPECT_EQ(fast.stats().multicast_packets, 1u);
}

// A packet of random traffic on a 4x4 mesh: the horizon `now` moves on by
// less than `max_step`, the packet is ready less than `max_ahead` after it.
struct RandomPacket {
  NodeId src, dst;
  std::uint64_t flits;
  Cycle ready;
};
RandomPacket random_packet(std::mt19937_64& rng, Cycle& now, unsigned max_step, unsigned max_flits,
                           unsigned max_ahead) {
  now += rng() % max_step;
  RandomPacket p;
  p.src = rng() % 16;
  p.dst = rng() % 16;
  p.flits = 1 + rng() % max_flits;
  p.ready = now + rng() % max_ahead;
  return p;
}

// Forgetting what the horizon passed is housekeeping: packets ready out of
// order up to 100 cycles ahead of a creeping horizon (as loosely timed
// initiators issue them) get the same times, link counts and latency
// distribution as in a model that never forgets anything, over enough
// packets that every channel forgets many times.
TEST(FastModel, ForgettingThePastNeverChangesATime) {
  const NocConfig c = mesh_config(4);
  FastMeshModel forgetting(c), keeping(c);
  std::mt19937_64 rng(11);
  Cycle now = 0;
  std::vector<Cycle> done_a, done_b;
  for (int i = 0; i < 40000; ++i) {
    const auto [src, dst, flits, ready] = random_packet(rng, now, 8, 24, 100);
    forgetting.set_horizon(now);
    if (i % 50 == 0) {
      const std::vector<NodeId> dsts = {dst, NodeId((dst + 5) % 16), NodeId((dst + 9) % 16)};
      ASSERT_EQ(forgetting.multicast(src, dsts, flits, ready, done_a),
                keeping.multicast(src, dsts, flits, ready, done_b))
          << "packet " << i;
      ASSERT_EQ(done_a, done_b);
    } else {
      ASSERT_EQ(forgetting.unicast(src, dst, flits, ready), keeping.unicast(src, dst, flits, ready)) << "packet " << i;
    }
  }
  forgetting.flush(now);
  keeping.flush(now);
  for (std::size_t l = 0; l < keeping.stats().links.size(); ++l) {
    EXPECT_EQ(forgetting.stats().links[l].busy_cycles, keeping.stats().links[l].busy_cycles);
    EXPECT_EQ(forgetting.stats().links[l].flits, keeping.stats().links[l].flits);
  }
  EXPECT_EQ(forgetting.stats().latency.percentile(0.99), keeping.stats().latency.percentile(0.99));
  EXPECT_EQ(forgetting.stats().latency.mean(), keeping.stats().latency.mean());
  EXPECT_EQ(forgetting.last_busy(), keeping.last_busy());
}

// A multicast of several packets (MeshNoc's packets of at most a buffer)
// builds its tree once and times the packets in turn: the same times, link
// counts and latencies as each packet sent alone along it, among unicasts.
TEST(FastModel, APacketTrainAlongOneTreeTimesAsItsPacketsOneByOne) {
  const NocConfig c = mesh_config(4);
  FastMeshModel train(c), one_by_one(c);
  std::mt19937_64 rng(5);
  Cycle now = 0;
  std::vector<Cycle> done_train, done_one, done_packet;
  for (int i = 0; i < 20000; ++i) {
    const auto [src, dst, flits, ready] = random_packet(rng, now, 8, 24, 100);
    if (i % 10 != 0) {
      ASSERT_EQ(train.unicast(src, dst, flits, ready), one_by_one.unicast(src, dst, flits, ready)) << "packet " << i;
      continue;
    }
    const std::vector<NodeId> dsts = {dst, NodeId((dst + 6) % 16), NodeId((dst + 11) % 16), src};
    const std::uint64_t packets[] = {8, 8, 8, 1 + rng() % 8};
    Cycle last = 0;
    done_one.assign(dsts.size(), 0);
    for (std::uint64_t p : packets) {
      last = std::max(last, one_by_one.multicast(src, dsts, p, ready, done_packet));
      for (std::size_t d = 0; d < dsts.size(); ++d) done_one[d] = std::max(done_one[d], done_packet[d]);
    }
    ASSERT_EQ(train.multicast(src, dsts, packets, 4, ready, done_train), last) << "packet " << i;
    ASSERT_EQ(done_train, done_one) << "packet " << i;
  }
  EXPECT_EQ(train.stats().multicast_packets, one_by_one.stats().multicast_packets);
  EXPECT_EQ(train.stats().flit_hops, one_by_one.stats().flit_hops);
  EXPECT_EQ(train.stats().latency.mean(), one_by_one.stats().latency.mean());
  for (std::size_t l = 0; l < train.stats().links.size(); ++l)
    EXPECT_EQ(train.stats().links[l].busy_cycles, one_by_one.stats().links[l].busy_cycles);
}

TEST(FastModel, AFlitLeavesARouterNoEarlierThanItArrived) {
  // 4x4, router 2 cycles, link 1, injection 0. R (0,0)->(1,1), 4 flits ready
  // at 2, timed first, crosses the injection channel at 2..5, (0,0)E at 4..7
  // and turns south at (1,0), read out of its west input at 7..10.
  // P (0,0)->(3,0), 8 flits ready at 0, timed after it: flits 0-1 inject at
  // 0-1, flits 2-7 at 6-11, after R's. Each hop takes 3 cycles (router and
  // link), so flits 2-7 cross (0,0)E at 8-13 and (1,0)E at 11-16 (R holds
  // the link, then the crossbar input, in between), and arrive at (2,0) at
  // 12-17: they leave at 14-19, though (2,0)E and its input are free from 8,
  // where flits 0-1 leave. Ejection at (3,0): flits 0-1 at 11-12, 2-7 at
  // 17-22; the tail is in the endpoint 2 cycles later, at 24. Alone P takes
  // 20: R's four flits at the source delay its last six by four.
  const NocConfig c = mesh_config(4);
  FastMeshModel fast(c);
  const Mesh& mesh = fast.mesh();
  const NodeId src = mesh.node(0, 0), dst = mesh.node(3, 0);
  EXPECT_EQ(fast.unicast(src, mesh.node(1, 1), 4, 2), 15u);
  EXPECT_EQ(mesh.zero_load_latency(src, dst, 8), 20u);
  EXPECT_EQ(fast.unicast(src, dst, 8, 0), 24u);
  // The link (2,0)E carried them in two runs: 8-9 and 14-19.
  const auto& links = fast.stats().links;
  const auto link = std::find_if(links.begin(), links.end(), [](const LinkStats& l) { return l.name == "r2_0.E"; });
  ASSERT_NE(link, links.end());
  EXPECT_EQ(link->busy_cycles, 8u);
  EXPECT_EQ(link->flits, 8u);
}

TEST(FastModel, APacketShorterThanABufferDoesNotHoldItsVcUpstream) {
  // One VC of 8 flits. P1 (1,1)->(1,2), 32 flits, holds (1,1)'s south output
  // for 32 cycles; P2 (0,0)->(1,2), 4 flits, waits at (1,1) behind it, all
  // its flits in the buffer there, so its VCs on (0,0)E and (1,0)S are free
  // once its tail has crossed them. P3 (0,0)->(1,0), 4 flits, at 10 needs
  // (0,0)E and the ejection at (1,0): it goes as if alone, in the reference
  // too. (A packet longer than a buffer does hold them:
  // FastVsReference.BackPressureHoldsUpstreamLinks.)
  const NocConfig c = mesh_config(4, 1);
  const Mesh mesh(c);
  CycleMeshModel ref(c);
  FastMeshModel fast(c);
  const NodeId src = mesh.node(0, 0), dst = mesh.node(1, 0);
  ref.offer(1, mesh.node(1, 1), mesh.node(1, 2), 32);
  ref.offer(2, src, mesh.node(1, 2), 4);
  fast.unicast(mesh.node(1, 1), mesh.node(1, 2), 32, 0);
  fast.unicast(src, mesh.node(1, 2), 4, 0);
  while (ref.now() < 10) ref.step();
  ref.offer(3, src, dst, 4);
  Cycle ref_p3 = 0;
  while (!ref.idle()) {
    ref.step();
    for (const auto& d : ref.take_deliveries())
      if (d.tag == 3) ref_p3 = d.done - d.offered;
  }
  const Cycle alone = mesh.zero_load_latency(src, dst, 4);
  EXPECT_EQ(ref_p3, alone);
  EXPECT_EQ(fast.unicast(src, dst, 4, 10) - 10, alone);
}

TEST(FastModel, APacketWithoutFlitsIsRefusedAndChangesNothing) {
  const NocConfig c = mesh_config(4);
  FastMeshModel fast(c);
  const Mesh& mesh = fast.mesh();
  std::vector<Cycle> done;
  try {
    fast.unicast(mesh.node(0, 0), mesh.node(3, 2), 0, 0);
    ADD_FAILURE() << "a packet of no flits was timed";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "FastMeshModel: a packet has at least one flit (its header)");
  }
  EXPECT_THROW(fast.multicast(mesh.node(0, 0), {mesh.node(1, 1), mesh.node(3, 1)}, 0, 0, done), std::invalid_argument);
  EXPECT_EQ(fast.stats().packets, 0u);
  // The same tree timed afterwards is timed as in an empty network.
  const Cycle last = fast.multicast(mesh.node(0, 0), {mesh.node(1, 1), mesh.node(3, 1)}, 6, 0, done);
  EXPECT_EQ(done[0], mesh.zero_load_latency(mesh.node(0, 0), mesh.node(1, 1), 6));
  EXPECT_EQ(last, mesh.zero_load_latency(mesh.node(0, 0), mesh.node(3, 1), 6));
}

// Speed work on the fast model must not move a single time. Out-of-order,
// near-saturation random traffic with multicasts on 1 to 4 VCs, every
// delivery cycle hashed (FNV-1a): the times of the model since a flit leaves a
// router no earlier than it arrived and only a packet longer than a buffer
// holds its own tail (docs/noc.md); the times before were 4be7d65's, kept
// through the per-hop work's cuts.
TEST(FastModel, TimesOfRandomTrafficArePinnedForOneToFourVcs) {
  const std::uint64_t pinned[] = {12898750633147051918ull, 14138777912984188681ull, 14936590906599038362ull,
                                  6025391126722536199ull};
  for (unsigned vcs = 1; vcs <= 4; ++vcs) {
    FastMeshModel m(mesh_config(4, vcs));
    std::mt19937_64 rng(23);
    std::uint64_t hash = 1469598103934665603ull;
    const auto mix = [&](std::uint64_t v) { hash = (hash ^ v) * 1099511628211ull; };
    Cycle now = 0;
    std::vector<Cycle> done;
    for (int i = 0; i < 20000; ++i) {
      const auto [src, dst, flits, ready] = random_packet(rng, now, 3, 12, 200);
      m.set_horizon(now);
      if (i % 40 == 0) {
        mix(m.multicast(src, {dst, NodeId((dst + 3) % 16), NodeId((dst + 10) % 16)}, flits, ready, done));
        for (Cycle d : done) mix(d);
      } else {
        mix(m.unicast(src, dst, flits, ready));
      }
    }
    EXPECT_EQ(hash, pinned[vcs - 1]) << vcs << " VCs";
    EXPECT_EQ(m.last_busy(), vcs == 1 ? 20226u : 20214u) << vcs << " VCs";
  }
}

// The largest mesh a configuration allows: nothing per pair of nodes is kept
// (4.3 G pairs), so it is built and times a packet corner to corner.
TEST(FastModel, TheLargestMeshTimesAPacket) {
  FastMeshModel fast(mesh_config(256));
  const NodeId far = fast.mesh().node(255, 255);
  EXPECT_EQ(fast.unicast(0, far, 4, 0), fast.mesh().zero_load_latency(0, far, 4));
  EXPECT_EQ(fast.unicast(far, 0, 4, 0), fast.mesh().zero_load_latency(far, 0, 4));
}

// allocate() keeps a router's held VCs in an array of kMaxVirtualChannels.
TEST(FastModel, RejectsMoreVirtualChannelsThanItKeeps) {
  EXPECT_THROW({ FastMeshModel m(mesh_config(4, kMaxVirtualChannels + 1)); }, NocConfigError);
  EXPECT_THROW({ FastMeshModel m(mesh_config(4, 0)); }, NocConfigError);
  EXPECT_NO_THROW({ FastMeshModel m(mesh_config(4, kMaxVirtualChannels)); });
}

TEST(FastModel, StatsJsonCarriesUnits) {
  FastMeshModel fast(mesh_config(2));
  fast.unicast(0, 3, 4, 0);
  const auto j = fast.stats().to_json(100, 1.25);
  EXPECT_EQ(j["packets"], 1);
  EXPECT_EQ(j["flit_hops"], 4 * 3);
  EXPECT_EQ(j["latency_cycles"]["max"], 3 * 3 + 4);
  EXPECT_DOUBLE_EQ(j["cycle_ns"].get<double>(), 1.25);
  bool found = false;
  for (const auto& l : j["links"])
    if (l["name"] == "r0_0.E") found = l["flits"] == 4 && l["utilization"].get<double>() == 0.04;
  EXPECT_TRUE(found);
  EXPECT_NE(fast.stats().to_text(100, 1.25).find("link r0_0.E: 4 flits"), std::string::npos);
}

}  // namespace
}  // namespace npuvp::noc
