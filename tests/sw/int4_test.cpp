// int4 and mixed int4/int8 quantization: the int4 ranges of the TFLite-style
// scheme, which tensors become int4 in a mixed network, and the lowered
// commands computing every layer bit-exactly on the host interpreter.
#include <gtest/gtest.h>

#include <algorithm>

#include "contract/int4_storage.h"
#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/network_yaml.h"
#include "sw/runtime/frontend/zoo.h"
#include "sw/runtime/lowering/lowering.h"
#include "sw/runtime/quantize/network_quantizer.h"
#include "tests/sw/runtime_test_util.h"

namespace npuvp::runtime {
namespace {

using testing::expect_invalid;

TEST(Int4Quantization, ChooseQuantParamsOverFifteenSteps) {
  // [-2, 6]: scale 8/15; zero point from min = -8 + 3.75 = -4.25 (error 11.75
  // against 7 + 11.25 from max) -> -4.
  QuantParams q = choose_quant_params(-2.0f, 6.0f, 4);
  EXPECT_FLOAT_EQ(q.scale, 8.0f / 15.0f);
  EXPECT_EQ(q.zero_point, -4);
  EXPECT_EQ(q.qmin, -8);
  EXPECT_EQ(q.qmax, 7);
  q = choose_quant_params(1.0f, 3.0f, 4);  // extended to [0, 3]: zero at the bottom
  EXPECT_FLOAT_EQ(q.scale, 3.0f / 15.0f);
  EXPECT_EQ(q.zero_point, -8);
  q = choose_quant_params(0.0f, 0.0f, 4);
  EXPECT_EQ(q.scale, 1.0f);
  EXPECT_EQ(q.qmax, 7);
  expect_invalid([] { choose_quant_params(0.0f, 1.0f, 5); }, "bits must be 4 or 8");
}

TEST(Int4Quantization, ValuesSaturateAndActivationsClampToFourBits) {
  const QuantParams q = with_bits({0.5f, 3}, 4);
  EXPECT_EQ(quantize_value(1.25f, q), 6);  // 2.5 -> 3, + 3
  EXPECT_EQ(quantize_value(100.0f, q), 7);
  EXPECT_EQ(quantize_value(-1e30f, q), -8);
  const ActivationRange none = activation_range(Activation::kNone, q);
  EXPECT_EQ(none.min, -8);
  EXPECT_EQ(none.max, 7);
  // ReLU6 at scale 0.5, zero point -8: [-8, -8 + 12].
  const ActivationRange relu6 = activation_range(Activation::kRelu6, with_bits({0.5f, -8}, 4));
  EXPECT_EQ(relu6.min, -8);
  EXPECT_EQ(relu6.max, 4);
}

TEST(Int4Quantization, WeightsPerChannelInPlusMinusSeven) {
  const std::vector<float> w = {3.5f,  -0.25f, 0.75f,  // scale 3.5 / 7 = 0.5: 7, -0.5 -> -1, 1.5 -> 2
                                -0.7f, 0.1f,   0.0f};  // scale 0.1: -7, 1, 0
  const PerChannelWeights q = quantize_weights_per_channel(w, 2, 4);
  EXPECT_EQ(q.values, (std::vector<std::int8_t>{7, -1, 2, -7, 1, 0}));
  EXPECT_EQ(q.scales[0], 0.5f);
  EXPECT_FLOAT_EQ(q.scales[1], 0.1f);
}

// Two filters of five values: the low nibble first, each filter padded to a
// byte with a zero nibble.
TEST(Int4Storage, FiltersPackLowNibbleFirstAndPadToAByte) {
  const std::vector<std::int8_t> values{1, -2, 7, -8, 3, -1, 0, 0, 0, -8};
  const std::vector<std::int8_t> packed = pe_array::pack_int4_runs(values, 5);
  const std::vector<std::uint8_t> bytes(packed.begin(), packed.end());
  EXPECT_EQ(bytes, (std::vector<std::uint8_t>{0xE1, 0x87, 0x03, 0x0F, 0x00, 0x08}));
  EXPECT_EQ(pe_array::storage_bytes(5, pe_array::Datatype::kInt4), 3u);
  EXPECT_EQ(pe_array::storage_bytes(5, pe_array::Datatype::kInt8), 5u);
  EXPECT_EQ(pe_array::storage_bytes(5, pe_array::Datatype::kInt16), 10u);
  std::vector<std::int8_t> back(values.size());
  pe_array::unpack_int4_runs(packed.data(), 2, 5, back.data());
  EXPECT_EQ(back, values);
}

void expect_host_run_exact(const QuantizedNetwork& q, const ExecutionOptions& options = {}) {
  const NetworkRun run = run_network_on_host(q, options);
  for (const LayerCheck& l : run.layers)
    EXPECT_TRUE(l.verified) << "layer " << l.index << " '" << l.name << "': " << l.mismatches << " mismatches";
  EXPECT_TRUE(run.all_verified());
}

void expect_within(const std::vector<std::int8_t>& expected, int lo, int hi, const std::string& name) {
  ASSERT_FALSE(expected.empty()) << name;
  const auto [mn, mx] = std::minmax_element(expected.begin(), expected.end());
  EXPECT_GE(*mn, lo) << name;
  EXPECT_LE(*mx, hi) << name;
}

TEST(Int4Quantization, ResNet20AtInt4IsInt4EverywhereAndBitExactOnTheHost) {
  QuantizationOptions options;
  options.bits = 4;
  const QuantizedNetwork q = quantize_network(make_network("resnet20_cifar"), options);
  for (std::size_t i = 0; i < q.layers.size(); ++i) {
    const std::string& name = q.network.layers()[i].name;
    EXPECT_EQ(q.layers[i].bits, 4) << name;
    EXPECT_EQ(q.layers[i].output.qmax, 7) << name;
    expect_within(q.expected(static_cast<int>(i)), -8, 7, name);
    for (std::int8_t w : q.layers[i].weights) ASSERT_LE(std::abs(int{w}), 7) << name;
  }
  HostDram dram;
  const LoweredNetwork lowered = lower_network(q, [&](std::uint64_t bytes) { return dram.alloc(bytes); });
  for (const firmware::LayerCommand& c : lowered.commands) {
    if (c.opcode == static_cast<std::uint32_t>(firmware::Opcode::kConv2d)) {
      EXPECT_EQ(c.datatype, static_cast<std::uint32_t>(firmware::Datatype::kInt4));
    }
  }
  expect_host_run_exact(q);
}

constexpr const char* kMixed = R"(name: mixed
input: [8, 12, 12]
layers:
  - {name: a, type: conv2d, out_channels: 16, kernel: 3, padding: 1, bias: true}
  - {name: a_relu, type: relu}
  - {name: b, type: conv2d, out_channels: 16, kernel: 3, padding: 1, groups: 16, datatype: int4}
  - {name: pool, type: max_pool, kernel: 2}
  - {name: c, type: conv2d, out_channels: 8, kernel: 1, bias: true}
  - {name: fc, type: fully_connected, out_features: 10, datatype: int4}
)";

// a (int8) feeds b (int4): a's output is int4, a requantizing straight into
// [-8, 7] with an int8 command. b's output, the pool's and c's input are int4;
// c (int8) writes int8 for fc (int4), whose input is then int4 again.
TEST(Int4Quantization, MixedPrecisionRequantizesAtTheProducerAndIsBitExact) {
  const QuantizedNetwork q = quantize_network(parse_network_yaml(kMixed, "mixed.yaml"));
  const Network& n = q.network;
  const auto bits = [&](const char* name) { return q.layers[static_cast<std::size_t>(n.index_of(name))].bits; };
  const auto layer = [&](const char* name) -> const QuantizedLayer& {
    return q.layers[static_cast<std::size_t>(n.index_of(name))];
  };
  EXPECT_EQ(bits("input"), 8);
  EXPECT_EQ(bits("a"), 8);
  EXPECT_EQ(bits("b"), 4);
  EXPECT_EQ(bits("pool"), 4);
  EXPECT_EQ(bits("c"), 8);
  EXPECT_EQ(bits("fc"), 4);
  // a's command is int8 but its output is int4: requantized with a clamp
  // inside [-8, 7] (ReLU fused: from the quantized 0 = -8).
  EXPECT_EQ(layer("a").requant.act_min, -8);
  EXPECT_EQ(layer("a").requant.act_max, 7);
  expect_within(layer("a").expected, -8, 7, "a");
  EXPECT_LE(*std::max_element(layer("a").weights.begin(), layer("a").weights.end()), 127);
  // c reads int4 values as int8 and writes an int4 tensor for fc.
  EXPECT_EQ(layer("c").output.qmax, 7);
  EXPECT_EQ(layer("fc").output.qmax, 7);
  HostDram dram;
  const LoweredNetwork lowered = lower_network(q, [&](std::uint64_t bytes) { return dram.alloc(bytes); });
  const auto datatype = [&](const char* name) {
    const LoweredLayer& l = lowered.layers[static_cast<std::size_t>(n.index_of(name))];
    return static_cast<firmware::Datatype>(lowered.commands[l.first_command].datatype);
  };
  EXPECT_EQ(datatype("a"), firmware::Datatype::kInt8);
  EXPECT_EQ(datatype("b"), firmware::Datatype::kInt4);
  EXPECT_EQ(datatype("c"), firmware::Datatype::kInt8);
  EXPECT_EQ(datatype("fc"), firmware::Datatype::kInt4);
  // Every int4 tensor is stored two per byte: a's (read by b through the
  // fused ReLU), b's, the pool's, c's and fc's; the int8 input is not.
  const auto flags = [&](const char* name) {
    return lowered.commands[lowered.layers[static_cast<std::size_t>(n.index_of(name))].first_command].flags;
  };
  const std::uint32_t both = firmware::kInt4PackedInput | firmware::kInt4PackedOutput;
  EXPECT_EQ(flags("a"), firmware::kInt4PackedOutput);
  for (const char* name : {"b", "pool", "c", "fc"}) EXPECT_EQ(flags(name), both) << name;
  const auto& tensor = [&](const char* name) { return lowered.layers[static_cast<std::size_t>(n.index_of(name))]; };
  EXPECT_FALSE(tensor("input").int4_packed);
  EXPECT_EQ(tensor("a").output.bytes, 12u * 12 * 8);  // 16 channels in 8 bytes a pixel
  EXPECT_TRUE(tensor("a_relu").int4_packed);
  EXPECT_EQ(tensor("pool").output.bytes, 6u * 6 * 8);
  EXPECT_EQ(tensor("c").output.bytes, 6u * 6 * 4);
  EXPECT_EQ(tensor("fc").output.bytes, 5u);  // 10 values
  expect_host_run_exact(q);
}

// Odd channel counts: each pixel's run ends in a padding nibble (3 input
// channels in 2 bytes, 5 in 3). The concatenation stays one value per byte, as
// its second slice would start on an odd channel, and so do its producers'
// outputs and the global pool that reads it through the concatenation's view.
constexpr const char* kOdd = R"(name: odd
input: [3, 9, 9]
layers:
  - {name: a, type: conv2d, out_channels: 5, kernel: 3, padding: 1, bias: true}
  - {name: a_relu, type: relu}
  - {name: dw, type: conv2d, out_channels: 5, kernel: 3, padding: 1, groups: 5}
  - {name: pool, type: max_pool, kernel: 2}
  - {name: left, type: conv2d, out_channels: 5, kernel: 1}
  - {name: right, type: conv2d, inputs: [pool], out_channels: 6, kernel: 1}
  - {name: cat, type: concat, inputs: [left, right]}
  - {name: gap, type: global_avg_pool}
  - {name: fc, type: fully_connected, out_features: 7}
)";

TEST(Int4Storage, OddChannelsPadEachPixelAndDataMovementStaysOnePerByte) {
  QuantizationOptions options;
  options.bits = 4;
  const QuantizedNetwork q = quantize_network(parse_network_yaml(kOdd, "odd.yaml"), options);
  const Network& n = q.network;
  HostDram dram;
  const LoweredNetwork lowered = lower_network(q, [&](std::uint64_t bytes) { return dram.alloc(bytes); });
  const auto& tensor = [&](const char* name) { return lowered.layers[static_cast<std::size_t>(n.index_of(name))]; };
  EXPECT_EQ(tensor("input").output.bytes, 9u * 9 * 2);
  EXPECT_EQ(tensor("a").output.bytes, 9u * 9 * 3);
  EXPECT_EQ(tensor("pool").output.bytes, 4u * 4 * 3);
  for (const char* name : {"input", "a", "dw", "pool", "fc"}) EXPECT_TRUE(tensor(name).int4_packed) << name;
  for (const char* name : {"left", "right", "cat", "gap"}) EXPECT_FALSE(tensor(name).int4_packed) << name;
  EXPECT_EQ(stored_input(q, lowered).size(), 9u * 9 * 2);
  expect_host_run_exact(q);
}

TEST(Int4Quantization, ABadLayerDatatypeNamesFileLayerAndKey) {
  expect_invalid(
      [] {
        parse_network_yaml(
            "name: x\ninput: [8, 8, 8]\nlayers:\n  - {name: a, type: conv2d, out_channels: 8, kernel: 1, "
            "datatype: int2}\n",
            "bad.yaml");
      },
      "bad.yaml:4:67: layer 'a': key 'datatype': expected int4 or int8, got 'int2'");
  expect_invalid(
      [] {
        parse_network_yaml(
            "name: x\ninput: [8, 8, 8]\nlayers:\n  - {name: p, type: max_pool, kernel: 2, datatype: int4}\n",
            "bad.yaml");
      },
      "layer 'p': unknown key 'datatype'");
}

// Producers write their slices of a packed concatenation: 6 channels at byte
// 0 and 5 at byte 3 of each 6-byte pixel (the odd slice last).
constexpr const char* kPackedConcat = R"(name: cat
input: [4, 6, 6]
layers:
  - {name: left, type: conv2d, out_channels: 6, kernel: 1}
  - {name: left_relu, type: relu}
  - {name: right, type: conv2d, inputs: [input], out_channels: 5, kernel: 3, padding: 1}
  - {name: cat, type: concat, inputs: [left_relu, right]}
  - {name: pool, type: max_pool, kernel: 2}
)";

TEST(Int4Storage, ProducersWriteTheirSlicesOfAPackedConcatenation) {
  QuantizationOptions options;
  options.bits = 4;
  const QuantizedNetwork q = quantize_network(parse_network_yaml(kPackedConcat, "cat.yaml"), options);
  const Network& n = q.network;
  HostDram dram;
  const LoweredNetwork lowered = lower_network(q, [&](std::uint64_t bytes) { return dram.alloc(bytes); });
  const auto& tensor = [&](const char* name) { return lowered.layers[static_cast<std::size_t>(n.index_of(name))]; };
  EXPECT_TRUE(tensor("cat").int4_packed);
  EXPECT_EQ(tensor("cat").output.bytes, 6u * 6 * 6);
  // The fused ReLU's output is left's slice, read back as bytes like it.
  EXPECT_EQ(tensor("left_relu").view.at(0).addr, tensor("cat").output.addr);
  EXPECT_EQ(tensor("left_relu").view.at(0).pixel_pitch, 6u);
  for (const auto& [name, offset] : {std::pair{"left", 0u}, std::pair{"right", 3u}}) {
    const LoweredLayer& l = tensor(name);
    EXPECT_TRUE(l.int4_packed) << name;
    EXPECT_EQ(l.output.addr, tensor("cat").output.addr + offset) << name;
    const firmware::LayerCommand& c = lowered.commands[l.first_command];
    EXPECT_EQ(c.output_pixel_pitch, 6u) << name;
    EXPECT_EQ(c.flags, firmware::kInt4PackedInput | firmware::kInt4PackedOutput) << name;
    ASSERT_EQ(l.view.size(), 1u) << name;
    EXPECT_EQ(l.view[0].pixel_pitch, 6u) << name;
  }
  EXPECT_EQ(tensor("pool").output.bytes, 3u * 3 * 6);
  expect_host_run_exact(q);
  // Without folding the concat runs as byte copies: it, its inputs and the
  // pool that reads it channelwise stay one value per byte.
  LoweringOptions unfolded;
  unfolded.fold_data_movement = false;
  const LoweredNetwork copied = lower_network(
      q, [&](std::uint64_t bytes) { return dram.alloc(bytes); }, unfolded);
  for (const char* name : {"left", "right", "cat", "pool"})
    EXPECT_FALSE(copied.layers[static_cast<std::size_t>(n.index_of(name))].int4_packed) << name;
  EXPECT_TRUE(copied.layers[0].int4_packed);  // the input: read by the two convolutions only
  ExecutionOptions copies;
  copies.fold_data_movement = false;
  expect_host_run_exact(q, copies);
}

}  // namespace
}  // namespace npuvp::runtime
