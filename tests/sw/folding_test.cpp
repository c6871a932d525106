// Data-movement layers folded into their producers' and consumers' addressing
// (docs/lowering.md): which commands the lowering emits, where they read and
// write, and that the host interpreter of the command format still reproduces
// the reference executor bit for bit.
#include <gtest/gtest.h>

#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/zoo.h"
#include "sw/runtime/lowering/lowering.h"
#include "sw/runtime/quantize/network_quantizer.h"

namespace npuvp::runtime {
namespace {

using firmware::InputSegment;
using firmware::LayerCommand;
using firmware::Opcode;

struct Lowered {
  HostDram dram;
  LoweredNetwork net;
};

Lowered lower(const QuantizedNetwork& q, LoweringOptions options = {}) {
  Lowered l;
  l.net = lower_network(
      q, [&](std::uint64_t bytes) { return l.dram.alloc(bytes); }, options);
  for (const DramBlock& b : l.net.initial_data) l.dram.write(b.addr, b.bytes.data(), b.bytes.size());
  return l;
}

const LayerCommand& only_command(const LoweredNetwork& n, int layer) {
  EXPECT_EQ(n.layers[static_cast<std::size_t>(layer)].command_count, 1u) << "layer " << layer;
  return n.commands[n.layers[static_cast<std::size_t>(layer)].first_command];
}

std::vector<InputSegment> segments(const Lowered& l, const LayerCommand& c) {
  std::vector<InputSegment> s(c.input_segment_count);
  l.dram.read(c.input_segments_addr, s.data(), s.size() * sizeof(InputSegment));
  return s;
}

void expect_host_run_exact(const QuantizedNetwork& q, bool fold = true, std::uint32_t dram_access_bytes = 32) {
  ExecutionOptions options;
  options.fold_data_movement = fold;
  options.dram_access_bytes = dram_access_bytes;
  const NetworkRun run = run_network_on_host(q, options);
  for (const LayerCheck& l : run.layers)
    EXPECT_TRUE(l.verified) << "layer " << l.index << " '" << l.name << "': " << l.mismatches << " mismatches";
  EXPECT_TRUE(run.all_verified());
}

// SqueezeNet's fire module: both expands write their channels into the
// concatenation (pixel pitch 4 + 6 = 10), which its reader takes packed.
TEST(Folding, ConcatProducersWriteIntoTheirSlices) {
  Network n("fire", {3, 6, 5});
  const int squeeze = n.conv("squeeze", 0, 4, 1);
  const int e1 = n.relu("e1.relu", n.conv("e1", squeeze, 4, 1));
  const int e3 = n.conv("e3", squeeze, 6, 3, 1, 1);
  const int cat = n.concat("cat", {e1, e3});
  const int next = n.conv("next", cat, 5, 1);
  const QuantizedNetwork q = quantize_network(std::move(n));
  const Lowered l = lower(q);
  const auto& layers = l.net.layers;
  EXPECT_EQ(layers[cat].command_count, 0u);
  EXPECT_EQ(layers[cat].folded_into, (std::vector<int>{e1 - 1, e3}));  // the conv the ReLU is fused into
  const std::uint64_t base = layers[cat].output.addr;
  EXPECT_EQ(only_command(l.net, e1 - 1).output_addr, base);
  EXPECT_EQ(only_command(l.net, e1 - 1).output_pixel_pitch, 10u);
  EXPECT_EQ(only_command(l.net, e3).output_addr, base + 4);
  EXPECT_EQ(only_command(l.net, e3).output_pixel_pitch, 10u);
  EXPECT_EQ(only_command(l.net, next).input_addr, base);
  EXPECT_EQ(only_command(l.net, next).input_segment_count, 0u);
  expect_host_run_exact(q);
}

// A channel shuffle of a concatenation of two tensors, sliced: the dense
// reader gathers the slice's runs (its weights' input channels reordered to
// match) and the depthwise reader computes its channels in gathered order.
TEST(Folding, ShuffleAndSliceAreGatheredByTheirReaders) {
  Network n("shuffle", {4, 5, 6});
  const int a = n.conv("a", 0, 6, 1);
  const int b = n.conv("b", 0, 6, 1);
  n.add("a_reader", a, a);  // a feeds another layer: it is not written into the concat
  const int cat = n.concat("cat", {a, b});
  const int sh = n.channel_shuffle("shuffle", cat, 2);
  const int sl = n.slice_channels("slice", sh, 2, 10);
  const int dense = n.conv("dense", sl, 3, 1);
  const int dw = n.conv("dw", sl, 8, 3, 1, 1, 8);
  const QuantizedNetwork q = quantize_network(std::move(n));
  const Lowered l = lower(q);
  for (int folded : {cat, sh, sl}) EXPECT_EQ(l.net.layers[folded].command_count, 0u);
  EXPECT_EQ(l.net.layers[sl].folded_into, (std::vector<int>{dense, dw}));
  // slice = a1 b1 a2 b2 a3 b3 a4 b4: in run order a[1..4], b[1..4].
  const auto addr = [&](int layer) { return l.net.layers[layer].output.addr; };
  for (int reader : {dense, dw}) {
    const auto s = segments(l, only_command(l.net, reader));
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].addr, addr(a) + 1);
    EXPECT_EQ(s[1].addr, addr(b) + 1);
    for (const auto& g : s) {
      EXPECT_EQ(g.channels, 4u);
      EXPECT_EQ(g.pixel_pitch, 6u);
    }
  }
  expect_host_run_exact(q);
}

// DiracDeltaNet's shift: the producing 1x1 conv computes its channels grouped
// by shift, so its reader gathers one moved run per direction; no MACs. (Here
// runs of two channels, folded as if the DRAM's access were two bytes.)
TEST(Folding, ShiftIsAMovedReadOfChannelsGroupedByTheirProducer) {
  Network n("shift", {3, 5, 4});
  const int conv = n.conv("conv", 0, 10, 1);
  const int relu = n.relu("relu", conv);
  const int sh = n.shift("shift", relu, five_direction_shifts(10));
  const int reader = n.conv("reader", sh, 4, 1);
  const QuantizedNetwork q = quantize_network(std::move(n));
  LoweringOptions two_byte_access;
  two_byte_access.dram_access_bytes = 2;
  const Lowered l = lower(q, two_byte_access);
  EXPECT_EQ(l.net.layers[sh].command_count, 0u);
  EXPECT_EQ(l.net.layers[sh].folded_into, std::vector<int>{reader});
  const auto s = segments(l, only_command(l.net, reader));
  // five_direction_shifts: channel c moves by {(1,0),(0,1),(0,0),(0,-1),(-1,0)}[c % 5].
  const std::vector<std::pair<int, int>> moves = {{-1, 0}, {0, -1}, {0, 0}, {0, 1}, {1, 0}};
  ASSERT_EQ(s.size(), moves.size());
  for (std::size_t k = 0; k < s.size(); ++k) {
    EXPECT_EQ(s[k].addr, l.net.layers[conv].output.addr + 2 * k);
    EXPECT_EQ(s[k].channels, 2u);
    EXPECT_EQ(s[k].pixel_pitch, 10u);
    EXPECT_EQ(std::make_pair(int{s[k].dy}, int{s[k].dx}), moves[k]);
  }
  expect_host_run_exact(q, true, 2);
  // Runs of two channels against a 3-byte access: the shift stays a depthwise conv.
  LoweringOptions three_byte_access;
  three_byte_access.dram_access_bytes = 3;
  const Lowered conv_shift = lower(q, three_byte_access);
  const LayerCommand& c = only_command(conv_shift.net, sh);
  EXPECT_EQ(c.opcode, static_cast<std::uint32_t>(Opcode::kConv2d));
  EXPECT_EQ(c.groups, 10u);
  EXPECT_TRUE(conv_shift.net.layers[sh].folded_into.empty());
  expect_host_run_exact(q, true, 3);
}

// More runs than the firmware gathers per tile: the reader first copies them,
// run by run, into a packed tensor (its own copy commands).
TEST(Folding, TooManyRunsAreCopiedOnceByTheReader) {
  Network n("runs", {2, 4, 4});
  std::vector<int> parts;
  for (int k = 0; k < 9; ++k) parts.push_back(n.conv("p" + std::to_string(k), 0, 2, 1));
  n.add("keep", parts[0], parts[0]);  // p0 has a second reader: no concat buffer
  const int cat = n.concat("cat", parts);
  const int reader = n.conv("reader", cat, 3, 1);
  const QuantizedNetwork q = quantize_network(std::move(n));
  const Lowered l = lower(q);
  const LoweredLayer& r = l.net.layers[reader];
  ASSERT_EQ(r.command_count, 10u);
  for (std::size_t k = 0; k < 9; ++k) EXPECT_EQ(l.net.commands[r.first_command + k].opcode, 5u);  // kCopy
  EXPECT_EQ(l.net.commands[r.first_command + 9].input_segment_count, 0u);
  expect_host_run_exact(q);
}

// Folding changes where bytes go, never what the layers compute.
TEST(Folding, ZooNetworksAreBitExactFoldedAndNot) {
  for (const char* name : {"squeezenet1_1", "shufflenet_v2_x1_0"}) {
    Network net = make_network(name);
    net.infer_shapes({3, 64, 64});
    const QuantizedNetwork q = quantize_network(std::move(net));
    expect_host_run_exact(q, true);
    expect_host_run_exact(q, false);
  }
}

}  // namespace
}  // namespace npuvp::runtime
