// int16 networks on the host: TFLite's int16-activation scheme (symmetric,
// zero point 0) with int16 weights, the int64 requantization, which tensors
// are int16, and the lowered commands computing every layer bit-exactly on
// the host interpreter, data movement included.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/network_yaml.h"
#include "sw/runtime/frontend/zoo.h"
#include "sw/runtime/lowering/lowering.h"
#include "sw/runtime/quantize/int16_values.h"
#include "sw/runtime/quantize/network_quantizer.h"
#include "tests/sw/runtime_test_util.h"

namespace npuvp::runtime {
namespace {

using testing::expect_invalid;

TEST(Int16Quantization, ActivationsAreSymmetricWithZeroPointZero) {
  const QuantParams q = choose_quant_params(-0.5f, 2.0f, 16);
  EXPECT_FLOAT_EQ(q.scale, 2.0f / 32767);
  EXPECT_EQ(q.zero_point, 0);
  EXPECT_EQ(q.qmin, -32768);
  EXPECT_EQ(q.qmax, 32767);
  EXPECT_EQ(bits_of(q), 16);
  // 1.0 is 16383.5 steps: half away from zero; -3 saturates; stored little-endian.
  const std::vector<std::int8_t> bytes = quantize_tensor({1.0f, -3.0f, 0.0f}, q);
  ASSERT_EQ(bytes.size(), 6u);
  EXPECT_EQ(int16_values(bytes), (std::vector<std::int32_t>{16384, -32768, 0}));
  EXPECT_EQ(static_cast<std::uint8_t>(bytes[0]), 0x00);
  EXPECT_EQ(static_cast<std::uint8_t>(bytes[1]), 0x40);
}

TEST(Int16Quantization, WeightsPerChannelInPlusMinus32767) {
  const PerChannelWeights w = quantize_weights_per_channel({0.5f, -1.0f, 0.25f, 2.0f, 1.0f, -0.5f}, 2, 16);
  ASSERT_EQ(w.values.size(), 12u);
  EXPECT_FLOAT_EQ(w.scales[0], 1.0f / 32767);
  EXPECT_FLOAT_EQ(w.scales[1], 2.0f / 32767);
  EXPECT_EQ(int16_values(w.values), (std::vector<std::int32_t>{16384, -32767, 8192, 32767, 16384, -8192}));
}

// TFLite's int64 MultiplyByQuantizedMultiplier: the multiplier 2^30 (0.5)
// reduces to 2^14; x · 2^14 + 2^13 >> 15 halves x rounding half up.
TEST(Int16Quantization, Int64RequantizationRoundsTheReducedMultiplier) {
  const FixedPointMultiplier half{1 << 30, 0};
  EXPECT_EQ(multiply_by_quantized_multiplier_int64(3, half), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier_int64(-3, half), -1);
  EXPECT_EQ(multiply_by_quantized_multiplier_int64(std::int64_t{1} << 31, half), std::int32_t{1} << 30);
  // The result saturates to int32 where TFLite asserts it fits.
  EXPECT_EQ(multiply_by_quantized_multiplier_int64(std::int64_t{1} << 46, {1 << 30, 7}),
            std::numeric_limits<std::int32_t>::max());
  expect_invalid([] { multiply_by_quantized_multiplier_int64(1, {1 << 30, 8}); }, "shift must be in [-31, 7]");
}

void expect_host_run_exact(const QuantizedNetwork& q) {
  const NetworkRun run = run_network_on_host(q);
  for (const LayerCheck& l : run.layers)
    EXPECT_TRUE(l.verified) << "layer " << l.index << " '" << l.name << "': " << l.mismatches << " mismatches";
  EXPECT_TRUE(run.all_verified());
}

TEST(Int16Quantization, ResNet20AtInt16IsInt16EverywhereAndBitExactOnTheHost) {
  QuantizationOptions options;
  options.bits = 16;
  const QuantizedNetwork q = quantize_network(make_network("resnet20_cifar"), options);
  for (std::size_t i = 0; i < q.layers.size(); ++i) {
    const std::string& name = q.network.layers()[i].name;
    EXPECT_EQ(q.layers[i].bits, 16) << name;
    EXPECT_EQ(q.layers[i].output.zero_point, 0) << name;
    EXPECT_EQ(q.expected(static_cast<int>(i)).size(), 2 * q.network.layers()[i].out_shape.size()) << name;
  }
  HostDram dram;
  const LoweredNetwork lowered = lower_network(q, [&](std::uint64_t bytes) { return dram.alloc(bytes); });
  // Convolutions, pooling and adds compute at int16; copies move bytes.
  for (const firmware::LayerCommand& c : lowered.commands)
    if (c.opcode <= static_cast<std::uint32_t>(firmware::Opcode::kAdd)) {
      EXPECT_EQ(c.datatype, static_cast<std::uint32_t>(firmware::Datatype::kInt16)) << "layer " << c.layer_id;
    }
  // Adds stay their own command: the fused epilogue is int8.
  for (std::size_t i = 0; i < q.layers.size(); ++i)
    if (q.network.layers()[i].type == LayerType::kAdd) {
      EXPECT_NE(lowered.layers[i].not_fused.find("is not int8"), std::string::npos) << lowered.layers[i].not_fused;
    }
  expect_host_run_exact(q);
  // Every layer is closer to the float network than at int8.
  options.bits = 8;
  const std::vector<double> int8_db = layer_sqnr_db(quantize_network(make_network("resnet20_cifar"), options));
  const std::vector<double> int16_db = layer_sqnr_db(q);
  for (std::size_t i = 1; i < int8_db.size(); ++i)
    if (!std::isnan(int8_db[i])) {
      EXPECT_GT(int16_db[i], int8_db[i] + 20) << q.network.layers()[i].name;
    }
}

// Data movement at int16 runs as copies of two bytes a value (the firmware
// gathers int8 inputs only); a shift runs as a one-hot int16 depthwise conv.
constexpr const char* kMoves = R"(name: moves
input: [8, 9, 9]
layers:
  - {name: a, type: conv2d, out_channels: 8, kernel: 3, padding: 1, bias: true}
  - {name: b, type: conv2d, inputs: [input], out_channels: 4, kernel: 1}
  - {name: cat, type: concat, inputs: [a, b]}
  - {name: shuffle, type: channel_shuffle, groups: 3}
  - {name: slice, type: slice_channels, begin: 2, end: 11}
  - {name: shift, type: shift, kernel_size: 3}
  - {name: pad, type: pad_channels, before: 1, after: 2}
  - {name: relu, type: relu}
  - {name: avg, type: avg_pool, kernel: 3, stride: 2, padding: 1, count_include_pad: true}
  - {name: max, type: max_pool, kernel: 2}
  - {name: fc, type: fully_connected, out_features: 5}
)";

TEST(Int16Quantization, DataMovementPoolingAndAShiftAreBitExactAtInt16) {
  QuantizationOptions options;
  options.bits = 16;
  const QuantizedNetwork q = quantize_network(parse_network_yaml(kMoves, "moves.yaml"), options);
  for (std::size_t i = 0; i < q.layers.size(); ++i) EXPECT_EQ(q.layers[i].bits, 16) << q.network.layers()[i].name;
  expect_host_run_exact(q);
}

TEST(Int16Quantization, MixedPrecisionConvertsAtTheProducerAndIsBitExact) {
  const QuantizedNetwork q = quantize_network(load_network_yaml("tests/platform/mixed_int16.yaml"));
  std::map<std::string, std::pair<int, int>> bits;  // arithmetic, output tensor
  for (std::size_t i = 0; i < q.layers.size(); ++i)
    bits[q.network.layers()[i].name] = {q.layers[i].bits, bits_of(q.layers[i].output)};
  const std::map<std::string, std::pair<int, int>> expected{
      {"input", {8, 8}}, {"a", {8, 16}}, {"a_relu", {16, 16}}, {"pool", {16, 16}}, {"b", {16, 16}}, {"mid", {8, 16}},
      {"sum", {16, 16}}, {"c", {16, 8}}, {"d", {8, 8}},        {"gap", {8, 8}},    {"fc", {8, 8}}};
  EXPECT_EQ(bits, expected);
  HostDram dram;
  const LoweredNetwork lowered = lower_network(q, [&](std::uint64_t bytes) { return dram.alloc(bytes); });
  std::map<std::uint32_t, std::uint32_t> flags;
  for (const firmware::LayerCommand& c : lowered.commands)
    if (c.opcode == static_cast<std::uint32_t>(firmware::Opcode::kConv2d)) flags[c.layer_id] = c.flags;
  EXPECT_EQ(flags[1], firmware::kInt16Output);
  EXPECT_EQ(flags[5], firmware::kInt16Output);
  EXPECT_EQ(flags[7], firmware::kInt8Output);
  EXPECT_EQ(flags[4], 0u);
  expect_host_run_exact(q);
}

TEST(Int16Quantization, ATensorReadAtTwoWidthsOrInt4BesideInt16IsRefusedNamingTheLayer) {
  const auto quantize = [](const std::string& second) {
    quantize_network(
        parse_network_yaml("name: x\ninput: [8, 8, 8]\nlayers:\n  - {name: a, type: conv2d, "
                           "out_channels: 8, kernel: 1, datatype: int16}\n" +
                               second,
                           "bad.yaml"));
  };
  expect_invalid([&] { quantize("  - {name: b, type: conv2d, inputs: [input], out_channels: 8, kernel: 1}\n"); },
                 "network 'x': layer 'b' (conv2d): an int8 layer reads the int16 tensor of layer 'input' (an int16 "
                 "layer or an int16 add "
                 "reads it too); supported: a tensor read at one width");
  expect_invalid(
      [&] { quantize("  - {name: b, type: conv2d, out_channels: 8, kernel: 1, datatype: int4}\n"); },
      "network 'x': layer 'a' (conv2d): it shares a tensor with the int4 layer 'b': an int4 and an int16 layer "
      "cannot share a tensor (supported: int4 beside int8, int16 beside int8)");
  // The int4 side found first: the int16 layer reading its output is named.
  expect_invalid(
      [&] {
        quantize_network(parse_network_yaml(
            "name: y\ninput: [8, 8, 8]\nlayers:\n  - {name: narrow, type: conv2d, out_channels: 8, kernel: 1, "
            "datatype: int4}\n  - {name: wide, type: conv2d, out_channels: 8, kernel: 1, datatype: int16}\n",
            "bad.yaml"));
      },
      "network 'y': layer 'narrow' (conv2d): it shares a tensor with the int16 layer 'wide': an int4 and an int16 "
      "layer cannot share a tensor (supported: int4 beside int8, int16 beside int8)");
}

}  // namespace
}  // namespace npuvp::runtime
