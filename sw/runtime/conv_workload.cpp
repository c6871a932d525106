#include "sw/runtime/conv_workload.h"

#include <algorithm>
#include <cstdlib>
#include <random>
#include <stdexcept>

namespace npuvp::runtime {

std::uint64_t PreparedConv::macs() const {
  return std::uint64_t(out_shape.c) * out_shape.h * out_shape.w * spec.kernel_h * spec.kernel_w * spec.in_c;
}

PreparedConv prepare_conv(const ConvLayerSpec& spec, std::uint32_t seed) {
  const auto require = [&](bool ok, const char* field) {
    if (!ok) throw std::invalid_argument("layer '" + spec.name + "': invalid " + field);
  };
  require(spec.in_c > 0 && spec.in_h > 0 && spec.in_w > 0, "input shape");
  require(spec.out_c > 0, "out_c");
  require(spec.kernel_h > 0 && spec.kernel_w > 0 && spec.kernel_h < 256 && spec.kernel_w < 256, "kernel");
  require(spec.stride > 0 && spec.stride < 256, "stride");
  require(spec.pad >= 0 && spec.pad + std::max(spec.extra_pad_bottom, spec.extra_pad_right) < 65536, "pad");
  require(spec.extra_pad_bottom >= 0 && spec.extra_pad_right >= 0, "extra padding");
  require(spec.weight_sparsity >= 0 && spec.weight_sparsity <= 1, "weight_sparsity (expected 0 to 1)");
  require(spec.dilation > 0 && spec.dilation < 256, "dilation");

  PreparedConv l;
  l.spec = spec;
  l.params.kernel_h = spec.kernel_h;
  l.params.kernel_w = spec.kernel_w;
  l.params.stride_h = l.params.stride_w = spec.stride;
  l.params.pad_top = l.params.pad_left = spec.pad;
  l.params.pad_bottom = spec.pad + spec.extra_pad_bottom;
  l.params.pad_right = spec.pad + spec.extra_pad_right;
  l.params.dilation_h = l.params.dilation_w = spec.dilation;
  l.params.out_channels = spec.out_c;
  l.in_shape = TensorShape{spec.in_c, spec.in_h, spec.in_w};
  l.out_shape = conv_output_shape(l.in_shape, l.params);

  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(-128, 127);
  const QuantParams in_q{0.05f, std::uniform_int_distribution<int>(-20, 20)(rng)};
  l.params.input_zero_point = in_q.zero_point;
  l.input.resize(std::size_t(spec.in_c) * spec.in_h * spec.in_w);
  for (auto& v : l.input) v = static_cast<std::int8_t>(byte(rng));
  l.weights.resize(std::size_t(spec.out_c) * spec.kernel_h * spec.kernel_w * spec.in_c);
  // Never zero unless pruned below, so zero-skipping studies know the sparsity exactly.
  for (auto& v : l.weights) v = static_cast<std::int8_t>(std::max(1, std::abs(byte(rng) / 2)) * (byte(rng) < 0 ? -1 : 1));
  const int zero_channels = static_cast<int>(spec.weight_sparsity * spec.in_c + 0.5);
  for (std::size_t i = 0; i < l.weights.size(); ++i)
    if (static_cast<int>(i % spec.in_c) < zero_channels) l.weights[i] = 0;
  std::uniform_int_distribution<int> bias(-2000, 2000);
  l.bias.resize(spec.out_c);
  for (auto& b : l.bias) b = bias(rng);
  // Weight scales vary per channel, as per-channel quantization produces.
  std::uniform_real_distribution<float> wscale(0.002f, 0.01f);
  std::vector<float> weight_scales(spec.out_c);
  for (auto& s : weight_scales) s = wscale(rng);
  // An output scale that spreads the accumulators over the int8 range.
  const float fan_in = static_cast<float>(spec.kernel_h * spec.kernel_w * spec.in_c);
  const QuantParams out_q{0.05f * 0.006f * 64.0f * std::sqrt(fan_in) / 8.0f, -10};
  l.requant = make_requantization(in_q.scale, weight_scales, out_q, spec.relu ? Activation::kRelu : Activation::kNone);
  l.expected = conv2d(l.input, l.in_shape, l.weights, l.bias, l.params, l.requant);
  return l;
}

ConvOnNpu run_conv_on_npu(sw::NpuDriver& driver, const PreparedConv& l, std::uint32_t layer_id,
                          const LoweringFaults& faults) {
  sw::HostHal& hal = driver.hal();
  const std::uint64_t input = driver.alloc(l.input.size());
  const std::uint64_t weights = driver.alloc(l.weights.size());
  const std::uint64_t bias = driver.alloc(l.bias.size() * 4);
  const std::uint64_t requant = driver.alloc(std::uint64_t(l.spec.out_c) * 8);
  const std::uint64_t output = driver.alloc(std::size_t(l.out_shape.c) * l.out_shape.h * l.out_shape.w);
  const std::uint64_t command = driver.alloc(sizeof(firmware::LayerCommand));

  hal.memory_write(input, l.input.data(), l.input.size());
  hal.memory_write(weights, l.weights.data(), l.weights.size());
  hal.memory_write(bias, l.bias.data(), l.bias.size() * 4);
  std::vector<std::int32_t> rq(2 * std::size_t(l.spec.out_c));
  for (int k = 0; k < l.spec.out_c; ++k) {
    const auto& m = l.requant.per_channel.size() == 1 ? l.requant.per_channel[0] : l.requant.per_channel[k];
    rq[2 * k] = m.multiplier;
    rq[2 * k + 1] = m.shift;
  }
  hal.memory_write(requant, rq.data(), rq.size() * 4);

  firmware::LayerCommand cmd{};
  cmd.opcode = static_cast<std::uint32_t>(firmware::Opcode::kConv2d);
  cmd.dataflow = static_cast<std::uint32_t>(l.spec.dataflow);
  cmd.input_addr = input;
  cmd.output_addr = output;
  cmd.weights_addr = weights;
  cmd.bias_addr = bias;
  cmd.requant_addr = requant;
  cmd.in_c = l.in_shape.c;
  cmd.in_h = l.in_shape.h;
  cmd.in_w = l.in_shape.w;
  cmd.out_c = l.out_shape.c;
  cmd.out_h = l.out_shape.h;
  cmd.out_w = l.out_shape.w;
  cmd.kernel_h = static_cast<std::uint8_t>(l.params.kernel_h);
  cmd.kernel_w = static_cast<std::uint8_t>(l.params.kernel_w);
  cmd.stride_h = static_cast<std::uint8_t>(l.params.stride_h);
  cmd.stride_w = static_cast<std::uint8_t>(l.params.stride_w);
  cmd.dilation_h = static_cast<std::uint8_t>(l.params.dilation_h);
  cmd.dilation_w = static_cast<std::uint8_t>(l.params.dilation_w);
  cmd.pad_top = static_cast<std::uint16_t>(l.params.pad_top);
  cmd.pad_left = static_cast<std::uint16_t>(l.params.pad_left);
  cmd.pad_bottom = static_cast<std::uint16_t>(l.params.pad_bottom);
  cmd.pad_right = static_cast<std::uint16_t>(l.params.pad_right);
  cmd.groups = 1;
  cmd.input_zero_point = l.params.input_zero_point;
  cmd.output_zero_point = l.requant.output_zero_point;
  cmd.act_min = l.requant.act_min;
  cmd.act_max = l.requant.act_max;
  cmd.layer_id = layer_id;
  if (faults.input_row_pitch_delta != 0)
    cmd.input_row_pitch = static_cast<std::uint32_t>(l.in_shape.w * l.in_shape.c + faults.input_row_pitch_delta);
  hal.memory_write(command, &cmd, sizeof cmd);

  driver.submit(command, 1);
  driver.wait_idle();

  ConvOnNpu result;
  result.output.resize(l.expected.size());
  hal.memory_read(output, result.output.data(), result.output.size());
  for (std::size_t i = 0; i < result.output.size(); ++i) result.mismatches += result.output[i] != l.expected[i];
  return result;
}

}  // namespace npuvp::runtime
