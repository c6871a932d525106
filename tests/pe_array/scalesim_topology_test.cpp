// SCALE-Sim topology CSV parsing: the shipped files, the format's tolerances
// (trailing commas, blank lines, spaces, CRLF) and errors that name the file,
// line and column.
#include <sstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "sw/runtime/frontend/scalesim_topology.h"

namespace npuvp::runtime {
namespace {

const char* const kHeader =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";

std::vector<ScaleSimLayer> parse(const std::string& text) {
  std::istringstream in(text);
  return parse_scalesim_topology(in, "net.csv");
}

// Expects parse() to throw std::invalid_argument whose message contains `what`.
void expect_error(const std::string& text, const std::string& what) {
  try {
    parse(text);
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << "message: " << e.what();
  }
}

void expect_layer(const ScaleSimLayer& l, const std::string& name, int h, int w, int fh, int fw, int c, int n, int s) {
  EXPECT_EQ(l.name, name);
  EXPECT_EQ(l.ifmap_h, h);
  EXPECT_EQ(l.ifmap_w, w);
  EXPECT_EQ(l.filter_h, fh);
  EXPECT_EQ(l.filter_w, fw);
  EXPECT_EQ(l.channels, c);
  EXPECT_EQ(l.num_filter, n);
  EXPECT_EQ(l.stride, s);
}

TEST(ScaleSimTopology, LoadsShippedFiles) {
  const auto alexnet = load_scalesim_topology("configs/networks/scalesim/alexnet.csv");
  ASSERT_EQ(alexnet.size(), 5u);
  expect_layer(alexnet[0], "Conv1", 224, 224, 11, 11, 3, 96, 4);  // padded columns: "Conv1     ,224   ,..."
  expect_layer(alexnet[4], "Conv5", 13, 13, 3, 3, 384, 256, 1);
  const auto mobilenet = load_scalesim_topology("configs/networks/scalesim/mobilenet.csv");
  ASSERT_EQ(mobilenet.size(), 27u);
  expect_layer(mobilenet[1], "Conv2", 112, 112, 3, 3, 32, 1, 1);
  const auto resnet = load_scalesim_topology("configs/networks/scalesim/resnet50.csv");  // blank line after the header
  ASSERT_EQ(resnet.size(), 54u);
  expect_layer(resnet[0], "Conv1", 224, 224, 7, 7, 3, 64, 2);
  expect_layer(resnet[53], "FC6", 1, 1, 1, 1, 2048, 1000, 1);
}

TEST(ScaleSimTopology, FormatTolerances) {
  const auto layers = parse(std::string(kHeader) +
                            "\n"
                            "  a , 8, 9, 3, 2, 4, 5, 1,\r\n"  // CRLF, spaces
                            "b,8,8,3,3,4,5,2\n"               // no trailing comma
                            "\n   \n"
                            "c, 8, 8, 1, 1, 4, 5, 2, 2,\n"  // stride along the width, equal
                            "d, 8, 8, 1, 1, 4, 5, 1");      // no final newline
  ASSERT_EQ(layers.size(), 4u);
  expect_layer(layers[0], "a", 8, 9, 3, 2, 4, 5, 1);
  expect_layer(layers[1], "b", 8, 8, 3, 3, 4, 5, 2);
  expect_layer(layers[2], "c", 8, 8, 1, 1, 4, 5, 2);
  EXPECT_EQ(layers[3].name, "d");
}

TEST(ScaleSimTopology, ErrorsNameFileLineAndColumn) {
  const std::string h = kHeader;
  expect_error("", "net.csv: empty file");
  // A header alone once reached the platform as an empty network and crashed it.
  expect_error(h, "net.csv: no layers, expected at least one row after the header");
  expect_error(h + "\n\n", "net.csv: no layers");
  expect_error("Conv1, 224, 224, 3, 3, 3, 32, 2,\n", "net.csv:1: expected the header row");
  expect_error(h + "a, 8, 8, 3, 3, x, 5, 1,\n", "net.csv:2: column 6 (Channels): expected a positive integer, got 'x'");
  expect_error(h + "\na, 8, 8, 3, 3, 4, 5, 1,\nb, 8, 8, 3, 3, 4, 0, 1,\n",
               "net.csv:4: column 7 (Num Filter): expected a positive integer, got '0'");
  expect_error(h + "a, 8, -8, 3, 3, 4, 5, 1,\n", "net.csv:2: column 3 (IFMAP Width)");
  expect_error(h + "a, 8, 8.5, 3, 3, 4, 5, 1,\n", "net.csv:2: column 3 (IFMAP Width)");
  expect_error(h + "a, 8, 8, 3, 3, 4, 5,\n", "net.csv:2: column 8 (Strides): missing");
  expect_error(h + "a, 8, 8, 3,\n", "net.csv:2: column 5 (Filter Width): missing");
  expect_error(h + ", 8, 8, 3, 3, 4, 5, 1,\n", "net.csv:2: column 1 (Layer name): empty layer name");
  expect_error(h + "a, 8, 8, 3, 3, 4, 5, 1, 2,\n", "net.csv:2: column 9: stride along the width must equal Strides");
  expect_error(h + "a, 8, 8, 3, 3, 4, 5, 1, 1, 7,\n", "net.csv:2: column 10: unexpected field '7'");
  expect_error(h + "a, 2, 8, 3, 3, 4, 5, 1,\n",
               "net.csv:2: column 4 (Filter Height): filter height 3 exceeds IFMAP height 2");
  expect_error(h + "a, 8, 2, 3, 3, 4, 5, 1,\n", "net.csv:2: column 5 (Filter Width)");
  expect_error(h + "a, 8, 8, 3, 3, 99999999999, 5, 1,\n", "net.csv:2: column 6 (Channels)");
  try {
    load_scalesim_topology("configs/networks/scalesim/no_such.csv");
    ADD_FAILURE() << "missing file accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("configs/networks/scalesim/no_such.csv: cannot open"), std::string::npos);
  }
}

TEST(ScaleSimTopology, OfmapKeepsPartialWindows) {
  // ceil((in - filter + stride) / stride), SCALE-Sim's topology_utils.py.
  EXPECT_EQ(scalesim_ofmap_dim(224, 11, 4), 55);  // (224 - 11) / 4 = 53.25: the partial 55th window is kept
  EXPECT_EQ(scalesim_ofmap_dim(224, 3, 2), 112);
  EXPECT_EQ(scalesim_ofmap_dim(13, 3, 1), 11);
  EXPECT_EQ(scalesim_ofmap_dim(7, 7, 3), 1);
  EXPECT_THROW(scalesim_ofmap_dim(2, 3, 1), std::invalid_argument);
  // Strides past INT_MAX / 2 (fuzz/corpus/scalesim_csv/regression-huge-stride.csv):
  // ceil((4 - 3) / 2e9) + 1 = 2 and ceil(0 / 2e9) + 1 = 1, with no int overflow.
  EXPECT_EQ(scalesim_ofmap_dim(4, 3, 2'000'000'000), 2);
  EXPECT_EQ(scalesim_ofmap_dim(4, 4, 2'147'483'647), 1);
  const pe_array::GemmShape g = scalesim_gemm({"c", 224, 224, 11, 11, 3, 96, 4});
  EXPECT_EQ(g.m, 3025u);
  EXPECT_EQ(g.n, 96u);
  EXPECT_EQ(g.k, 363u);
}

TEST(ScaleSimTopology, ExpandsDepthwiseRowsAsScaleSimDoes) {
  const auto out = scalesim_expand_depthwise({{"Conv1", 8, 8, 3, 3, 4, 5, 1}, {"DP2", 8, 8, 3, 3, 3, 1, 1}});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].name, "Conv1");
  EXPECT_EQ(out[0].channels, 4);
  EXPECT_EQ(out[1].name, "DP2Channel_0");
  EXPECT_EQ(out[3].name, "DP2Channel_2");
  EXPECT_EQ(out[3].channels, 1);
  EXPECT_EQ(out[3].num_filter, 1);
}

}  // namespace
}  // namespace npuvp::runtime
