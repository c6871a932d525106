#pragma once
// `npuvp noc-bench --replay FILE`: the packets of a run's noc_packets.csv
// (`npuvp run --traces packets`) timed again, open loop, each ready when it
// was in the run:
//  - by the fast model in the order the run timed them: the recorded times
//    again, a check that the trace fits this build;
//  - by the fast model in the order they are ready, as a network that
//    decides in time order would see them;
//  - by the cycle-level model in the order they are ready, multicasts along
//    their trees as the fast model times them.
// The run times packets in the order loosely timed initiators issue them,
// which is not their order in time: a packet timed after others ready later
// must fit around their reservations. The replay shows what that order and
// the fast model's per-packet timing each change, packet class by class.

#include <string>

#include <nlohmann/json.hpp>

namespace npuvp::bench {

// Prints the comparison and returns it as JSON; with `by_hops`, also the
// unicasts by the number of routers they cross. Throws std::invalid_argument
// naming the file and line of a malformed trace.
nlohmann::json replay_noc_packets(const std::string& path, bool by_hops);

}  // namespace npuvp::bench
