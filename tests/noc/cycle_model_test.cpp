// The cycle-level reference on its own: its deliveries pinned for speed work,
// and multicast trees derived by hand. Pure C++: no SystemC kernel.
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "models/noc/cycle_model.h"
#include "models/noc/fast_model.h"
#include "tests/noc/mesh_config.h"

namespace npuvp::noc {
namespace {

// FNV-1a over everything a run delivers and counts.
struct Hash {
  std::uint64_t value = 1469598103934665603ull;
  void mix(std::uint64_t v) { value = (value ^ v) * 1099511628211ull; }
};

// Random traffic near and above saturation: every cycle each node offers a
// packet of 1 to 12 flits (longer than a buffer now and then) with
// probability `rate`, until `cycles`, then the network drains.
std::uint64_t hash_of_random_run(const NocConfig& c, double rate, Cycle cycles, std::uint64_t seed) {
  CycleMeshModel m(c);
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution offers(rate);
  Hash h;
  std::uint64_t tag = 0;
  while (m.now() < cycles || !m.idle()) {
    if (m.now() < cycles)
      for (NodeId src = 0; src < m.mesh().nodes(); ++src)
        if (offers(rng)) m.offer(tag++, src, static_cast<NodeId>(rng() % m.mesh().nodes()), 1 + rng() % 12);
    m.step();
    for (const CycleMeshModel::Delivery& d : m.take_deliveries()) {
      h.mix(d.tag);
      h.mix(d.offered);
      h.mix(d.done);
    }
  }
  h.mix(m.now());
  h.mix(m.ejected_flits());
  h.mix(m.stats().flit_hops);
  for (const LinkStats& l : m.stats().links) {
    h.mix(l.flits);
    h.mix(l.busy_cycles);
  }
  return h.value;
}

// Speed work on the reference must not move a single cycle: 1 to 4 VCs, and
// slower routers and links with an odd buffer, each near and above
// saturation. Pinned with the model of 8c2939d.
TEST(CycleModel, DeliveriesOfRandomTrafficArePinned) {
  struct Case {
    unsigned vcs, router, link, buffer;
    double rate;
    std::uint64_t pinned;
  };
  const Case cases[] = {
      {1, 2, 1, 8, 0.04, 10919340998635568493ull}, {2, 2, 1, 8, 0.06, 7370307050038624877ull},
      {4, 2, 1, 8, 0.06, 3772694539639248889ull},  {2, 2, 1, 8, 0.2, 9652111258643786399ull},
      {3, 3, 2, 7, 0.05, 10347728790141934778ull},
  };
  for (const Case& cs : cases) {
    NocConfig c = mesh_config(4, cs.vcs);
    c.router_cycles = cs.router;
    c.link_cycles = cs.link;
    c.buffer_flits = cs.buffer;
    EXPECT_EQ(hash_of_random_run(c, cs.rate, 3000, 11), cs.pinned)
        << cs.vcs << " VCs, router " << cs.router << ", link " << cs.link << ", rate " << cs.rate;
  }
}

// Steps `m` until idle: each delivery's done cycle by tag.
std::map<std::uint64_t, Cycle> run_to_idle(CycleMeshModel& m) {
  std::map<std::uint64_t, Cycle> done;
  while (!m.idle()) {
    m.step();
    for (const CycleMeshModel::Delivery& d : m.take_deliveries()) done[d.tag] = d.done;
  }
  return done;
}

// Alone in the network, every copy arrives at its unicast's zero-load
// latency (branches are granted in the same cycle), each tree link carries the
// flits once, and the fast model times the same tree alike.
TEST(CycleModelMulticast, ZeroLoadCopiesArriveAsUnicastsAndEachTreeLinkCarriesThemOnce) {
  const NocConfig c = mesh_config(4);
  CycleMeshModel m(c);
  const Mesh& mesh = m.mesh();
  const NodeId src = mesh.node(0, 0);
  // (1,0) lies on the way to (3,1) and (1,3), the source is one of them.
  const std::vector<NodeId> dsts = {mesh.node(1, 1), mesh.node(3, 1), mesh.node(1, 3), mesh.node(1, 0), src};
  std::vector<CycleMeshModel::Destination> to;
  for (std::size_t i = 0; i < dsts.size(); ++i) to.push_back({dsts[i], 100 + i});
  m.offer_multicast(src, to, 6);
  const std::map<std::uint64_t, Cycle> done = run_to_idle(m);
  ASSERT_EQ(done.size(), dsts.size());
  FastMeshModel fast(c);
  std::vector<Cycle> fast_done;
  fast.multicast(src, dsts, 6, 0, fast_done);
  for (std::size_t i = 0; i < dsts.size(); ++i) {
    EXPECT_EQ(done.at(100 + i), mesh.zero_load_latency(src, dsts[i], 6)) << "destination " << dsts[i];
    EXPECT_EQ(fast_done[i], done.at(100 + i)) << "destination " << dsts[i];
  }
  // Inject, (0,0)E, eject at (0,0), (1,0)E, (1,0)S, eject at (1,0), (1,1)S,
  // eject at (1,1), (1,2)S, eject at (1,3), (2,0)E, (3,0)S, eject at (3,1):
  // 13 channels, 12 router traversals.
  std::uint64_t used = 0;
  for (const LinkStats& l : m.stats().links) {
    if (l.flits == 0) continue;
    ++used;
    EXPECT_EQ(l.flits, 6u) << l.name;
  }
  EXPECT_EQ(used, 13u);
  EXPECT_EQ(m.stats().flit_hops, 6u * 12);
  EXPECT_EQ(fast.stats().flit_hops, m.stats().flit_hops);
  EXPECT_EQ(m.stats().packets, 1u);
  EXPECT_EQ(m.stats().multicast_packets, 1u);
  EXPECT_EQ(m.stats().latency.count(), 1u);
  EXPECT_EQ(m.stats().latency.max(), mesh.zero_load_latency(src, mesh.node(1, 3), 6));
}

// A copy held back at a branch does not hold back the others, within the
// buffer they share. P, 20 flits (1,0) -> (1,1), holds (1,0)'s south output
// from cycle 2 on. M, 4 flits (0,0) -> {(1,1), (2,0)}, branches at (1,0): its
// head is due there at 5 and claims east VC 0 and south VC 1 (P holds VC 0).
// East is free: its flits leave at 5, 6, 7, 8, as alone (13 cycles). South
// alternates with P (round robin among input ports, west before local at 5):
// M's flits leave at 5, 7, 9, 11 and reach (1,1)'s ejection between P's, the
// tail due at 14, in at 16. P lost cycles 5, 7, 9, 11: its tail leaves (1,0)
// at 25, is in at 30 (26 alone).
// P (tag 1) of `p_flits` from (1,0) to (1,1), and M of `m_flits` from (0,0)
// to (1,1) (tag 2) and (2,0) (tag 3), both offered at cycle 0.
std::map<std::uint64_t, Cycle> branch_beside(const Mesh& mesh, std::uint64_t p_flits, std::uint64_t m_flits,
                                             unsigned buffer_flits = 8) {
  NocConfig c = mesh_config(4);
  c.buffer_flits = buffer_flits;
  CycleMeshModel m(c);
  m.offer(1, mesh.node(1, 0), mesh.node(1, 1), p_flits);
  m.offer_multicast(mesh.node(0, 0), {{mesh.node(1, 1), 2}, {mesh.node(2, 0), 3}}, m_flits);
  return run_to_idle(m);
}

TEST(CycleModelMulticast, ABranchWaitingForItsOutputLetsTheOthersGoOn) {
  const Mesh mesh(mesh_config(4));
  const std::map<std::uint64_t, Cycle> done = branch_beside(mesh, 20, 4);
  EXPECT_EQ(done.at(3), 13u);
  EXPECT_EQ(mesh.zero_load_latency(mesh.node(0, 0), mesh.node(2, 0), 4), 13u);
  EXPECT_EQ(done.at(2), 16u);
  EXPECT_EQ(done.at(1), 30u);
}

// The same with M 40 flits and P 80: the copies run apart only as far as the
// input buffer they share at (1,0) allows, since a flit leaves it once both
// branches sent it. South keeps alternating with P: M's flit j leaves south at
// 5 + 2j, the tail at 83, in at 88 (49 alone). Flit j's slot is then free and
// its credit back at (0,0) at 6 + 2j, so flit k of M, needing the slot of flit
// k - 8 (8-flit buffers), leaves (0,0) at max(k + 2, 2k - 10): from k = 13 on
// at 2k - 10. East sends each flit when due at (1,0), three cycles later, the
// tail at 71: in at 76, between 49 alone and south's 88. P's tail, behind 40
// lost cycles, leaves at 121, in at 126.
TEST(CycleModelMulticast, BranchesRunApartOnlyAsFarAsTheirSharedBufferAllows) {
  const Mesh mesh(mesh_config(4));
  const std::map<std::uint64_t, Cycle> done = branch_beside(mesh, 80, 40);
  EXPECT_EQ(mesh.zero_load_latency(mesh.node(0, 0), mesh.node(2, 0), 40), 49u);
  EXPECT_EQ(done.at(3), 76u);
  EXPECT_EQ(done.at(2), 88u);
  EXPECT_EQ(done.at(1), 126u);
}

// The same for any buffer B and lengths F of M (P twice as long): flit k of M
// leaves (0,0) at max(k + 2, 2k - 2B + 6), so east's copy is in at
// max(F + 9, 2F - 2B + 12), south's at 2F + 8, P's at 2 + (2F - 1) + F + 5.
// With 300-flit buffers east runs up to 300 flits ahead of south.
TEST(CycleModelMulticast, ACopyRunsAheadByAsManyFlitsAsTheSharedBufferHolds) {
  const Mesh mesh(mesh_config(4));
  const std::map<std::uint64_t, Cycle> done = branch_beside(mesh, 2000, 1000, 300);
  EXPECT_EQ(done.at(3), 2000u - 600 + 12);
  EXPECT_EQ(done.at(2), 2008u);
  EXPECT_EQ(done.at(1), 2u + 1999 + 1000 + 5);
}

// Four multicasts to (1,0) and (1,1) that branch at one and go on to the
// other: from (0,0) and (2,0) they branch at (1,0) (its endpoint and south),
// from (0,1) and (2,1) at (1,1) (its endpoint and north). At each branch
// router two of them take both ejection VCs, and their copies to the other
// router wait there for those VCs. A copy's first 8 flits fill the input
// buffer it waits in, the next 8 the buffer its packet shares at the branch
// router (sent to that endpoint, not yet on the other branch): a packet of
// up to 16 flits is then in whole, its ejection VC free once the tail is
// through, and all are delivered. A 17th flit cannot come in: every packet
// holds an ejection VC the copies of the others wait for. 64 flits were
// ejected (16 a packet), 68 wait (a packet's two full buffers and its 17th
// flit in its source router), and from cycle 37 on nothing moves.
void offer_crossing_multicasts(CycleMeshModel& m, std::uint64_t flits) {
  const Mesh& mesh = m.mesh();
  const NodeId top = mesh.node(1, 0), below = mesh.node(1, 1);
  m.offer_multicast(mesh.node(0, 0), {{top, 1}, {below, 2}}, flits);
  m.offer_multicast(mesh.node(2, 0), {{top, 3}, {below, 4}}, flits);
  m.offer_multicast(mesh.node(0, 1), {{below, 5}, {top, 6}}, flits);
  m.offer_multicast(mesh.node(2, 1), {{below, 7}, {top, 8}}, flits);
}

TEST(CycleModelMulticast, BranchesWaitingForOneAnotherThroughSharedBuffersDeadlock) {
  CycleMeshModel fits(mesh_config(4));
  offer_crossing_multicasts(fits, 16);
  EXPECT_EQ(run_to_idle(fits).size(), 8u);

  CycleMeshModel m(mesh_config(4));
  offer_crossing_multicasts(m, 17);
  try {
    run_to_idle(m);
    FAIL() << "no deadlock";
  } catch (const NocDeadlock& e) {
    EXPECT_EQ(e.cycle(), 37u);
    EXPECT_STREQ(e.what(),
                 "CycleMeshModel: deadlock: from cycle 37 on, none of the 68 flits in the network can move (multicast "
                 "branches wait for one another through the buffers they share)");
  }
  EXPECT_EQ(m.ejected_flits(), 64u);
}

// Random multicast trees among random unicasts (1 to 12 flits) at a load the
// network cannot carry for `cycles` cycles, then drained: the deliveries it
// made, or the cycle it deadlocked in.
struct TreeRun {
  std::size_t deliveries = 0;
  std::uint64_t copies = 0;
  Cycle deadlocked = 0;
};
TreeRun random_trees(unsigned vcs, std::uint64_t min_flits, std::uint64_t max_flits, std::uint64_t seed) {
  CycleMeshModel m(mesh_config(4, vcs));
  const NodeId nodes = m.mesh().nodes();
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution offers(0.08), tree(0.5);
  TreeRun run;
  std::uint64_t tag = 0;
  try {
    while (m.now() < 3000 || !m.idle()) {
      if (m.now() < 3000)
        for (NodeId src = 0; src < nodes; ++src) {
          if (!offers(rng)) continue;
          if (!tree(rng)) {
            m.offer(tag++, src, static_cast<NodeId>(rng() % nodes), 1 + rng() % 12);
            ++run.copies;
            continue;
          }
          std::vector<CycleMeshModel::Destination> to;
          for (std::uint64_t n = 2 + rng() % 4; n > 0; --n) to.push_back({static_cast<NodeId>(rng() % nodes), tag++});
          m.offer_multicast(src, to, min_flits + rng() % (max_flits - min_flits + 1));
          run.copies += to.size();
        }
      m.step();
      run.deliveries += m.take_deliveries().size();
    }
  } catch (const NocDeadlock& e) {
    run.deadlocked = e.cycle();
  }
  return run;
}

// MeshNoc sends a tree as packets of at most a buffer. Such a packet is
// whole in every input buffer it reaches, so a copy never waits for a
// sibling to free a slot, and XY trees wait only on channels further along:
// no deadlock at any load or VC count. The same traffic with longer packets
// deadlocks, which is why the limit is there.
TEST(CycleModelMulticast, TreesOfPacketsNoLongerThanABufferNeverDeadlock) {
  for (unsigned vcs : {1u, 2u, 4u})
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      const TreeRun fits = random_trees(vcs, 1, 8, seed);
      EXPECT_EQ(fits.deadlocked, 0u) << vcs << " VCs, seed " << seed;
      EXPECT_EQ(fits.deliveries, fits.copies) << vcs << " VCs, seed " << seed;
      EXPECT_GT(fits.copies, 4000u);
    }
  // With four VCs this traffic happens to drain; with the platform's two and
  // with one it deadlocks within a few hundred cycles.
  for (unsigned vcs : {1u, 2u}) {
    const TreeRun longer = random_trees(vcs, 9, 33, 1);
    EXPECT_GT(longer.deadlocked, 0u) << vcs << " VCs";
    EXPECT_LT(longer.deliveries, longer.copies) << vcs << " VCs";
  }
}

TEST(CycleModelMulticast, RefusesAPacketWithoutFlitsOrDestinations) {
  CycleMeshModel m(mesh_config(2));
  try {
    m.offer_multicast(0, {}, 4);
    FAIL() << "no destination accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "CycleMeshModel: a multicast packet has at least one destination");
  }
  try {
    m.offer_multicast(0, {{3, 0}}, 0);
    FAIL() << "no flit accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "CycleMeshModel: a packet has at least one flit (its header)");
  }
  EXPECT_THROW(m.offer(0, 0, 3, 0), std::invalid_argument);
  EXPECT_TRUE(m.idle());
  EXPECT_EQ(m.stats().packets, 0u);
}

}  // namespace
}  // namespace npuvp::noc
