#pragma once
// SCALE-Sim topology files (the layer tables of scalesim-project/scale-sim-v2,
// e.g. configs/networks/scalesim/*.csv) and SCALE-Sim v2's compute cycle count
// of a layer, so SCALE-Sim studies carry over to npuvp.
//
// File format, as SCALE-Sim's scalesim/topology_utils.py reads it: a header
// row, then one row per layer
//   Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
// with an optional trailing comma, optional spaces around fields and blank
// lines anywhere. An optional 9th field (stride along the width) is accepted
// when it equals Strides. Each row is a standalone unpadded convolution that
// keeps the partial windows at the bottom/right edge.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "contract/systolic_timing.h"

namespace npuvp::runtime {

struct ScaleSimLayer {
  std::string name;
  int ifmap_h = 0, ifmap_w = 0, filter_h = 0, filter_w = 0, channels = 0, num_filter = 0, stride = 0;
};

// Reads a topology file. A missing file, a missing header row or a malformed
// row throws std::invalid_argument naming the file, the line and the column
// (e.g. "net.csv:4: column 6 (Channels): expected a positive integer, got 'x'").
std::vector<ScaleSimLayer> load_scalesim_topology(const std::string& csv_path);
// The same for text already open; `source` names it in error messages.
std::vector<ScaleSimLayer> parse_scalesim_topology(std::istream& in, const std::string& source);

// SCALE-Sim v2 splits every row whose name contains "DP" (its depthwise
// marker) into `channels` layers named "<name>Channel_<i>" with one channel
// each. The files in configs/networks/scalesim have no such rows (MobileNet's
// depthwise layers are written with Num Filter = 1); apply this to reproduce
// SCALE-Sim's layer list for files that do.
std::vector<ScaleSimLayer> scalesim_expand_depthwise(const std::vector<ScaleSimLayer>& layers);

// Output size along one axis: ceil((in - filter + stride) / stride).
int scalesim_ofmap_dim(int in, int filter, int stride);
// The layer as SCALE-Sim's operand matrices see it: m = ofmap_h × ofmap_w,
// n = num_filter, k = filter_h × filter_w × channels.
pe_array::GemmShape scalesim_gemm(const ScaleSimLayer& layer);

// SCALE-Sim v2's COMPUTE_REPORT "Total Cycles" of the whole layer (all folds)
// on one array with ideal memory (its "Stall Cycles" = 0):
// scalesim_reported_cycles(systolic_tile_timing(dataflow, array, scalesim_gemm(layer), false)).
std::uint64_t scalesim_compute_cycles(const ScaleSimLayer& layer, pe_array::Dataflow dataflow,
                                      pe_array::ArrayShape array);

}  // namespace npuvp::runtime
