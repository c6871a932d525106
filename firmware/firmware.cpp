#include "firmware/firmware.h"
#include "firmware/layer_geometry.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "contract/cluster_regs.h"
#include "contract/dma_regs.h"
#include "contract/npu_regs.h"

namespace npuvp::firmware {
namespace {

constexpr unsigned kLoadChannel = 0;
constexpr unsigned kStoreChannel = 1;

struct FirmwareError {
  npu::NpuError code;
  std::uint32_t info;
};

constexpr bool same_number(Datatype a, pe_array::Datatype b) {
  return static_cast<std::uint32_t>(a) == static_cast<std::uint32_t>(b);
}
static_assert(same_number(Datatype::kInt8, pe_array::Datatype::kInt8) &&
                  same_number(Datatype::kInt4, pe_array::Datatype::kInt4) &&
                  same_number(Datatype::kInt16, pe_array::Datatype::kInt16) &&
                  same_number(Datatype::kFp16, pe_array::Datatype::kFp16),
              "the firmware passes the command's datatype to the clusters unchanged");

// The weights the SRAM and the clusters hold after a convolution that fitted
// one K block: the next command of the buffer with the same weights (the next
// image of a batch) needs neither the DMA load nor the clusters' weight fetch.
struct ResidentWeights {
  bool valid = false;
  std::uint64_t weights_addr = 0, bias_addr = 0, requant_addr = 0;
  std::uint64_t bytes = 0;
};

class LayerRunner {
 public:
  LayerRunner(Hal& hal, const LayerCommand& layer, std::uint32_t index, ResidentWeights& resident)
      : hal_(hal), npu_(hal.layout()), l_(layer), index_(index), op_(opcode_of(layer)), resident_(resident) {}

  void run() {
    validate();
    if (op_ == Opcode::kCopy || op_ == Opcode::kFill) {
      run_copy();
      return;
    }
    read_images();
    plan();
    image_tiles_ = ceil_div(l_.out_h, t_.rows_per_tile);
    const ResidentWeights wanted{op_ == Opcode::kConv2d && t_.k_block == l_.out_c, l_.weights_addr, l_.bias_addr,
                                 l_.requant_addr, filter_bytes(l_) * l_.out_c};
    const bool weights_resident = wanted.valid && resident_.valid && resident_.weights_addr == wanted.weights_addr &&
                                  resident_.bias_addr == wanted.bias_addr &&
                                  resident_.requant_addr == wanted.requant_addr && resident_.bytes == wanted.bytes;
    // Pooling and add reuse the SRAM where weights were; anything else replaces them.
    resident_ = wanted;
    if (t_.order == LoopOrder::kRowTilesOuter)
      run_row_tiles_outer();
    else
      run_weight_blocks_outer(weights_resident);
  }

 private:
  // Loading tile n+1 and storing tile n-1 overlap computing tile n; a K
  // block's weights load before its first tile. The tiles of all images of a
  // batch pass one K block's weights before the next block loads. With a job
  // queue, tile n+1's jobs start as soon as its inputs are in and tile n-1's
  // outputs are stored, so the clusters go from one tile to the next without
  // waiting for the command processor.
  void run_weight_blocks_outer(bool weights_resident) {
    const std::uint32_t tiles = image_tiles_ * images();
    for (std::uint32_t k0 = 0; k0 < l_.out_c; k0 += t_.k_block) {
      const std::uint32_t kb = std::min(t_.k_block, l_.out_c - k0);
      std::vector<dma::Descriptor> first;
      if (op_ == Opcode::kConv2d && !weights_resident) first = weight_loads(k0, kb, 0);
      const auto inputs = input_loads(0, k0, kb, 0);
      first.insert(first.end(), inputs.begin(), inputs.end());
      start_dma(kLoadChannel, first);
      wait_dma(kLoadChannel);
      TileLoop loop(*this);
      loop.first(issue(0, kb, {!weights_resident, 0, 0}));
      for (std::uint32_t tile = 0; tile < tiles; ++tile) {
        const bool prefetch = tile + 1 < tiles;
        if (prefetch) start_dma(kLoadChannel, input_loads(tile + 1, k0, kb, (tile + 1) % 2));
        loop.step(
            prefetch,
            [&] {
              return issue(tile + 1, kb, {false, 0, (tile + 1) % 2});
            },
            [&] { store_output(tile, k0, kb, tile % 2); });
      }
      loop.drain();
    }
  }

  // Each step computes one K block of one row tile (row_tiles_outer_steps)
  // while the next step's weights (at a pass boundary) and inputs (at an
  // input buffer boundary) load and the previous step's outputs store. A
  // batch of whole images shares each pass of the weights among as many
  // images as an input buffer holds.
  void run_row_tiles_outer() {
    const std::uint32_t blocks = ceil_div(l_.out_c, t_.k_block);
    const std::uint32_t tiles = image_tiles_ * images();
    const auto steps = row_tiles_outer_steps(tiles, blocks, t_.images_per_tile);
    const auto loads = [&](std::size_t i) {
      const RowTilesStep& s = steps[i];
      const std::uint32_t k0 = s.block * t_.k_block;
      std::vector<dma::Descriptor> chain;
      if (s.loads_weights) chain = weight_loads(k0, std::min(t_.k_block, l_.out_c - k0), s.pass % 2);
      for (std::uint32_t tile = s.tile; s.loads_inputs && tile < std::min(tiles, s.tile + t_.images_per_tile); ++tile) {
        const auto inputs = input_loads(tile, 0, l_.out_c, input_buffer(tile));
        chain.insert(chain.end(), inputs.begin(), inputs.end());
      }
      return chain;
    };
    const auto issue_step = [&](std::size_t i) {
      const RowTilesStep& s = steps[i];
      const std::uint32_t kb = std::min(t_.k_block, l_.out_c - s.block * t_.k_block);
      return issue(s.tile, kb, {s.loads_weights, s.pass % 2, static_cast<unsigned>(i % 2)});
    };
    start_dma(kLoadChannel, loads(0));
    wait_dma(kLoadChannel);
    TileLoop loop(*this);
    loop.first(issue_step(0));
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const RowTilesStep& s = steps[i];
      const std::uint32_t k0 = s.block * t_.k_block;
      const std::uint32_t kb = std::min(t_.k_block, l_.out_c - k0);
      const auto next = i + 1 < steps.size() ? loads(i + 1) : std::vector<dma::Descriptor>{};
      const bool prefetch = i + 1 < steps.size();
      if (!next.empty()) start_dma(kLoadChannel, next);
      loop.step(
          prefetch, [&] { return issue_step(i + 1); },
          [&] { store_output(s.tile, k0, kb, static_cast<unsigned>(i % 2)); }, !next.empty());
    }
    loop.drain();
  }

  [[noreturn]] void bad() const { throw FirmwareError{npu::NpuError::kBadCommand, index_}; }

  void validate() const {
    if (op_ == Opcode::kCopy || op_ == Opcode::kFill) {
      if (l_.copy.row_bytes == 0 || l_.copy.rows == 0 || l_.copy.planes == 0 || l_.batch_count > 1) bad();
      return;
    }
    if (!is_tiled(op_)) bad();
    const contract::ConvWindow w = read_window(l_);
    if (w.kernel_h == 0 || w.kernel_w == 0 || w.stride_h == 0 || w.stride_w == 0 || w.dilation_h == 0 ||
        w.dilation_w == 0 || l_.in_c == 0 || l_.out_c == 0 || l_.in_h == 0 || l_.in_w == 0 || l_.act_min > l_.act_max)
      bad();
    if (std::max({l_.in_c, l_.in_h, l_.in_w, l_.out_c, l_.out_h, l_.out_w}) > kMaxLayerDim) bad();
    if (op_ == Opcode::kConv2d) {
      if (l_.groups == 0 || l_.in_c % l_.groups != 0 || l_.out_c % l_.groups != 0) bad();
      if (l_.dataflow > static_cast<std::uint32_t>(DataflowChoice::kSpatialOutputStationary)) bad();
      if (l_.datatype > static_cast<std::uint32_t>(Datatype::kFp16)) bad();
    } else if (l_.out_c != l_.in_c || l_.datatype != static_cast<std::uint32_t>(Datatype::kInt8)) {
      bad();  // pooling and add keep the channels and are int8
    }
    if (op_ == Opcode::kAdd && (w.kernel_h != 1 || w.kernel_w != 1 || w.stride_h != 1 || w.stride_w != 1 ||
                                w.pad.any() || l_.add.left_shift < 0 || l_.add.left_shift > 22))
      bad();
    const auto out_dim = [](std::uint32_t in, int pad_a, int pad_b, int k, int d, int s) -> std::int64_t {
      return (std::int64_t{in} + pad_a + pad_b - std::int64_t{d} * (k - 1) - 1) / s + 1;
    };
    if (out_dim(l_.in_h, w.pad.top, w.pad.bottom, w.kernel_h, w.dilation_h, w.stride_h) != l_.out_h ||
        out_dim(l_.in_w, w.pad.left, w.pad.right, w.kernel_w, w.dilation_w, w.stride_w) != l_.out_w || l_.out_h == 0 ||
        l_.out_w == 0)
      bad();
    if (l_.input_row_pitch != 0 && l_.input_row_pitch < l_.in_w * l_.in_c * element_bytes(l_)) bad();
    if (l_.output_pixel_pitch != 0 && l_.output_pixel_pitch < l_.out_c * element_bytes(l_)) bad();
    if (l_.input_segment_count > kMaxInputSegments ||
        (l_.input_segment_count != 0 && (op_ == Opcode::kAdd || element_bytes(l_) != 1)))
      bad();
    if (l_.batch_count > kMaxBatchImages) bad();
  }

  std::uint32_t images() const { return static_cast<std::uint32_t>(images_.size()); }

  void read_dram(std::uint64_t addr, void* dst, std::size_t bytes) {
    try {
      hal_.read(addr, dst, bytes);
    } catch (const BusError& e) {
      throw FirmwareError{npu::NpuError::kRingAccess, static_cast<std::uint32_t>(e.address())};
    }
  }

  // Where each image of the command reads and writes (the batch table, read
  // from DRAM like the command) and each one's input segments.
  void read_images() {
    images_.assign(1, BatchImage{l_.input_addr, l_.input2_addr, l_.output_addr, l_.input_segments_addr});
    if (l_.batch_count > 1) {
      images_.resize(l_.batch_count);
      read_dram(l_.batch_table_addr, &images_[1], (images_.size() - 1) * sizeof(BatchImage));
    }
    segments_.assign(images_.size(), {});
    for (std::size_t b = 0; b < images_.size(); ++b) read_segments(images_[b].input_segments_addr, segments_[b]);
  }

  // A gathered input's segments; they must cover the input's channels exactly.
  void read_segments(std::uint64_t addr, std::vector<InputSegment>& segments) {
    if (l_.input_segment_count == 0) return;
    segments.resize(l_.input_segment_count);
    read_dram(addr, segments.data(), segments.size() * sizeof(InputSegment));
    std::uint32_t channels = 0;
    for (const InputSegment& g : segments) {
      // A row of the segment's pixels is one signed 32-bit DMA pitch.
      if (g.channels == 0 || g.pixel_pitch < g.channels ||
          std::uint64_t{g.pixel_pitch} * l_.in_w > std::numeric_limits<std::int32_t>::max())
        bad();
      channels += g.channels;
    }
    if (channels != l_.in_c) bad();
  }

  // The dataflow the command asks for, or the one the cost model prefers,
  // and the tiling that goes with it. A convolution's costs are estimated
  // either way so that the report can show both.
  void plan() {
    LayerDecision d;
    d.layer_id = static_cast<std::int32_t>(l_.layer_id);
    d.asked = op_ == Opcode::kConv2d ? static_cast<DataflowChoice>(l_.dataflow) : DataflowChoice::kWeightStationary;
    bool fits = false;
    if (op_ == Opcode::kConv2d) {
      fits = plan_dataflows(
          l_, npu_, d.asked == DataflowChoice::kHybridEnergy ? Objective::kEnergy : Objective::kLatency, d.costs);
      d.costed = fits;
      if (!forced_dataflow(d.asked, d.dataflow))
        d.dataflow = d.costs.cheapest();
      else if ((npu_.dataflows >> static_cast<unsigned>(d.dataflow) & 1u) == 0)
        bad();  // the arrays cannot run it
      // A forced dataflow may have no tiling that fits where another has.
      fits = fits && d.costs.plan(d.dataflow).candidate;
      if (fits) d.tiling = d.costs.plan(d.dataflow).tiling;
    } else {
      fits = plan_layer_tiling(l_, npu_, LoopOrder::kWeightBlocksOuter, d.tiling);
    }
    if (!fits) throw FirmwareError{npu::NpuError::kLayerTooLarge, index_};
    dataflow_ = d.dataflow;
    t_ = d.tiling;
    hal_.record_decision(d);
  }

  std::uint64_t sram(std::uint64_t offset) const { return npu_.sram_base + offset; }

  // Writes a chain of descriptors into the channel's slots and starts it.
  void start_dma(unsigned channel, std::vector<dma::Descriptor> chain) {
    const std::uint64_t slot = sram(channel * dma_slots(l_) * sizeof(dma::Descriptor));
    for (std::size_t i = 0; i < chain.size(); ++i) {
      chain[i].next = slot + (i + 1) * sizeof(dma::Descriptor);
      if (i + 1 == chain.size()) chain[i].flags |= dma::kDescLast;
    }
    hal_.write(slot, chain.data(), chain.size() * sizeof(dma::Descriptor));
    const std::uint64_t regs = npu_.dma_regs_base + channel * dma::kChannelStride;
    hal_.write32(regs + dma::reg::kDescLo, static_cast<std::uint32_t>(slot));
    hal_.write32(regs + dma::reg::kDescHi, static_cast<std::uint32_t>(slot >> 32));
    hal_.write32(regs + dma::reg::kCtrl, dma::kCtrlStart);
  }

  static dma::Descriptor linear(std::uint64_t src, std::uint64_t dst, std::uint32_t bytes) {
    return dma::Descriptor{src, dst, bytes, 1, 1, 0, 0, 0, 0, 0, 0, 0};
  }

  void wait_dma(unsigned channel) {
    hal_.wait_events(std::uint64_t{1} << channel);
    const std::uint64_t regs = npu_.dma_regs_base + channel * dma::kChannelStride;
    const std::uint32_t irq = hal_.read32(regs + dma::reg::kIrq);
    hal_.write32(regs + dma::reg::kIrq, irq);
    if (irq & dma::kIrqError) {
      const std::uint32_t addr = hal_.read32(regs + dma::reg::kErrorAddrLo);
      throw FirmwareError{npu::NpuError::kDmaFault, addr};
    }
  }

  void run_copy() {
    const CopyParams& c = l_.copy;
    dma::Descriptor d{l_.input_addr,   l_.output_addr,    c.row_bytes,       c.rows, c.planes, 0, c.src_row_pitch,
                      c.dst_row_pitch, c.src_plane_pitch, c.dst_plane_pitch, 0,      0};
    if (op_ == Opcode::kFill) {
      d.flags = dma::kDescFill;
      d.reserved = static_cast<std::uint8_t>(c.fill_value);
    }
    start_dma(kLoadChannel, {d});
    wait_dma(kLoadChannel);
  }

  std::vector<dma::Descriptor> weight_loads(std::uint32_t k0, std::uint32_t kb, unsigned buffer) const {
    const std::uint64_t filter = filter_bytes(l_);
    return {linear(l_.bias_addr + k0 * 4ull, sram(t_.bias_offset[buffer]), kb * 4),
            linear(l_.requant_addr + k0 * 8ull, sram(t_.requant_offset[buffer]), kb * 8),
            linear(l_.weights_addr + k0 * filter, sram(t_.weights_offset[buffer]),
                   static_cast<std::uint32_t>(kb * filter))};
  }

  // Tiles count on from one image to the next: tile t is row tile
  // t % image_tiles_ of image t / image_tiles_.
  std::uint32_t image_of(std::uint32_t tile) const { return tile / image_tiles_; }
  std::uint32_t first_row(std::uint32_t tile) const { return tile % image_tiles_ * t_.rows_per_tile; }
  std::uint32_t tile_rows(std::uint32_t tile) const { return std::min(t_.rows_per_tile, l_.out_h - first_row(tile)); }
  // The input buffer a tile's inputs go to, and where in it (several whole
  // images share one with LayerTiling::images_per_tile).
  unsigned input_buffer(std::uint32_t tile) const { return tile / t_.images_per_tile % 2; }
  std::uint64_t input_at(std::uint32_t tile, unsigned buffer) const {
    return sram(t_.input_offset[buffer] + tile % t_.images_per_tile * t_.input_slot_bytes);
  }

  std::vector<dma::Descriptor> input_loads(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb,
                                           unsigned buffer) const {
    const auto [lo, hi] = input_row_range(l_, first_row(tile), tile_rows(tile));
    const BatchImage& image = images_[image_of(tile)];
    const std::uint32_t e = element_bytes(l_);
    const std::uint32_t row_bytes = l_.in_w * l_.in_c * e;
    const std::uint32_t dram_pitch = l_.input_row_pitch != 0 ? l_.input_row_pitch : row_bytes;
    const std::uint32_t channels = block_input_channels(l_, kb);
    const std::uint32_t first_channel = block_input_channels(l_, k0);
    if (l_.input_segment_count != 0)
      return gathered_loads(segments_[image_of(tile)], lo, hi, channels == l_.in_c ? 0 : first_channel, channels,
                            input_at(tile, buffer));
    dma::Descriptor d{image.input_addr + std::uint64_t{lo} * dram_pitch + (channels == l_.in_c ? 0 : first_channel * e),
                      input_at(tile, buffer),
                      row_bytes,
                      hi - lo,
                      1,
                      0,
                      static_cast<std::int32_t>(dram_pitch),
                      static_cast<std::int32_t>(row_bytes),
                      0,
                      0,
                      0,
                      0};
    if (channels != l_.in_c) {
      // A channel slice of every pixel: rows of pixels of `channels` bytes.
      d.row_bytes = channels * e;
      d.rows = l_.in_w;
      d.planes = hi - lo;
      d.src_row_pitch = static_cast<std::int32_t>(l_.in_c * e);
      d.dst_row_pitch = static_cast<std::int32_t>(channels * e);
      d.src_plane_pitch = static_cast<std::int32_t>(dram_pitch);
      d.dst_plane_pitch = static_cast<std::int32_t>(l_.in_w * channels * e);
    }
    std::vector<dma::Descriptor> chain{d};
    if (op_ == Opcode::kAdd) {
      chain.push_back(d);
      chain.back().src = d.src - image.input_addr + image.input2_addr;
      chain.back().dst = sram(t_.input2_offset[buffer]);
    }
    return chain;
  }

  // Input rows [lo, hi) of the channels [first, first + channels), gathered
  // from the segments into a packed tile at `dst`: per segment, the part whose
  // shifted source lies in the image is copied and the strips around it are
  // filled with the input zero point.
  std::vector<dma::Descriptor> gathered_loads(const std::vector<InputSegment>& segments, std::uint32_t lo,
                                              std::uint32_t hi, std::uint32_t first, std::uint32_t channels,
                                              std::uint64_t dst) const {
    std::vector<dma::Descriptor> chain;
    const std::int64_t w = l_.in_w, h = l_.in_h;
    std::uint32_t start = 0;  // the segment's first input channel
    for (const InputSegment& g : segments) {
      const std::uint32_t a = std::max(start, first), b = std::min(start + g.channels, first + channels);
      const std::uint32_t skip = a - start;  // channels of the segment before the block
      start += g.channels;
      if (a >= b) continue;
      const auto at = [&](std::int64_t y, std::int64_t x) {
        return dst + static_cast<std::uint64_t>(((y - lo) * w + x) * channels) + (a - first);
      };
      const auto block = [&](std::int64_t y0, std::int64_t y1, std::int64_t x0, std::int64_t x1) {
        const auto p = static_cast<std::int32_t>(g.pixel_pitch);
        const auto c = static_cast<std::int32_t>(channels);
        return dma::Descriptor{
            0, at(y0, x0), b - a, static_cast<std::uint32_t>(x1 - x0), static_cast<std::uint32_t>(y1 - y0),
            0, p,          c,     static_cast<std::int32_t>(w) * p,    static_cast<std::int32_t>(w) * c,
            0, 0};
      };
      const auto fill = [&](std::int64_t y0, std::int64_t y1, std::int64_t x0, std::int64_t x1) {
        if (y0 >= y1 || x0 >= x1) return;
        dma::Descriptor d = block(y0, y1, x0, x1);
        d.flags = dma::kDescFill;
        d.reserved = static_cast<std::uint8_t>(l_.input_zero_point);
        chain.push_back(d);
      };
      // Rows and columns whose source (y - dy, x - dx) lies in the image.
      const std::int64_t y0 = std::clamp<std::int64_t>(g.dy, lo, hi), y1 = std::clamp<std::int64_t>(h + g.dy, y0, hi);
      const std::int64_t x0 = std::clamp<std::int64_t>(g.dx, 0, w), x1 = std::clamp<std::int64_t>(w + g.dx, x0, w);
      if (y0 < y1 && x0 < x1) {
        dma::Descriptor d = block(y0, y1, x0, x1);
        d.src = g.addr + static_cast<std::uint64_t>(((y0 - g.dy) * w + (x0 - g.dx)) * g.pixel_pitch) + skip;
        if (g.pixel_pitch == b - a && channels == b - a) {
          // Whole pixels on both sides: a row of them is one run of bytes.
          d.row_bytes *= d.rows;
          d.rows = 1;
        }
        chain.push_back(d);
      }
      fill(lo, y0, 0, w);
      fill(y1, hi, 0, w);
      fill(y0, y1, 0, x0);
      fill(y0, y1, x1, w);
    }
    return chain;
  }

  void store_output(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb, unsigned buffer) {
    const std::uint32_t pixels = tile_rows(tile) * l_.out_w;
    const std::uint64_t first_pixel = std::uint64_t{first_row(tile)} * l_.out_w;
    const std::uint32_t e = element_bytes(l_);
    const std::uint32_t pitch = l_.output_pixel_pitch != 0 ? l_.output_pixel_pitch : l_.out_c * e;
    dma::Descriptor d{sram(t_.output_offset[buffer]),
                      images_[image_of(tile)].output_addr + first_pixel * pitch + k0 * e,
                      kb * e,
                      pixels,
                      1,
                      0,
                      static_cast<std::int32_t>(kb * e),
                      static_cast<std::int32_t>(pitch),
                      0,
                      0,
                      0,
                      0};
    if (kb * e == pitch) {
      // All channels of each pixel: the tile is one contiguous block in DRAM.
      d.row_bytes = pixels * kb * e;
      d.rows = 1;
    }
    start_dma(kStoreChannel, {d});
  }

  pe_array::ClusterJob job_template() const {
    pe_array::ClusterJob job{};
    switch (op_) {
      case Opcode::kConv2d:
        job.op = static_cast<std::uint32_t>(pe_array::JobOp::kConv2d);
        break;
      case Opcode::kMaxPool:
        job.op = static_cast<std::uint32_t>(pe_array::JobOp::kMaxPool);
        break;
      case Opcode::kAvgPool:
        job.op = static_cast<std::uint32_t>(pe_array::JobOp::kAvgPool);
        break;
      default:
        job.op = static_cast<std::uint32_t>(pe_array::JobOp::kAdd);
        break;
    }
    job.dataflow = static_cast<std::uint32_t>(dataflow_);
    job.datatype = op_ == Opcode::kConv2d ? l_.datatype : static_cast<std::uint32_t>(Datatype::kInt8);
    job.in_w = l_.in_w;
    job.in_c = l_.in_c;
    job.in_row_pitch = l_.in_w * l_.in_c * element_bytes(l_);
    job.origin_x = -static_cast<std::int32_t>(l_.pad_left);
    job.out_w = l_.out_w;
    contract::write_window_fields(job, read_window(l_));
    job.input_zero_point = l_.input_zero_point;
    job.output_zero_point = l_.output_zero_point;
    job.act_min = l_.act_min;
    job.act_max = l_.act_max;
    if (op_ == Opcode::kConv2d) {
      job.group_in = l_.in_c / l_.groups;
      job.group_out = l_.out_c / l_.groups;
    }
    if (op_ == Opcode::kAvgPool && (l_.flags & kPoolCountIncludePad)) job.flags |= pe_array::kJobCountIncludePad;
    if (op_ == Opcode::kConv2d && (l_.flags & kFp16Relu)) job.flags |= pe_array::kJobFp16Relu;
    job.image_h = l_.in_h;
    job.image_w = l_.in_w;
    job.in2_zero_point = l_.add.input2_zero_point;
    job.left_shift = l_.add.left_shift;
    job.in1_multiplier = l_.add.input1_multiplier;
    job.in1_shift = l_.add.input1_shift;
    job.in2_multiplier = l_.add.input2_multiplier;
    job.in2_shift = l_.add.input2_shift;
    job.out_multiplier = l_.add.output_multiplier;
    job.out_shift = l_.add.output_shift;
    return job;
  }

  // Which SRAM buffers a tile's jobs use, and whether the clusters fetch the
  // weights or still hold them from the previous tile.
  struct JobBuffers {
    bool load_weights;
    unsigned weights;
    unsigned output;
  };

  // A tile's jobs, started from job table `table`.
  struct Issued {
    unsigned table = 0;
    std::uint32_t jobs = 0;
  };

  // The order of waits around one step of a tile loop: the step's jobs were
  // issued before it; the next step's are issued once its loads (started by
  // the caller) are in and the output buffer it writes is stored, before or
  // (without a job queue) after this step's jobs end.
  class TileLoop {
   public:
    explicit TileLoop(LayerRunner& r) : r_(r) {}
    void first(Issued issued) { running_ = issued; }
    template <typename Issue, typename Store>
    void step(bool has_next, Issue&& issue_next, Store&& store, bool loading = true) {
      loading = loading && has_next;
      Issued next;
      if (has_next && r_.pipelined()) {
        if (loading) r_.wait_dma(kLoadChannel);
        if (store_pending_) r_.wait_dma(kStoreChannel);
        store_pending_ = false;
        next = issue_next();
      }
      r_.wait_jobs(running_);
      if (store_pending_) r_.wait_dma(kStoreChannel);
      store();
      store_pending_ = true;
      if (has_next && !r_.pipelined()) {
        if (loading) r_.wait_dma(kLoadChannel);
        next = issue_next();
      }
      running_ = next;
    }
    void drain() {
      if (store_pending_) r_.wait_dma(kStoreChannel);
    }

   private:
    LayerRunner& r_;
    Issued running_;
    bool store_pending_ = false;
  };

  std::uint64_t job_table(unsigned table) const {
    return sram(job_tables_offset(l_, npu_) + table * job_table_bytes(npu_));
  }
  std::uint64_t cluster_reg(unsigned cluster, std::uint32_t reg) const {
    return npu_.cluster_regs_base + cluster * pe_array::kClusterStride + reg;
  }
  std::vector<std::uint64_t> cluster_regs(std::uint32_t clusters, std::uint32_t reg) const {
    std::vector<std::uint64_t> regs(clusters);
    for (unsigned c = 0; c < clusters; ++c) regs[c] = cluster_reg(c, reg);
    return regs;
  }
  // With a job queue, the next tile's jobs can be started while this one's run.
  bool pipelined() const { return npu_.job_queue_depth >= 2; }

  // Writes the tile's jobs, one per cluster, into the next job table with
  // their completion words cleared, and starts them all with two multicast
  // writes (JOB_ADDR, START_TABLE): a cluster still busy queues its job.
  Issued issue(std::uint32_t tile, std::uint32_t kb, JobBuffers buffers) {
    hal_.spend_cycles(kTileSetupCycles);
    Issued issued{next_table_, 0};
    next_table_ ^= 1u;
    const std::uint64_t table = job_table(issued.table);
    const std::uint32_t row0 = first_row(tile);
    const std::uint32_t rows = tile_rows(tile);
    const std::uint32_t tile_lo = input_row_range(l_, row0, rows).first;
    const std::uint32_t channels = block_input_channels(l_, kb);
    const std::uint32_t e = element_bytes(l_);
    const std::uint32_t row_bytes = l_.in_w * channels * e;
    const unsigned buffer = input_buffer(tile);
    const std::uint32_t rows_per_group = ceil_div(rows, t_.row_groups);
    const std::uint64_t filter = filter_bytes(l_);
    const pe_array::ClusterJob base = job_template();
    std::vector<pe_array::ClusterJob> jobs;
    for (std::uint32_t rg = 0; rg < t_.row_groups; ++rg) {
      const std::uint32_t my0 = rg * rows_per_group;
      if (my0 >= rows) break;
      const std::uint32_t my_rows = std::min(rows_per_group, rows - my0);
      const auto [lo, hi] = input_row_range(l_, row0 + my0, my_rows);
      for (std::uint32_t ks = 0; ks < kb; ks += t_.k_slice) {
        pe_array::ClusterJob job = base;
        const std::uint32_t k_count = std::min(t_.k_slice, kb - ks);
        job.flags |= buffers.load_weights ? pe_array::kJobLoadWeights : 0;
        const std::uint64_t in_offset = std::uint64_t{lo - tile_lo} * row_bytes;
        job.in_addr = static_cast<std::uint32_t>(input_at(tile, buffer) + in_offset);
        job.in2_addr = static_cast<std::uint32_t>(sram(t_.input2_offset[buffer]) + in_offset);
        job.in_h = hi - lo;
        job.tile_row0 = static_cast<std::int32_t>(lo);
        job.origin_y = static_cast<std::int32_t>(std::int64_t{row0 + my0} * l_.stride_h - l_.pad_top - lo);
        if (op_ == Opcode::kConv2d && l_.groups == 1) job.group_out = k_count;
        job.in_c = channels;
        job.in_row_pitch = row_bytes;
        job.in_channel_offset = op_ == Opcode::kConv2d ? ks / job.group_out * job.group_in : ks;
        if (op_ == Opcode::kConv2d && l_.groups == 1) job.in_channel_offset = 0;
        job.out_addr = static_cast<std::uint32_t>(sram(t_.output_offset[buffers.output]) +
                                                  (std::uint64_t{my0} * l_.out_w * kb + ks) * e);
        job.out_h = my_rows;
        job.out_pixel_pitch = kb * e;
        job.out_row_pitch = l_.out_w * kb * e;
        job.k_count = k_count;
        job.weights_addr = static_cast<std::uint32_t>(sram(t_.weights_offset[buffers.weights]) + ks * filter);
        job.bias_addr = static_cast<std::uint32_t>(sram(t_.bias_offset[buffers.weights]) + ks * 4ull);
        job.requant_addr = static_cast<std::uint32_t>(sram(t_.requant_offset[buffers.weights]) + ks * 8ull);
        jobs.push_back(job);
      }
    }
    issued.jobs = static_cast<std::uint32_t>(jobs.size());
    const std::uint64_t status = job_status_bytes(npu_);
    std::vector<std::uint8_t> bytes(status + jobs.size() * sizeof(pe_array::ClusterJob), 0);
    for (unsigned c = 0; c < jobs.size(); ++c) {
      jobs[c].status_addr = static_cast<std::uint32_t>(table + c * 4);
      std::memcpy(&bytes[status + c * sizeof(pe_array::ClusterJob)], &jobs[c], sizeof(pe_array::ClusterJob));
    }
    hal_.write(table, bytes.data(), bytes.size());
    const auto table_jobs = static_cast<std::uint32_t>(table + status);
    hal_.write_multicast(cluster_regs(issued.jobs, pe_array::reg::kJobAddr), &table_jobs, sizeof table_jobs);
    const std::uint32_t start = pe_array::kCtrlStartTable;
    hal_.write_multicast(cluster_regs(issued.jobs, pe_array::reg::kCtrl), &start, sizeof start);
    return issued;
  }

  // Until every job of the tile has written its completion word. A cluster
  // whose IRQ line is high without one failed before it could write it (its
  // job could not be fetched). The DONE bits are cleared with one multicast
  // once all are in; a cluster that finished a queued job meanwhile has its
  // completion word to tell.
  void wait_jobs(const Issued& issued) {
    std::vector<std::uint32_t> status(issued.jobs);
    std::uint64_t raised = 0;
    for (;;) {
      hal_.read(job_table(issued.table), status.data(), status.size() * 4);
      std::uint64_t pending = 0;
      for (unsigned c = 0; c < issued.jobs; ++c) {
        const std::uint64_t line = std::uint64_t{1} << (npu_.cluster_irq_base + c);
        if ((status[c] & pe_array::kJobStatusDone) == 0) {
          if ((raised & line) != 0 && (hal_.read32(cluster_reg(c, pe_array::reg::kIrq)) & pe_array::kIrqError))
            throw FirmwareError{npu::NpuError::kClusterFault, c};
          pending |= line;
        } else if ((status[c] >> 8 & 0xFF) != 0) {
          throw FirmwareError{npu::NpuError::kClusterFault, c};
        }
      }
      if (pending == 0) break;
      raised = hal_.wait_events(pending);
    }
    const std::uint32_t done = pe_array::kIrqDone;
    hal_.write_multicast(cluster_regs(issued.jobs, pe_array::reg::kIrq), &done, sizeof done);
  }

  Hal& hal_;
  const NpuLayout& npu_;
  const LayerCommand& l_;
  const std::uint32_t index_;
  const Opcode op_;
  ResidentWeights& resident_;
  std::vector<BatchImage> images_;                   // image 0: the command's own addresses
  std::vector<std::vector<InputSegment>> segments_;  // per image
  LayerTiling t_;
  std::uint32_t image_tiles_ = 1;  // row tiles per image
  pe_array::Dataflow dataflow_ = pe_array::Dataflow::kWeightStationary;
  unsigned next_table_ = 0;
};

void run_command_buffer(Hal& hal, const RingEntry& entry) {
  // Weights stay resident only within one command buffer: between buffers the
  // host may have rewritten DRAM at the same addresses.
  ResidentWeights resident;
  for (std::uint32_t i = 0; i < entry.layer_count; ++i) {
    LayerCommand layer;
    try {
      hal.read(entry.command_buffer + std::uint64_t{i} * sizeof layer, &layer, sizeof layer);
    } catch (const BusError& e) {
      throw FirmwareError{npu::NpuError::kRingAccess, static_cast<std::uint32_t>(e.address())};
    }
    hal.mark_layer(static_cast<std::int32_t>(layer.layer_id));
    LayerRunner(hal, layer, i, resident).run();
  }
}

}  // namespace

void firmware_main(Hal& hal) {
  for (;;) {
    hal.mark_layer(-1);
    hal.wait_for_work();
    const Hal::Ring ring = hal.ring();
    RingEntry entry{};
    try {
      if (ring.size == 0 || ring.head >= ring.size) throw FirmwareError{npu::NpuError::kRingAccess, ring.head};
      try {
        hal.read(ring.base + std::uint64_t{ring.head} * sizeof entry, &entry, sizeof entry);
      } catch (const BusError& e) {
        throw FirmwareError{npu::NpuError::kRingAccess, static_cast<std::uint32_t>(e.address())};
      }
      run_command_buffer(hal, entry);
      hal.complete_entry((ring.head + 1) % ring.size);
    } catch (const FirmwareError& e) {
      hal.report_error(static_cast<std::uint32_t>(e.code), e.info);
      hal.complete_entry(ring.size == 0 ? 0 : (ring.head + 1) % ring.size);
    } catch (const BusError& e) {
      hal.report_error(static_cast<std::uint32_t>(npu::NpuError::kDmaFault), static_cast<std::uint32_t>(e.address()));
      hal.complete_entry(ring.size == 0 ? 0 : (ring.head + 1) % ring.size);
    }
  }
}

}  // namespace npuvp::firmware
