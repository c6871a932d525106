#include "sw/runtime/exec/network_executor.h"

#include <algorithm>

#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <stdexcept>

#include "contract/cluster_regs.h"
#include "contract/int4_storage.h"
#include "sw/runtime/quantize/int16_values.h"
#include "sw/runtime/reference/int16_kernels.h"
#include "sw/runtime/reference/reference_executor.h"

namespace npuvp::runtime {

LoweringOptions lowering_options(const ExecutionOptions& options) {
  LoweringOptions l;
  l.dataflow = options.dataflow;
  l.fold_data_movement = options.fold_data_movement;
  l.dram_access_bytes = options.dram_access_bytes;
  // Every layer's output kept needs every output written: a fused
  // convolution writes none of its own.
  l.fuse_layers = options.fuse_layers && !options.keep_outputs;
  l.tile_fits = options.tile_fits;
  return l;
}

namespace {

using firmware::LayerCommand;
using firmware::Opcode;

// The lowering with its initial data written through the host as it is
// lowered: the same writes in the same order as from initial_data, without
// the copy of every weight that would hold them until then.
LoweringOptions written_to(sw::HostHal& hal, LoweringOptions l) {
  l.write_initial_data = [&hal](std::uint64_t addr, const std::uint8_t* bytes, std::size_t n) {
    hal.memory_write(addr, bytes, n);
  };
  return l;
}

// Compares every layer's output (read by `read_output`) with the reference.
template <class ReadOutput>
NetworkRun check_layers(const QuantizedNetwork& q, const LoweredNetwork& lowered, bool keep_outputs,
                        ReadOutput&& read_output, const QuantizedNetwork* weights = nullptr) {
  NetworkRun run;
  run.commands = lowered.commands.size();
  std::vector<std::int8_t> actual;
  ReferenceCheck reference(q, weights);
  for (std::size_t i = 0; i < q.layers.size(); ++i) {
    const Layer& l = q.network.layer(static_cast<int>(i));
    const std::size_t expected_bytes = reference.bytes(static_cast<int>(i));
    LayerCheck c;
    c.index = static_cast<int>(i);
    c.name = l.name;
    c.type = layer_type_name(l.type);
    c.commands = lowered.layers[i].command_count;
    c.folded_into = lowered.layers[i].folded_into;
    c.not_fused = lowered.layers[i].not_fused;
    const LoweredLayer& lowered_layer = lowered.layers[i];
    if (lowered_layer.unwritten_for >= 0) {
      run.layers.push_back(std::move(c));  // vouched for below
      continue;
    }
    actual.resize(expected_bytes);
    std::size_t bytes = lowered_layer.output.bytes;
    if (lowered_layer.int4_packed) {
      // A packed tensor, or a producer's slice of a packed concatenation
      // (one segment counting bytes, LoweredLayer::view).
      const TensorShape s = l.out_shape;
      const std::size_t pixels = static_cast<std::size_t>(s.h) * s.w, run = (static_cast<std::size_t>(s.c) + 1) / 2;
      std::vector<std::int8_t> stored(pixels * run);
      if (lowered_layer.view.empty()) {
        read_output(lowered_layer.output.addr, stored.data(), stored.size());
      } else {
        const std::size_t pitch = lowered_layer.view[0].pixel_pitch;
        std::vector<std::int8_t> span((pixels - 1) * pitch + run);
        read_output(lowered_layer.view[0].addr, span.data(), span.size());
        for (std::size_t p = 0; p < pixels; ++p)
          std::copy_n(span.begin() + static_cast<std::ptrdiff_t>(p * pitch), run,
                      stored.begin() + static_cast<std::ptrdiff_t>(p * run));
      }
      pe_array::unpack_int4_runs(stored.data(), static_cast<std::size_t>(s.h) * s.w, static_cast<std::size_t>(s.c),
                                 actual.data());
      bytes = expected_bytes;
    } else if (lowered_layer.view.empty()) {
      read_output(lowered_layer.output.addr, actual.data(), actual.size());
    } else {
      const TensorShape s = l.out_shape;
      bytes = s.size();
      // One bulk read per run of overlapping segment spans, then gathered
      // here. A channel shuffle's segments are a channel each, every one
      // spanning nearly the whole tensor: read span by span, ShuffleNet v2 at
      // 64x64 read back 19.9 MB for 0.49 MB of outputs.
      std::vector<std::pair<std::uint64_t, std::uint64_t>> wanted;  // [from, to)
      for (const auto& g : lowered_layer.view)
        wanted.emplace_back(g.addr, g.addr + (s.size() / s.c - 1) * g.pixel_pitch + g.channels);
      std::sort(wanted.begin(), wanted.end());
      std::map<std::uint64_t, std::vector<std::int8_t>> spans;
      for (std::size_t k = 0; k < wanted.size();) {
        const std::uint64_t from = wanted[k].first;
        std::uint64_t to = wanted[k].second;
        for (++k; k < wanted.size() && wanted[k].first <= to; ++k) to = std::max(to, wanted[k].second);
        auto& span = spans[from];
        span.resize(to - from);
        read_output(from, span.data(), span.size());
      }
      firmware::gather_segments(lowered_layer.view.data(), lowered_layer.view.size(), static_cast<std::uint32_t>(s.h),
                                static_cast<std::uint32_t>(s.w),
                                static_cast<std::int8_t>(q.layers[i].output.zero_point), actual.data(),
                                [&](std::uint64_t addr, void* dst, std::size_t n) {
                                  // The spans are disjoint: the last one from at or below `addr` holds it.
                                  const auto it = std::prev(spans.upper_bound(addr));
                                  std::memcpy(dst, it->second.data() + (addr - it->first), n);
                                });
    }
    c.mismatches = reference.mismatches(static_cast<int>(i), actual);
    c.verified = c.mismatches == 0 && bytes == expected_bytes;
    if (keep_outputs) c.output = actual;
    run.layers.push_back(std::move(c));
  }
  // An output computed only inside a fused epilogue is exact if the output it
  // went into is: the epilogue requantizes it as the unfused layer does.
  for (std::size_t i = 0; i < q.layers.size(); ++i)
    if (const int by = lowered.layers[i].unwritten_for; by >= 0)
      run.layers[i].verified = run.layers[static_cast<std::size_t>(by)].verified;
  return run;
}

[[noreturn]] void bad_command(std::size_t index, const LayerCommand& c, const std::string& what) {
  throw std::invalid_argument("command " + std::to_string(index) + " (layer_id " + std::to_string(c.layer_id) +
                              ", opcode " + std::to_string(c.opcode) + "): " + what);
}

template <class T>
std::vector<T> read_vector(const HostDram& dram, std::uint64_t addr, std::size_t count) {
  std::vector<T> v(count);
  dram.read(addr, v.data(), count * sizeof(T));
  return v;
}

// A tensor of `shape` at `addr` (rows `row_pitch` bytes apart, 0: packed), one
// value per byte; packed int4 pixels unpacked as contract/int4_storage.h says.
std::vector<std::int8_t> read_tensor(const HostDram& dram, std::uint64_t addr, std::uint32_t row_pitch,
                                     TensorShape shape, bool packed_int4) {
  const auto w = static_cast<std::size_t>(shape.w), c = static_cast<std::size_t>(shape.c);
  const std::size_t stored_row = packed_int4 ? w * ((c + 1) / 2) : w * c;
  const std::size_t pitch = row_pitch != 0 ? row_pitch : stored_row;
  std::vector<std::int8_t> v(shape.size()), row(stored_row);
  for (int y = 0; y < shape.h; ++y) {
    dram.read(addr + static_cast<std::uint64_t>(y) * pitch, row.data(), stored_row);
    if (packed_int4)
      pe_array::unpack_int4_runs(row.data(), w, c, v.data() + static_cast<std::size_t>(y) * w * c);
    else
      std::copy(row.begin(), row.end(), v.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(y) * w * c));
  }
  return v;
}

// The input tensor of a command, gathered from rows of `input_row_pitch` bytes.
std::vector<std::int8_t> read_input(const HostDram& dram, const LayerCommand& c, TensorShape in) {
  if (c.input_segment_count != 0) {
    if (c.flags & firmware::kInt4PackedInput) throw std::invalid_argument("a gathered input cannot be packed int4");
    if (c.input_segment_count > firmware::kMaxInputSegments) throw std::invalid_argument("too many input segments");
    const auto segments = read_vector<firmware::InputSegment>(dram, c.input_segments_addr, c.input_segment_count);
    std::size_t channels = 0;
    for (const auto& g : segments) channels += g.channels;
    if (channels != static_cast<std::size_t>(in.c)) throw std::invalid_argument("input segments do not cover in_c");
    std::vector<std::int8_t> v(in.size());
    firmware::gather_segments(segments.data(), segments.size(), static_cast<std::uint32_t>(in.h),
                              static_cast<std::uint32_t>(in.w), static_cast<std::int8_t>(c.input_zero_point), v.data(),
                              [&](std::uint64_t a, void* dst, std::size_t n) { dram.read(a, dst, n); });
    return v;
  }
  return read_tensor(dram, c.input_addr, c.input_row_pitch, in, (c.flags & firmware::kInt4PackedInput) != 0);
}

// The add of a kAdd command, or of a convolution's fused epilogue (whose
// input 1 is the convolution's output).
AddParams add_params_of(const LayerCommand& c) {
  const bool fused = c.fuse == static_cast<std::uint32_t>(firmware::Fuse::kAdd);
  AddParams p;
  p.left_shift = c.add.left_shift;
  p.input1_offset = -(fused ? c.output_zero_point : c.input_zero_point);
  p.input2_offset = -c.add.input2_zero_point;
  p.output_offset = fused ? c.fused_output_zero_point : c.output_zero_point;
  p.input1_multiplier = {c.add.input1_multiplier, c.add.input1_shift};
  p.input2_multiplier = {c.add.input2_multiplier, c.add.input2_shift};
  p.output_multiplier = {c.add.output_multiplier, c.add.output_shift};
  p.act_min = fused ? c.fused_act_min : c.act_min;
  p.act_max = fused ? c.fused_act_max : c.act_max;
  return p;
}

// The pool a convolution's epilogue computes on its results.
PoolParams fused_pool_params(const LayerCommand& c) {
  PoolParams p;
  static_cast<Window&>(p) = firmware::read_pool_window(c);
  p.count_include_pad = (c.flags & firmware::kPoolCountIncludePad) != 0;
  p.zero_point = c.output_zero_point;
  p.act_min = c.fused_act_min;
  p.act_max = c.fused_act_max;
  return p;
}

// A pooling command's own window and clamp.
PoolParams pool_params_of(const LayerCommand& c) {
  PoolParams p;
  static_cast<Window&>(p) = firmware::read_window(c);
  p.count_include_pad = (c.flags & firmware::kPoolCountIncludePad) != 0;
  p.zero_point = c.input_zero_point;
  p.act_min = c.act_min;
  p.act_max = c.act_max;
  return p;
}

// A tensor of int16 values (two bytes each), packed rows unless `row_pitch`.
std::vector<std::int8_t> read_int16_tensor(const HostDram& dram, std::uint64_t addr, std::uint32_t row_pitch,
                                           TensorShape shape) {
  return read_tensor(dram, addr, row_pitch, as_byte_channels(shape), false);
}

// A convolution converting between int8 and int16 in its output stage.
std::vector<std::int8_t> execute_converting_conv(const HostDram& dram, const LayerCommand& c, TensorShape in,
                                                 TensorShape out) {
  const bool wide = c.datatype == static_cast<std::uint32_t>(firmware::Datatype::kInt16);
  const ConvParams p{firmware::read_window(c), c.input_zero_point, out.c};
  if (p.groups <= 0 || in.c % p.groups != 0) throw std::invalid_argument("groups must divide in_c");
  const std::size_t filter = static_cast<std::size_t>(p.kernel_h) * p.kernel_w * (in.c / p.groups);
  Requantization rq;
  const auto table = read_vector<std::int32_t>(dram, c.requant_addr, 2 * static_cast<std::size_t>(out.c));
  for (int k = 0; k < out.c; ++k) rq.per_channel.push_back({table[2 * k], table[2 * k + 1]});
  rq.output_zero_point = c.output_zero_point;
  rq.act_min = c.act_min;
  rq.act_max = c.act_max;
  const auto weights = read_vector<std::int8_t>(dram, c.weights_addr, (wide ? 2 : 1) * filter * out.c);
  const auto bias = read_vector<std::int32_t>(dram, c.bias_addr, static_cast<std::size_t>(out.c));
  if (wide) {
    const auto y = conv2d_int16(read_int16_tensor(dram, c.input_addr, c.input_row_pitch, in), in, weights, bias, p, rq);
    if (!(c.flags & firmware::kInt8Output)) return y;
    std::vector<std::int8_t> narrow(y.size() / 2);
    for (std::size_t k = 0; k < narrow.size(); ++k) narrow[k] = static_cast<std::int8_t>(load_int16(y.data(), k));
    return narrow;
  }
  const auto acc =
      conv2d_accumulators(read_tensor(dram, c.input_addr, c.input_row_pitch, in, false), in, weights, bias, p);
  std::vector<std::int8_t> y(2 * acc.size());
  for (std::size_t k = 0; k < acc.size(); ++k) store_int16(y.data(), k, rq.apply(acc[k], k));
  return y;
}

// A convolution, pooling or add of int16 tensors, on the int16 reference kernels.
std::vector<std::int8_t> execute_int16(const HostDram& dram, const LayerCommand& c, TensorShape in, TensorShape out) {
  if (c.input_segment_count != 0 || (c.flags & (firmware::kInt4PackedInput | firmware::kInt4PackedOutput)) ||
      c.fuse != 0)
    throw std::invalid_argument("an int16 command reads no gathered or packed input and fuses nothing");
  if (static_cast<Opcode>(c.opcode) == Opcode::kConv2d) return execute_converting_conv(dram, c, in, out);
  const auto x = read_int16_tensor(dram, c.input_addr, c.input_row_pitch, in);
  switch (static_cast<Opcode>(c.opcode)) {
    case Opcode::kMaxPool:
    case Opcode::kAvgPool: {
      const PoolParams p = pool_params_of(c);
      PoolParams window = p;  // pool_output_shape checks an int8 clamp
      window.act_min = -128;
      window.act_max = 127;
      if (in.c != out.c || !(pool_output_shape(in, window) == out))
        throw std::invalid_argument("pooling needs out_c == in_c and out_h/out_w of the window");
      return static_cast<Opcode>(c.opcode) == Opcode::kMaxPool ? max_pool_int16(x, in, p)
                                                               : average_pool_int16(x, in, p);
    }
    default:
      if (!(in == out)) throw std::invalid_argument("add needs equal input and output shapes");
      return add_int16(x, read_int16_tensor(dram, c.input2_addr, 0, in), in, add_params_of(c));
  }
}

void execute_one(HostDram& dram, const LayerCommand& c) {
  const TensorShape in{static_cast<int>(c.in_c), static_cast<int>(c.in_h), static_cast<int>(c.in_w)};
  const TensorShape out{static_cast<int>(c.out_c), static_cast<int>(c.out_h), static_cast<int>(c.out_w)};
  std::vector<std::int8_t> result;
  const bool tiled =
      c.opcode >= static_cast<std::uint32_t>(Opcode::kConv2d) && c.opcode <= static_cast<std::uint32_t>(Opcode::kAdd);
  if (tiled &&
      (c.datatype == static_cast<std::uint32_t>(firmware::Datatype::kInt16) || (c.flags & firmware::kInt16Output) != 0))
    result = execute_int16(dram, c, in, out);
  else
    switch (static_cast<Opcode>(c.opcode)) {
      case Opcode::kConv2d: {
        const ConvParams p{firmware::read_window(c), c.input_zero_point, out.c};
        if (p.groups <= 0 || in.c % p.groups != 0) throw std::invalid_argument("groups must divide in_c");
        const bool pools = firmware::fuses_pool(c);
        const TensorShape conv_out = pools ? TensorShape{out.c, c.conv_out_h, c.conv_out_w} : out;
        if (!(conv_output_shape(in, p) == conv_out))
          throw std::invalid_argument("out_c/out_h/out_w disagree with the window");
        const std::size_t filter = static_cast<std::size_t>(p.kernel_h) * p.kernel_w * (in.c / p.groups);
        const auto stored = static_cast<pe_array::Datatype>(c.datatype);
        auto weights = read_vector<std::int8_t>(
            dram, c.weights_addr, static_cast<std::size_t>(out.c * pe_array::storage_bytes(filter, stored)));
        if (stored == pe_array::Datatype::kInt4) {
          std::vector<std::int8_t> values(static_cast<std::size_t>(out.c) * filter);
          pe_array::unpack_int4_runs(weights.data(), static_cast<std::size_t>(out.c), filter, values.data());
          weights = std::move(values);
        }
        const auto bias = read_vector<std::int32_t>(dram, c.bias_addr, static_cast<std::size_t>(out.c));
        const auto table = read_vector<std::int32_t>(dram, c.requant_addr, 2 * static_cast<std::size_t>(out.c));
        Requantization rq;
        for (int k = 0; k < out.c; ++k) rq.per_channel.push_back({table[2 * k], table[2 * k + 1]});
        rq.output_zero_point = c.output_zero_point;
        rq.act_min = c.act_min;
        rq.act_max = c.act_max;
        result = conv2d(read_input(dram, c, in), in, weights, bias, p, rq);
        if (c.fuse > static_cast<std::uint32_t>(firmware::Fuse::kAvgPool)) throw std::invalid_argument("unknown fuse");
        if (pools) {
          const PoolParams pp = fused_pool_params(c);
          if (!(pool_output_shape(conv_out, pp) == out))
            throw std::invalid_argument("out_h/out_w disagree with the pool");
          result = c.fuse == static_cast<std::uint32_t>(firmware::Fuse::kMaxPool) ? max_pool(result, conv_out, pp)
                                                                                  : average_pool(result, conv_out, pp);
        } else if (c.fuse != 0) {
          result = add(result, read_vector<std::int8_t>(dram, c.input2_addr, out.size()), out, add_params_of(c));
        }
        break;
      }
      case Opcode::kMaxPool:
      case Opcode::kAvgPool: {
        const PoolParams p = pool_params_of(c);
        if (in.c != out.c) throw std::invalid_argument("pooling needs out_c == in_c");
        const TensorShape expect = pool_output_shape(in, p);
        if (!(expect == out)) throw std::invalid_argument("out_h/out_w disagree with the window");
        const auto x = read_input(dram, c, in);
        result = static_cast<Opcode>(c.opcode) == Opcode::kMaxPool ? max_pool(x, in, p) : average_pool(x, in, p);
        break;
      }
      case Opcode::kAdd: {
        if (!(in == out)) throw std::invalid_argument("add needs equal input and output shapes");
        result = add(read_input(dram, c, in),
                     read_tensor(dram, c.input2_addr, 0, in, (c.flags & firmware::kInt4PackedInput) != 0), in,
                     add_params_of(c));
        break;
      }
      case Opcode::kCopy:
      case Opcode::kFill: {
        const firmware::CopyParams& p = c.copy;
        const bool fill = static_cast<Opcode>(c.opcode) == Opcode::kFill;
        if (p.row_bytes == 0 || p.rows == 0 || p.planes == 0) throw std::invalid_argument("empty copy geometry");
        for (std::uint32_t plane = 0; plane < p.planes; ++plane)
          for (std::uint32_t row = 0; row < p.rows; ++row) {
            const std::int64_t dst_off = std::int64_t{plane} * p.dst_plane_pitch + std::int64_t{row} * p.dst_row_pitch;
            std::uint8_t* dst = dram.span(c.output_addr + static_cast<std::uint64_t>(dst_off), p.row_bytes);
            if (fill) {
              std::memset(dst, static_cast<std::uint8_t>(p.fill_value), p.row_bytes);
            } else {
              const std::int64_t src_off =
                  std::int64_t{plane} * p.src_plane_pitch + std::int64_t{row} * p.src_row_pitch;
              std::memmove(dst, dram.span(c.input_addr + static_cast<std::uint64_t>(src_off), p.row_bytes),
                           p.row_bytes);
            }
          }
        return;
      }
      default:
        throw std::invalid_argument("unknown opcode");
    }
  const auto channels = static_cast<std::size_t>(out.c);
  if (c.flags & firmware::kInt4PackedOutput) result = pe_array::pack_int4_runs(result, channels);
  const std::size_t pixel = result.size() / (static_cast<std::size_t>(out.h) * out.w);
  const auto pitch = static_cast<std::size_t>(c.output_pixel_pitch);
  if (pitch == 0 || pitch == pixel) {
    dram.write(c.output_addr, result.data(), result.size());
    return;
  }
  if (pitch < pixel) throw std::invalid_argument("output_pixel_pitch below out_c");
  for (std::size_t p = 0; p < result.size() / pixel; ++p)
    dram.write(c.output_addr + p * pitch, result.data() + p * pixel, pixel);
}

// A fully connected layer of a batch is one matrix product over the images
// (M = images): a command that reads one pixel and writes one, with a 1 x 1
// kernel and nothing fused, runs every image of the batch as one row of
// pixels, when each image's input and output are whole tensors of their
// own that the batch can lay side by side. Its weights then pass the NPU
// once for all images and its jobs hold the images in the array's rows;
// run image by image, each job held one pixel, using one array row.
bool folds_batch(const LayerCommand& c) {
  return static_cast<Opcode>(c.opcode) == Opcode::kConv2d && c.in_h == 1 && c.in_w == 1 && c.out_h == 1 &&
         c.out_w == 1 && c.kernel_h == 1 && c.kernel_w == 1 && c.groups == 1 &&
         c.fuse == static_cast<std::uint32_t>(firmware::Fuse::kNone) && c.input_segment_count == 0 &&
         c.input_row_pitch == 0 && c.output_pixel_pitch == 0;
}

// The bytes of the one input and the one output pixel of such a command
// (the command's datatype numbers the clusters' alike).
std::uint64_t input_pixel_bytes(const LayerCommand& c) {
  if (c.flags & firmware::kInt4PackedInput) return (c.in_c + 1) / 2;
  return std::uint64_t{c.in_c} * pe_array::element_bytes(static_cast<pe_array::Datatype>(c.datatype));
}
std::uint64_t output_pixel_bytes(const LayerCommand& c) {
  if (c.flags & firmware::kInt4PackedOutput) return (c.out_c + 1) / 2;
  if (c.flags & firmware::kInt16Output) return 2ull * c.out_c;
  if (c.flags & firmware::kInt8Output) return c.out_c;
  return std::uint64_t{c.out_c} * pe_array::element_bytes(static_cast<pe_array::Datatype>(c.datatype));
}

}  // namespace

bool NetworkRun::all_verified() const {
  for (const auto& l : layers)
    if (!l.verified) return false;
  return !layers.empty();
}

std::uint64_t HostDram::alloc(std::uint64_t bytes) {
  const std::uint64_t offset = (bytes_.size() + 63) & ~std::uint64_t{63};
  bytes_.resize(offset + bytes);
  return base_ + offset;
}

std::uint8_t* HostDram::span(std::uint64_t addr, std::size_t bytes) {
  return const_cast<std::uint8_t*>(static_cast<const HostDram&>(*this).span(addr, bytes));
}

const std::uint8_t* HostDram::span(std::uint64_t addr, std::size_t bytes) const {
  if (addr < base_ || addr - base_ > bytes_.size() || bytes > bytes_.size() - (addr - base_))
    throw std::out_of_range("host DRAM: access of " + std::to_string(bytes) + " bytes at 0x" + [&] {
      char buf[24];
      std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(addr));
      return std::string(buf);
    }() + " outside the allocated range");
  return bytes_.data() + (addr - base_);
}

void HostDram::write(std::uint64_t addr, const void* src, std::size_t bytes) {
  if (bytes != 0) std::memcpy(span(addr, bytes), src, bytes);
}

void HostDram::read(std::uint64_t addr, void* dst, std::size_t bytes) const {
  if (bytes != 0) std::memcpy(dst, span(addr, bytes), bytes);
}

void execute_commands_on_host(HostDram& dram, const std::vector<LayerCommand>& commands) {
  for (std::size_t i = 0; i < commands.size(); ++i) {
    try {
      const LayerCommand& c = commands[i];
      if (c.batch_count > firmware::kMaxBatchImages) throw std::invalid_argument("batch_count above 64");
      execute_one(dram, c);
      if (c.batch_count > 1)
        for (const auto& image : read_vector<firmware::BatchImage>(dram, c.batch_table_addr, c.batch_count - 1))
          execute_one(dram, firmware::image_command(c, image));
    } catch (const std::exception& e) {
      bad_command(i, commands[i], e.what());
    }
  }
}

NetworkRun run_network_on_host(const QuantizedNetwork& q, const ExecutionOptions& options) {
  HostDram dram;
  LoweringOptions lowering = lowering_options(options);
  lowering.write_initial_data = [&](std::uint64_t addr, const std::uint8_t* bytes, std::size_t n) {
    dram.write(addr, bytes, n);
  };
  const LoweredNetwork lowered = lower_network(
      q, [&](std::uint64_t bytes) { return dram.alloc(bytes); }, lowering);
  execute_commands_on_host(dram, lowered.commands);
  NetworkRun run = check_layers(q, lowered, options.keep_outputs,
                                [&](std::uint64_t addr, void* dst, std::size_t n) { dram.read(addr, dst, n); });
  run.command_buffers = 1;
  run.dram_bytes = dram.size();
  return run;
}

NetworkRun run_network_on_npu(sw::NpuDriver& driver, const QuantizedNetwork& q, const ExecutionOptions& options) {
  sw::HostHal& hal = driver.hal();
  std::uint64_t bytes = 0;
  const LoweredNetwork lowered = lower_network(
      q,
      [&](std::uint64_t n) {
        bytes += n;
        return driver.alloc(n);
      },
      written_to(hal, lowering_options(options)));

  // (first command, count) of each command buffer.
  std::vector<std::pair<std::size_t, std::size_t>> buffers;
  if (options.one_buffer_per_layer) {
    for (const LoweredLayer& l : lowered.layers)
      if (l.command_count > 0) buffers.emplace_back(l.first_command, l.command_count);
  } else if (!lowered.commands.empty()) {
    buffers.emplace_back(0, lowered.commands.size());
  }
  std::vector<std::uint64_t> addrs;
  for (const auto& [first, count] : buffers) {
    const std::uint64_t n = count * sizeof(LayerCommand);
    bytes += n;
    const std::uint64_t addr = driver.alloc(n);
    hal.memory_write(addr, lowered.commands.data() + first, n);
    addrs.push_back(addr);
  }
  for (std::size_t b = 0; b < buffers.size(); ++b)
    driver.submit(addrs[b], static_cast<std::uint32_t>(buffers[b].second));
  driver.wait_idle();
  if (options.await_reference) options.await_reference();

  NetworkRun run = check_layers(q, lowered, options.keep_outputs,
                                [&](std::uint64_t addr, void* dst, std::size_t n) { hal.memory_read(addr, dst, n); });
  run.command_buffers = buffers.size();
  run.dram_bytes = bytes;
  return run;
}

std::vector<NetworkRun> run_batch_on_npu(sw::NpuDriver& driver, const std::vector<const QuantizedNetwork*>& images,
                                         const ExecutionOptions& options) {
  if (images.empty()) throw std::invalid_argument("run_batch_on_npu: no images");
  sw::HostHal& hal = driver.hal();
  const LoweredNetwork first = lower_network(
      *images.front(), [&](std::uint64_t n) { return driver.alloc(n); }, written_to(hal, lowering_options(options)));

  // Activation tensors (the layer outputs, the input among them, and packed
  // copies of gathered views) get a copy per image; parameters stay shared.
  std::vector<DramRegion> tensors = first.scratch;
  for (const LoweredLayer& l : first.layers)
    if (l.output.bytes > 0 &&
        std::none_of(tensors.begin(), tensors.end(), [&](const DramRegion& r) { return r.addr == l.output.addr; }))
      tensors.push_back(l.output);
  // The tensors a folded command reads or writes lie image after image
  // (folds_batch): each is exactly the command's pixel, and the network's
  // input, written before, stays where it is.
  const auto tensor_at = [&](std::uint64_t addr) {
    return std::find_if(tensors.begin(), tensors.end(), [&](const DramRegion& r) { return r.addr == addr; });
  };
  const auto folds = [&](const LayerCommand& c) {
    if (images.size() < 2 || !folds_batch(c)) return false;
    const auto in = tensor_at(c.input_addr), out = tensor_at(c.output_addr);
    return in != tensors.end() && out != tensors.end() && in->bytes == input_pixel_bytes(c) &&
           out->bytes == output_pixel_bytes(c) && c.input_addr != first.layers[0].output.addr;
  };
  std::vector<bool> side_by_side(tensors.size(), false);
  for (const LayerCommand& c : first.commands)
    if (folds(c))
      for (const std::uint64_t addr : {c.input_addr, c.output_addr})
        side_by_side[static_cast<std::size_t>(tensor_at(addr) - tensors.begin())] = true;
  // The other tensors first, one image's after another's as before; the folded
  // ones after all of them.
  std::vector<std::vector<std::uint64_t>> moved(images.size());  // per image, per tensor: its address
  for (std::size_t b = 0; b < images.size(); ++b)
    for (std::size_t t = 0; t < tensors.size(); ++t)
      moved[b].push_back(b == 0 ? tensors[t].addr : side_by_side[t] ? 0 : driver.alloc(tensors[t].bytes));
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    if (!side_by_side[t]) continue;
    const std::uint64_t block = driver.alloc(tensors[t].bytes * images.size());
    for (std::size_t b = 0; b < images.size(); ++b) moved[b][t] = block + b * tensors[t].bytes;
  }
  const auto relocate = [&](std::size_t b, std::uint64_t addr) {
    for (std::size_t t = 0; t < tensors.size(); ++t)
      if (addr >= tensors[t].addr && addr < tensors[t].addr + tensors[t].bytes)
        return moved[b][t] + (addr - tensors[t].addr);
    return addr;
  };
  for (std::size_t b = 1; b < images.size(); ++b) {
    const std::vector<std::uint8_t> input = stored_input(*images[b], first);
    hal.memory_write(relocate(b, first.layers[0].output.addr), input.data(), input.size());
  }

  // A gathered input's segment table points at the first image's tensors:
  // every further image gets its own copy, relocated.
  const auto relocated_segments = [&](std::size_t b, const LayerCommand& cmd) {
    std::vector<firmware::InputSegment> segments(cmd.input_segment_count);
    hal.memory_read(cmd.input_segments_addr, segments.data(), segments.size() * sizeof(firmware::InputSegment));
    for (auto& g : segments) g.addr = relocate(b, g.addr);
    const std::uint64_t addr = driver.alloc(segments.size() * sizeof(firmware::InputSegment));
    hal.memory_write(addr, segments.data(), segments.size() * sizeof(firmware::InputSegment));
    return addr;
  };
  const auto image_of = [&](std::size_t b, const LayerCommand& cmd) {
    return firmware::BatchImage{
        relocate(b, cmd.input_addr), relocate(b, cmd.input2_addr), relocate(b, cmd.output_addr),
        cmd.input_segment_count != 0 && b > 0 ? relocated_segments(b, cmd) : cmd.input_segments_addr};
  };
  // Each command for all images before the next (an image's commands keep
  // their order). A tiled command runs up to kMaxBatchImages images at once,
  // the others go once per image.
  std::vector<LayerCommand> commands;
  for (const LayerCommand& cmd : first.commands) {
    if (folds(cmd)) {
      for (std::size_t b0 = 0; b0 < images.size(); b0 += firmware::kMaxBatchImages) {
        LayerCommand row = firmware::image_command(cmd, image_of(b0, cmd));
        row.in_w = row.out_w =
            static_cast<std::uint32_t>(std::min<std::size_t>(images.size() - b0, firmware::kMaxBatchImages));
        commands.push_back(row);
      }
      continue;
    }
    const auto op = static_cast<Opcode>(cmd.opcode);
    const std::size_t group = op == Opcode::kCopy || op == Opcode::kFill ? 1 : firmware::kMaxBatchImages;
    for (std::size_t b0 = 0; b0 < images.size(); b0 += group) {
      const std::size_t count = std::min(group, images.size() - b0);
      std::vector<firmware::BatchImage> table;
      for (std::size_t b = b0; b < b0 + count; ++b) table.push_back(image_of(b, cmd));
      LayerCommand batched = firmware::image_command(cmd, table.front());
      if (count > 1) {
        batched.batch_count = static_cast<std::uint32_t>(count);
        const std::uint64_t bytes = (count - 1) * sizeof(firmware::BatchImage);
        batched.batch_table_addr = driver.alloc(bytes);
        hal.memory_write(batched.batch_table_addr, table.data() + 1, bytes);
      }
      commands.push_back(batched);
    }
  }
  const std::uint64_t buffer = driver.alloc(commands.size() * sizeof(LayerCommand));
  hal.memory_write(buffer, commands.data(), commands.size() * sizeof(LayerCommand));
  driver.submit(buffer, static_cast<std::uint32_t>(commands.size()));
  driver.wait_idle();
  if (options.await_reference) options.await_reference();

  std::vector<NetworkRun> runs;
  for (std::size_t b = 0; b < images.size(); ++b) {
    LoweredNetwork view = first;
    for (LoweredLayer& l : view.layers) {
      l.output.addr = relocate(b, l.output.addr);
      for (auto& g : l.view) g.addr = relocate(b, g.addr);
    }
    runs.push_back(check_layers(
        *images[b], view, options.keep_outputs,
        [&](std::uint64_t addr, void* dst, std::size_t n) { hal.memory_read(addr, dst, n); }, images.front()));
  }
  return runs;
}

ReferenceCheck::ReferenceCheck(const QuantizedNetwork& q, const QuantizedNetwork* weights) : q_(q), weights_(weights) {}
ReferenceCheck::~ReferenceCheck() = default;

std::size_t ReferenceCheck::bytes(int i) const {
  return q_.expected_released(i) ? q_.expected_digest(i).bytes : q_.expected(i).size();
}

std::size_t ReferenceCheck::mismatches(int i, const std::vector<std::int8_t>& actual) {
  const std::size_t n = bytes(i);
  if (actual.size() != n)
    throw std::invalid_argument("layer " + std::to_string(i) + ": an output of " + std::to_string(actual.size()) +
                                " bytes, expected " + std::to_string(n));
  // A layer that matches, as layers do, is told by memcmp or its digest.
  const bool released = q_.expected_released(i);
  const bool differs = released ? digest_of(actual) != q_.expected_digest(i)
                                : n != 0 && std::memcmp(actual.data(), q_.expected(i).data(), n) != 0;
  if (!differs) return 0;
  if (released && !recomputed_) {
    recomputed_ = std::make_unique<QuantizedNetwork>(q_);
    if (weights_ != nullptr && weights_ != &q_)
      for (std::size_t k = 0; k < recomputed_->layers.size(); ++k)
        recomputed_->layers[k].weights = weights_->layers[k].weights;
    compute_reference_outputs(*recomputed_);
  }
  // Counted in a local over raw pointers: a byte store may alias a member,
  // which would then be loaded and stored again per byte.
  const std::int8_t *a = actual.data(), *e = (released ? recomputed_->expected(i) : q_.expected(i)).data();
  std::size_t count = 0;
  for (std::size_t k = 0; k < n; ++k) count += a[k] != e[k];
  return count;
}

}  // namespace npuvp::runtime
