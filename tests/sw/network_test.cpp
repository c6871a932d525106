// Tests of the network IR: shape inference (PyTorch conventions), parameter and
// MAC bookkeeping, resolution changes, error messages, BatchNorm folding and the
// deterministic float weights.
#include "sw/runtime/ir/network.h"

#include <gtest/gtest.h>

#include <cmath>

#include "sw/runtime/frontend/zoo.h"
#include "tests/sw/runtime_test_util.h"

namespace npuvp::runtime {
namespace {

using testing::expect_invalid;

TensorShape shape_of(const Network& n, const std::string& layer) { return n.layer(layer).out_shape; }

// A small residual network whose counts are easy to derive by hand.
Network tiny_resnet() {
  Network n("tiny", {3, 8, 8});
  int x = n.conv("conv1", 0, 4, 3, 1, 1);  // 4*3*9 = 108 params, 108*64 MACs
  x = n.bn("bn1", x);                      // 8 params
  x = n.relu("relu1", x);
  int y = n.conv("conv2", x, 4, 3, 1, 1, 1, true);  // 4*4*9 + 4 = 148 params, 144*64 MACs
  y = n.bn("bn2", y);                               // 8 params
  x = n.add("add", y, x);
  x = n.relu("relu2", x);
  x = n.global_avg_pool("gap", x);
  n.fc("fc", x, 5);  // 4*5 + 5 = 25 params, 20 MACs
  return n;
}

TEST(Network, BuilderInfersShapesParamsAndMacs) {
  const Network n = tiny_resnet();
  EXPECT_EQ(n.size(), 10u);
  EXPECT_EQ(shape_of(n, "conv1"), (TensorShape{4, 8, 8}));
  EXPECT_EQ(shape_of(n, "gap"), (TensorShape{4, 1, 1}));
  EXPECT_EQ(shape_of(n, "fc"), (TensorShape{5, 1, 1}));
  EXPECT_EQ(n.layer("conv1").params, 108);
  EXPECT_EQ(n.layer("conv1").macs, 108 * 64);
  EXPECT_EQ(n.layer("conv2").params, 148);
  EXPECT_EQ(n.layer("bn1").params, 8);
  EXPECT_EQ(n.layer("bn1").macs, 0);
  EXPECT_EQ(n.total_params(), 108 + 8 + 148 + 8 + 25);
  EXPECT_EQ(n.total_macs(), 108 * 64 + 144 * 64 + 20);
  EXPECT_EQ(n.layer("add").inputs, (std::vector<int>{5, 3}));
  EXPECT_EQ(n.consumers(n.index_of("relu1")), (std::vector<int>{4, 6}));
  EXPECT_EQ(n.output(), n.index_of("fc"));
  EXPECT_TRUE(n.fully_convolutional());
}

TEST(Network, ConvShapesFollowPyTorch) {
  Network n("conv", {8, 17, 23});
  Conv2dAttrs a;
  a.out_channels = 6;
  a.kernel_h = 3;
  a.kernel_w = 5;
  a.stride_h = 2;
  a.stride_w = 3;
  a.pad = {1, 2, 0, 3};
  a.dilation_h = 2;
  a.dilation_w = 1;
  a.groups = 2;
  const int c = n.conv("c", 0, a);
  // h: (17 + 1 + 0 - 2*2 - 1) / 2 + 1 = 7; w: (23 + 2 + 3 - 4 - 1) / 3 + 1 = 8.
  EXPECT_EQ(n.layer(c).out_shape, (TensorShape{6, 7, 8}));
  EXPECT_EQ(n.layer(c).params, 6 * 4 * 15);
  EXPECT_EQ(n.layer(c).macs, 6 * 7 * 8 * 4 * 15);
  // The reference kernel agrees on the output shape.
  EXPECT_EQ(conv_output_shape({8, 17, 23}, to_conv_params(n.layer(c))), n.layer(c).out_shape);
  // Depthwise: groups == channels, one 3x3 filter per channel.
  const int d = n.conv("dw", c, 6, 3, 1, 1, 6);
  EXPECT_EQ(n.layer(d).params, 6 * 9);
  EXPECT_EQ(n.layer(d).macs, 6 * 9 * 7 * 8);
}

TEST(Network, PoolCeilModeFollowsPyTorch) {
  Network n("pool", {2, 111, 5});
  // SqueezeNet: 111 -> 55 (floor and ceil agree); 5 with k2 s2 p1 ceil -> 3
  // (the 4th window would start in the right padding, which PyTorch drops).
  PoolAttrs a;
  a.kernel_h = 3;
  a.stride_h = 2;
  a.kernel_w = 2;
  a.stride_w = 2;
  a.pad = {0, 1, 0, 1};
  a.ceil_mode = true;
  const int p = n.max_pool("p", 0, a);
  EXPECT_EQ(n.layer(p).out_shape, (TensorShape{2, 55, 3}));
  Network m("pool2", {1, 6, 6});
  EXPECT_EQ(m.layer(m.max_pool("floor", 0, 3, 2)).out_shape, (TensorShape{1, 2, 2}));
  EXPECT_EQ(m.layer(m.max_pool("ceil", 0, 3, 2, 0, true)).out_shape, (TensorShape{1, 3, 3}));
  // to_pool_params turns ceil mode into padding the reference kernels understand.
  const PoolParams pp = to_pool_params(m.layer("ceil"), {1, 6, 6});
  EXPECT_EQ(pool_output_shape({1, 6, 6}, pp), (TensorShape{1, 3, 3}));
  const PoolParams pq = to_pool_params(n.layer(p), {2, 111, 5});
  EXPECT_EQ(pool_output_shape({2, 111, 5}, pq), (TensorShape{2, 55, 3}));
}

TEST(Network, ChannelOpsShapes) {
  Network n("ops", {12, 4, 4});
  const int a = n.slice_channels("a", 0, 0, 5);
  const int b = n.slice_channels("b", 0, 5, 12);
  const int cat = n.concat("cat", {b, a});
  EXPECT_EQ(n.layer(cat).out_shape, (TensorShape{12, 4, 4}));
  EXPECT_EQ(n.layer(n.channel_shuffle("shuffle", cat, 3)).out_shape, (TensorShape{12, 4, 4}));
  EXPECT_EQ(n.layer(n.pad_channels("pad", 0, 2, 3)).out_shape, (TensorShape{17, 4, 4}));
  EXPECT_EQ(n.layer(n.shift("shift", 0, grouped_shifts(12, 3))).out_shape, (TensorShape{12, 4, 4}));
  EXPECT_EQ(n.layer(n.flatten("flat", 0)).out_shape, (TensorShape{192, 1, 1}));
  EXPECT_EQ(n.layer(n.adaptive_avg_pool("ad", 0, 2, 3)).out_shape, (TensorShape{12, 2, 3}));
  const auto five = five_direction_shifts(7);
  ASSERT_EQ(five.size(), 7u);
  EXPECT_EQ(five[0].dy, 1);
  EXPECT_EQ(five[1].dx, 1);
  EXPECT_EQ(five[2].dy, 0);
  EXPECT_EQ(five[3].dx, -1);
  EXPECT_EQ(five[4].dy, -1);
  EXPECT_EQ(five[5].dy, 1);
}

TEST(Network, ErrorsNameTheLayerAndWhatWasExpected) {
  Network n("bad", {8, 16, 16});
  const int a = n.conv("a", 0, 8, 3, 1, 1);
  const int b = n.conv("b", 0, 8, 3, 2, 1);
  expect_invalid([&] { n.add("sum", a, b); }, "layer 'sum' (add): input shapes differ: 'a' is 8x16x16, 'b' is 8x8x8");
  expect_invalid([&] { n.concat("cat", {a, b}); }, "layer 'cat' (concat)");
  expect_invalid([&] { n.concat("cat", {a, b}); }, "expected equal H and W");
  expect_invalid([&] { n.conv("g", 0, 8, 3, 1, 1, 3); },
                 "layer 'g' (conv2d): input channels 8 not divisible by groups 3");
  expect_invalid([&] { n.conv("g2", 0, 6, 3, 1, 1, 4); }, "out_channels 6 not divisible by groups 4");
  expect_invalid([&] { n.conv("big", 0, 8, 19, 1, 1); },
                 "layer 'big' (conv2d): kernel 19x19 (dilated 19x19) larger "
                 "than the padded input 18x18");
  expect_invalid([&] { n.max_pool("p", 0, 3, 2, 2); }, "must be at most half the kernel");
  expect_invalid([&] { n.channel_shuffle("s", 0, 3); }, "channels 8 not divisible by groups 3");
  expect_invalid([&] { n.slice_channels("sl", 0, 4, 9); }, "channel range [4, 9)");
  expect_invalid([&] { n.shift("sh", 0, grouped_shifts(4, 1)); }, "expected one per channel");
  expect_invalid([&] { n.relu("a", 0); }, "duplicate layer name 'a'");
  expect_invalid([&] { n.relu("r", 7); }, "input index 7 does not name an earlier layer");
  expect_invalid([&] { Network("zero", {3, 0, 4}); }, "must be positive");
  // A failed builder call leaves the network as it was.
  EXPECT_EQ(n.size(), 3u);
}

TEST(Network, InferShapesAtSeveralResolutions) {
  Network n = make_network("resnet18");
  n.infer_shapes({3, 32, 32});
  EXPECT_EQ(shape_of(n, "maxpool"), (TensorShape{64, 8, 8}));
  EXPECT_EQ(shape_of(n, "layer4.1.relu"), (TensorShape{512, 1, 1}));
  EXPECT_EQ(shape_of(n, "fc"), (TensorShape{1000, 1, 1}));
  n.infer_shapes({3, 384, 512});
  EXPECT_EQ(shape_of(n, "layer4.1.relu"), (TensorShape{512, 12, 16}));
  EXPECT_EQ(n.input_shape(), (TensorShape{3, 384, 512}));
  EXPECT_EQ(n.default_input_shape(), (TensorShape{3, 224, 224}));
  // At 448x448 every map is exactly twice as large as at 224: conv MACs x4, FC unchanged.
  n.infer_shapes({3, 448, 448});
  const std::int64_t fc = 512 * 1000;
  EXPECT_EQ(n.total_macs(), 4 * (1814073344LL - fc) + fc);
  n.infer_shapes({3, 224, 224});
  EXPECT_EQ(n.total_macs(), 1814073344LL);
  // Odd sizes: a 3x3/2 conv with padding 1 gives ceil(h / 2).
  n.infer_shapes({3, 225, 97});
  EXPECT_EQ(shape_of(n, "conv1"), (TensorShape{64, 113, 49}));
}

TEST(Network, UhdInputForFullyConvolutionalNetworks) {
  // squeezenet1_1 at 3840x2160: conv1 3x3/2 unpadded: (2160 - 3) / 2 + 1 = 1079,
  // (3840 - 3) / 2 + 1 = 1919; the ceil-mode 3x3/2 pool: ceil(1076 / 2) + 1 = 539,
  // ceil(1916 / 2) + 1 = 959.
  Network sq = make_network("squeezenet1_1");
  sq.infer_shapes({3, 2160, 3840});
  EXPECT_EQ(shape_of(sq, "conv1"), (TensorShape{64, 1079, 1919}));
  EXPECT_EQ(shape_of(sq, "maxpool1"), (TensorShape{64, 539, 959}));
  EXPECT_EQ(shape_of(sq, "classifier.3"), (TensorShape{1000, 1, 1}));
  EXPECT_EQ(sq.layer("conv1").macs, 64LL * 27 * 1079 * 1919);
  // mobilenet_v1: five stride-2 3x3 convs with padding 1, each ceil(h / 2):
  // 2160 -> 1080 -> 540 -> 270 -> 135 -> 68, 3840 -> ... -> 120.
  Network mb = make_network("mobilenet_v1");
  mb.infer_shapes({3, 2160, 3840});
  EXPECT_EQ(shape_of(mb, "conv1.conv"), (TensorShape{32, 1080, 1920}));
  EXPECT_EQ(shape_of(mb, "conv_pw_13.relu"), (TensorShape{1024, 68, 120}));
  EXPECT_EQ(shape_of(mb, "fc"), (TensorShape{1000, 1, 1}));
  EXPECT_EQ(mb.layer("conv1.conv").macs, 32LL * 27 * 1080 * 1920);
  EXPECT_GT(mb.total_macs(), 150LL * 568740352LL);
  // And down to CIFAR size.
  mb.infer_shapes({3, 32, 32});
  EXPECT_EQ(shape_of(mb, "conv_pw_13.relu"), (TensorShape{1024, 1, 1}));
  sq.infer_shapes({3, 32, 32});
  EXPECT_EQ(shape_of(sq, "classifier.3"), (TensorShape{1000, 1, 1}));
}

TEST(Network, TooSmallInputIsRejectedNamingTheLayer) {
  Network n = make_network("squeezenet1_1");
  // 16x16: conv1 -> 7, maxpool1 -> 3, maxpool3 -> 1, and the 3x3 maxpool5 has
  // no window left.
  expect_invalid(
      [&] {
        n.infer_shapes({3, 16, 16});
      },
      "layer 'maxpool5' (max_pool): kernel 3x3 larger than the padded "
      "input 1x1");
  expect_invalid([&] { n.infer_shapes({3, 16, 16}); }, "at network input 3x16x16");
  // Transactional: the network keeps its previous shapes.
  EXPECT_EQ(n.input_shape(), (TensorShape{3, 224, 224}));
  EXPECT_EQ(n.total_macs(), 349151936LL);
  // VGG-16 at 16x16: four 2x2 pools leave 1x1, the fifth has no window.
  Network v = make_network("vgg16");
  expect_invalid(
      [&] {
        v.infer_shapes({3, 16, 16});
      },
      "layer 'features.30' (max_pool): kernel 2x2 larger than the "
      "padded input 1x1");
  expect_invalid([&] { v.infer_shapes({1, 224, 224}); }, "input has 1 channels, expected 3");
}

TEST(Network, FullyConnectedLayersFixTheInputSize) {
  // A fixed 7x7 average pool before the FC. 448: 225, 113, then 2x2 pools to
  // 56, 28, 14; the pool leaves 2x2.
  Network d = make_network("diracdeltanet");
  EXPECT_FALSE(d.fully_convolutional());
  EXPECT_EQ(d.layer(d.resolution_fixing_layer()).name, "linear");
  expect_invalid(
      [&] {
        d.infer_shapes({3, 448, 448});
      },
      "layer 'linear' (fully_connected): expects 1024 input "
      "features, got 4096x1x1 = 4096");
  expect_invalid([&] { d.infer_shapes({3, 448, 448}); }, "accepts only the input size it was built for, 3x224x224");
  d.infer_shapes({3, 224, 224});
  // Networks with global/adaptive pooling in front of their FCs are fully convolutional.
  for (const auto& name : zoo_names()) {
    if (name == "diracdeltanet") continue;
    EXPECT_TRUE(make_network(name).fully_convolutional()) << name;
  }
  // An FC directly on a spatial map fixes the input.
  Network f("fixed", {3, 8, 8});
  f.fc("fc", f.conv("c", 0, 4, 3), 10);
  EXPECT_EQ(f.resolution_fixing_layer(), 2);
  expect_invalid([&] { f.infer_shapes({3, 9, 9}); }, "expects 144 input features, got 4x7x7 = 196");
}

TEST(Network, AdaptivePoolKeepsAlexNetAndVggResizable) {
  Network a = make_network("alexnet");
  a.infer_shapes({3, 320, 320});
  EXPECT_EQ(shape_of(a, "avgpool"), (TensorShape{256, 6, 6}));
  EXPECT_EQ(a.layer("classifier.1").macs, 9216LL * 4096);
  // Too small for AlexNet's last 3x3/2 max pool: 32 -> 7 -> 3 -> 1.
  expect_invalid([&] { a.infer_shapes({3, 32, 32}); }, "layer 'features.12' (max_pool)");
}

TEST(Network, FoldBatchNormKeepsMacsAndMovesParams) {
  for (const std::string name : {"resnet18", "resnet50", "mobilenet_v2", "shufflenet_v2_x1_0", "squeezenext",
                                 "diracdeltanet", "mobilenet_v1", "resnet20_cifar"}) {
    Network n = make_network(name);
    std::int64_t bn_params = 0, added_bias = 0;
    int bns = 0;
    for (const auto& l : n.layers()) {
      if (l.type != LayerType::kBatchNorm) continue;
      ++bns;
      bn_params += l.params;
      const Layer& src = n.layer(l.inputs[0]);
      if (src.type == LayerType::kConv2d && !src.conv.bias) added_bias += src.conv.out_channels;
    }
    const std::int64_t params = n.total_params();
    const std::int64_t macs = n.total_macs();
    const std::size_t layers = n.size();
    EXPECT_EQ(n.fold_batchnorm(), bns) << name;
    EXPECT_EQ(n.total_macs(), macs) << name;
    EXPECT_EQ(n.total_params(), params - bn_params + added_bias) << name;
    EXPECT_EQ(n.size(), layers - static_cast<std::size_t>(bns)) << name;
    for (const auto& l : n.layers()) {
      EXPECT_NE(l.type, LayerType::kBatchNorm) << name << " " << l.name;
      for (int i : l.inputs) EXPECT_LT(i, n.index_of(l.name)) << name << " " << l.name;
    }
    // Shapes still infer after the rewiring.
    n.infer_shapes(n.default_input_shape());
    EXPECT_EQ(n.total_macs(), macs) << name;
  }
  // resnet18: 20 BNs (conv1, 16 in the blocks, 3 downsample) over 4,800
  // channels (64 + 4 x 64 + 5 x 128 + 5 x 256 + 5 x 512); every conv gains a
  // bias: 11,689,512 - 2 x 4,800 + 4,800.
  Network r = make_network("resnet18");
  EXPECT_EQ(r.fold_batchnorm(), 20);
  EXPECT_EQ(r.total_params(), 11689512 - 2 * 4800 + 4800);
  EXPECT_EQ(r.layer("layer1.0.add").inputs, (std::vector<int>{r.index_of("layer1.0.conv2"), r.index_of("maxpool")}));
  EXPECT_TRUE(r.layer("conv1").conv.bias);
}

TEST(Network, FoldBatchNormLeavesUnfoldableOnes) {
  Network n("unfoldable", {4, 6, 6});
  const int c = n.conv("c", 0, 4, 1);
  const int b1 = n.bn("bn_after_shared_conv", c);
  n.relu("other_reader", c);  // the conv output is also read elsewhere
  const int s = n.add("sum", b1, c);
  n.bn("bn_after_add", s);
  EXPECT_EQ(n.fold_batchnorm(), 0);
  EXPECT_EQ(n.size(), 6u);
}

TEST(Network, FoldBatchNormFoldsFloatWeightsExactly) {
  Network n("fold", {5, 7, 6});
  Conv2dAttrs a;
  a.out_channels = 6;
  a.kernel_h = a.kernel_w = 3;
  a.pad = Padding::uniform(1);
  a.groups = 1;
  n.conv("conv", 0, a);
  n.bn("bn", 1, 1e-3f);
  n.generate_float_weights(7);
  ASSERT_TRUE(n.has_float_weights());
  const Layer conv = n.layer("conv");
  const Layer bn = n.layer("bn");
  std::mt19937 rng(3);
  const TensorShape in{5, 7, 6};
  const auto x = testing::random_float(rng, in.size(), -1.0f, 1.0f);
  // Conv, then BN by hand (HWC: channel innermost).
  auto ref = conv2d_float(x, in, conv.weights.weights, {}, to_conv_params(conv));
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const std::size_t k = i % 6;
    ref[i] = static_cast<float>(
        (ref[i] - bn.weights.mean[k]) / std::sqrt(bn.weights.var[k] + 1e-3) * bn.weights.gamma[k] + bn.weights.beta[k]);
  }
  ASSERT_EQ(n.fold_batchnorm(), 1);
  const Layer& folded = n.layer("conv");
  ASSERT_EQ(folded.weights.bias.size(), 6u);
  const auto got = conv2d_float(x, in, folded.weights.weights, folded.weights.bias, to_conv_params(folded));
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-4) << i;
}

TEST(Network, FloatWeightsAreDeterministicHeInitialised) {
  Network a = make_network("resnet20_cifar");
  Network b = make_network("resnet20_cifar");
  EXPECT_FALSE(a.has_float_weights());
  a.generate_float_weights(42);
  b.generate_float_weights(42);
  ASSERT_TRUE(a.has_float_weights());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.layers()[i].weights.weights, b.layers()[i].weights.weights);
    EXPECT_EQ(a.layers()[i].weights.gamma, b.layers()[i].weights.gamma);
  }
  // Sizes: conv OHWI, FC [out][in] plus bias, BN four vectors.
  const Layer& c = a.layer("layer3.0.conv1");
  EXPECT_EQ(static_cast<std::int64_t>(c.weights.weights.size()), c.params);
  EXPECT_TRUE(c.weights.bias.empty());
  const Layer& fc = a.layer("fc");
  EXPECT_EQ(fc.weights.weights.size(), 640u);
  EXPECT_EQ(fc.weights.bias.size(), 10u);
  EXPECT_EQ(a.layer("bn1").weights.var.size(), 16u);
  // He: standard deviation sqrt(2 / fan_in), fan_in = 32 * 9 for layer3.0.conv1.
  const Layer& big = a.layer("layer3.2.conv2");  // 36,864 weights, fan_in 576
  double sum = 0, sq = 0;
  for (float w : big.weights.weights) {
    sum += w;
    sq += static_cast<double>(w) * w;
  }
  const double nw = static_cast<double>(big.weights.weights.size());
  EXPECT_NEAR(sum / nw, 0.0, 0.003);
  EXPECT_NEAR(std::sqrt(sq / nw), std::sqrt(2.0 / 576.0), 0.002);
  // Another seed gives other values; a layer's values depend on its name only.
  Network c2 = make_network("resnet20_cifar");
  c2.generate_float_weights(43);
  EXPECT_NE(c2.layer("conv1").weights.weights, a.layer("conv1").weights.weights);
  Network solo("solo", {3, 32, 32});
  solo.conv("conv1", 0, 16, 3, 1, 1);
  solo.generate_float_weights(42);
  EXPECT_EQ(solo.layer("conv1").weights.weights, a.layer("conv1").weights.weights);
}

// The quantizer folds first and generates layer by layer after: every
// layer's weights must be the bits generating first and folding after gives,
// BatchNorms after a conv with and without a bias, two in a row, after an FC
// and one left unfolded included; memory handed in for reuse changes nothing.
TEST(Network, WeightsGeneratedAfterTheFoldAreTheOnesFoldedAfterGenerating) {
  Network custom("folds", {6, 9, 9});
  const int a = custom.conv("a", 0, 8, 3, 1, 1);
  const int bn_a = custom.bn("bn_a", a, 1e-3f);
  const int b = custom.conv("b", bn_a, 8, 1, 1, 0, 1, true);
  const int bn_b1 = custom.bn("bn_b1", b);
  const int bn_b2 = custom.bn("bn_b2", bn_b1, 1e-2f);
  const int sum = custom.add("sum", bn_b2, bn_a);
  const int bn_sum = custom.bn("bn_sum", sum);
  const int fc = custom.fc("fc", bn_sum, 10);
  custom.bn("bn_fc", fc);
  for (const Network& n : {custom, make_network("resnet20_cifar"), make_network("mobilenet_v1")}) {
    Network before = n, after = n;
    before.generate_float_weights(5);
    ASSERT_GT(before.fold_batchnorm(), 0) << n.name();
    after.fold_batchnorm();
    ASSERT_FALSE(after.has_float_weights()) << n.name();
    // Memory holding other values: the previous layer's weights.
    std::vector<float> storage(1 << 20, 1.0f);
    for (int i = 0; i < static_cast<int>(after.size()); ++i) {
      after.generate_float_weights(i, 5);
      const std::vector<float> fresh = after.layer(i).weights.weights;
      std::vector<float> released = after.release_float_weights(i);
      after.generate_float_weights(i, 5, std::move(storage));
      EXPECT_EQ(after.layer(i).weights.weights, fresh) << n.name() << " " << after.layer(i).name;
      storage = std::move(released);
    }
    ASSERT_EQ(after.size(), before.size()) << n.name();
    for (std::size_t i = 0; i < after.size(); ++i) {
      const FloatWeights& x = before.layers()[i].weights;
      const FloatWeights& y = after.layers()[i].weights;
      const std::string where = n.name() + " " + after.layers()[i].name;
      EXPECT_EQ(x.weights, y.weights) << where;
      EXPECT_EQ(x.bias, y.bias) << where;
      EXPECT_EQ(x.gamma, y.gamma) << where;
      EXPECT_EQ(x.beta, y.beta) << where;
      EXPECT_EQ(x.mean, y.mean) << where;
      EXPECT_EQ(x.var, y.var) << where;
    }
    EXPECT_TRUE(after.has_float_weights()) << n.name();
  }
  Network folded = custom;
  EXPECT_EQ(folded.fold_batchnorm(), 4);
  EXPECT_EQ(folded.layer("b").folded_batchnorms.size(), 2u);
  EXPECT_EQ(folded.layer("bn_sum").type, LayerType::kBatchNorm);
}

TEST(Network, LayersJsonCarriesTheReportFields) {
  const Network n = make_network("resnet18");
  const auto j = n.layers_json();
  ASSERT_EQ(j.size(), n.size());
  const auto& conv1 = j[1];
  EXPECT_EQ(conv1["name"], "conv1");
  EXPECT_EQ(conv1["type"], "conv2d");
  EXPECT_EQ(conv1["in_shape"], nlohmann::json({3, 224, 224}));
  EXPECT_EQ(conv1["out_shape"], nlohmann::json({64, 112, 112}));
  EXPECT_EQ(conv1["kernel"], nlohmann::json({7, 7}));
  EXPECT_EQ(conv1["stride"], nlohmann::json({2, 2}));
  EXPECT_EQ(conv1["groups"], 1);
  EXPECT_EQ(conv1["macs"], 118013952);
  EXPECT_EQ(conv1["params"], 9408);
}

TEST(Network, LayerTypeNamesRoundTrip) {
  for (const auto& name : layer_type_names()) {
    const auto t = parse_layer_type(name);
    ASSERT_TRUE(t.has_value()) << name;
    EXPECT_EQ(layer_type_name(*t), name);
  }
  EXPECT_FALSE(parse_layer_type("conv3d").has_value());
}

}  // namespace
}  // namespace npuvp::runtime
