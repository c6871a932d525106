#include "sw/runtime/lowering/lowering.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace npuvp::runtime {

using firmware::LayerCommand;
using firmware::Opcode;

ShiftAsConv shift_as_depthwise_conv(const std::vector<ChannelShift>& shifts, std::int32_t zero_point) {
  int r = 1;
  for (const auto& s : shifts) r = std::max({r, std::abs(s.dy), std::abs(s.dx)});
  const int k = 2 * r + 1;
  ShiftAsConv out;
  const int c = static_cast<int>(shifts.size());
  out.conv.set_square(k, 1, r);
  out.conv.groups = c;
  out.conv.out_channels = c;
  out.conv.input_zero_point = zero_point;
  // out(y, x) = in(y - dy, x - dx) = in(y - r + ky, x - r + kx) at ky = r - dy,
  // kx = r - dx.
  out.weights.assign(static_cast<std::size_t>(c) * k * k, 0);
  for (int ch = 0; ch < c; ++ch) {
    const ChannelShift s = shifts[static_cast<std::size_t>(ch)];
    out.weights[(static_cast<std::size_t>(ch) * k + (r - s.dy)) * k + (r - s.dx)] = 1;
  }
  // acc * 2^30 * 2^1 / 2^31 == acc exactly (see
  // multiply_by_quantized_multiplier).
  out.requant.per_channel = {FixedPointMultiplier{std::int32_t{1} << 30, 1}};
  out.requant.output_zero_point = zero_point;
  return out;
}

namespace {

class Lowerer {
 public:
  Lowerer(const QuantizedNetwork& q, const DramAllocator& alloc, const LoweringOptions& options)
      : q_(q), n_(q.network), alloc_(alloc), options_(options) {}

  LoweredNetwork run() {
    const int count = static_cast<int>(n_.size());
    out_.layers.resize(n_.size());
    // Output tensors: flatten and fused activations alias their input's.
    for (int i = 0; i < count; ++i) {
      const Layer& l = n_.layer(i);
      const bool alias = l.type == LayerType::kFlatten || q_.layers[i].fused_into >= 0;
      out_.layers[i].output =
          alias ? out_.layers[l.inputs[0]].output : DramRegion{allocate(l.out_shape.size()), l.out_shape.size()};
    }
    out_.initial_data.push_back({out_.layers[0].output.addr, as_bytes(q_.input())});
    for (int i = 1; i < count; ++i) {
      out_.layers[i].first_command = out_.commands.size();
      lower_layer(i);
      out_.layers[i].command_count = out_.commands.size() - out_.layers[i].first_command;
    }
    return std::move(out_);
  }

 private:
  template <class T>
  static std::vector<std::uint8_t> as_bytes(const std::vector<T>& v) {
    std::vector<std::uint8_t> b(v.size() * sizeof(T));
    if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
    return b;
  }

  std::uint64_t allocate(std::uint64_t bytes) {
    out_.allocated_bytes += bytes;
    return alloc_(std::max<std::uint64_t>(bytes, 1));
  }

  template <class T>
  std::uint64_t parameter_block(const std::vector<T>& values) {
    const std::uint64_t addr = allocate(values.size() * sizeof(T));
    out_.initial_data.push_back({addr, as_bytes(values)});
    return addr;
  }

  std::uint64_t addr_of(int layer) const { return out_.layers[layer].output.addr; }

  LayerCommand command(int layer, Opcode op, TensorShape in, TensorShape out) const {
    LayerCommand c{};
    c.opcode = static_cast<std::uint32_t>(op);
    c.dataflow = static_cast<std::uint32_t>(options_.dataflow);
    const std::string& forced = q_.network.layer(layer).conv.dataflow;
    if (!forced.empty())
      c.dataflow = static_cast<std::uint32_t>(forced == "ws" ? firmware::DataflowChoice::kWeightStationary
                                                             : firmware::DataflowChoice::kOutputStationary);
    c.layer_id = static_cast<std::uint32_t>(layer);
    c.in_c = static_cast<std::uint32_t>(in.c);
    c.in_h = static_cast<std::uint32_t>(in.h);
    c.in_w = static_cast<std::uint32_t>(in.w);
    c.out_c = static_cast<std::uint32_t>(out.c);
    c.out_h = static_cast<std::uint32_t>(out.h);
    c.out_w = static_cast<std::uint32_t>(out.w);
    c.act_min = -128;
    c.act_max = 127;
    firmware::write_window(c, {});
    return c;
  }

  void set_window(LayerCommand& c, int layer, const ConvWindow& w) const {
    for (const firmware::WindowField& f : firmware::window_fields(w))
      if (f.value < f.lo || f.value > f.hi)
        fail_layer(n_, layer,
                   std::string(f.name) + " " + std::to_string(f.value) +
                       " does not fit the command field (supported: " + std::to_string(f.lo) + ".." +
                       std::to_string(f.hi) + ")");
    firmware::write_window(c, w);
  }

  void conv_command(int layer, std::uint64_t input, TensorShape in, TensorShape out, const ConvParams& p,
                    const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias,
                    const Requantization& rq) {
    LayerCommand c = command(layer, Opcode::kConv2d, in, out);
    c.input_addr = input;
    c.output_addr = addr_of(layer);
    set_window(c, layer, p);
    c.input_zero_point = p.input_zero_point;
    c.output_zero_point = rq.output_zero_point;
    c.act_min = rq.act_min;
    c.act_max = rq.act_max;
    c.weights_addr = parameter_block(weights);
    c.bias_addr = parameter_block(bias.empty() ? std::vector<std::int32_t>(static_cast<std::size_t>(out.c), 0) : bias);
    std::vector<std::int32_t> table(2 * static_cast<std::size_t>(out.c));
    for (int k = 0; k < out.c; ++k) {
      const FixedPointMultiplier m = rq.per_channel[rq.per_channel.size() == 1 ? 0 : static_cast<std::size_t>(k)];
      table[2 * static_cast<std::size_t>(k)] = m.multiplier;
      table[2 * static_cast<std::size_t>(k) + 1] = m.shift;
    }
    c.requant_addr = parameter_block(table);
    out_.commands.push_back(c);
  }

  void pool_command(int layer, Opcode op, TensorShape in, TensorShape out, const PoolParams& p, QuantParams q,
                    ActivationRange act = {}) {
    LayerCommand c = command(layer, op, in, out);
    c.input_addr = addr_of(n_.layer(layer).inputs[0]);
    c.output_addr = addr_of(layer);
    set_window(c, layer, ConvWindow{p});
    c.input_zero_point = c.output_zero_point = q.zero_point;
    c.act_min = act.min;
    c.act_max = act.max;
    if (op == Opcode::kAvgPool && p.count_include_pad && p.pad.any()) c.flags |= firmware::kPoolCountIncludePad;
    out_.commands.push_back(c);
  }

  // A 3D strided byte copy (or fill when `fill` is set) into this layer's
  // output.
  void copy_command(int layer, Opcode op, std::uint64_t src, std::uint64_t dst, std::uint32_t row_bytes,
                    std::uint32_t rows, std::uint32_t planes, std::int32_t src_row_pitch, std::int32_t dst_row_pitch,
                    std::int32_t src_plane_pitch, std::int32_t dst_plane_pitch, std::int32_t fill = 0) {
    const Layer& l = n_.layer(layer);
    const TensorShape in = l.inputs.empty() ? l.out_shape : n_.layer(l.inputs[0]).out_shape;
    LayerCommand c = command(layer, op, in, l.out_shape);
    c.input_addr = op == Opcode::kFill ? 0 : src;
    c.output_addr = dst;
    c.copy = firmware::CopyParams{row_bytes,       rows, planes, src_row_pitch, dst_row_pitch, src_plane_pitch,
                                  dst_plane_pitch, fill};
    out_.commands.push_back(c);
  }

  // The copy and fill commands of the layers that only move data.
  void copy_commands(int i) {
    const Layer& l = n_.layer(i);
    const TensorShape out = l.out_shape;
    const TensorShape in = n_.layer(l.inputs[0]).out_shape;
    const QuantParams in_q = q_.layers[l.inputs[0]].output;
    const auto pixels = static_cast<std::uint32_t>(static_cast<std::uint64_t>(out.h) * out.w);
    switch (l.type) {
      case LayerType::kConcat: {
        std::uint64_t offset = 0;
        for (int src : l.inputs) {
          const auto c = static_cast<std::uint32_t>(n_.layer(src).out_shape.c);
          copy_command(i, Opcode::kCopy, addr_of(src), addr_of(i) + offset, c, pixels, 1, static_cast<std::int32_t>(c),
                       out.c, 0, 0);
          offset += c;
        }
        break;
      }
      case LayerType::kChannelShuffle: {
        // Per group g: its channels (rows of one byte, source pitch 1) land
        // every G-th output channel (destination pitch G), for every pixel
        // (planes).
        const int groups = l.shuffle_groups, per = in.c / groups;
        for (int g = 0; g < groups; ++g)
          copy_command(i, Opcode::kCopy, addr_of(l.inputs[0]) + static_cast<std::uint64_t>(g) * per,
                       addr_of(i) + static_cast<std::uint64_t>(g), 1, static_cast<std::uint32_t>(per), pixels, 1,
                       groups, in.c, in.c);
        break;
      }
      case LayerType::kSliceChannels:
        copy_command(i, Opcode::kCopy, addr_of(l.inputs[0]) + static_cast<std::uint64_t>(l.begin), addr_of(i),
                     static_cast<std::uint32_t>(out.c), pixels, 1, in.c, out.c, 0, 0);
        break;
      case LayerType::kPadChannels:
        if (l.pad_before > 0)
          copy_command(i, Opcode::kFill, 0, addr_of(i), static_cast<std::uint32_t>(l.pad_before), pixels, 1, 0, out.c,
                       0, 0, in_q.zero_point);
        if (l.pad_after > 0)
          copy_command(i, Opcode::kFill, 0, addr_of(i) + static_cast<std::uint64_t>(l.pad_before + in.c),
                       static_cast<std::uint32_t>(l.pad_after), pixels, 1, 0, out.c, 0, 0, in_q.zero_point);
        copy_command(i, Opcode::kCopy, addr_of(l.inputs[0]), addr_of(i) + static_cast<std::uint64_t>(l.pad_before),
                     static_cast<std::uint32_t>(in.c), pixels, 1, in.c, out.c, 0, 0);
        break;
      default:
        break;
    }
  }

  void add_command(int i) {
    const Layer& l = n_.layer(i);
    const QuantizedLayer& ql = q_.layers[i];
    const TensorShape in = n_.layer(l.inputs[0]).out_shape;
    const QuantParams in_q = q_.layers[l.inputs[0]].output;
    const QuantParams b_q = q_.layers[l.inputs[1]].output;
    const AddParams p = make_add_params(in_q, b_q, ql.output, ql.activation);
    LayerCommand c = command(i, Opcode::kAdd, in, l.out_shape);
    c.input_addr = addr_of(l.inputs[0]);
    c.input2_addr = addr_of(l.inputs[1]);
    c.output_addr = addr_of(i);
    c.input_zero_point = in_q.zero_point;
    c.output_zero_point = ql.output.zero_point;
    c.act_min = p.act_min;
    c.act_max = p.act_max;
    c.add = firmware::AddParams{b_q.zero_point,
                                p.left_shift,
                                p.input1_multiplier.multiplier,
                                p.input1_multiplier.shift,
                                p.input2_multiplier.multiplier,
                                p.input2_multiplier.shift,
                                p.output_multiplier.multiplier,
                                p.output_multiplier.shift};
    out_.commands.push_back(c);
  }

  void lower_layer(int i) {
    const Layer& l = n_.layer(i);
    const QuantizedLayer& ql = q_.layers[i];
    const TensorShape out = l.out_shape;
    const TensorShape in = n_.layer(l.inputs[0]).out_shape;
    const QuantParams in_q = q_.layers[l.inputs[0]].output;
    switch (l.type) {
      case LayerType::kInput:
        break;
      case LayerType::kConv2d:
      case LayerType::kBatchNorm:
        conv_command(i, addr_of(l.inputs[0]), in, out, ql.conv, ql.weights, ql.bias, ql.requant);
        break;
      case LayerType::kFullyConnected:
        conv_command(i, addr_of(l.inputs[0]), {static_cast<int>(in.size()), 1, 1}, out, ql.conv, ql.weights, ql.bias,
                     ql.requant);
        break;
      case LayerType::kMaxPool:
        pool_command(i, Opcode::kMaxPool, in, out, pool_params(n_, i, in), in_q);
        break;
      case LayerType::kAvgPool:
        pool_command(i, Opcode::kAvgPool, in, out, pool_params(n_, i, in), in_q);
        break;
      case LayerType::kAdaptiveAvgPool:
        pool_command(i, Opcode::kAvgPool, in, out, adaptive_pool_as_uniform(l, in), in_q);
        break;
      case LayerType::kGlobalAvgPool: {
        // TFLite MEAN and AVERAGE_POOL_2D round alike here: the reference
        // global_average_pool and a window of the whole map give the same bits.
        PoolParams p;
        p.kernel_h = in.h;
        p.kernel_w = in.w;
        if (in.h > 255 || in.w > 255)
          fail_layer(n_, i,
                     "global average over a " + std::to_string(in.h) + "x" + std::to_string(in.w) +
                         " map; supported: maps up to 255x255 (the command's 8-bit "
                         "kernel size)");
        pool_command(i, Opcode::kAvgPool, in, out, p, in_q);
        break;
      }
      case LayerType::kReLU:
      case LayerType::kReLU6:
        if (ql.fused_into < 0) {
          pool_command(i, Opcode::kMaxPool, in, out, PoolParams{}, in_q, activation_range(activation_of(l.type), in_q));
        }
        break;
      case LayerType::kAdd:
        add_command(i);
        break;
      case LayerType::kConcat:
      case LayerType::kChannelShuffle:
        copy_commands(i);
        break;
      case LayerType::kShift: {
        const ShiftAsConv s = shift_as_depthwise_conv(l.shifts, in_q.zero_point);
        conv_command(i, addr_of(l.inputs[0]), in, out, s.conv, s.weights, {}, s.requant);
        break;
      }
      case LayerType::kFlatten:
        break;
      case LayerType::kSliceChannels:
      case LayerType::kPadChannels:
        copy_commands(i);
        break;
    }
  }

  const QuantizedNetwork& q_;
  const Network& n_;
  const DramAllocator& alloc_;
  const LoweringOptions& options_;
  LoweredNetwork out_;
};

}  // namespace

LoweredNetwork lower_network(const QuantizedNetwork& q, const DramAllocator& alloc, const LoweringOptions& options) {
  if (q.layers.size() != q.network.size())
    throw std::invalid_argument("network '" + q.network.name() + "': QuantizedNetwork has " +
                                std::to_string(q.layers.size()) + " layers, expected " +
                                std::to_string(q.network.size()));
  return Lowerer(q, alloc, options).run();
}

}  // namespace npuvp::runtime
