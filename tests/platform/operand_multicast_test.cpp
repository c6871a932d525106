// Operand multicast on a whole network (pe_array.operand_multicast): each K
// slice's weights read from the banks once per step and multicast to the
// clusters of its row groups, outputs still bit-exact; off, the cycles and
// traffic of the platform before the mechanism. Both runs keep each job's
// weights whole before its array starts (pe_array.weights_by_fold=false, the
// platform the mechanism was measured on; weight_streaming_test.cpp).
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "platform/platform_config.h"
#include "tests/support/preset_run.h"

namespace npuvp::platform {
namespace {

nlohmann::json run_resnet18(const std::vector<std::string>& overrides) {
  std::vector<std::string> keys = overrides;
  keys.push_back("pe_array.weights_by_fold=false");
  return test::run_on_preset("resnet18", keys, "npuvp_operand_multicast");
}

using test::report_layer;

// ResNet-18 on edge-ip before operand groups existed: 3,550,323 cycles,
// layer4.1.conv2 moving 31,060,640 bytes through the banks (7 row groups
// each reading the K slice's weights). The fc's streamed weights came later
// (docs/memory.md): off as well. Since the estimate prices the wait of the
// next K block's bursts at the banks the step's jobs read their weights from
// (docs/firmware.md), layer2.0.conv1 runs its weight blocks outer here
// (111,591 -> 105,147 cycles) and the layers after it meet the DRAM in
// another state: 3,546,070 cycles, layer4.1.conv2 31,056,800 bytes. Since
// the NoC's fast model lets a flit leave a router no earlier than it arrived
// and holds the tail of only a packet longer than a buffer (docs/noc.md):
// 3,530,482 cycles, 31,058,528 bytes. Since the planner offers the K blocks
// of a half, a quarter, ... of a cluster's weight buffer (docs/firmware.md):
// 3,470,439 cycles, 31,062,688 bytes. Since the clusters keep a row tile's
// input rows from one K block to the next, layer4.1.conv2's 64 steps fetch
// its 7 row groups' rows in the first only: 3,409,859 cycles, 22,479,712
// bytes. Since the estimate prices the next layer's first loads beside the
// last stores (docs/firmware.md): 3,403,548 cycles, 22,483,168 bytes. Since
// each cluster issues a job's results when its array finishes rather than
// when the job starts (docs/architecture.md, "Loosely timed, within a
// quantum"): 3,448,711 cycles, 22,479,072 bytes. Since each result row is
// issued within a quantum of when it leaves and the presets' quantum is 10 ns
// rather than 200: 3,454,202 cycles, 22,476,832 bytes. Since the DMA engine
// issues each burst's read and write within a quantum of its time: 3,451,842
// cycles, 22,478,624 bytes. Since each cluster issues its operand reads within
// a quantum of their time: 3,580,563 cycles, 22,483,872 bytes (the layer4
// convolutions' clusters, each reading its own copy of the weights, meet on
// the NoC in time order: layer4.0.conv2's NoC stall 36,669 -> 49,326 cycles
// with --traces none). Since the NoC times a cluster's responses a quantum
// before they are ready, not when the bank serves the request (docs/noc.md,
// "On the platform's own traffic"): 3,380,879 cycles, 22,488,800 bytes. Since
// a multicast goes as packets of at most a buffer and the firmware clears a
// cluster's stale IRQ (docs/noc.md, docs/firmware.md): 3,380,866 cycles,
// 22,488,288 bytes.
TEST(OperandMulticast, OffGivesTheResultsFromBeforeIt) {
  const nlohmann::json r = run_resnet18({"pe_array.operand_multicast=false", "firmware.stream_weights=false"});
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  EXPECT_EQ(r["totals"]["cycles"], 3380866);
  EXPECT_EQ(report_layer(r, "layer4.1.conv2")["traffic_bytes"]["sram"], 22488288);
}

// On: the weights of each of layer4.1.conv2's 64 steps (K blocks of 2 slices of
// 4 channels of 4,608 weight and 12 parameter bytes; one tile of 7 row groups)
// leave the banks once, not 7 times: 64 x 6 x 36,960 bytes fewer. The layer's
// traffic is counted over its time, so the next layer's first loads, prefetched
// in its tail, move with it. 3,315,407 cycles before the fc's weights were
// streamed into the clusters (docs/memory.md); 3,312,985 cycles and 16,845,984
// bytes before the NoC's fast model let a flit leave a router no earlier than
// it arrived (docs/noc.md); 3,311,455 cycles and 16,844,832 bytes before the
// planner offered the K blocks of a half, a quarter, ... of a cluster's weight
// buffer (docs/firmware.md); 3,288,413 cycles and 16,844,896 bytes before the
// clusters kept a row tile's input rows from one K block to the next; 3,193,494
// cycles and 8,329,056 bytes before the estimate priced the next layer's first
// loads beside the last stores; 3,192,690 cycles and 8,329,312 bytes before
// each cluster issued a job's results when its array finishes rather than when
// the job starts (docs/architecture.md, "Loosely timed, within a quantum");
// 3,193,494 cycles and 8,273,568 bytes before each result row was issued within
// a quantum of when it leaves and the presets' quantum went from 200 to 10 ns;
// 3,193,462 cycles and 8,268,000 bytes before the DMA engine issued each
// burst's read and write within a quantum of its time; 3,193,524 cycles and
// 8,271,328 bytes before each cluster issued its operand reads within a
// quantum of their time; 3,188,429 cycles and 8,353,632 bytes before the NoC
// timed a cluster's responses a quantum before they are ready: a leader's
// forked weights were booked on every member's link when the bank served
// them, ahead of packets ready sooner, which the group then never waited for;
// 3,348,858 cycles and 8,343,840 bytes before the clusters' operand-group
// waits stopped leaving a cancelled timeout each in SystemC's queue of timed
// notifications, which changed the order of simultaneous events
// (docs/architecture.md, "The order of simultaneous events"); 3,344,627 cycles
// and 8,358,880 bytes before a multicast went as packets of at most a buffer
// and the firmware cleared a cluster's stale IRQ (docs/noc.md,
// docs/firmware.md).
TEST(OperandMulticast, OnReadsEachSlicesWeightsOnceAndStaysExact) {
  const nlohmann::json r = run_resnet18({});
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  EXPECT_EQ(r["totals"]["cycles"], 3364465);
  const std::uint64_t sram = report_layer(r, "layer4.1.conv2")["traffic_bytes"]["sram"].get<std::uint64_t>();
  EXPECT_EQ(sram, 8253728u);
  EXPECT_GE(31060640u - sram, 64u * 6 * 2 * 4 * (4608 + 12));
}

TEST(OperandMulticast, TheKeyTakesABoolean) {
  try {
    load_platform("configs/platforms/edge-ip.yaml", {"pe_array.operand_multicast=sometimes"});
    FAIL() << "accepted a non-boolean";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("operand_multicast"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace npuvp::platform
