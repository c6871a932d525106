// Tests of quantization, the reference executor and lowering to LayerCommands,
// run through the host interpreter of the command format (no SystemC): every
// layer's output from the lowered commands in a byte array standing for DRAM
// must equal the reference executor's bit for bit.
#include "sw/runtime/lowering/lowering.h"
#include "sw/runtime/quantize/network_quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <random>
#include <utility>

#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/zoo.h"
#include "tests/sw/runtime_test_util.h"

namespace npuvp::runtime {
namespace {

using firmware::LayerCommand;
using firmware::Opcode;
using testing::expect_invalid;
using testing::random_int8;

QuantizedNetwork quantize_zoo(const std::string& name, int h, int w) {
  Network n = make_network(name);
  n.infer_shapes({n.input_shape().c, h, w});
  return quantize_network(std::move(n));
}

void expect_host_run_exact(const QuantizedNetwork& q) {
  const NetworkRun run = run_network_on_host(q);
  ASSERT_EQ(run.layers.size(), q.network.size());
  for (const LayerCheck& l : run.layers)
    EXPECT_TRUE(l.verified) << q.network.name() << ": layer " << l.index << " '" << l.name << "' (" << l.type
                            << "): " << l.mismatches << " mismatches";
  EXPECT_TRUE(run.all_verified());
}

// Lowers `q` into `dram` and writes the input and parameters there.
LoweredNetwork lower_on(HostDram& dram, const QuantizedNetwork& q, const LoweringOptions& options = {}) {
  LoweredNetwork lowered = lower_network(
      q, [&](std::uint64_t bytes) { return dram.alloc(bytes); }, options);
  for (const DramBlock& b : lowered.initial_data) dram.write(b.addr, b.bytes.data(), b.bytes.size());
  return lowered;
}

std::size_t count_opcode(const LoweredNetwork& lowered, int layer, Opcode op) {
  std::size_t n = 0;
  const LoweredLayer& l = lowered.layers[static_cast<std::size_t>(layer)];
  for (std::size_t k = l.first_command; k < l.first_command + l.command_count; ++k)
    n += lowered.commands[k].opcode == static_cast<std::uint32_t>(op);
  return n;
}

std::vector<int> window_values(const ConvWindow& w) {
  return {w.kernel_h,   w.kernel_w,  w.stride_h,   w.stride_w,   w.pad.top, w.pad.left,
          w.pad.bottom, w.pad.right, w.dilation_h, w.dilation_w, w.groups};
}

// The extremes of every narrow command field survive the one conversion each
// way, and the first value past them is named before it would be truncated.
TEST(CommandWindow, RoundTripsAtTheFieldLimits) {
  ConvWindow w;
  w.kernel_h = 255;
  w.stride_w = 255;
  w.pad = {65535, 0, 2, 65535};
  w.dilation_h = 255;
  w.groups = 1 << 20;
  LayerCommand c{};
  firmware::write_window(c, w);
  EXPECT_EQ(window_values(firmware::read_window(c)), window_values(w));
  for (const firmware::WindowField& f : firmware::window_fields(w))
    EXPECT_TRUE(f.value >= f.lo && f.value <= f.hi) << f.name;
  w.pad.bottom = 65536;
  std::vector<std::string> too_large;
  for (const firmware::WindowField& f : firmware::window_fields(w))
    if (f.value > f.hi) too_large.push_back(f.name);
  EXPECT_EQ(too_large, std::vector<std::string>{"pad_bottom"});
}

// ------------------------------------------------------------- zoo networks

TEST(LoweringZoo, Resnet20CifarIsBitExactOnTheHostInterpreter) {
  expect_host_run_exact(quantize_zoo("resnet20_cifar", 32, 32));
}

TEST(LoweringZoo, Squeezenet11At64IsBitExact) { expect_host_run_exact(quantize_zoo("squeezenet1_1", 64, 64)); }

TEST(LoweringZoo, MobilenetV2At64IsBitExact) { expect_host_run_exact(quantize_zoo("mobilenet_v2", 64, 64)); }

TEST(LoweringZoo, ShufflenetV2At64IsBitExact) { expect_host_run_exact(quantize_zoo("shufflenet_v2_x1_0", 64, 64)); }

// DiracDeltaNet's 7x7 average pool feeds its FC: the input is fixed at 224x224.
TEST(LoweringZoo, DiracDeltaNetAt224IsBitExact) { expect_host_run_exact(quantize_zoo("diracdeltanet", 224, 224)); }

TEST(LoweringZoo, OtherFullyConvolutionalNetworksAt64AreBitExact) {
  for (const char* name : {"mobilenet_v1", "squeezenet1_0", "squeezenext", "resnet18", "resnet50"}) {
    SCOPED_TRACE(name);
    expect_host_run_exact(quantize_zoo(name, 64, 64));
  }
}

// AlexNet's adaptive 6x6 average pool is an identity at 224x224 (a 6x6 map).
TEST(LoweringZoo, AlexnetAt224IsBitExact) { expect_host_run_exact(quantize_zoo("alexnet", 224, 224)); }

// Speed is measured by `npuvp run` (report.json sim.wall_seconds), not here.
TEST(LoweringZoo, MobilenetV1At224Quantizes) {
  const QuantizedNetwork q = quantize_network(make_network("mobilenet_v1"));
  EXPECT_EQ(q.layers.back().expected.size(), 1000u);
}

// ----------------------------------------------------------- quantization

TEST(Quantization, IsDeterministicInItsSeeds) {
  const QuantizedNetwork a = quantize_zoo("resnet20_cifar", 32, 32);
  const QuantizedNetwork b = quantize_zoo("resnet20_cifar", 32, 32);
  for (std::size_t i = 0; i < a.layers.size(); ++i) EXPECT_EQ(a.layers[i].expected, b.layers[i].expected) << i;
  QuantizationOptions other;
  other.input_seed = 99;
  const QuantizedNetwork c = quantize_network(make_network("resnet20_cifar"), other);
  EXPECT_NE(a.input(), c.input());
}

// The int8 network approximates the float one it was calibrated on.
TEST(Quantization, Int8OutputTracksTheFloatNetwork) {
  for (const auto& [name, size] : {std::pair{"resnet20_cifar", 32}, std::pair{"mobilenet_v2", 64},
                                   std::pair{"squeezenet1_1", 64}, std::pair{"shufflenet_v2_x1_0", 64}}) {
    const QuantizedNetwork q = quantize_zoo(name, size, size);
    const auto out = dequantize_tensor(q.layers.back().expected, q.layers.back().output);
    ASSERT_EQ(out.size(), q.float_output.size());
    double dot = 0, nq = 0, nf = 0;
    for (std::size_t k = 0; k < out.size(); ++k) {
      dot += double(out[k]) * q.float_output[k];
      nq += double(out[k]) * out[k];
      nf += double(q.float_output[k]) * q.float_output[k];
    }
    const double cosine = dot / std::sqrt(nq * nf);
    std::cout << name << ": cosine(int8, float) = " << cosine << "\n";
    EXPECT_GT(cosine, 0.95) << name;
  }
}

TEST(Quantization, FusesReluIntoItsOnlyProducerAndCalibratesAfterIt) {
  const QuantizedNetwork q = quantize_zoo("resnet20_cifar", 32, 32);
  HostDram dram;
  const LoweredNetwork lowered = lower_on(dram, q);
  int fused = 0;
  for (int i = 0; i < static_cast<int>(q.network.size()); ++i) {
    const Layer& l = q.network.layer(i);
    if (l.type != LayerType::kReLU) continue;
    // Every ReLU of ResNet-20 follows a conv or an add read only by it.
    const int p = q.layers[i].fused_into;
    ASSERT_EQ(p, l.inputs[0]) << l.name;
    ++fused;
    EXPECT_EQ(q.layers[p].activation, Activation::kRelu);
    EXPECT_EQ(lowered.layers[i].command_count, 0u);
    EXPECT_EQ(lowered.layers[i].output.addr, lowered.layers[p].output.addr);
    EXPECT_EQ(&q.expected(i), &q.layers[p].expected);
    EXPECT_TRUE(q.layers[i].expected.empty()) << "a fused ReLU holds no copy of its producer's output";
    // Calibrated after the ReLU: [0, max] maps to [-128, 127].
    EXPECT_EQ(q.layers[p].output.zero_point, -128) << q.network.layer(p).name;
  }
  EXPECT_EQ(fused, 19);
}

TEST(Quantization, ConcatInputsShareTheConcatParameters) {
  for (const char* name : {"squeezenet1_1", "shufflenet_v2_x1_0"}) {
    const QuantizedNetwork q = quantize_zoo(name, 64, 64);
    int concats = 0;
    for (int i = 0; i < static_cast<int>(q.network.size()); ++i) {
      const Layer& l = q.network.layer(i);
      if (l.type != LayerType::kConcat) continue;
      ++concats;
      for (int in : l.inputs) {
        EXPECT_EQ(q.layers[in].output.scale, q.layers[i].output.scale) << name << " " << l.name;
        EXPECT_EQ(q.layers[in].output.zero_point, q.layers[i].output.zero_point) << name << " " << l.name;
      }
    }
    EXPECT_GT(concats, 0) << name;
  }
}

TEST(Quantization, ReluWithASecondReaderOfItsProducerStaysAClampCommand) {
  Network n("two_readers", {3, 9, 7});
  const int c = n.conv("conv", 0, 8, 3, 1, 1);
  const int r = n.relu("relu", c);
  const int r6 = n.relu6("relu6", c);
  n.add("add", r, r6);
  const QuantizedNetwork q = quantize_network(std::move(n));
  EXPECT_EQ(q.layers[r].fused_into, -1);
  HostDram dram;
  const LoweredNetwork lowered = lower_on(dram, q);
  ASSERT_EQ(lowered.layers[r].command_count, 1u);
  const LayerCommand& cmd = lowered.commands[lowered.layers[r].first_command];
  EXPECT_EQ(cmd.opcode, static_cast<std::uint32_t>(Opcode::kMaxPool));
  EXPECT_EQ(cmd.kernel_h, 1);
  EXPECT_EQ(cmd.act_min, q.layers[c].output.zero_point);
  EXPECT_EQ(lowered.commands[lowered.layers[r6].first_command].act_max,
            activation_range(Activation::kRelu6, q.layers[c].output).max);
  expect_host_run_exact(q);
}

TEST(Quantization, BatchNormThatCannotFoldRunsAsDepthwiseConv) {
  Network n("bn_after_add", {4, 6, 5});
  const int a = n.conv("a", 0, 8, 1);
  const int b = n.conv("b", 0, 8, 3, 1, 1);
  const int s = n.add("sum", a, b);
  n.bn("bn", s);
  const QuantizedNetwork q = quantize_network(std::move(n));
  ASSERT_EQ(q.network.layer(q.network.output()).type, LayerType::kBatchNorm);
  EXPECT_EQ(q.layers.back().conv.groups, 8);
  expect_host_run_exact(q);
}

// ----------------------------------------------------------- single lowerings

TEST(Lowering, ShiftAsDepthwiseConvIsBitExactAgainstShiftChannels) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> zp(-128, 127), d2(-2, 2);
  for (int trial = 0; trial < 12; ++trial) {
    const TensorShape shape{1 + trial * 3, 1 + trial % 5, 2 + (trial * 7) % 9};
    std::vector<ChannelShift> shifts;
    if (trial % 3 == 0) shifts = five_direction_shifts(shape.c);
    if (trial % 3 == 1) shifts = grouped_shifts(shape.c, trial % 2 ? 5 : 3);
    if (trial % 3 == 2)
      for (int c = 0; c < shape.c; ++c) shifts.push_back({d2(rng), d2(rng)});
    const std::int32_t z = trial == 0 ? -128 : trial == 1 ? 127 : zp(rng);
    const auto x = random_int8(rng, shape.size());
    const ShiftAsConv s = shift_as_depthwise_conv(shifts, z);
    EXPECT_EQ(s.requant.per_channel.size(), 1u);
    EXPECT_EQ(s.requant.per_channel[0].multiplier, 1 << 30);
    EXPECT_EQ(s.requant.per_channel[0].shift, 1);
    EXPECT_EQ(s.requant.output_zero_point, z);
    EXPECT_EQ(s.conv.input_zero_point, z);
    EXPECT_EQ(conv2d(x, shape, s.weights, {}, s.conv, s.requant), shift_channels(x, shape, shifts, z))
        << "trial " << trial;
  }
  // The unit shifts of DiracDeltaNet are a 3x3 kernel.
  EXPECT_EQ(shift_as_depthwise_conv(five_direction_shifts(10), 0).conv.kernel_h, 3);
}

TEST(Lowering, GlobalAveragePoolEqualsAWholeMapAveragePool) {
  std::mt19937 rng(3);
  for (const TensorShape shape : {TensorShape{5, 7, 7}, TensorShape{3, 1, 1}, TensorShape{16, 13, 11},
                                  TensorShape{8, 2, 3}, TensorShape{4, 15, 15}}) {
    for (int fill : {-1, -128, 127, 3}) {
      auto x = fill == -1 ? random_int8(rng, shape.size()) : std::vector<std::int8_t>(shape.size(), fill);
      if (fill == 3)  // sums exactly on the rounding ties
        for (std::size_t k = 0; k < x.size(); ++k) x[k] = static_cast<std::int8_t>(k % 2 ? -1 : 0);
      PoolParams p;
      p.kernel_h = shape.h;
      p.kernel_w = shape.w;
      EXPECT_EQ(average_pool(x, shape, p), global_average_pool(x, shape));
    }
  }
}

TEST(Lowering, ConvAndFullyConnectedCommandsCarryTheLayer) {
  Network n("fields", {6, 11, 9});
  Conv2dAttrs a;
  a.out_channels = 12;
  a.kernel_h = 3;
  a.kernel_w = 2;
  a.stride_h = 2;
  a.stride_w = 1;
  a.pad = {1, 0, 2, 1};
  a.dilation_h = 2;
  a.groups = 3;
  const int conv = n.conv("conv", 0, a);
  const int fc = n.fc("fc", conv, 10);
  const QuantizedNetwork q = quantize_network(std::move(n));
  HostDram dram;
  LoweringOptions options;
  options.dataflow = firmware::DataflowChoice::kOutputStationary;
  const LoweredNetwork lowered = lower_on(dram, q, options);
  ASSERT_EQ(lowered.commands.size(), 2u);
  const LayerCommand& c = lowered.commands[0];
  EXPECT_EQ(c.opcode, static_cast<std::uint32_t>(Opcode::kConv2d));
  EXPECT_EQ(c.dataflow, static_cast<std::uint32_t>(firmware::DataflowChoice::kOutputStationary));
  EXPECT_EQ(c.layer_id, static_cast<std::uint32_t>(conv));
  EXPECT_EQ(c.input_addr, lowered.layers[0].output.addr);
  EXPECT_EQ(c.output_addr, lowered.layers[conv].output.addr);
  EXPECT_EQ((std::vector<int>{int(c.in_c), int(c.in_h), int(c.in_w), int(c.out_c), int(c.out_h), int(c.out_w)}),
            (std::vector<int>{6, 11, 9, 12, q.network.layer(conv).out_shape.h, q.network.layer(conv).out_shape.w}));
  EXPECT_EQ((std::vector<int>{c.kernel_h, c.kernel_w, c.stride_h, c.stride_w, c.dilation_h, c.dilation_w}),
            (std::vector<int>{3, 2, 2, 1, 2, 1}));
  EXPECT_EQ((std::vector<int>{c.pad_top, c.pad_left, c.pad_bottom, c.pad_right}), (std::vector<int>{1, 0, 2, 1}));
  EXPECT_EQ(c.groups, 3u);
  EXPECT_EQ(c.input_zero_point, q.layers[0].output.zero_point);
  EXPECT_EQ(c.output_zero_point, q.layers[conv].output.zero_point);
  // Parameters in DRAM: OHWI weights, int32 bias (zeros: no bias), {multiplier,
  // shift} per channel.
  std::vector<std::int8_t> w(q.layers[conv].weights.size());
  dram.read(c.weights_addr, w.data(), w.size());
  EXPECT_EQ(w, q.layers[conv].weights);
  std::vector<std::int32_t> rq(24), bias(12, 1);
  dram.read(c.requant_addr, rq.data(), rq.size() * 4);
  dram.read(c.bias_addr, bias.data(), bias.size() * 4);
  EXPECT_EQ(bias, std::vector<std::int32_t>(12, 0));
  for (int k = 0; k < 12; ++k) {
    EXPECT_EQ(rq[2 * k], q.layers[conv].requant.per_channel[k].multiplier);
    EXPECT_EQ(rq[2 * k + 1], q.layers[conv].requant.per_channel[k].shift);
  }
  // FC: a 1x1 conv over the HWC flattening of its input.
  const LayerCommand& f = lowered.commands[1];
  const TensorShape in = q.network.layer(conv).out_shape;
  EXPECT_EQ(f.layer_id, static_cast<std::uint32_t>(fc));
  EXPECT_EQ(f.in_c, in.size());
  EXPECT_EQ(f.in_h * f.in_w * f.kernel_h * f.kernel_w, 1u);
  EXPECT_EQ(f.out_c, 10u);
  expect_host_run_exact(q);
}

// With folding off (firmware.fold_data_movement: false) every data-movement
// layer runs as copies and fills.
TEST(Lowering, DataMovementLayersBecomeCopiesAndFillsWithFoldingOff) {
  Network n("moves", {6, 5, 7});
  const int c = n.conv("conv", 0, 12, 3, 1, 1);
  const int sh = n.channel_shuffle("shuffle", c, 3);
  const int sl = n.slice_channels("slice", sh, 2, 9);
  const int pd = n.pad_channels("pad", sl, 3, 2);
  const int pd0 = n.pad_channels("pad_after_only", sl, 0, 4);
  const int cat = n.concat("cat", {pd, c, pd0});
  const int fl = n.flatten("flatten", cat);
  n.fc("fc", fl, 4);
  const QuantizedNetwork q = quantize_network(std::move(n));
  HostDram dram;
  LoweringOptions unfolded;
  unfolded.fold_data_movement = false;
  const LoweredNetwork lowered = lower_on(dram, q, unfolded);
  EXPECT_EQ(count_opcode(lowered, sh, Opcode::kCopy), 3u);
  EXPECT_EQ(count_opcode(lowered, sl, Opcode::kCopy), 1u);
  EXPECT_EQ(count_opcode(lowered, pd, Opcode::kFill), 2u);
  EXPECT_EQ(count_opcode(lowered, pd, Opcode::kCopy), 1u);
  EXPECT_EQ(count_opcode(lowered, pd0, Opcode::kFill), 1u);
  EXPECT_EQ(count_opcode(lowered, cat, Opcode::kCopy), 3u);
  EXPECT_EQ(lowered.layers[fl].command_count, 0u);
  EXPECT_EQ(lowered.layers[fl].output.addr, lowered.layers[cat].output.addr);
  for (int i = 0; i < static_cast<int>(q.network.size()); ++i)
    for (std::size_t k = 0; k < lowered.layers[i].command_count; ++k)
      EXPECT_EQ(lowered.commands[lowered.layers[i].first_command + k].layer_id, static_cast<std::uint32_t>(i));
  expect_host_run_exact(q);
}

TEST(Lowering, PoolVariantsAreBitExact) {
  Network n("pools", {5, 13, 10});
  PoolAttrs include_pad;
  include_pad.kernel_h = include_pad.kernel_w = 3;
  include_pad.stride_h = include_pad.stride_w = 2;
  include_pad.pad = Padding::uniform(1);
  include_pad.count_include_pad = true;
  n.avg_pool("avg_include_pad", 0, include_pad);
  PoolAttrs ceil_exclude = include_pad;
  ceil_exclude.pad = Padding::uniform(0);
  ceil_exclude.ceil_mode = true;
  ceil_exclude.count_include_pad = false;
  n.avg_pool("avg_ceil_exclude_pad", 0, ceil_exclude);
  n.max_pool("max_ceil", 0, 3, 2, 0, true);
  n.max_pool("max_pad", 0, 2, 2, 1);
  n.adaptive_avg_pool("adaptive", n.max_pool("to_7x7", 0, 2, 2, 1), 3,
                      3);  // 7x6 -> 3x3: kernel 3x2, stride 2
  const int g = n.global_avg_pool("gap", 0);
  n.relu6("relu6", g);
  expect_host_run_exact(quantize_network(std::move(n)));
}

// ---------------------------------------------------------------- errors

TEST(LoweringErrors, AvgPoolCountingPadPastACeilModeOverhangIsRejected) {
  Network n("overhang", {2, 8, 8});
  PoolAttrs a;
  a.kernel_h = a.kernel_w = 3;
  a.stride_h = a.stride_w = 2;
  a.pad = Padding::uniform(1);
  a.ceil_mode = true;  // 8 + 2 - 3 = 7: a fifth window past the padding
  a.count_include_pad = true;
  n.avg_pool("pool_with_overhang", 0, a);
  expect_invalid([&] { quantize_network(n); }, "pool_with_overhang");
  expect_invalid([&] { quantize_network(n); }, "count_include_pad");
}

TEST(LoweringErrors, NonUniformAdaptivePoolNamesTheLayerAndResolution) {
  Network n("adaptive", {2, 7, 7});
  n.adaptive_avg_pool("to_4x4", 0, 4, 4);
  expect_invalid([&] { quantize_network(n); }, "to_4x4");
  expect_invalid([&] { quantize_network(n); }, "7x7");
  // AlexNet at 64x64 reaches its 6x6 adaptive pool with a 1x1 map (an
  // upsampling).
  Network alexnet = make_network("alexnet");
  alexnet.infer_shapes({3, 64, 64});
  expect_invalid([&] { quantize_network(alexnet); }, "'avgpool'");
}

TEST(LoweringErrors, CommandFieldLimitsNameTheLayer) {
  Network n("wide", {1, 300, 20});
  n.global_avg_pool("huge_gap", 0);
  const QuantizedNetwork q = quantize_network(std::move(n));
  HostDram dram;
  expect_invalid([&] { lower_on(dram, q); }, "huge_gap");
  expect_invalid([&] { lower_on(dram, q); }, "255");
}

TEST(LoweringErrors, TheHostCheckCatchesAWrongCopyPitch) {
  const QuantizedNetwork q = quantize_zoo("squeezenet1_1", 64, 64);
  HostDram dram;
  LoweringOptions unfolded;
  unfolded.fold_data_movement = false;
  LoweredNetwork lowered = lower_on(dram, q, unfolded);
  int victim = -1;
  for (int i = 0; i < static_cast<int>(q.network.size()) && victim < 0; ++i)
    if (q.network.layer(i).type == LayerType::kConcat) victim = i;
  ASSERT_GE(victim, 0);
  lowered.commands[lowered.layers[victim].first_command + 1].copy.dst_row_pitch -= 1;
  execute_commands_on_host(dram, lowered.commands);
  std::vector<std::int8_t> out(q.layers[victim].expected.size());
  dram.read(lowered.layers[victim].output.addr, out.data(), out.size());
  EXPECT_NE(out, q.layers[victim].expected);
}

// The host interpreter runs a batched command once per image, each at the
// addresses its BatchImage gives.
TEST(LoweringBatch, ABatchedCommandComputesEveryImageAtItsOwnAddresses) {
  Network n("pair", {8, 6, 6});
  const int conv = n.conv("conv", 0, 16, 3, 1, 1);
  const QuantizedNetwork q = quantize_network(std::move(n));
  HostDram dram;
  const LoweredNetwork lowered = lower_on(dram, q);
  const LoweredLayer& layer = lowered.layers[static_cast<std::size_t>(conv)];
  ASSERT_EQ(layer.command_count, 1u);
  LayerCommand c = lowered.commands[layer.first_command];
  const std::uint64_t in_bytes = 8 * 6 * 6, out_bytes = q.layers[static_cast<std::size_t>(conv)].expected.size();
  std::vector<std::int8_t> input(in_bytes);
  dram.read(c.input_addr, input.data(), in_bytes);
  const firmware::BatchImage second{dram.alloc(in_bytes), 0, dram.alloc(out_bytes), 0};
  dram.write(second.input_addr, input.data(), in_bytes);
  c.batch_count = 2;
  c.batch_table_addr = dram.alloc(sizeof second);
  dram.write(c.batch_table_addr, &second, sizeof second);
  execute_commands_on_host(dram, {c});
  for (const std::uint64_t out : {c.output_addr, second.output_addr}) {
    std::vector<std::int8_t> actual(out_bytes);
    dram.read(out, actual.data(), out_bytes);
    EXPECT_EQ(actual, q.layers[static_cast<std::size_t>(conv)].expected);
  }
  c.batch_count = firmware::kMaxBatchImages + 1;
  expect_invalid([&] { execute_commands_on_host(dram, {c}); }, "batch_count above 64");
}

// The input layer's SQNR is the rounding of the float input to its int8
// codes, summed here by hand; a convolution's adds its weights', bias' and
// requantization's rounding, within what 8 bits can give.
TEST(Sqnr, TheInputsIsItsRoundingNoiseAndEachLayerIsAgainstTheFloatModel) {
  Network n("pair", {8, 6, 6});
  const int conv = n.conv("conv", 0, 16, 3, 1, 1);
  const QuantizedNetwork q = quantize_network(std::move(n));
  const std::vector<double> db = layer_sqnr_db(q);
  ASSERT_EQ(db.size(), 2u);
  const QuantParams in = q.layers[0].output;
  double signal = 0, noise = 0;
  for (std::size_t k = 0; k < q.float_input.size(); ++k) {
    const double f = q.float_input[k], e = f - in.scale * (q.layers[0].expected[k] - in.zero_point);
    signal += f * f;
    noise += e * e;
  }
  EXPECT_NEAR(db[0], 10 * std::log10(signal / noise), 1e-9);
  EXPECT_GT(db[static_cast<std::size_t>(conv)], 20.0);
  EXPECT_LT(db[static_cast<std::size_t>(conv)], db[0]);
}

// Lowered with every block placed one after the other from address 0.
LoweredNetwork lower_from_zero(const QuantizedNetwork& q, const LoweringOptions& options) {
  std::uint64_t next = 0;
  return lower_network(
      q, [&](std::uint64_t bytes) { return std::exchange(next, next + bytes); }, options);
}

// A caller that reads only the commands gets them byte for byte, at the same
// addresses, without the parameter blocks' bytes.
TEST(Lowering, CommandsWithoutInitialDataAreTheSame) {
  const QuantizedNetwork q = quantize_zoo("squeezenet1_1", 64, 64);
  LoweringOptions options;
  const LoweredNetwork full = lower_from_zero(q, options);
  options.initial_data = false;
  const LoweredNetwork bare = lower_from_zero(q, options);
  EXPECT_FALSE(full.initial_data.empty());
  EXPECT_TRUE(bare.initial_data.empty());
  EXPECT_EQ(bare.allocated_bytes, full.allocated_bytes);
  ASSERT_EQ(bare.commands.size(), full.commands.size());
  for (std::size_t k = 0; k < full.commands.size(); ++k)
    EXPECT_EQ(std::memcmp(&bare.commands[k], &full.commands[k], sizeof(LayerCommand)), 0) << "command " << k;
}

// A host writing the initial data as it is lowered gets every block
// initial_data would hold, in the same order, at the same addresses, and
// nothing is kept.
TEST(Lowering, InitialDataWrittenAsLoweredIsTheBlocksInOrder) {
  const QuantizedNetwork q = quantize_zoo("squeezenet1_1", 64, 64);
  LoweringOptions options;
  const LoweredNetwork kept = lower_from_zero(q, options);
  std::vector<DramBlock> written;
  options.write_initial_data = [&](std::uint64_t addr, const std::uint8_t* bytes, std::size_t size) {
    written.push_back({addr, std::vector<std::uint8_t>(bytes, bytes + size)});
  };
  const LoweredNetwork streamed = lower_from_zero(q, options);
  EXPECT_TRUE(streamed.initial_data.empty());
  ASSERT_EQ(written.size(), kept.initial_data.size());
  ASSERT_GT(written.size(), 50u);  // the input and three blocks per convolution
  for (std::size_t k = 0; k < written.size(); ++k) {
    EXPECT_EQ(written[k].addr, kept.initial_data[k].addr) << "block " << k;
    EXPECT_EQ(written[k].bytes, kept.initial_data[k].bytes) << "block " << k;
  }
}

// The check counts every byte that differs from the reference.
TEST(Lowering, TheCheckCountsEachDifferingByte) {
  QuantizedNetwork q = quantize_zoo("squeezenet1_1", 64, 64);
  const std::size_t last = q.layers.size() - 1;
  std::vector<std::int8_t>& expected = q.layers[last].expected;
  ASSERT_GT(expected.size(), 900u);
  for (const std::size_t k : {std::size_t{0}, std::size_t{17}, expected.size() - 1})
    expected[k] = static_cast<std::int8_t>(expected[k] ^ 0x40);
  const NetworkRun run = run_network_on_host(q);
  EXPECT_EQ(run.layers[last].mismatches, 3u);
  EXPECT_FALSE(run.layers[last].verified);
  EXPECT_EQ(run.layers[last - 1].mismatches, 0u);
}

TEST(LoweringErrors, MalformedCommandsNameTheirIndexAndLayer) {
  HostDram dram;
  LayerCommand c{};
  c.opcode = 99;
  c.layer_id = 42;
  expect_invalid([&] { execute_commands_on_host(dram, {c}); }, "layer_id 42");
  expect_invalid([&] { execute_commands_on_host(dram, {c}); }, "unknown opcode");
}

}  // namespace
}  // namespace npuvp::runtime
