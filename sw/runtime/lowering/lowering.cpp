#include "sw/runtime/lowering/lowering.h"

#include "sw/runtime/lowering/channel_map.h"
#include "sw/runtime/lowering/channel_order.h"
#include "sw/runtime/lowering/command_fields.h"
#include "sw/runtime/lowering/fusion.h"
#include "sw/runtime/lowering/int4_packing.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>

#include "contract/int4_storage.h"

namespace npuvp::runtime {

using firmware::LayerCommand;
using firmware::Opcode;

namespace {

class Lowerer {
 public:
  Lowerer(const QuantizedNetwork& q, const DramAllocator& alloc, const LoweringOptions& options)
      : q_(q), n_(q.network), alloc_(alloc), options_(options) {}

  LoweredNetwork run() {
    const int count = static_cast<int>(n_.size());
    out_.layers.resize(n_.size());
    views_.resize(n_.size());
    int16_ = std::any_of(q_.layers.begin(), q_.layers.end(), [](const QuantizedLayer& l) { return l.bits == 16; });
    plan_folding();
    plan_packing();
    // Tensors: a folded layer owns none unless producers write into it;
    // flatten and fused activations alias their input's.
    for (int i = 0; i < count; ++i)
      if (!aliases(i) && placed_in_[i] < 0 && (!folded_[i] || fed_in_place(i))) {
        const TensorShape s = n_.layer(i).out_shape;
        const std::uint64_t bytes = std::uint64_t{pixel_bytes(i)} * s.h * s.w;
        out_.layers[i].output = {allocate(bytes), bytes};
        out_.layers[i].int4_packed = packed_[i];
      }
    for (int i = 0; i < count; ++i)
      if (placed_in_[i] >= 0) {  // a packed concatenation's slices start on even channels
        const bool packed = out_.layers[i].int4_packed = packed_[placed_in_[i]];
        out_.layers[i].output = {addr_of(placed_in_[i]) + (packed ? placed_offset_[i] / 2 : placed_offset_[i]), 0};
      } else if (aliases(i)) {
        out_.layers[i].output = out_.layers[n_.layer(i).inputs[0]].output;
        out_.layers[i].int4_packed = out_.layers[n_.layer(i).inputs[0]].int4_packed;
      }
    if (options_.initial_data) initial_block(out_.layers[0].output.addr, stored_input(q_, out_));
    views_[0] = own_view(0);
    for (int i = 1; i < count; ++i) {
      out_.layers[i].first_command = out_.commands.size();
      lower_layer(i);
      out_.layers[i].command_count = out_.commands.size() - out_.layers[i].first_command;
      if (views_[i].empty()) views_[i] = aliases(i) ? views_[n_.layer(i).inputs[0]] : own_view(i);
      LoweredLayer& lowered = out_.layers[i];
      if (lowered.int4_packed && placed_in_[owner(i)] >= 0)  // its slice of a packed concatenation, in bytes
        lowered.view = {{lowered.output.addr, pixel_bytes(placed_in_[owner(i)]),
                         static_cast<std::uint16_t>((n_.layer(i).out_shape.c + 1) / 2), 0, 0}};
      else if (!(is_packed(views_[i]) && views_[i][0].buffer == lowered.output.addr && lowered.output.bytes > 0))
        lowered.view = segments_of(views_[i]);
    }
    for (int i = 1; i < count; ++i)
      if (folded_[i] && out_.layers[i].command_count == 0) out_.layers[i].folded_into = doers(i);
    for (const auto* reasons : {&fusion_.unfused_reason, &pool_fusion_.unfused_reason})
      for (std::size_t i = 0; i < reasons->size(); ++i)
        if (!(*reasons)[i].empty()) out_.layers[i].not_fused = (*reasons)[i];
    for (int conv = 1; conv < count; ++conv) {
      const int into = fused_add_[conv] >= 0 ? fused_add_[conv] : fused_pool_[conv];
      if (into < 0) continue;
      out_.layers[into].folded_into = {conv};
      // The convolution's output, and the activation fused into it, are never written.
      for (int j = 1; j < count; ++j)
        if (j == conv || (aliases(j) && out_.layers[j].output.addr == addr_of(conv)))
          out_.layers[j].unwritten_for = into;
    }
    return std::move(out_);
  }

 private:
  // Hands the block to the caller's writer, or keeps a copy in initial_data.
  template <class T>
  void initial_block(std::uint64_t addr, const std::vector<T>& values) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(values.data());
    const std::size_t size = values.size() * sizeof(T);
    if (options_.write_initial_data) return options_.write_initial_data(addr, bytes, size);
    out_.initial_data.push_back({addr, std::vector<std::uint8_t>(bytes, bytes + size)});
  }

  std::uint64_t allocate(std::uint64_t bytes) {
    out_.allocated_bytes += bytes;
    return alloc_(std::max<std::uint64_t>(bytes, 1));
  }

  template <class T>
  std::uint64_t parameter_block(const std::vector<T>& values) {
    const std::uint64_t addr = allocate(values.size() * sizeof(T));
    if (options_.initial_data) initial_block(addr, values);
    return addr;
  }

  std::uint64_t addr_of(int layer) const { return out_.layers[layer].output.addr; }

  bool aliases(int i) const { return n_.layer(i).type == LayerType::kFlatten || q_.layers[i].fused_into >= 0; }

  static bool moves_data(LayerType t) {
    return t == LayerType::kConcat || t == LayerType::kSliceChannels || t == LayerType::kChannelShuffle ||
           t == LayerType::kShift;
  }

  // Layers whose command writes their own output through output_addr (and
  // so can write it into a slice of a wider tensor).
  bool writes_output(int i) const {
    const LayerType t = n_.layer(i).type;
    if (t == LayerType::kReLU || t == LayerType::kReLU6) return q_.layers[i].fused_into < 0;
    return t == LayerType::kConv2d || t == LayerType::kBatchNorm || t == LayerType::kFullyConnected || is_pool(t) ||
           t == LayerType::kAdd;
  }

  bool consumed_only_by(int layer, int consumer) const {
    return consumers_[layer].size() == 1 && consumers_[layer][0] == consumer;
  }

  // The folded layers and, for each folded concat whose inputs all come
  // straight from layers that write their own output and feed nothing else,
  // those producers' slices of it.
  void plan_folding() {
    const std::size_t count = n_.size();
    folded_.assign(count, false);
    placed_in_.assign(count, -1);
    placed_offset_.assign(count, 0);
    consumers_.assign(count, {});
    out_order_.assign(count, {});
    for (std::size_t i = 0; i < count; ++i)
      for (int src : n_.layer(static_cast<int>(i)).inputs) consumers_[src].push_back(static_cast<int>(i));
    fused_add_.assign(count, -1);
    fused_conv_.assign(count, -1);
    fused_pool_.assign(count, -1);
    if (options_.fuse_layers) {
      fusion_ = plan_add_fusion(q_, consumers_);
      pool_fusion_ = plan_pool_fusion(q_, consumers_, fusion_);
    }
    // The firmware gathers int8 inputs only: networks of int16 tensors copy.
    if (!options_.fold_data_movement || int16_) return;
    for (std::size_t i = 0; i < count; ++i) {
      const Layer& l = n_.layer(static_cast<int>(i));
      // A move the segment's 8-bit shift cannot hold stays a convolution.
      const bool short_moves = std::all_of(l.shifts.begin(), l.shifts.end(), [](const ChannelShift& s) {
        return std::abs(s.dy) <= std::numeric_limits<std::int8_t>::max() &&
               std::abs(s.dx) <= std::numeric_limits<std::int8_t>::max();
      });
      std::map<std::pair<int, int>, std::uint32_t> per_move;
      for (const ChannelShift& s : l.shifts)
        if (s.dy != 0 || s.dx != 0) ++per_move[{s.dy, s.dx}];
      const bool long_runs = std::all_of(per_move.begin(), per_move.end(),
                                         [&](const auto& m) { return m.second >= options_.dram_access_bytes; });
      folded_[i] = moves_data(l.type) && short_moves && long_runs;
    }
    out_order_ = shift_grouping_orders(q_, folded_);
    for (int cat = 0; cat < static_cast<int>(count); ++cat) {
      const Layer& l = n_.layer(cat);
      if (l.type != LayerType::kConcat) continue;
      std::vector<int> producers;
      for (int src : l.inputs) {
        const int p = q_.layers[src].fused_into >= 0 ? q_.layers[src].fused_into : src;
        const bool feeds_only_cat =
            p == src ? consumed_only_by(p, cat) : consumed_only_by(p, src) && consumed_only_by(src, cat);
        if (p > 0 && writes_output(p) && feeds_only_cat) producers.push_back(p);
      }
      if (producers.size() != l.inputs.size()) continue;
      std::uint64_t offset = 0;
      for (int p : producers) {
        placed_in_[p] = cat;
        placed_offset_[p] = offset;
        offset += static_cast<std::uint64_t>(n_.layer(p).out_shape.c);
      }
    }
  }

  // The layer whose tensor a layer's output is (through flatten and fused activations).
  int owner(int i) const { return aliases(i) ? owner(n_.layer(i).inputs[0]) : i; }

  // Which tensors are stored packed int4 (int4_packing.h).
  void plan_packing() {
    const int count = static_cast<int>(n_.size());
    std::vector<int> owners(n_.size());
    std::vector<bool> producer(n_.size());
    for (int i = 0; i < count; ++i) {
      owners[i] = owner(i);
      producer[i] = !aliases(i) && writes_output(i) && out_order_[i].empty();
    }
    packed_ = plan_int4_packing(q_, owners, producer, placed_in_);
  }

  // Bytes per value of layer l's tensor: 2 for int16, else 1 (int4 packed aside).
  std::uint32_t value_bytes(int l) const { return bits_of(q_.layers[l].output) == 16 ? 2 : 1; }

  // Bytes of a pixel of layer l's own tensor (int4 packed or whole bytes per value).
  std::uint32_t pixel_bytes(int l) const {
    return static_cast<std::uint32_t>((n_.layer(l).out_shape.c + (packed_[l] ? 1 : 0)) / (packed_[l] ? 2 : 1)) *
           value_bytes(l);
  }

  // The datatype of a command computing layer l at `bits` (int4 and int8
  // pooling and adds are int8).
  static std::uint32_t datatype_of(int bits, bool conv) {
    const firmware::Datatype d = bits == 16          ? firmware::Datatype::kInt16
                                 : bits == 4 && conv ? firmware::Datatype::kInt4
                                                     : firmware::Datatype::kInt8;
    return static_cast<std::uint32_t>(d);
  }

  // The packing flags of a command of layer i reading `src`.
  std::uint32_t packing_flags(int i, int src) const {
    return (packed_[owner(src)] ? firmware::kInt4PackedInput : 0u) |
           (packed_[placed_in_[i] >= 0 ? placed_in_[i] : owner(i)] ? firmware::kInt4PackedOutput : 0u);
  }

  bool fed_in_place(int i) const { return std::find(placed_in_.begin(), placed_in_.end(), i) != placed_in_.end(); }

  // The layers that do a folded layer's work: the producers writing into its
  // slices, else the first layers with commands that read it.
  std::vector<int> doers(int i) const {
    std::vector<int> out;
    for (std::size_t p = 0; p < placed_in_.size(); ++p)
      if (placed_in_[p] == i) out.push_back(static_cast<int>(p));
    if (!out.empty()) return out;
    std::vector<int> pending = consumers_[i];
    while (!pending.empty()) {
      const int c = pending.back();
      pending.pop_back();
      if (out_.layers[c].command_count == 0 && (folded_[c] || aliases(c)))
        pending.insert(pending.end(), consumers_[c].begin(), consumers_[c].end());
      else if (std::find(out.begin(), out.end(), c) == out.end())
        out.push_back(c);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // The layer's own output, as written by its command (in `perm` order if given).
  ChannelMap own_view(int i, const std::vector<int>& perm = {}) const {
    const auto c = static_cast<std::uint32_t>(n_.layer(i).out_shape.c);
    ChannelMap v = placed_in_[i] >= 0 ? buffer_view(addr_of(placed_in_[i]),
                                                    static_cast<std::uint32_t>(n_.layer(placed_in_[i]).out_shape.c),
                                                    static_cast<std::uint32_t>(placed_offset_[i]), c)
                                      : buffer_view(addr_of(i), c, 0, c);
    if (perm.empty()) return v;
    ChannelMap logical(v.size());
    for (std::size_t j = 0; j < perm.size(); ++j) logical[static_cast<std::size_t>(perm[j])] = v[j];
    return logical;
  }

  // How a layer's command may read an input that is not one packed tensor.
  enum class Reads {
    kPacked,       // not at all: a copy packs it first
    kRuns,         // gathered in channel order
    kChannelwise,  // gathered, in the order of fewest runs if need be (the layer's channels follow)
    kDense,        // gathered in the order of fewest runs (the weights' input channels follow)
  };

  struct Gathered {
    std::uint64_t addr = 0;
    std::uint64_t segments_addr = 0;
    std::uint32_t segment_count = 0;
    std::vector<int> perm;  // the input channel each gathered channel is; empty: in order
  };

  Gathered gather(int layer, int src, Reads reads) {
    const ChannelMap& v = views_[src];
    if (is_packed(v)) return {v[0].buffer, 0, 0, {}};
    const QuantParams q = q_.layers[src].output;
    const TensorShape shape = n_.layer(src).out_shape;
    if (reads == Reads::kPacked) return {materialize(layer, v, shape, q.zero_point), 0, 0, {}};
    Gathered g;
    auto segments = segments_of(v);
    if (reads != Reads::kRuns) {
      auto order = run_order(v);
      auto fewer = segments_of(permuted(v, order));
      if (fewer.size() < segments.size()) {
        segments = std::move(fewer);
        g.perm = std::move(order);
      }
    }
    if (segments.size() > firmware::kMaxInputSegments) {
      // Too many runs to gather per tile: copied once, run by run, into a
      // packed tensor in the order gathered, which later readers in the same
      // order share.
      auto& staged = staged_[{src, g.perm}];
      if (staged == 0) staged = materialize(layer, g.perm.empty() ? v : permuted(v, g.perm), shape, q.zero_point);
      g.addr = staged;
      return g;
    }
    if (segments.size() == 1 && segments[0].pixel_pitch == segments[0].channels && segments[0].dy == 0 &&
        segments[0].dx == 0) {
      g.addr = segments[0].addr;  // a whole packed tensor, in another channel order
      return g;
    }
    g.segment_count = static_cast<std::uint32_t>(segments.size());
    g.segments_addr = parameter_block(segments);
    return g;
  }

  // Copies a view into a packed tensor of its own with the layer's commands.
  std::uint64_t materialize(int layer, const ChannelMap& v, TensorShape s, std::int32_t zero_point) {
    const std::uint64_t addr = allocate(s.size());
    out_.scratch.push_back({addr, s.size()});
    const auto segments = segments_of(v);
    const auto c = static_cast<std::int32_t>(s.c);
    if (std::any_of(segments.begin(), segments.end(), [](const auto& g) { return g.dy != 0 || g.dx != 0; }))
      copy_command(layer, Opcode::kFill, 0, addr, static_cast<std::uint32_t>(s.size()), 1, 1, 0, 0, 0, 0, zero_point);
    std::uint64_t channel = 0;
    for (const auto& g : segments) {
      const int y0 = std::max(0, int{g.dy}), y1 = std::min(s.h, s.h + g.dy);
      const int x0 = std::max(0, int{g.dx}), x1 = std::min(s.w, s.w + g.dx);
      const auto p = static_cast<std::int32_t>(g.pixel_pitch);
      if (y0 < y1 && x0 < x1)
        copy_command(layer, Opcode::kCopy,
                     g.addr + (static_cast<std::uint64_t>(y0 - g.dy) * s.w + static_cast<std::uint64_t>(x0 - g.dx)) *
                                  g.pixel_pitch,
                     addr + (static_cast<std::uint64_t>(y0) * s.w + static_cast<std::uint64_t>(x0)) * s.c + channel,
                     g.channels, static_cast<std::uint32_t>(x1 - x0), static_cast<std::uint32_t>(y1 - y0), p, c,
                     s.w * p, s.w * c);
      channel += g.channels;
    }
    return addr;
  }

  // Points the command's input at what gather() found.
  static void set_input(LayerCommand& c, const Gathered& g) {
    c.input_addr = g.addr;
    c.input_segments_addr = g.segments_addr;
    c.input_segment_count = g.segment_count;
  }

  // Points the command's output at the layer's tensor, or its slice of a
  // concatenation; records the layer's view if its channels come out permuted.
  void set_output(LayerCommand& c, int i, const std::vector<int>& perm) {
    c.output_addr = addr_of(i);
    if (placed_in_[i] >= 0) c.output_pixel_pitch = pixel_bytes(placed_in_[i]);
    if (!perm.empty()) views_[i] = own_view(i, perm);
  }

  LayerCommand command(int layer, Opcode op, TensorShape in, TensorShape out) const {
    return layer_command(n_, layer, op, in, out, options_.dataflow);
  }

  void set_window(LayerCommand& c, int layer, const ConvWindow& w) const { set_command_window(c, n_, layer, w); }

  void conv_command(int layer, int src, TensorShape in, TensorShape out, const ConvParams& p,
                    const std::vector<std::int8_t>& layer_weights, std::vector<std::int32_t> bias, Requantization rq) {
    LayerCommand c = command(layer, Opcode::kConv2d, in, out);
    const bool fc = n_.layer(layer).type == LayerType::kFullyConnected;
    const bool depthwise = p.groups > 1 && p.groups == in.c && out.c == in.c;
    const Reads reads = fc              ? Reads::kPacked
                        : p.groups == 1 ? Reads::kDense
                        : depthwise     ? Reads::kChannelwise
                                        : Reads::kRuns;
    const Gathered input = gather(layer, src, reads);
    // A dense convolution computes its channels in any order (out_order_); a
    // channelwise one in its gathered input's.
    const std::vector<int>& order = reads == Reads::kDense ? out_order_[layer] : input.perm;
    // The layer's weights are copied only to be put in another order.
    const bool permute_inputs = reads == Reads::kDense && !input.perm.empty();
    std::vector<std::int8_t> permuted;
    if (permute_inputs || !order.empty()) permuted = layer_weights;
    if (permute_inputs) permute_weight_inputs(input.perm, permuted);
    if (!order.empty()) permute_weight_outputs(order, permuted, bias, rq);
    const std::vector<std::int8_t>& weights = permute_inputs || !order.empty() ? permuted : layer_weights;
    set_input(c, input);
    if (!fuse_add(c, layer, order)) set_output(c, layer, order);
    set_window(c, layer, p);
    c.flags |= packing_flags(layer, src);
    c.input_zero_point = p.input_zero_point;
    c.output_zero_point = rq.output_zero_point;
    c.act_min = rq.act_min;
    c.act_max = rq.act_max;
    c.datatype = datatype_of(q_.layers[layer].bits, true);
    // Where its output tensor has another width, the output stage converts.
    const bool wide_out = bits_of(q_.layers[layer].output) == 16;
    if (wide_out != (q_.layers[layer].bits == 16)) c.flags |= wide_out ? firmware::kInt16Output : firmware::kInt8Output;
    fuse_pool(c, layer, order);
    c.weights_addr = parameter_block(
        q_.layers[layer].bits == 4 ? pe_array::pack_int4_runs(weights, weights.size() / out.c) : weights);
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

  // Points a convolution's epilogue at the add the fusion plan gives it, if
  // its channels come out in order and the residual is one packed tensor.
  bool fuse_add(LayerCommand& c, int conv, const std::vector<int>& order) {
    const int add = fusion_.add_of.empty() ? -1 : fusion_.add_of[conv];
    if (add < 0) return false;
    const int residual = fusion_.residual_of[conv];
    // The epilogue reads and writes one int8 value per byte; int4 tensors
    // stored two per byte and int16 tensors stay a separate add.
    const bool int4 = packed_[owner(conv)] || packed_[owner(residual)] || packed_[owner(add)];
    const bool int16 = q_.layers[conv].bits == 16 || q_.layers[add].bits == 16;
    if (!order.empty() || !is_packed(views_[residual]) || int4 || int16) {
      out_.layers[add].not_fused = !order.empty() ? "'" + n_.layer(conv).name + "' computes its channels permuted"
                                   : int4         ? "its tensors are stored as packed int4"
                                   : int16        ? "its tensors are int16"
                                                  : "the residual is not one packed tensor";
      return false;
    }
    set_fused_add(c, q_.layers[conv].output, q_.layers[residual].output, q_.layers[add], views_[residual][0].buffer);
    set_output(c, add, {});
    fused_add_[conv] = add;
    fused_conv_[add] = conv;
    return true;
  }

  // Lets a convolution's epilogue compute the pool the fusion plan gives it,
  // if its channels come out in order, one value a byte, and a tile of one
  // pooled row fits the NPU.
  void fuse_pool(LayerCommand& c, int conv, const std::vector<int>& order) {
    const int pool = pool_fusion_.pool_of.empty() ? -1 : pool_fusion_.pool_of[conv];
    if (pool < 0) return;
    firmware::Opcode op{};
    const PoolParams p = pool_window(n_, pool, op);
    LayerCommand fused = c;
    const std::string name = "'" + n_.layer(conv).name + "'";
    std::string& why = out_.layers[pool].not_fused;
    why = set_fused_pool(fused, op, p, n_.layer(pool).out_shape, q_.layers[n_.layer(pool).inputs[0]].output);
    if (why.empty() && !order.empty()) why = name + " computes its channels permuted";
    if (why.empty() && (packed_[owner(conv)] || packed_[placed_in_[pool] >= 0 ? placed_in_[pool] : owner(pool)]))
      why = "its tensors are stored as packed int4";
    if (why.empty() && options_.tile_fits && !options_.tile_fits(fused))
      why = "a tile of one pooled row (" + std::to_string(std::min<int>(fused.conv_out_h, fused.pool_kernel_h)) +
            " rows of " + name + ") does not fit the NPU";
    if (!why.empty()) return;
    set_output(fused, pool, {});
    c = fused;
    fused_pool_[conv] = pool;
  }

  void pool_command(int layer, Opcode op, TensorShape in, TensorShape out, const PoolParams& p, QuantParams q,
                    ActivationRange act = {}) {
    LayerCommand c = command(layer, op, in, out);
    const Gathered input = gather(layer, n_.layer(layer).inputs[0], Reads::kChannelwise);
    set_input(c, input);
    set_output(c, layer, input.perm);
    set_window(c, layer, ConvWindow{p});
    c.flags |= packing_flags(layer, n_.layer(layer).inputs[0]);
    c.input_zero_point = c.output_zero_point = q.zero_point;
    c.datatype = datatype_of(bits_of(q), false);
    // An int16 tensor's clamp spans int16 unless an activation narrows it.
    if (bits_of(q) == 16 && act.min == ActivationRange{}.min && act.max == ActivationRange{}.max)
      act = activation_range(Activation::kNone, q);
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
    // Channel counts and offsets in bytes: an int16 value is two (its zero point 0 is two fill bytes).
    const auto e = static_cast<int>(value_bytes(i));
    switch (l.type) {
      case LayerType::kConcat: {
        std::uint64_t offset = 0;
        for (int src : l.inputs) {
          const auto c = static_cast<std::uint32_t>(n_.layer(src).out_shape.c * e);
          copy_command(i, Opcode::kCopy, addr_of(src), addr_of(i) + offset, c, pixels, 1, static_cast<std::int32_t>(c),
                       out.c * e, 0, 0);
          offset += c;
        }
        break;
      }
      case LayerType::kChannelShuffle: {
        // Per group g: its channels (rows of one value, source pitch one
        // value) land every G-th output channel (destination pitch G), for
        // every pixel (planes).
        const int groups = l.shuffle_groups, per = in.c / groups;
        for (int g = 0; g < groups; ++g)
          copy_command(i, Opcode::kCopy, addr_of(l.inputs[0]) + static_cast<std::uint64_t>(g * per * e),
                       addr_of(i) + static_cast<std::uint64_t>(g * e), static_cast<std::uint32_t>(e),
                       static_cast<std::uint32_t>(per), pixels, e, groups * e, in.c * e, in.c * e);
        break;
      }
      case LayerType::kSliceChannels:
        copy_command(i, Opcode::kCopy, addr_of(l.inputs[0]) + static_cast<std::uint64_t>(l.begin * e), addr_of(i),
                     static_cast<std::uint32_t>(out.c * e), pixels, 1, in.c * e, out.c * e, 0, 0);
        break;
      case LayerType::kPadChannels:
        if (l.pad_before > 0)
          copy_command(i, Opcode::kFill, 0, addr_of(i), static_cast<std::uint32_t>(l.pad_before * e), pixels, 1, 0,
                       out.c * e, 0, 0, in_q.zero_point);
        if (l.pad_after > 0)
          copy_command(i, Opcode::kFill, 0, addr_of(i) + static_cast<std::uint64_t>((l.pad_before + in.c) * e),
                       static_cast<std::uint32_t>(l.pad_after * e), pixels, 1, 0, out.c * e, 0, 0, in_q.zero_point);
        copy_command(i, Opcode::kCopy, gather(i, l.inputs[0], Reads::kPacked).addr,
                     addr_of(i) + static_cast<std::uint64_t>(l.pad_before * e), static_cast<std::uint32_t>(in.c * e),
                     pixels, 1, in.c * e, out.c * e, 0, 0);
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
    c.input_addr = gather(i, l.inputs[0], Reads::kPacked).addr;
    c.input2_addr = gather(i, l.inputs[1], Reads::kPacked).addr;
    set_output(c, i, {});
    c.flags |= packing_flags(i, l.inputs[0]);
    c.datatype = datatype_of(bits_of(ql.output), false);
    c.input_zero_point = in_q.zero_point;
    c.output_zero_point = ql.output.zero_point;
    c.act_min = p.act_min;
    c.act_max = p.act_max;
    c.add = command_add_params(p, b_q.zero_point);
    out_.commands.push_back(c);
  }

  // A folded concat, slice or channel shuffle: its input views rearranged.
  ChannelMap folded_view(int i) const {
    const Layer& l = n_.layer(i);
    const ChannelMap& in = views_[l.inputs[0]];
    ChannelMap v;
    switch (l.type) {
      case LayerType::kConcat:
        for (int src : l.inputs) v.insert(v.end(), views_[src].begin(), views_[src].end());
        break;
      case LayerType::kSliceChannels:
        v.assign(in.begin() + l.begin, in.begin() + l.end);
        break;
      default: {  // channel shuffle: output channel j is group j % G's channel j / G
        const int groups = l.shuffle_groups, per = static_cast<int>(in.size()) / groups;
        for (int j = 0; j < static_cast<int>(in.size()); ++j)
          v.push_back(in[static_cast<std::size_t>(j % groups * per + j / groups)]);
        break;
      }
    }
    return v;
  }

  // A folded shift: its input's channels read moved. A shift of a moved read
  // is not one move (the first move's zero-point border would move along), so
  // such an input is packed first.
  ChannelMap shifted_view(int i) {
    const Layer& l = n_.layer(i);
    ChannelMap v = views_[l.inputs[0]];
    const bool moved = std::any_of(v.begin(), v.end(), [](const ChannelRef& r) { return r.dy != 0 || r.dx != 0; });
    if (moved) {
      const auto c = static_cast<std::uint32_t>(v.size());
      v = buffer_view(materialize(i, v, n_.layer(l.inputs[0]).out_shape, q_.layers[l.inputs[0]].output.zero_point), c,
                      0, c);
    }
    for (std::size_t ch = 0; ch < v.size(); ++ch) {
      v[ch].dy = static_cast<std::int8_t>(l.shifts[ch].dy);
      v[ch].dx = static_cast<std::int8_t>(l.shifts[ch].dx);
    }
    return v;
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
        conv_command(i, l.inputs[0], in, out, ql.conv, ql.weights, ql.bias, ql.requant);
        break;
      case LayerType::kFullyConnected:
        conv_command(i, l.inputs[0], {static_cast<int>(in.size()), 1, 1}, out, ql.conv, ql.weights, ql.bias,
                     ql.requant);
        break;
      case LayerType::kMaxPool:
      case LayerType::kAvgPool:
      case LayerType::kAdaptiveAvgPool:
      case LayerType::kGlobalAvgPool: {
        Opcode op{};
        const PoolParams p = pool_window(n_, i, op);
        if (l.type == LayerType::kGlobalAvgPool && (in.h > 255 || in.w > 255))
          fail_layer(n_, i,
                     "global average over a " + std::to_string(in.h) + "x" + std::to_string(in.w) +
                         " map; supported: maps up to 255x255 (the command's 8-bit "
                         "kernel size)");
        if (std::find(fused_pool_.begin(), fused_pool_.end(), i) == fused_pool_.end())
          pool_command(i, op, in, out, p, in_q);
        break;
      }
      case LayerType::kReLU:
      case LayerType::kReLU6:
        if (ql.fused_into < 0) {
          pool_command(i, Opcode::kMaxPool, in, out, PoolParams{}, in_q, activation_range(activation_of(l.type), in_q));
        }
        break;
      case LayerType::kAdd:
        if (fused_conv_[i] < 0) add_command(i);
        break;
      case LayerType::kConcat:
      case LayerType::kChannelShuffle:
      case LayerType::kSliceChannels:
        if (folded_[i])
          views_[i] = folded_view(i);
        else
          copy_commands(i);
        break;
      case LayerType::kShift:
        if (folded_[i]) {
          views_[i] = shifted_view(i);
        } else {
          const ShiftAsConv s = shift_as_depthwise_conv(l.shifts, in_q.zero_point, ql.bits);
          conv_command(i, l.inputs[0], in, out, s.conv, s.weights, {}, s.requant);
        }
        break;
      case LayerType::kFlatten: {
        // A reshape of a packed tensor; anything else is packed first.
        const std::uint64_t addr = gather(i, l.inputs[0], Reads::kPacked).addr;
        out_.layers[i].output = {addr,
                                 packed_[owner(i)] ? out_.layers[owner(i)].output.bytes : out.size() * value_bytes(i)};
        views_[i] = buffer_view(addr, static_cast<std::uint32_t>(out.c), 0, static_cast<std::uint32_t>(out.c));
        break;
      }
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
  std::vector<ChannelMap> views_;  // per layer: where its output's channels live
  std::vector<bool> folded_;       // per layer: a data-movement layer lowered without copies
  std::vector<int> placed_in_;     // per layer: the concat whose slice it writes, or -1
  std::vector<std::uint64_t> placed_offset_;
  std::vector<std::vector<int>> consumers_;
  std::vector<std::vector<int>> out_order_;
  std::vector<bool> packed_;  // per layer: its tensor is stored packed int4 (plan_packing)
  bool int16_ = false;        // some layer computes at int16
  AddFusionPlan fusion_;
  std::vector<int> fused_add_;   // per convolution: the add its epilogue computes, or -1
  std::vector<int> fused_conv_;  // per add: the convolution computing it, or -1
  PoolFusionPlan pool_fusion_;
  std::vector<int> fused_pool_;  // per convolution: the pool its epilogue computes, or -1
  std::map<std::pair<int, std::vector<int>>, std::uint64_t>
      staged_;  // (layer, read order): its packed copy  // per layer: the order a dense conv computes its channels in
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
