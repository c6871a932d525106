#include "sw/runtime/lowering/conv_workload.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>

#include "contract/int4_storage.h"

namespace npuvp::runtime {
namespace {

using firmware::Datatype;

// The output scale that spreads accumulators of `fan_in` products of values
// with RMS rms_x and rms_w (integer units) to an output RMS of `target`.
float output_scale(float input_scale, float weight_scale, float fan_in, float rms_x, float rms_w, float target) {
  return input_scale * weight_scale * std::sqrt(fan_in) * rms_x * rms_w / target;
}

// Little-endian element i of a byte tensor.
std::int32_t load_int16(const std::vector<std::int8_t>& bytes, std::size_t i) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(static_cast<std::uint8_t>(bytes[2 * i]) |
                                                              (static_cast<std::uint8_t>(bytes[2 * i + 1]) << 8)));
}
std::uint16_t load_bits16(const std::vector<std::int8_t>& bytes, std::size_t i) {
  return static_cast<std::uint16_t>(load_int16(bytes, i));
}
void store_16(std::vector<std::int8_t>& bytes, std::size_t i, std::uint32_t v) {
  bytes[2 * i] = static_cast<std::int8_t>(v & 0xFF);
  bytes[2 * i + 1] = static_cast<std::int8_t>((v >> 8) & 0xFF);
}

// `v` modulo 2^48, as a signed 48-bit value.
std::int64_t wrap_48(std::int64_t v) {
  const std::uint64_t low = static_cast<std::uint64_t>(v) & ((std::uint64_t{1} << 48) - 1);
  return low >= (std::uint64_t{1} << 47) ? static_cast<std::int64_t>(low) - (std::int64_t{1} << 48)
                                         : static_cast<std::int64_t>(low);
}

// binary16 bits to their exact value (the host's own decoding).
double half_value(std::uint16_t h) {
  const double sign = (h & 0x8000) != 0 ? -1.0 : 1.0;
  const int exponent = (h >> 10) & 0x1F;
  const int mantissa = h & 0x3FF;
  if (exponent == 0x1F) return mantissa != 0 ? std::nan("") : sign * INFINITY;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

// One unit in the last place of a half of magnitude |v|.
double half_ulp(double v) {
  int exponent = 0;
  std::frexp(std::fabs(v), &exponent);  // |v| = f × 2^exponent, f in [0.5, 1)
  return std::ldexp(1.0, std::max(exponent - 11, -24));
}

// Walks the kernel window of output pixel (oy, ox): visit(tap, inside, pixel)
// gets the tap's index in the filter, whether it falls inside the input and
// the element index of its input pixel (HWC).
template <typename Visit>
void for_each_tap(const PreparedConv& l, int oy, int ox, Visit visit) {
  const ConvParams& p = l.params;
  for (int ky = 0; ky < p.kernel_h; ++ky)
    for (int kx = 0; kx < p.kernel_w; ++kx) {
      const int iy = oy * p.stride_h - p.pad.top + ky * p.dilation_h;
      const int ix = ox * p.stride_w - p.pad.left + kx * p.dilation_w;
      const bool inside = iy >= 0 && iy < l.in_shape.h && ix >= 0 && ix < l.in_shape.w;
      const std::size_t pixel = inside ? (static_cast<std::size_t>(iy) * l.in_shape.w + ix) * l.in_shape.c : 0;
      visit(ky * p.kernel_w + kx, inside, pixel);
    }
}

// int4 and int16: exact int64 sums, reduced modulo 2^32 as the NPU's 32-bit
// accumulator does (int16: modulo 2^48, its 48-bit accumulator), then TFLite
// requantization (int16: of an int64) and the clamp.
std::vector<std::int8_t> reference_int(const PreparedConv& l) {
  const bool wide = l.spec.datatype == Datatype::kInt16;
  const auto element = [&](const std::vector<std::int8_t>& t, std::size_t i) -> std::int64_t {
    return wide ? load_int16(t, i) : t[i];
  };
  const int cin = l.in_shape.c;
  const std::size_t filter = static_cast<std::size_t>(l.params.kernel_h) * l.params.kernel_w * cin;
  std::vector<std::int8_t> out(static_cast<std::size_t>(l.out_shape.c) * l.out_shape.h * l.out_shape.w *
                               l.element_bytes());
  std::size_t o = 0;
  for (int oy = 0; oy < l.out_shape.h; ++oy)
    for (int ox = 0; ox < l.out_shape.w; ++ox)
      for (int k = 0; k < l.out_shape.c; ++k, ++o) {
        std::int64_t acc = l.bias[k];
        for_each_tap(l, oy, ox, [&](int tap, bool inside, std::size_t pixel) {
          if (!inside) return;  // the zero point: (x - zp) = 0
          for (int c = 0; c < cin; ++c)
            acc += (element(l.input, pixel + c) - l.params.input_zero_point) *
                   element(l.weights, k * filter + static_cast<std::size_t>(tap) * cin + c);
        });
        const FixedPointMultiplier m = l.requant.per_channel[k];
        const std::int32_t scaled =
            wide ? multiply_by_quantized_multiplier_int64(wrap_48(acc), m)
                 : multiply_by_quantized_multiplier(static_cast<std::int32_t>(static_cast<std::uint32_t>(acc)), m);
        const std::int32_t v = std::clamp(scaled + l.requant.output_zero_point, l.requant.act_min, l.requant.act_max);
        if (wide) {
          store_16(out, o, static_cast<std::uint32_t>(v));
        } else {
          out[o] = static_cast<std::int8_t>(v);
        }
      }
  return out;
}

// fp16: double math on the exact half values; padding is 0.0.
void reference_fp16(PreparedConv& l) {
  const int cin = l.in_shape.c;
  const std::size_t filter = static_cast<std::size_t>(l.params.kernel_h) * l.params.kernel_w * cin;
  const std::size_t n = static_cast<std::size_t>(l.out_shape.c) * l.out_shape.h * l.out_shape.w;
  l.expected_real.resize(n);
  l.tolerance.resize(n);
  std::size_t o = 0;
  for (int oy = 0; oy < l.out_shape.h; ++oy)
    for (int ox = 0; ox < l.out_shape.w; ++ox)
      for (int k = 0; k < l.out_shape.c; ++k, ++o) {
        float bias;
        std::memcpy(&bias, &l.bias[k], sizeof bias);
        double acc = bias, magnitude = std::fabs(bias);
        int terms = 1;
        for_each_tap(l, oy, ox, [&](int tap, bool inside, std::size_t pixel) {
          if (!inside) return;
          for (int c = 0; c < cin; ++c) {
            const std::size_t weight = k * filter + static_cast<std::size_t>(tap) * cin + c;
            const double term =
                half_value(load_bits16(l.input, pixel + c)) * half_value(load_bits16(l.weights, weight));
            acc += term;
            magnitude += std::fabs(term);
          }
          terms += cin;
        });
        if (l.spec.relu) acc = std::max(acc, 0.0);
        l.expected_real[o] = acc;
        l.tolerance[o] = half_ulp(acc) + 1e-3 * std::fabs(acc) + terms * std::ldexp(magnitude, -24);
      }
}

// Random binary16 bits of magnitude in [2^lo, 2^hi), either sign.
std::uint16_t random_half(std::mt19937& rng, int lo, int hi) {
  const auto exponent = static_cast<std::uint32_t>(std::uniform_int_distribution<int>(lo, hi - 1)(rng) + 15);
  const std::uint32_t mantissa = rng() & 0x3FF;
  return static_cast<std::uint16_t>(((rng() & 1) << 15) | (exponent << 10) | mantissa);
}

// The pruned input channels of every filter: the first `weight_sparsity` of them.
bool pruned(const ConvLayerSpec& spec, std::size_t weight_index) {
  return static_cast<int>(weight_index % spec.in_c) < static_cast<int>(spec.weight_sparsity * spec.in_c + 0.5);
}

// int4 / int16 data: inputs over the datatype's range, weights never zero
// unless pruned, requantization as int8 with the clamp in the datatype's range.
void prepare_int(PreparedConv& l, std::mt19937& rng) {
  const ConvLayerSpec& spec = l.spec;
  const bool wide = spec.datatype == Datatype::kInt16;
  const int x_max = wide ? 32767 : 7, w_max = wide ? 2047 : 7;
  const int zp_range = wide ? 100 : 2;
  l.params.input_zero_point = std::uniform_int_distribution<int>(-zp_range, zp_range)(rng);
  std::uniform_int_distribution<int> x(-x_max - 1, x_max), w(-w_max - 1, w_max);
  const std::size_t inputs = static_cast<std::size_t>(spec.in_c) * spec.in_h * spec.in_w;
  const std::size_t weights =
      static_cast<std::size_t>(spec.out_c) * spec.window.kernel_h * spec.window.kernel_w * spec.in_c;
  l.input.resize(inputs * l.element_bytes());
  l.weights.resize(weights * l.element_bytes());
  for (std::size_t i = 0; i < inputs; ++i) {
    if (wide) {
      store_16(l.input, i, static_cast<std::uint32_t>(x(rng)));
    } else {
      l.input[i] = static_cast<std::int8_t>(x(rng));
    }
  }
  for (std::size_t i = 0; i < weights; ++i) {
    int v = 0;
    while (v == 0) v = w(rng);
    if (pruned(spec, i)) v = 0;
    if (wide) {
      store_16(l.weights, i, static_cast<std::uint32_t>(v));
    } else {
      l.weights[i] = static_cast<std::int8_t>(v);
    }
  }
  const int bias_max = wide ? 100000 : 200;
  std::uniform_int_distribution<int> bias(-bias_max, bias_max);
  l.bias.resize(spec.out_c);
  for (auto& b : l.bias) b = bias(rng);
  std::uniform_real_distribution<float> wscale(0.002f, 0.01f);
  std::vector<float> weight_scales(spec.out_c);
  for (auto& s : weight_scales) s = wscale(rng);
  // Uniform values have RMS max/√3; aim the outputs at a third of the range.
  const float fan_in = static_cast<float>(spec.window.kernel_h * spec.window.kernel_w * spec.in_c);
  const float rms_x = static_cast<float>(x_max) / std::sqrt(3.0f), rms_w = static_cast<float>(w_max) / std::sqrt(3.0f);
  const float in_scale = 0.05f;
  const QuantParams out_q{output_scale(in_scale, 0.006f, fan_in, rms_x, rms_w, static_cast<float>(x_max) / 3), 0};
  l.requant = make_requantization(in_scale, weight_scales, out_q, Activation::kNone);
  l.requant.act_min = spec.relu ? 0 : -x_max - 1;
  l.requant.act_max = x_max;
  l.expected = reference_int(l);
}

void prepare_fp16(PreparedConv& l, std::mt19937& rng) {
  const ConvLayerSpec& spec = l.spec;
  const std::size_t inputs = static_cast<std::size_t>(spec.in_c) * spec.in_h * spec.in_w;
  const std::size_t weights =
      static_cast<std::size_t>(spec.out_c) * spec.window.kernel_h * spec.window.kernel_w * spec.in_c;
  l.input.resize(2 * inputs);
  l.weights.resize(2 * weights);
  // Inputs of magnitude [1/64, 2), weights [1/256, 1/4): sums of a few
  // hundred products stay well inside the half range.
  for (std::size_t i = 0; i < inputs; ++i) store_16(l.input, i, random_half(rng, -6, 1));
  for (std::size_t i = 0; i < weights; ++i) store_16(l.weights, i, pruned(spec, i) ? 0 : random_half(rng, -8, -2));
  std::uniform_real_distribution<float> bias(-1.0f, 1.0f);
  l.bias.resize(spec.out_c);
  for (auto& b : l.bias) {
    const float f = bias(rng);
    std::memcpy(&b, &f, sizeof b);
  }
  reference_fp16(l);
}

}  // namespace

const char* datatype_name(Datatype datatype) {
  switch (datatype) {
    case Datatype::kInt4:
      return "int4";
    case Datatype::kInt16:
      return "int16";
    case Datatype::kFp16:
      return "fp16";
    case Datatype::kInt8:
      break;
  }
  return "int8";
}

Datatype parse_datatype(const std::string& name) {
  for (const Datatype d : {Datatype::kInt8, Datatype::kInt4, Datatype::kInt16, Datatype::kFp16})
    if (name == datatype_name(d)) return d;
  throw std::invalid_argument("datatype: expected int8, int4, int16 or fp16, got '" + name + "'");
}

unsigned PreparedConv::element_bytes() const {
  return spec.datatype == Datatype::kInt16 || spec.datatype == Datatype::kFp16 ? 2 : 1;
}

std::uint64_t PreparedConv::macs() const {
  return std::uint64_t(out_shape.c) * out_shape.h * out_shape.w * spec.window.kernel_h * spec.window.kernel_w *
         spec.in_c;
}

PreparedConv prepare_conv(const ConvLayerSpec& spec, std::uint32_t seed) {
  const auto require = [&](bool ok, const char* field) {
    if (!ok) throw std::invalid_argument("layer '" + spec.name + "': invalid " + field);
  };
  require(spec.in_c > 0 && spec.in_h > 0 && spec.in_w > 0, "input shape");
  require(spec.out_c > 0, "out_c");
  for (const firmware::WindowField& f : firmware::window_fields(spec.window))
    require(f.value >= f.lo && f.value <= f.hi, f.name);
  require(spec.window.groups == 1, "groups (the workload is dense)");
  require(spec.weight_sparsity >= 0 && spec.weight_sparsity <= 1, "weight_sparsity (expected 0 to 1)");
  require(spec.datatype <= Datatype::kFp16, "datatype");

  PreparedConv l;
  l.spec = spec;
  l.params = ConvParams{spec.window, 0, spec.out_c};
  l.in_shape = TensorShape{spec.in_c, spec.in_h, spec.in_w};
  l.out_shape = conv_output_shape(l.in_shape, l.params);
  // A command holds each dimension in 16 bits: refused here, with the layer,
  // rather than by the NPU as an inconsistent command.
  const std::pair<const char*, int> dims[] = {{"channels", spec.in_c},          {"input height", spec.in_h},
                                              {"input width", spec.in_w},       {"filters", spec.out_c},
                                              {"output height", l.out_shape.h}, {"output width", l.out_shape.w}};
  for (const auto& [name, value] : dims)
    if (static_cast<std::uint32_t>(value) > firmware::kMaxLayerDim)
      throw std::invalid_argument("layer '" + spec.name + "': " + name + " " + std::to_string(value) +
                                  " exceeds the NPU's layer dimensions (at most " +
                                  std::to_string(firmware::kMaxLayerDim) + " each)");

  std::mt19937 rng(seed);
  if (spec.datatype == Datatype::kFp16) {
    prepare_fp16(l, rng);
    return l;
  }
  if (spec.datatype != Datatype::kInt8) {
    prepare_int(l, rng);
    return l;
  }
  std::uniform_int_distribution<int> byte(-128, 127);
  const QuantParams in_q{0.05f, std::uniform_int_distribution<int>(-20, 20)(rng)};
  l.params.input_zero_point = in_q.zero_point;
  l.input.resize(std::size_t(spec.in_c) * spec.in_h * spec.in_w);
  for (auto& v : l.input) v = static_cast<std::int8_t>(byte(rng));
  l.weights.resize(std::size_t(spec.out_c) * spec.window.kernel_h * spec.window.kernel_w * spec.in_c);
  // Never zero unless pruned below, so zero-skipping studies know the sparsity exactly.
  for (auto& v : l.weights)
    v = static_cast<std::int8_t>(std::max(1, std::abs(byte(rng) / 2)) * (byte(rng) < 0 ? -1 : 1));
  for (std::size_t i = 0; i < l.weights.size(); ++i)
    if (pruned(spec, i)) l.weights[i] = 0;
  std::uniform_int_distribution<int> bias(-2000, 2000);
  l.bias.resize(spec.out_c);
  for (auto& b : l.bias) b = bias(rng);
  // Weight scales vary per channel, as per-channel quantization produces.
  std::uniform_real_distribution<float> wscale(0.002f, 0.01f);
  std::vector<float> weight_scales(spec.out_c);
  for (auto& s : weight_scales) s = wscale(rng);
  // An output scale that spreads the accumulators over the int8 range.
  const float fan_in = static_cast<float>(spec.window.kernel_h * spec.window.kernel_w * spec.in_c);
  const QuantParams out_q{0.05f * 0.006f * 64.0f * std::sqrt(fan_in) / 8.0f, -10};
  l.requant = make_requantization(in_q.scale, weight_scales, out_q, spec.relu ? Activation::kRelu : Activation::kNone);
  l.expected = conv2d(l.input, l.in_shape, l.weights, l.bias, l.params, l.requant);
  return l;
}

firmware::LayerCommand conv_command(const PreparedConv& l, std::uint32_t layer_id, const ConvAddresses& at,
                                    const LoweringFaults& faults) {
  firmware::LayerCommand cmd{};
  cmd.opcode = static_cast<std::uint32_t>(firmware::Opcode::kConv2d);
  cmd.dataflow = static_cast<std::uint32_t>(l.spec.dataflow);
  cmd.datatype = static_cast<std::uint32_t>(l.spec.datatype);
  if (l.spec.datatype == Datatype::kFp16 && l.spec.relu) cmd.flags |= firmware::kFp16Relu;
  // int4 activations are stored two per byte, as weights are (contract/int4_storage.h).
  if (l.spec.datatype == Datatype::kInt4) cmd.flags |= firmware::kInt4PackedInput | firmware::kInt4PackedOutput;
  cmd.input_addr = at.input;
  cmd.output_addr = at.output;
  cmd.weights_addr = at.weights;
  cmd.bias_addr = at.bias;
  cmd.requant_addr = at.requant;
  cmd.in_c = l.in_shape.c;
  cmd.in_h = l.in_shape.h;
  cmd.in_w = l.in_shape.w;
  cmd.out_c = l.out_shape.c;
  cmd.out_h = l.out_shape.h;
  cmd.out_w = l.out_shape.w;
  firmware::write_window(cmd, l.params);
  cmd.input_zero_point = l.params.input_zero_point;
  cmd.output_zero_point = l.requant.output_zero_point;
  cmd.act_min = l.requant.act_min;
  cmd.act_max = l.requant.act_max;
  cmd.layer_id = layer_id;
  if (faults.input_row_pitch_delta != 0)
    cmd.input_row_pitch = static_cast<std::uint32_t>(
        l.in_shape.w * static_cast<int>(pe_array::storage_bytes(static_cast<std::uint64_t>(l.in_shape.c),
                                                                static_cast<pe_array::Datatype>(l.spec.datatype))) +
        faults.input_row_pitch_delta);
  return cmd;
}

ConvOnNpu run_conv_on_npu(sw::NpuDriver& driver, const PreparedConv& l, std::uint32_t layer_id,
                          const LoweringFaults& faults) {
  sw::HostHal& hal = driver.hal();
  // int4 weights are stored two per byte, each filter padded to a byte; int4
  // activations two per byte, each pixel padded to a byte.
  const bool int4 = l.spec.datatype == Datatype::kInt4;
  const std::vector<std::int8_t> stored =
      int4 ? pe_array::pack_int4_runs(l.weights, l.weights.size() / l.spec.out_c) : l.weights;
  const std::vector<std::int8_t> in = int4 ? pe_array::pack_int4_runs(l.input, std::size_t(l.in_shape.c)) : l.input;
  const std::uint64_t input = driver.alloc(in.size());
  const std::uint64_t weights = driver.alloc(stored.size());
  const std::uint64_t bias = driver.alloc(l.bias.size() * 4);
  const std::uint64_t requant = driver.alloc(std::uint64_t(l.spec.out_c) * 8);
  const std::size_t out_pixels = std::size_t(l.out_shape.h) * l.out_shape.w;
  const std::size_t out_elements = std::size_t(l.out_shape.c) * out_pixels;
  const std::size_t out_bytes = out_pixels * pe_array::storage_bytes(std::uint64_t(l.out_shape.c),
                                                                     static_cast<pe_array::Datatype>(l.spec.datatype));
  const std::uint64_t output = driver.alloc(out_bytes);
  const std::uint64_t command = driver.alloc(sizeof(firmware::LayerCommand));

  hal.memory_write(input, in.data(), in.size());
  hal.memory_write(weights, stored.data(), stored.size());
  hal.memory_write(bias, l.bias.data(), l.bias.size() * 4);
  // fp16 has no requantization: its table stays zero (the firmware loads it all the same).
  std::vector<std::int32_t> rq(2 * std::size_t(l.spec.out_c));
  for (int k = 0; k < l.spec.out_c && !l.requant.per_channel.empty(); ++k) {
    const auto& m = l.requant.per_channel.size() == 1 ? l.requant.per_channel[0] : l.requant.per_channel[k];
    rq[2 * k] = m.multiplier;
    rq[2 * k + 1] = m.shift;
  }
  hal.memory_write(requant, rq.data(), rq.size() * 4);

  const firmware::LayerCommand cmd = conv_command(l, layer_id, {input, output, weights, bias, requant}, faults);
  hal.memory_write(command, &cmd, sizeof cmd);

  driver.submit(command, 1);
  driver.wait_idle();

  ConvOnNpu result;
  result.output.resize(out_bytes);
  hal.memory_read(output, result.output.data(), result.output.size());
  if (int4) {
    std::vector<std::int8_t> values(out_elements);
    pe_array::unpack_int4_runs(result.output.data(), out_pixels, std::size_t(l.out_shape.c), values.data());
    result.output = std::move(values);
  }
  for (std::size_t i = 0; i < out_elements; ++i) {
    if (l.spec.datatype == Datatype::kFp16) {
      // Written as a negated <= so that a NaN counts as a mismatch.
      const double error = std::fabs(half_value(load_bits16(result.output, i)) - l.expected_real[i]);
      result.mismatches += !(error <= l.tolerance[i]);
    } else if (l.element_bytes() == 2) {
      result.mismatches += load_int16(result.output, i) != load_int16(l.expected, i);
    } else {
      result.mismatches += result.output[i] != l.expected[i];
    }
  }
  return result;
}

}  // namespace npuvp::runtime
