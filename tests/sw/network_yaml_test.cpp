// Tests of the YAML network format: parsing, error messages with file/line/key,
// the writer's round trip, and the zoo files in configs/networks/ (which must
// describe exactly the networks make_network builds).
#include "sw/runtime/frontend/network_yaml.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sw/runtime/frontend/zoo.h"
#include "tests/sw/runtime_test_util.h"

namespace npuvp::runtime {
namespace {

using testing::expect_invalid;

void expect_same_network(const Network& a, const Network& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.name(), b.name());
  EXPECT_EQ(a.default_input_shape(), b.default_input_shape());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const Layer& x = a.layers()[i];
    const Layer& y = b.layers()[i];
    SCOPED_TRACE(x.name);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.out_shape, y.out_shape);
    EXPECT_EQ(x.params, y.params);
    EXPECT_EQ(x.macs, y.macs);
    if (x.type == LayerType::kConv2d) {
      EXPECT_TRUE(x.conv.pad == y.conv.pad);
      EXPECT_EQ(x.conv.groups, y.conv.groups);
      EXPECT_EQ(x.conv.bias, y.conv.bias);
    }
    if (x.type == LayerType::kMaxPool || x.type == LayerType::kAvgPool) {
      EXPECT_EQ(x.pool.ceil_mode, y.pool.ceil_mode);
      EXPECT_EQ(x.pool.count_include_pad, y.pool.count_include_pad);
    }
    if (x.type == LayerType::kShift) {
      ASSERT_EQ(x.shifts.size(), y.shifts.size());
      for (std::size_t k = 0; k < x.shifts.size(); ++k) {
        EXPECT_EQ(x.shifts[k].dy, y.shifts[k].dy);
        EXPECT_EQ(x.shifts[k].dx, y.shifts[k].dx);
      }
    }
  }
}

constexpr const char* kTiny = R"(name: tiny
input: [3, 16, 16]
layers:
  - {name: conv1, type: conv2d, out_channels: 8, kernel: 3, padding: 1}
  - {name: bn1, type: batch_norm}
  - {name: relu1, type: relu}
  - {name: dw, type: conv2d, out_channels: 8, kernel: [3, 1], padding: [1, 0], groups: 8, bias: true}
  - {name: sum, type: add, inputs: [dw, relu1]}
  - {name: shift, type: shift, kernel_size: 3}
  - {name: pool, type: max_pool, kernel: 3, stride: 2, ceil_mode: true}
  - {name: gap, type: global_avg_pool}
  - {name: fc, type: fully_connected, out_features: 10}
)";

TEST(NetworkYaml, ParsesLayersDefaultsAndInputs) {
  const Network n = parse_network_yaml(kTiny, "tiny.yaml");
  EXPECT_EQ(n.name(), "tiny");
  ASSERT_EQ(n.size(), 10u);
  EXPECT_EQ(n.layer("conv1").params, 8 * 27);
  EXPECT_FALSE(n.layer("conv1").conv.bias);
  EXPECT_EQ(n.layer("dw").conv.kernel_h, 3);
  EXPECT_EQ(n.layer("dw").conv.kernel_w, 1);
  EXPECT_EQ(n.layer("dw").params, 8 * 3 + 8);
  EXPECT_EQ(n.layer("sum").inputs, (std::vector<int>{n.index_of("dw"), n.index_of("relu1")}));
  EXPECT_EQ(n.layer("shift").shifts.size(), 8u);
  EXPECT_EQ(n.layer("pool").out_shape, (TensorShape{8, 8, 8}));  // ceil(13 / 2) + 1
  EXPECT_EQ(n.layer("fc").out_shape, (TensorShape{10, 1, 1}));
  EXPECT_TRUE(n.layer("fc").fc.bias);
}

// A padding of 555,555,551 made an output of 32 x 1.1e9 x 1.1e9, whose MAC
// count overflowed 64 bits (fuzzer, UBSan;
// fuzz/corpus/network_yaml/regression-huge-padding.yaml). Kernels, dilations
// and paddings near 2^31 overflowed an int as well.
TEST(NetworkYaml, ALayerTooLargeToCountIsRefused) {
  const std::string head = "input: [3, 224, 224]\nlayers:\n";
  expect_invalid(
      [&] {
        parse_network_yaml(head + "  - {name: c, type: conv2d, out_channels: 32, kernel: 3, padding: 555555551}\n",
                           "f.yaml");
      },
      "f.yaml:3:5: network 'f', layer 'c' (conv2d): output 32x1111111324x1111111324 is beyond what a layer may be: "
      "at most 2^40 elements and 2^62 parameters or MACs");
  expect_invalid(
      [&] {
        parse_network_yaml(
            head +
                "  - {name: c, type: conv2d, out_channels: 2, kernel: 3, padding: 2000000000, dilation: 1000000000}\n",
            "f.yaml");
      },
      "layer 'c' (conv2d): output 2x");
  // Twice the padding and the padded input once overflowed an int: the
  // window fits, the stride (the kernel) leaves one output pixel.
  const Network pool =
      parse_network_yaml(head + "  - {name: p, type: max_pool, kernel: 2000000000, padding: 1000000000}\n", "f.yaml");
  EXPECT_EQ(pool.layer("p").out_shape, (TensorShape{3, 1, 1}));
}

TEST(NetworkYaml, ErrorsNameFileLineAndKey) {
  const std::string head = "input: [3, 16, 16]\nlayers:\n";
  expect_invalid(
      [&] { parse_network_yaml(head + "  - {name: c, type: conv2d, out_channels: 4, kernal: 3}\n", "f.yaml"); },
      "f.yaml:3:");
  expect_invalid(
      [&] {
        parse_network_yaml(head + "  - {name: c, type: conv2d, out_channels: 4, kernel: 3, kernal: 3}\n", "f.yaml");
      },
      "layer 'c': unknown key 'kernal'");
  expect_invalid([&] { parse_network_yaml(head + "  - {name: c, type: conv2d, kernel: 3}\n", "f.yaml"); },
                 "missing required key 'out_channels'");
  expect_invalid([&] { parse_network_yaml(head + "  - {name: c, type: conv3d}\n", "f.yaml"); },
                 "f.yaml:3:21: layer 'c': key 'type': unknown layer type 'conv3d'");
  expect_invalid(
      [&] {
        parse_network_yaml(head + "  - {name: c, type: relu}\n  - {name: d, type: add, inputs: [c, e]}\n", "f.yaml");
      },
      "f.yaml:4:");
  expect_invalid(
      [&] {
        parse_network_yaml(head + "  - {name: c, type: relu}\n  - {name: d, type: add, inputs: [c, e]}\n", "f.yaml");
      },
      "no earlier layer named 'e'");
  expect_invalid(
      [&] { parse_network_yaml(head + "  - {name: c, type: conv2d, out_channels: x, kernel: 3}\n", "f.yaml"); },
      "key 'out_channels': expected an integer");
  expect_invalid(
      [&] {
        parse_network_yaml(head + "  - {name: c, type: conv2d, out_channels: 4, kernel: 3, groups: 2}\n", "f.yaml");
      },
      "f.yaml:3:5: network 'f', layer 'c' (conv2d): input channels 3 not divisible by groups 2");
  expect_invalid([&] { parse_network_yaml(head + "  - {name: c, type: shift}\n", "f.yaml"); },
                 "exactly one of 'pattern', 'kernel_size' or 'shifts'");
  expect_invalid([&] { parse_network_yaml("input: [3, 16]\nlayers: []\n", "f.yaml"); },
                 "f.yaml:1:8: key 'input': expected [C, H, W]");
  expect_invalid([&] { parse_network_yaml("input: [3, 16, 16]\nlayer: []\n", "f.yaml"); }, "unknown key 'layer'");
  expect_invalid([&] { parse_network_yaml("input: [3, 16, 16]\nlayers: [\n", "f.yaml"); }, "malformed YAML");
  expect_invalid([] { load_network_yaml("/nonexistent/net.yaml"); }, "/nonexistent/net.yaml: cannot read");
  expect_invalid(
      [&] {
        parse_network_yaml(head + "  - {name: c, type: conv2d, out_channels: 4, kernel: 3, kernel: 5}\n", "f.yaml");
      },
      "f.yaml:3:57: layer 'c': key 'kernel' appears twice; expected each key once");
  // Under a square root beside the variance: -1 made the folded weights NaN.
  expect_invalid(
      [&] {
        parse_network_yaml(head +
                               "  - {name: c, type: conv2d, out_channels: 4, kernel: 3}\n"
                               "  - {name: s, type: batch_norm, eps: -1}\n",
                           "f.yaml");
      },
      "f.yaml:4:5: layer 's': key 'eps': expected a positive number");
}

// Found by fuzz_network_yaml (fuzz/corpus/network_yaml/regression-list-as-key.yaml):
// a list or map where a name belongs escaped as yaml-cpp's bad conversion.
TEST(NetworkYaml, AListWhereANameBelongsIsRefusedWithItsLine) {
  const std::string head = "input: [3, 16, 16]\nlayers:\n";
  expect_invalid([&] { parse_network_yaml("? [a]\n: 1\n" + head + "  - {name: c, type: relu}\n", "f.yaml"); },
                 "f.yaml:1:3: a key must be a name");
  expect_invalid([&] { parse_network_yaml("name: [a]\n" + head + "  - {name: c, type: relu}\n", "f.yaml"); },
                 "f.yaml:1:7: key 'name': expected a name");
  expect_invalid([&] { parse_network_yaml(head + "  - {name: c, type: relu, ? [k]: 1}\n", "f.yaml"); },
                 "layer 'c': a key must be a name");
  expect_invalid(
      [&] {
        parse_network_yaml(head + "  - {name: c, type: relu}\n  - {name: d, type: relu, inputs: [[c]]}\n", "f.yaml");
      },
      "layer 'd': key 'inputs': expected a list of layer names");
}

TEST(NetworkYaml, PerLayerDataflowParsesRoundTripsAndIsChecked) {
  const char* text = R"(name: df
input: [8, 8, 8]
layers:
  - {name: a, type: conv2d, out_channels: 8, kernel: 1, dataflow: os}
  - {name: b, type: conv2d, out_channels: 8, kernel: 1}
)";
  const Network n = parse_network_yaml(text, "df.yaml");
  EXPECT_EQ(n.layer("a").conv.dataflow, "os");
  EXPECT_EQ(n.layer("b").conv.dataflow, "");
  EXPECT_EQ(parse_network_yaml(network_to_yaml(n), "again.yaml").layer("a").conv.dataflow, "os");
  expect_invalid(
      [] {
        parse_network_yaml(
            "name: x\ninput: [8, 8, 8]\nlayers:\n  - {name: a, type: conv2d, "
            "out_channels: 8, kernel: 1, dataflow: rs}\n",
            "bad.yaml");
      },
      "key 'dataflow': expected ws or os or os2d, got 'rs'");
}

TEST(NetworkYaml, WriterRoundTripsEveryZooNetwork) {
  for (const auto& name : zoo_names()) {
    SCOPED_TRACE(name);
    const Network n = make_network(name);
    expect_same_network(parse_network_yaml(network_to_yaml(n), name + ".yaml"), n);
  }
}

TEST(NetworkYaml, ExplicitShiftsAndOddAttributesRoundTrip) {
  Network n("odd", {6, 9, 9});
  int x = n.shift("s", 0, {{1, 2}, {0, 0}, {-1, 0}, {0, 1}, {2, -2}, {0, 0}});
  Conv2dAttrs a;
  a.out_channels = 6;
  a.kernel_h = 3;
  a.kernel_w = 2;
  a.stride_h = 2;
  a.pad = {1, 0, 2, 1};
  a.dilation_w = 2;
  a.groups = 3;
  x = n.conv("c", x, a);
  PoolAttrs p;
  p.kernel_h = 2;
  p.kernel_w = 3;
  p.stride_h = 1;
  p.stride_w = 2;
  p.pad = {1, 1, 1, 1};
  p.count_include_pad = false;
  x = n.avg_pool("avg", x, p);
  x = n.bn("bn", x, 1e-3f);
  x = n.channel_shuffle("sh", x, 3);
  x = n.pad_channels("pad", x, 1, 2);
  x = n.adaptive_avg_pool("ad", x, 2, 3);
  n.fc("fc", x, 4, false);
  const Network back = parse_network_yaml(network_to_yaml(n));
  expect_same_network(back, n);
  EXPECT_FLOAT_EQ(back.layer("bn").bn_eps, 1e-3f);
  EXPECT_EQ(back.layer("c").conv.dilation_w, 2);
}

// configs/networks/<name>.yaml is the zoo as data. The files are generated from
// make_network (run this test with NPUVP_WRITE_ZOO_YAML=1 in the source root to
// rewrite them) and must stay identical to it.
TEST(NetworkYaml, ZooFilesMatchTheZoo) {
  const std::filesystem::path dir = "configs/networks";
  const bool write = std::getenv("NPUVP_WRITE_ZOO_YAML") != nullptr;
  for (const auto& e : zoo_entries()) {
    SCOPED_TRACE(e.name);
    const Network n = make_network(e.name);
    const auto path = dir / (e.name + ".yaml");
    if (write) {
      std::filesystem::create_directories(dir);
      std::ofstream os(path);
      os << "# " << e.description
         << "\n# Generated from sw/runtime/frontend/zoo.cpp (see tests/sw/network_yaml_test.cpp); " << n.total_params()
         << " parameters, " << n.total_macs() << " MACs at the default input.\n"
         << network_to_yaml(n);
    }
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    const Network loaded = load_network_yaml(path.string());
    expect_same_network(loaded, n);
    EXPECT_EQ(loaded.total_params(), n.total_params());
    EXPECT_EQ(loaded.total_macs(), n.total_macs());
  }
}

}  // namespace
}  // namespace npuvp::runtime
