#include "firmware/layer_runner.h"

#include <algorithm>
#include <limits>

namespace npuvp::firmware {

std::vector<dma::Descriptor> LayerRunner::weight_loads(std::uint32_t k0, std::uint32_t kb, unsigned buffer,
                                                       bool streamed, std::uint32_t chunk) const {
  const std::uint64_t filter = filter_bytes(l_);
  const std::uint64_t src = l_.weights_addr + k0 * filter;
  std::vector<dma::Descriptor> chain{linear(l_.bias_addr + k0 * 4ull, sram(t_.bias_offset[buffer]), kb * 4),
                                     linear(l_.requant_addr + k0 * 8ull, sram(t_.requant_offset[buffer]), kb * 8)};
  if (!streamed) {
    chain.push_back(linear(src, sram(t_.weights_offset[buffer]), static_cast<std::uint32_t>(kb * filter)));
    return chain;
  }
  if (t_.reduction_chunks > 1) {
    // Each slice's filters' chunk, a row a filter, into its cluster's slot:
    // a plane a slice, the windows a fill stride apart.
    const std::uint32_t c0 = chunk * chunk_channels(l_, t_);
    const auto run = static_cast<std::uint32_t>(filter_run_bytes(l_, t_, chunk));
    const std::uint32_t slices = kb / t_.k_slice, rest = kb % t_.k_slice;
    const auto add = [&](std::uint32_t first, std::uint32_t filters, std::uint32_t planes) {
      chain.push_back(dma::Descriptor{src + first * filter + input_bytes(l_, c0),
                                      streamed_weights_addr(first / t_.k_slice, buffer), run, filters, planes, 0,
                                      static_cast<std::int32_t>(filter), static_cast<std::int32_t>(run),
                                      static_cast<std::int32_t>(t_.k_slice * filter),
                                      static_cast<std::int32_t>(address_map::kClusterFillStride), 0, 0});
    };
    if (slices > 0) add(0, t_.k_slice, slices);
    if (rest > 0) add(slices * t_.k_slice, rest, 1);
    return chain;
  }
  // Slice j's filters, consecutive in DRAM, into cluster j's slot: a row per
  // cluster, the windows a fill stride apart; a shorter last slice alone.
  const std::uint32_t slices = kb / t_.k_slice, rest = kb % t_.k_slice;
  const auto row = static_cast<std::uint32_t>(t_.k_slice * filter);
  if (slices > 0)
    chain.push_back(dma::Descriptor{src, streamed_weights_addr(0, buffer), row, slices, 1, 0,
                                    static_cast<std::int32_t>(row),
                                    static_cast<std::int32_t>(address_map::kClusterFillStride), 0, 0, 0, 0});
  if (rest > 0)
    chain.push_back(linear(src + std::uint64_t{slices} * row, streamed_weights_addr(slices, buffer),
                           static_cast<std::uint32_t>(rest * filter)));
  return chain;
}

std::vector<dma::Descriptor> LayerRunner::input_loads(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb,
                                                      unsigned buffer) const {
  const auto [lo, hi] = input_row_range(l_, first_row(tile), tile_rows(tile));
  const auto [x0, x1] = grid_.input_cols(l_, tile);
  const BatchImage& image = images_[image_of(tile)];
  const std::uint32_t pixel = input_bytes(l_, l_.in_c);
  const std::uint32_t dram_pitch = l_.input_row_pitch != 0 ? l_.input_row_pitch : l_.in_w * pixel;
  const std::uint32_t channels = block_input_channels(l_, kb);
  const std::uint32_t first_channel = block_input_channels(l_, k0);
  if (l_.input_segment_count != 0) {
    auto chain = gathered_loads(segments_[image_of(tile)], lo, hi, channels == l_.in_c ? 0 : first_channel, channels,
                                input_at(tile, buffer));
    if (fuses_add(l_)) chain.push_back(residual_load(tile, k0, kb, buffer));
    return chain;
  }
  // The tile's columns of its rows, `channels` of each pixel (a slice of
  // every pixel when the block reads only its own channels).
  const std::uint32_t run = input_bytes(l_, channels), cols = x1 - x0;
  const dma::Descriptor d = PixelBlock{image.input_addr + std::uint64_t{lo} * dram_pitch + std::uint64_t{x0} * pixel +
                                           (channels == l_.in_c ? 0 : input_bytes(l_, first_channel)),
                                       input_at(tile, buffer),
                                       run,
                                       cols,
                                       hi - lo,
                                       pixel,
                                       run,
                                       dram_pitch,
                                       cols * run}
                                .descriptor();
  std::vector<dma::Descriptor> chain{d};
  if (fuses_add(l_)) chain.push_back(residual_load(tile, k0, kb, buffer));
  if (op_ == Opcode::kAdd) {
    chain.push_back(d);
    chain.back().src = d.src - image.input_addr + image.input2_addr;
    chain.back().dst = input2_at(tile, buffer);
  }
  return chain;
}

std::vector<dma::Descriptor> LayerRunner::gathered_loads(const std::vector<InputSegment>& segments, std::uint32_t lo,
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

dma::Descriptor LayerRunner::residual_load(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb,
                                           unsigned buffer) const {
  // The residual pixels the tile's outputs add, the block's channels of each
  // (all of them when kb is every channel): rows of one pixel's channels.
  const std::uint32_t pixels = tile_rows(tile) * l_.out_w;
  const std::uint64_t src = images_[image_of(tile)].input2_addr +
                            (std::uint64_t{first_row(tile)} * l_.out_w + grid_.first_col(tile)) * l_.out_c + k0;
  if (!grid_.whole_width()) {
    const std::uint32_t cols = grid_.cols(tile);
    return PixelBlock{src, input2_at(tile, buffer), kb,       cols, tile_rows(tile), l_.out_c,
                      kb,  l_.out_w * l_.out_c,     cols * kb}
        .descriptor();
  }
  return dma::Descriptor{src,
                         input2_at(tile, buffer),
                         kb == l_.out_c ? pixels * kb : kb,
                         kb == l_.out_c ? 1 : pixels,
                         1,
                         0,
                         static_cast<std::int32_t>(l_.out_c),
                         static_cast<std::int32_t>(kb),
                         0,
                         0,
                         0,
                         0};
}

dma::Descriptor LayerRunner::output_store(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb,
                                          unsigned buffer) const {
  const std::uint32_t pixels = tile_rows(tile) * l_.out_w;
  const std::uint64_t first_pixel = std::uint64_t{first_row(tile)} * l_.out_w + grid_.first_col(tile);
  const std::uint32_t block = output_bytes(l_, kb);
  const std::uint32_t pitch = l_.output_pixel_pitch != 0 ? l_.output_pixel_pitch : output_bytes(l_, l_.out_c);
  const std::uint64_t dst = images_[image_of(tile)].output_addr + first_pixel * pitch + output_bytes(l_, k0);
  if (!grid_.whole_width()) {
    const std::uint32_t cols = grid_.cols(tile);
    return PixelBlock{
        sram(t_.output_offset[buffer]), dst, block, cols, tile_rows(tile), block, pitch, cols * block, l_.out_w * pitch}
        .descriptor();
  }
  dma::Descriptor d{sram(t_.output_offset[buffer]),   dst, block, pixels, 1, 0, static_cast<std::int32_t>(block),
                    static_cast<std::int32_t>(pitch), 0,   0,     0,      0};
  if (block == pitch) {
    // All channels of each pixel: the tile is one contiguous block in DRAM.
    d.row_bytes = pixels * block;
    d.rows = 1;
  }
  return d;
}

}  // namespace npuvp::firmware
