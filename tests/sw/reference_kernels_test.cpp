// Tests of the reference kernels: small cases computed by hand, random cases
// against a direct textbook loop nest and against float, rounding corner cases,
// and argument validation.
#include "sw/runtime/reference/reference_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "tests/sw/direct_conv.h"
#include "tests/sw/runtime_test_util.h"

namespace npuvp::runtime {
namespace {

using testing::direct_conv;
using testing::expect_invalid;
using testing::random_float;
using testing::random_int8;

// Multiplier 1.0 with output zero point 0: conv2d returns the accumulators
// themselves when they fit int8.
Requantization identity_requantization() { return Requantization{{quantize_multiplier(1.0)}, 0}; }

ConvParams conv(int kernel, int out_channels) {
  ConvParams p;
  p.kernel_h = p.kernel_w = kernel;
  p.out_channels = out_channels;
  return p;
}

void set_pad(ConvParams& p, int pad) { p.pad = Padding::uniform(pad); }

// 3x3 map, one channel, values 1..9 in raster order.
std::vector<std::int8_t> one_to_nine() { return {1, 2, 3, 4, 5, 6, 7, 8, 9}; }

// 5x5 map, one channel, value 5y + x.
std::vector<std::int8_t> five_by_five() {
  std::vector<std::int8_t> v(25);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(ConvOutputShape, Formula) {
  ConvParams p = conv(3, 8);
  EXPECT_EQ(conv_output_shape({3, 224, 224}, p), (TensorShape{8, 222, 222}));
  p.stride_h = p.stride_w = 2;
  set_pad(p, 1);
  EXPECT_EQ(conv_output_shape({3, 224, 224}, p), (TensorShape{8, 112, 112}));
  p.pad.bottom = p.pad.right = 0;  // TF "SAME" for stride 2: pad 0 top/left, 1 bottom/right
  EXPECT_EQ(conv_output_shape({3, 224, 224}, p), (TensorShape{8, 112, 112}));
  ConvParams d = conv(3, 1);
  d.dilation_h = 2;
  EXPECT_EQ(conv_output_shape({1, 5, 5}, d), (TensorShape{1, 1, 3}));
}

TEST(Conv2d, PaddingEdgesWithZeroPoint) {
  ConvParams p = conv(3, 1);
  set_pad(p, 1);
  const std::vector<std::int8_t> ones(9, 1);
  // Neighbourhood sums of 1..9.
  EXPECT_EQ(conv2d(one_to_nine(), {1, 3, 3}, ones, {}, p, identity_requantization()),
            (std::vector<std::int8_t>{12, 21, 16, 27, 45, 33, 24, 39, 28}));
  // Zero point 1: every tap inside the map contributes x - 1, padding nothing;
  // corners have 4 taps inside, edges 6, the centre 9. Bias 100 on top.
  p.input_zero_point = 1;
  EXPECT_EQ(conv2d(one_to_nine(), {1, 3, 3}, ones, {100}, p, identity_requantization()),
            (std::vector<std::int8_t>{108, 115, 112, 121, 127, 127, 120, 127, 124}));
  EXPECT_EQ(conv2d_accumulators(one_to_nine(), {1, 3, 3}, ones, {100}, p),
            (std::vector<std::int32_t>{108, 115, 112, 121, 136, 127, 120, 133, 124}));
}

// Found by fuzz_onnx (fuzz/corpus/onnx/regression-bias-int32-max.onnx): a
// bias of INT32_MAX overflowed the int32 accumulator (UBSan).
TEST(Conv2d, ABiasThatLeavesTheAccumulatorNoRoomIsRefused) {
  const ConvParams p = conv(3, 1);
  const std::vector<std::int8_t> ones(9, 1);
  // 9 products of at most 255 * 128: 293760 must fit beside the bias.
  EXPECT_EQ(conv2d_accumulators(one_to_nine(), {1, 3, 3}, ones, {INT32_MAX - 293760}, p),
            (std::vector<std::int32_t>{INT32_MAX - 293760 + 45}));
  try {
    conv2d_accumulators(one_to_nine(), {1, 3, 3}, ones, {INT32_MAX - 293759}, p);
    FAIL() << "a bias one past the room was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "conv2d_accumulators: the bias of output channel 0 (2147189888) leaves no room in the "
                 "int32 accumulator for up to 293760 from the products");
  }
}

TEST(Conv2d, AsymmetricPaddingStride2) {
  ConvParams p = conv(2, 1);
  p.stride_h = p.stride_w = 2;
  p.pad.left = 1;
  p.pad.bottom = 1;
  // Windows: rows {0,1} and {2,pad}; cols {pad,0} and {1,2}.
  EXPECT_EQ(conv_output_shape({1, 3, 3}, p), (TensorShape{1, 2, 2}));
  EXPECT_EQ(conv2d(one_to_nine(), {1, 3, 3}, std::vector<std::int8_t>(4, 1), {}, p, identity_requantization()),
            (std::vector<std::int8_t>{1 + 4, 2 + 3 + 5 + 6, 7, 8 + 9}));
}

TEST(Conv2d, Stride2) {
  ConvParams p = conv(3, 1);
  p.stride_h = p.stride_w = 2;
  // Sum of 5y + x over 3x3 windows at (0,0), (0,2), (2,0), (2,2).
  EXPECT_EQ(conv2d_accumulators(five_by_five(), {1, 5, 5}, std::vector<std::int8_t>(9, 1), {}, p),
            (std::vector<std::int32_t>{54, 72, 144, 162}));
}

TEST(Conv2d, Dilation2) {
  ConvParams p = conv(3, 1);
  p.dilation_h = p.dilation_w = 2;
  const std::vector<std::int8_t> ones(9, 1);
  // Taps at rows/cols {0, 2, 4}: 3 * 5 * 6 + 3 * 6 = 108.
  EXPECT_EQ(conv2d_accumulators(five_by_five(), {1, 5, 5}, ones, {}, p), (std::vector<std::int32_t>{108}));
  set_pad(p, 2);
  const std::vector<std::int32_t> acc = conv2d_accumulators(five_by_five(), {1, 5, 5}, ones, {}, p);
  ASSERT_EQ(acc.size(), 25u);
  EXPECT_EQ(acc[0], 0 + 2 + 10 + 12);  // taps (0,0) (0,2) (2,0) (2,2) inside
  EXPECT_EQ(acc[12], 108);
  EXPECT_EQ(acc[24], 12 + 14 + 22 + 24);
}

TEST(Conv2d, WeightLayoutIsOhwi) {
  // Input 1x2, two channels: pixel 0 = (1, 2), pixel 1 = (3, 4). Kernel 1x2.
  ConvParams p;
  p.kernel_h = 1;
  p.kernel_w = 2;
  p.out_channels = 2;
  const std::vector<std::int8_t> w = {1,  2, 3, 4,   // oc 0: kx 0 (ic 0, 1), kx 1 (ic 0, 1)
                                      -1, 0, 0, 5};  // oc 1
  EXPECT_EQ(conv2d({1, 2, 3, 4}, {2, 1, 2}, w, {0, 1}, p, identity_requantization()),
            (std::vector<std::int8_t>{1 + 4 + 9 + 16, -1 + 20 + 1}));
}

TEST(Conv2d, Groups) {
  ConvParams p = conv(1, 4);
  p.groups = 2;
  // Group 0 (oc 0, 1) sees channels 0, 1; group 1 (oc 2, 3) sees channels 2, 3.
  const std::vector<std::int8_t> w = {1, 1, 1, -1, 2, 0, 0, -2};
  EXPECT_EQ(conv2d({1, 2, 3, 4}, {4, 1, 1}, w, {}, p, identity_requantization()),
            (std::vector<std::int8_t>{3, -1, 6, -8}));
}

TEST(Conv2d, Depthwise) {
  // Channel 0 = 1..9 with an all-ones kernel, channel 1 = -(1..9) with 2 at the centre.
  std::vector<std::int8_t> in(18);
  for (int i = 0; i < 9; ++i) {
    in[static_cast<std::size_t>(2 * i)] = static_cast<std::int8_t>(i + 1);
    in[static_cast<std::size_t>(2 * i + 1)] = static_cast<std::int8_t>(-(i + 1));
  }
  std::vector<std::int8_t> w(18, 0);  // [2][3][3][1]
  std::fill(w.begin(), w.begin() + 9, 1);
  w[9 + 4] = 2;
  ConvParams p = conv(3, 2);
  p.groups = 2;
  set_pad(p, 1);
  p.input_zero_point = 1;
  const std::vector<std::int32_t> sums = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  const std::vector<std::int32_t> inside = {4, 6, 4, 6, 9, 6, 4, 6, 4};
  const std::vector<std::int32_t> acc = conv2d_accumulators(in, {2, 3, 3}, w, {0, -3}, p);
  ASSERT_EQ(acc.size(), 18u);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(acc[static_cast<std::size_t>(2 * i)],
              sums[static_cast<std::size_t>(i)] - inside[static_cast<std::size_t>(i)])
        << i;
    EXPECT_EQ(acc[static_cast<std::size_t>(2 * i + 1)], 2 * (-(i + 1) - 1) - 3) << i;
  }
}

TEST(Conv2d, DepthMultiplier) {
  // groups == in_ch, out_ch = 2 * in_ch: output channels 2c, 2c+1 read channel c.
  ConvParams p = conv(1, 4);
  p.groups = 2;
  EXPECT_EQ(conv2d({5, -6}, {2, 1, 1}, {1, 2, 3, -1}, {}, p, identity_requantization()),
            (std::vector<std::int8_t>{5, 10, -18, 6}));
}

TEST(Conv2d, PerChannelRequantizationAndClamp) {
  ConvParams p = conv(1, 3);
  Requantization rq;
  rq.per_channel = {quantize_multiplier(0.5), quantize_multiplier(0.25), quantize_multiplier(2.0)};
  rq.output_zero_point = -10;
  rq.act_min = -10;  // ReLU at zero point -10
  // Accumulators 2*x for every channel (weights 2): x = 5 -> 10, 10, 10.
  EXPECT_EQ(conv2d({5}, {1, 1, 1}, {2, 2, 2}, {0, 1, 100}, p, rq),
            (std::vector<std::int8_t>{-5, -7, 127}));  // 10*0.5-10, 11*0.25=2.75->3 -> -7, 220-10 saturates
  EXPECT_EQ(conv2d({-50}, {1, 1, 1}, {2, 2, 2}, {}, p, rq), (std::vector<std::int8_t>{-10, -10, -10}));
}

// Random shapes including odd sizes, edge padding, strides, dilations, groups,
// depthwise and zero points: the kernel equals the direct loop nest.
TEST(Conv2d, MatchesDirectLoopNestOnRandomCases) {
  std::mt19937 rng(42);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 300; ++trial) {
    ConvParams p;
    p.kernel_h = pick(1, 4);
    p.kernel_w = pick(1, 4);
    p.stride_h = pick(1, 3);
    p.stride_w = pick(1, 3);
    p.dilation_h = pick(1, 2);
    p.dilation_w = pick(1, 2);
    p.pad.top = pick(0, 2);
    p.pad.left = pick(0, 2);
    p.pad.bottom = pick(0, 2);
    p.pad.right = pick(0, 2);
    p.input_zero_point = trial % 3 == 0 ? 0 : pick(-128, 127);
    const int kind = trial % 4;  // 0: dense, 1: grouped, 2: depthwise, 3: depth multiplier
    // Half the depthwise trials wide enough for blocks of 16 channels and a remainder.
    const int groups = kind == 0 ? 1 : kind == 2 && trial % 8 == 2 ? pick(16, 64) : pick(2, 5);
    p.groups = groups;
    TensorShape s{groups * (kind >= 2 ? 1 : pick(1, 5)), pick(1, 9), pick(1, 9)};
    p.out_channels = kind == 2 ? s.c : groups * pick(1, 3);
    const int eff_h = p.dilation_h * (p.kernel_h - 1) + 1, eff_w = p.dilation_w * (p.kernel_w - 1) + 1;
    s.h = std::max(s.h, eff_h - p.pad.top - p.pad.bottom);
    s.w = std::max(s.w, eff_w - p.pad.left - p.pad.right);
    const auto in = random_int8(rng, s.size());
    const auto w =
        random_int8(rng, static_cast<std::size_t>(p.out_channels) * p.kernel_h * p.kernel_w * (s.c / groups));
    std::vector<std::int32_t> bias(static_cast<std::size_t>(p.out_channels));
    for (auto& b : bias) b = pick(-5000, 5000);
    const std::vector<std::int32_t> expected = direct_conv(in, s, w, bias, p);
    ASSERT_EQ(conv2d_accumulators(in, s, w, bias, p), expected) << "trial " << trial;

    Requantization rq;
    for (int k = 0; k < p.out_channels; ++k) {
      rq.per_channel.push_back(quantize_multiplier(std::uniform_real_distribution<double>(1e-4, 0.05)(rng)));
    }
    rq.output_zero_point = pick(-20, 20);
    rq.act_min = pick(-128, -60);
    rq.act_max = pick(60, 127);
    const std::vector<std::int8_t> out = conv2d(in, s, w, bias, p, rq);
    ASSERT_EQ(out.size(), expected.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::int32_t v = multiply_by_quantized_multiplier(expected[i], rq.per_channel[i % rq.per_channel.size()]) +
                             rq.output_zero_point;
      ASSERT_EQ(out[i], std::clamp(v, rq.act_min, rq.act_max)) << "trial " << trial << " element " << i;
    }
  }
}

// Quantizes a float conv layer the TFLite way and checks the int8 kernel against
// the float reference evaluated on the same (dequantized) operands: the only
// differences left are the fixed-point multiplier and its rounding, at most 1 LSB.
TEST(Conv2d, Int8WithinOneLsbOfFloat) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    ConvParams p = conv(trial % 2 == 0 ? 3 : 1, 6);
    if (trial % 3 == 1) {
      p.groups = 6;  // depthwise
    }
    p.stride_h = p.stride_w = 1 + trial % 2;
    set_pad(p, p.kernel_h / 2);
    const TensorShape s{6, 9, 7};
    const QuantParams in_q = choose_quant_params(-1.0f, 2.0f);
    p.input_zero_point = in_q.zero_point;
    const auto in = quantize_tensor(random_float(rng, s.size(), -1.0f, 2.0f), in_q);
    const auto wf =
        random_float(rng, static_cast<std::size_t>(6) * p.kernel_h * p.kernel_w * (6 / p.groups), -1.0f, 1.0f);
    const PerChannelWeights wq = quantize_weights_per_channel(wf, 6);
    const auto bias = quantize_bias(random_float(rng, 6, -0.5f, 0.5f), in_q.scale, wq.scales);

    std::vector<float> wd(wq.values.size()), bd(bias.size());
    const std::size_t per_channel = wq.values.size() / 6;
    for (std::size_t i = 0; i < wd.size(); ++i) wd[i] = wq.scales[i / per_channel] * wq.values[i];
    for (std::size_t k = 0; k < bd.size(); ++k) {
      bd[k] = static_cast<float>(static_cast<double>(in_q.scale * wq.scales[k]) * bias[k]);
    }
    const std::vector<float> ref = conv2d_float(dequantize_tensor(in, in_q), s, wd, bd, p);
    const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
    const QuantParams out_q = choose_quant_params(*lo, *hi);
    const Requantization rq = make_requantization(in_q.scale, wq.scales, out_q);
    const std::vector<std::int8_t> out = conv2d(in, s, wq.values, bias, p, rq);
    ASSERT_EQ(out.size(), ref.size());
    int exact = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const int expected = quantize_value(ref[i], out_q);
      ASSERT_LE(std::abs(out[i] - expected), 1) << "trial " << trial << " element " << i << " float " << ref[i];
      exact += out[i] == expected;
    }
    EXPECT_GT(exact, static_cast<int>(out.size() * 9 / 10)) << "trial " << trial;
  }
}

TEST(FullyConnected, HandComputedAndAgainstFloat) {
  FullyConnectedParams p;
  p.out_features = 2;
  p.input_zero_point = 1;
  // Input {c=2, h=1, w=2} flattened HWC: [1, 2, 3, 4] -> minus zp [0, 1, 2, 3].
  const std::vector<std::int8_t> w = {1, 1, 1, 1, 1, -1, 1, -1};
  EXPECT_EQ(fully_connected({1, 2, 3, 4}, {2, 1, 2}, w, {10, 0}, p, identity_requantization()),
            (std::vector<std::int8_t>{16, -2}));

  std::mt19937 rng(9);
  const TensorShape s{64, 2, 2};
  const QuantParams in_q = choose_quant_params(-3.0f, 3.0f);
  p.out_features = 10;
  p.input_zero_point = in_q.zero_point;
  const auto in = quantize_tensor(random_float(rng, s.size(), -3.0f, 3.0f), in_q);
  const PerChannelWeights wq = quantize_weights_per_channel(random_float(rng, 10 * s.size(), -0.2f, 0.2f), 10);
  std::vector<float> wd(wq.values.size());
  for (std::size_t i = 0; i < wd.size(); ++i) wd[i] = wq.scales[i / s.size()] * wq.values[i];
  const std::vector<float> ref = fully_connected_float(dequantize_tensor(in, in_q), s, wd, {}, 10);
  const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
  const QuantParams out_q = choose_quant_params(*lo, *hi);
  const std::vector<std::int8_t> out =
      fully_connected(in, s, wq.values, {}, p, make_requantization(in_q.scale, wq.scales, out_q));
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_LE(std::abs(out[i] - quantize_value(ref[i], out_q)), 1) << i;
}

TEST(FloatReference, ConvHandComputedWithClamp) {
  ConvParams p = conv(3, 1);
  set_pad(p, 1);
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(conv2d_float(in, {1, 3, 3}, std::vector<float>(9, 0.5f), {1.0f}, p, 0.0f, 15.0f),
            (std::vector<float>{7, 11.5f, 9, 14.5f, 15, 15, 13, 15, 15}));
}

// The calibration's float convolution in its documented order of additions
// per output: the bias, then tap by tap, input channel by input channel.
std::vector<float> float_loop_nest(const std::vector<float>& x, TensorShape in, const std::vector<float>& w,
                                   const std::vector<float>& bias, const ConvParams& p) {
  const TensorShape out = conv_output_shape(in, p);
  const int O = p.out_channels, icg = in.c / p.groups, ocg = O / p.groups;
  std::vector<float> y(out.size());
  for (int oy = 0; oy < out.h; ++oy)
    for (int ox = 0; ox < out.w; ++ox)
      for (int o = 0; o < O; ++o) {
        float acc = bias.empty() ? 0.0f : bias[o];
        for (int ky = 0; ky < p.kernel_h; ++ky)
          for (int kx = 0; kx < p.kernel_w; ++kx) {
            const int iy = oy * p.stride_h - p.pad.top + ky * p.dilation_h;
            const int ix = ox * p.stride_w - p.pad.left + kx * p.dilation_w;
            if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
            for (int i = 0; i < icg; ++i)
              acc += x[(static_cast<std::size_t>(iy) * in.w + ix) * in.c + o / ocg * icg + i] *
                     w[((static_cast<std::size_t>(o) * p.kernel_h + ky) * p.kernel_w + kx) * icg + i];
          }
        y[(static_cast<std::size_t>(oy) * out.w + ox) * O + o] = acc;
      }
  return y;
}

void conv_matches_the_loop_nest() {
  std::mt19937 rng(21);
  int tested = 0;
  for (int trial = 0; trial < 120; ++trial) {
    ConvParams p;
    p.kernel_h = 1 + static_cast<int>(rng() % 4);
    p.kernel_w = 1 + static_cast<int>(rng() % 4);
    p.stride_h = 1 + static_cast<int>(rng() % 2);
    p.stride_w = 1 + static_cast<int>(rng() % 2);
    p.dilation_h = p.dilation_w = trial % 7 == 0 ? 2 : 1;
    p.pad = {static_cast<int>(rng() % 3), static_cast<int>(rng() % 3), static_cast<int>(rng() % 3),
             static_cast<int>(rng() % 3)};
    p.groups = trial % 5 == 0 ? 2 : 1;
    p.out_channels = p.groups * (1 + static_cast<int>(rng() % 20));
    // Depthwise, a path of its own, in blocks of 16 channels and a remainder.
    const bool depthwise = trial % 5 == 1;
    constexpr int kDepthwiseChannels[] = {3, 16, 37, 64};
    const int channels = depthwise ? kDepthwiseChannels[trial / 5 % 4] : p.groups * (1 + static_cast<int>(rng() % 5));
    const TensorShape in{channels, 1 + trial % 20, 1 + (trial * 7) % 20};
    if (depthwise) p.groups = p.out_channels = in.c;
    TensorShape out;
    try {
      out = conv_output_shape(in, p);
    } catch (const std::invalid_argument&) {
      continue;  // the kernel exceeds the padded input
    }
    // One output of a 1x1 kernel is a fully connected layer's dot product,
    // added to the bias after.
    if (out.h * out.w == 1 && p.kernel_h * p.kernel_w == 1 && p.groups == 1 && !p.pad.any()) continue;
    ++tested;
    const auto x = random_float(rng, in.size(), -1.0f, 1.0f);
    const auto w = random_float(
        rng, static_cast<std::size_t>(p.out_channels) * p.kernel_h * p.kernel_w * (in.c / p.groups), -1.0f, 1.0f);
    const auto bias = trial % 3 == 0 ? std::vector<float>{} : random_float(rng, p.out_channels, -0.5f, 0.5f);
    const std::vector<float> expected = float_loop_nest(x, in, w, bias, p);
    EXPECT_EQ(conv2d_float(x, in, w, bias, p), expected) << "trial " << trial;
    // Storage holding other values (NaN, never equal): every one is overwritten.
    constexpr float kInf = std::numeric_limits<float>::infinity();
    std::vector<float> storage(out.size() + 3, std::numeric_limits<float>::quiet_NaN());
    // The range of what each path stored, every lane of a ragged block of
    // channels included and none beyond it.
    StoredRange stored;
    EXPECT_EQ(conv2d_float(x, in, w, bias, p, -kInf, kInf, std::move(storage), &stored), expected) << "trial " << trial;
    const auto [lo, hi] = std::minmax_element(expected.begin(), expected.end());
    EXPECT_TRUE(stored.seen);
    EXPECT_EQ(stored.lo, *lo) << "trial " << trial;
    EXPECT_EQ(stored.hi, *hi) << "trial " << trial;
    // An activation's clamp, applied as each path stores its sums.
    std::vector<float> clamped = expected;
    for (float& v : clamped) v = std::min(std::max(v, -0.25f), 0.5f);
    StoredRange stored_clamped;
    EXPECT_EQ(conv2d_float(x, in, w, bias, p, -0.25f, 0.5f, {}, &stored_clamped), clamped) << "trial " << trial;
    EXPECT_EQ(stored_clamped.lo, *std::min_element(clamped.begin(), clamped.end())) << "trial " << trial;
    EXPECT_EQ(stored_clamped.hi, *std::max_element(clamped.begin(), clamped.end())) << "trial " << trial;
  }
  EXPECT_GT(tested, 90);
}

// The float convolutions' instruction sets this CPU has, each forced in turn;
// the CPU's own restored when a test ends.
std::vector<FloatIsa> float_isas() {
  std::vector<FloatIsa> list{FloatIsa::kPortable};
  if (best_float_isa() != FloatIsa::kPortable) list.push_back(FloatIsa::kAvx2);
  if (best_float_isa() == FloatIsa::kAvx512) list.push_back(FloatIsa::kAvx512);
  return list;
}
struct ForcedFloatIsa {
  explicit ForcedFloatIsa(FloatIsa isa) { force_float_isa(isa); }
  ~ForcedFloatIsa() { force_float_isa(best_float_isa()); }
};

// Every width and height from 1 to 20 (runs of 1 to 8 pixels along rows, and
// down the columns the padding cuts), strides, dilations, asymmetric padding,
// groups and depthwise, on every instruction set: the same bits as the loop nest.
TEST(FloatReference, ConvMatchesTheLoopNestBitForBit) {
  for (const FloatIsa isa : float_isas()) {
    SCOPED_TRACE(isa == FloatIsa::kPortable ? "portable" : isa == FloatIsa::kAvx2 ? "avx2" : "avx512");
    const ForcedFloatIsa forced(isa);
    conv_matches_the_loop_nest();
  }
}

TEST(FloatReference, AnInstructionSetTheCpuLacksIsRefused) {
  if (best_float_isa() == FloatIsa::kAvx512) GTEST_SKIP() << "this CPU has every one";
  EXPECT_THROW(
      {
        try {
          force_float_isa(FloatIsa::kAvx512);
        } catch (const std::invalid_argument& e) {
          EXPECT_STREQ(e.what(), "force_float_isa: this CPU has no AVX-512");
          throw;
        }
      },
      std::invalid_argument);
  EXPECT_EQ(float_isa(), best_float_isa());
}

TEST(FloatReference, FullyConnectedAddsItsDotProductToTheBiasThenClamps) {
  ConvParams p;
  p.kernel_h = p.kernel_w = 1;
  p.out_channels = 3;
  const std::vector<float> x = {1, 2, 3, 4};
  const std::vector<float> w = {1, 1, 1, 1, -1, -1, -1, -1, 0.5f, 0, 0, 0};
  EXPECT_EQ(conv2d_float(x, {4, 1, 1}, w, {0.5f, 1, -1}, p, -6.0f, 6.0f), (std::vector<float>{6, -6, -0.5f}));
  EXPECT_EQ(conv2d_float(x, {4, 1, 1}, w, {}, p), (std::vector<float>{10, -10, 0.5f}));
  StoredRange stored;
  conv2d_float(x, {4, 1, 1}, w, {0.5f, 1, -1}, p, -6.0f, 6.0f, {}, &stored);
  EXPECT_EQ(stored.lo, -6.0f);
  EXPECT_EQ(stored.hi, 6.0f);
}

// Outputs in runs of eight and a ragged tail, each summed input by input
// from 0 and then added to its bias: the same bits as that loop.
TEST(FloatReference, FullyConnectedSumsEachOutputInInputOrder) {
  std::mt19937 rng(5);
  for (const int outputs : {1, 8, 21}) {
    ConvParams p;
    p.kernel_h = p.kernel_w = 1;
    p.out_channels = outputs;
    const int inputs = 37;
    const auto x = random_float(rng, inputs, -1.0f, 1.0f);
    const auto w = random_float(rng, static_cast<std::size_t>(outputs) * inputs, -1.0f, 1.0f);
    const auto bias = random_float(rng, outputs, -0.5f, 0.5f);
    std::vector<float> expected(static_cast<std::size_t>(outputs));
    for (int o = 0; o < outputs; ++o) {
      float sum = 0.0f;
      for (int i = 0; i < inputs; ++i) sum += x[i] * w[static_cast<std::size_t>(o) * inputs + i];
      expected[o] = std::min(std::max(bias[o] + sum, -0.75f), 0.75f);
    }
    StoredRange stored;
    EXPECT_EQ(conv2d_float(x, {inputs, 1, 1}, w, bias, p, -0.75f, 0.75f, {}, &stored), expected) << outputs;
    EXPECT_EQ(stored.lo, *std::min_element(expected.begin(), expected.end())) << outputs;
    EXPECT_EQ(stored.hi, *std::max_element(expected.begin(), expected.end())) << outputs;
  }
}

// The range a kernel stored is of the channels that exist: a block of fewer
// than 16 computes lanes beyond them (zero weights, a zero bias), which a
// range of positive outputs would otherwise take down to 0.
TEST(FloatReference, TheStoredRangeIsOfTheChannelsThatExist) {
  ConvParams p;
  p.out_channels = 20;  // a block of 16 channels and a ragged one of 4
  p.kernel_h = p.kernel_w = 3;
  p.pad = {1, 1, 1, 1};
  std::vector<float> w(20 * 9 * 2, 0.25f);
  for (std::size_t k = 0; k < w.size(); ++k) w[k] += 0.001f * static_cast<float>(k % 7);
  const std::vector<float> x(2 * 5 * 5, 1.0f);
  const std::vector<float> bias(20, 1.0f);
  StoredRange stored;
  const std::vector<float> y = conv2d_float(x, {2, 5, 5}, w, bias, p, -100.0f, 100.0f, {}, &stored);
  EXPECT_EQ(stored.lo, *std::min_element(y.begin(), y.end()));
  EXPECT_EQ(stored.hi, *std::max_element(y.begin(), y.end()));
  EXPECT_GT(stored.lo, 1.0f);
}

// A NaN loses every comparison: the range a kernel stored passes over it,
// on the dense, depthwise and fully connected paths alike.
TEST(FloatReference, TheStoredRangePassesOverNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  ConvParams dense;
  dense.out_channels = 20;  // a block of 16 channels and a ragged one of 4
  std::vector<float> w(20 * 2, 1.0f);
  w[2 * 17] = nan;                                    // channel 17 of every pixel
  const std::vector<float> x = {1, 2, 3, 4, -5, -6};  // three pixels of two channels
  StoredRange stored;
  conv2d_float(x, {2, 1, 3}, w, {}, dense, -100.0f, 100.0f, {}, &stored);
  EXPECT_EQ(stored.lo, -11.0f);
  EXPECT_EQ(stored.hi, 7.0f);
  ConvParams depthwise;
  depthwise.out_channels = depthwise.groups = 17;
  std::vector<float> dw(17, 2.0f), dx(17 * 2, 1.0f);
  dw[3] = nan;
  dx[17 + 16] = -4.0f;  // the second pixel's channel 16, past the vector block
  StoredRange dstored;
  conv2d_float(dx, {17, 1, 2}, dw, {}, depthwise, -100.0f, 100.0f, {}, &dstored);
  EXPECT_EQ(dstored.lo, -8.0f);
  EXPECT_EQ(dstored.hi, 2.0f);
  ConvParams fc;
  fc.out_channels = 3;
  StoredRange fstored;
  conv2d_float({1, 1}, {2, 1, 1}, {1, 1, nan, 1, -3, 1}, {}, fc, -100.0f, 100.0f, {}, &fstored);
  EXPECT_EQ(fstored.lo, -2.0f);
  EXPECT_EQ(fstored.hi, 2.0f);
}

PoolParams pool(int kernel, int stride, int pad = 0) {
  PoolParams p;
  p.set_square(kernel, stride, pad);
  return p;
}

TEST(AveragePool, RoundsHalfAwayFromZero) {
  // Four channels of one 1x2 map: sums 3, -3, 1, 0 over 2 elements.
  const std::vector<std::int8_t> in = {1, -1, 0, 0, 2, -2, 1, 0};
  PoolParams p = pool(1, 1);
  p.kernel_w = 2;
  EXPECT_EQ(average_pool(in, {4, 1, 2}, p), (std::vector<std::int8_t>{2, -2, 1, 0}));  // 1.5, -1.5, 0.5, 0
  // Sums over 3 elements: 2 -> 0.67 -> 1, -4 -> -1.33 -> -1, 1 -> 0.33 -> 0, -5 -> -1.67 -> -2.
  const std::vector<std::int8_t> in3 = {2, -4, 1, -5, 0, 0, 0, 0, 0, 0, 0, 0};
  p.kernel_w = 3;
  EXPECT_EQ(average_pool(in3, {4, 1, 3}, p), (std::vector<std::int8_t>{1, -1, 0, -2}));
  // 2x2 windows: 9 / 4 = 2.25 -> 2, -11 / 4 = -2.75 -> -3.
  EXPECT_EQ(average_pool({1, -3, 2, -3, 3, -3, 3, -2}, {2, 2, 2}, pool(2, 2)), (std::vector<std::int8_t>{2, -3}));
}

TEST(AveragePool, TiesToEvenAsTheOnnxOperatorsRound) {
  // Four channels of one 1x2 map: sums 3, -3, 5, -5 over 2 elements.
  const std::vector<std::int8_t> in = {1, -1, 2, -2, 2, -2, 3, -3};
  PoolParams p = pool(1, 1);
  p.kernel_w = 2;
  p.ties_to_even = true;
  EXPECT_EQ(average_pool(in, {4, 1, 2}, p), (std::vector<std::int8_t>{2, -2, 2, -2}));  // 1.5, -1.5, 2.5, -2.5
  p.ties_to_even = false;
  EXPECT_EQ(average_pool(in, {4, 1, 2}, p), (std::vector<std::int8_t>{2, -2, 3, -3}));
  // Not a tie: -11 / 4 = -2.75 -> -3 either way.
  p = pool(2, 2);
  p.ties_to_even = true;
  EXPECT_EQ(average_pool({1, -3, 2, -3, 3, -3, 3, -2}, {2, 2, 2}, p), (std::vector<std::int8_t>{2, -3}));
}

TEST(AveragePool, PaddingExcludedOrCountedAsZeroPoint) {
  const std::vector<std::int8_t> in = {1, 2, 3, 4};  // one channel 2x2
  PoolParams p = pool(3, 1, 1);
  // Every 3x3 window covers the whole map: 10 / 4 = 2.5 -> 3.
  EXPECT_EQ(average_pool(in, {1, 2, 2}, p), (std::vector<std::int8_t>(4, 3)));
  p.count_include_pad = true;  // 10 / 9 = 1.11 -> 1
  EXPECT_EQ(average_pool(in, {1, 2, 2}, p), (std::vector<std::int8_t>(4, 1)));
  p.zero_point = -1;  // (10 - 5) / 9 = 0.56 -> 1
  EXPECT_EQ(average_pool(in, {1, 2, 2}, p), (std::vector<std::int8_t>(4, 1)));
  p.zero_point = -10;  // (10 - 50) / 9 = -4.44 -> -4
  EXPECT_EQ(average_pool(in, {1, 2, 2}, p), (std::vector<std::int8_t>(4, -4)));
  p.act_min = -2;
  EXPECT_EQ(average_pool(in, {1, 2, 2}, p), (std::vector<std::int8_t>(4, -2)));
}

TEST(MaxPool, PaddingNeverWinsAndClamp) {
  const std::vector<std::int8_t> in = {-5, -7, -6, -8};
  PoolParams p = pool(3, 2, 1);
  EXPECT_EQ(pool_output_shape({1, 2, 2}, p), (TensorShape{1, 1, 1}));
  EXPECT_EQ(max_pool(in, {1, 2, 2}, p), (std::vector<std::int8_t>{-5}));
  p.act_min = 0;
  EXPECT_EQ(max_pool(in, {1, 2, 2}, p), (std::vector<std::int8_t>{0}));
  // 3x3 stride 2 with ceil_mode expressed as extra bottom/right padding (SqueezeNet).
  PoolParams c = pool(3, 2);
  c.pad.bottom = c.pad.right = 1;
  EXPECT_EQ(pool_output_shape({1, 4, 4}, c), (TensorShape{1, 2, 2}));
  std::vector<std::int8_t> m(16);
  std::iota(m.begin(), m.end(), 0);
  EXPECT_EQ(max_pool(m, {1, 4, 4}, c), (std::vector<std::int8_t>{10, 11, 14, 15}));
}

TEST(GlobalAveragePool, RoundingAndClamp) {
  // Two channels over 2x2: 10 / 4 = 2.5 -> 3, -10 / 4 -> -3.
  const std::vector<std::int8_t> in = {1, -1, 2, -2, 3, -3, 4, -4};
  EXPECT_EQ(global_average_pool(in, {2, 2, 2}), (std::vector<std::int8_t>{3, -3}));
  EXPECT_EQ(global_average_pool(in, {2, 2, 2}, ActivationRange{0, 2}), (std::vector<std::int8_t>{2, 0}));
  // Equal to average_pool with a whole-map window.
  std::mt19937 rng(1);
  const auto r = random_int8(rng, 7 * 5 * 3);
  PoolParams p = pool(1, 1);
  p.kernel_h = 5;
  p.kernel_w = 3;
  EXPECT_EQ(global_average_pool(r, {7, 5, 3}), average_pool(r, {7, 5, 3}, p));
}

TEST(Add, HandComputed) {
  const QuantParams unit{1.0f, 0};
  EXPECT_EQ(add({3, -3, 100, -100}, {4, -4, 100, -100}, {4, 1, 1}, make_add_params(unit, unit, unit)),
            (std::vector<std::int8_t>{7, -7, 127, -128}));
  // a: scale 0.5 zp 1 -> 5 is 2.0; b: scale 0.25 zp -2 -> 6 is 2.0; out scale 0.5: 4.0 -> 8.
  const AddParams p = make_add_params({0.5f, 1}, {0.25f, -2}, {0.5f, 0});
  EXPECT_EQ(p.left_shift, 20);
  EXPECT_EQ(p.input1_multiplier.multiplier, 1 << 30);
  EXPECT_EQ(p.input1_multiplier.shift, 0);    // 0.5 / (2 * 0.5)
  EXPECT_EQ(p.input2_multiplier.shift, -1);   // 0.25 / 1
  EXPECT_EQ(p.output_multiplier.shift, -18);  // 1 / (2^20 * 0.5) = 2^-19
  EXPECT_EQ(add({5}, {6}, {1, 1, 1}, p), (std::vector<std::int8_t>{8}));
  // Output scale 2: 1 + 0 = 0.5 LSB -> 1 and -1 -> -1 (ties away from zero).
  EXPECT_EQ(add({1, -1}, {0, 0}, {2, 1, 1}, make_add_params(unit, unit, {2.0f, 0})), (std::vector<std::int8_t>{1, -1}));
  // Fused ReLU at output zero point 5.
  EXPECT_EQ(add({-3, 3}, {-3, 3}, {2, 1, 1}, make_add_params(unit, unit, {1.0f, 5}, Activation::kRelu)),
            (std::vector<std::int8_t>{5, 11}));
}

TEST(Add, RandomWithinOneLsbOfFloat) {
  std::mt19937 rng(11);
  const QuantParams qa{0.031f, -7}, qb{0.017f, 12}, qo{0.045f, 3};
  const AddParams p = make_add_params(qa, qb, qo);
  const auto a = random_int8(rng, 4096), b = random_int8(rng, 4096);
  const std::vector<std::int8_t> out = add(a, b, {4096, 1, 1}, p);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float real = dequantize_value(a[i], qa) + dequantize_value(b[i], qb);
    EXPECT_LE(std::abs(out[i] - quantize_value(real, qo)), 1) << i;
  }
}

// The add's vectorized loop against TFLite's steps written out per element, for
// scales whose multipliers shift left and right, every zero point's sign and
// a length that leaves a tail after every vector width.
TEST(Add, EqualsTheScalarStepsForAnyScales) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> log_scale(-9.0f, 3.0f);
  std::uniform_int_distribution<int> zero_point(-128, 127);
  for (int trial = 0; trial < 200; ++trial) {
    const QuantParams qa{std::exp2(log_scale(rng)), zero_point(rng)}, qb{std::exp2(log_scale(rng)), zero_point(rng)},
        qo{std::exp2(log_scale(rng)), zero_point(rng)};
    const AddParams p = make_add_params(qa, qb, qo, trial % 3 == 0 ? Activation::kRelu : Activation::kNone);
    const auto a = random_int8(rng, 999), b = random_int8(rng, 999);
    const std::vector<std::int8_t> out = add(a, b, {999, 1, 1}, p);
    for (std::size_t i = 0; i < a.size(); ++i) {
      // A multiply, not <<: the offset sums are negative as often as not.
      const std::int32_t scale_up = std::int32_t{1} << p.left_shift;
      const std::int32_t s1 =
                             multiply_by_quantized_multiplier((p.input1_offset + a[i]) * scale_up, p.input1_multiplier),
                         s2 =
                             multiply_by_quantized_multiplier((p.input2_offset + b[i]) * scale_up, p.input2_multiplier);
      const std::int32_t raw = multiply_by_quantized_multiplier(s1 + s2, p.output_multiplier) + p.output_offset;
      ASSERT_EQ(out[i], std::clamp(raw, p.act_min, p.act_max)) << "trial " << trial << " element " << i;
    }
  }
}

TEST(RequantizeTensor, Rescales) {
  // in scale 0.5 zp 2 -> out scale 0.25 zp -1: (x - 2) * 2 - 1.
  EXPECT_EQ(requantize_tensor({2, 3, -10, 127}, {0.5f, 2}, {0.25f, -1}), (std::vector<std::int8_t>{-1, 1, -25, 127}));
  // Halving: (x) * 0.5 rounded: 3 -> 1.5 -> 2, -3 -> -1.5 -> -1 (SRDHM tie up).
  EXPECT_EQ(requantize_tensor({3, -3}, {0.5f, 0}, {1.0f, 0}), (std::vector<std::int8_t>{2, -1}));
}

TEST(Concat, InterleavesChannelsPerPixel) {
  const std::vector<std::int8_t> a = {1, 2};            // {c=1, h=1, w=2}
  const std::vector<std::int8_t> b = {10, 11, 20, 21};  // {c=2, h=1, w=2}
  const std::vector<std::int8_t> c = {-1, -2};
  EXPECT_EQ(concat_output_shape({{1, 1, 2}, {2, 1, 2}, {1, 1, 2}}), (TensorShape{4, 1, 2}));
  EXPECT_EQ(concat_channels({{&a, {1, 1, 2}}, {&b, {2, 1, 2}}, {&c, {1, 1, 2}}}),
            (std::vector<std::int8_t>{1, 10, 11, -1, 2, 20, 21, -2}));
  EXPECT_EQ(concat_channels({{&a, {1, 1, 2}}}), a);
}

TEST(ChannelShuffle, HandCaseAndRoundTrip) {
  // 6 channels, 2 groups: [0 1 2 | 3 4 5] -> [0 3 1 4 2 5].
  EXPECT_EQ(channel_shuffle({0, 1, 2, 3, 4, 5}, {6, 1, 1}, 2), (std::vector<std::int8_t>{0, 3, 1, 4, 2, 5}));
  std::mt19937 rng(2);
  const TensorShape s{12, 3, 5};
  const auto in = random_int8(rng, s.size());
  EXPECT_EQ(channel_shuffle(channel_shuffle(in, s, 3), s, 4), in);
  EXPECT_EQ(channel_shuffle(in, s, 1), in);
  EXPECT_NE(channel_shuffle(in, s, 3), in);
}

TEST(ShiftChannels, MovesEachChannelAndFillsZeroPoint) {
  // Two channels of 3x3: channel 0 = 1..9 moved down by one row, channel 1 = 11..19 moved left by one column.
  std::vector<std::int8_t> in(18);
  for (int i = 0; i < 9; ++i) {
    in[static_cast<std::size_t>(2 * i)] = static_cast<std::int8_t>(i + 1);
    in[static_cast<std::size_t>(2 * i + 1)] = static_cast<std::int8_t>(i + 11);
  }
  const std::vector<std::int8_t> out = shift_channels(in, {2, 3, 3}, {{1, 0}, {0, -1}}, -5);
  std::vector<std::int8_t> ch0, ch1;
  for (int i = 0; i < 9; ++i) {
    ch0.push_back(out[static_cast<std::size_t>(2 * i)]);
    ch1.push_back(out[static_cast<std::size_t>(2 * i + 1)]);
  }
  EXPECT_EQ(ch0, (std::vector<std::int8_t>{-5, -5, -5, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(ch1, (std::vector<std::int8_t>{12, 13, -5, 15, 16, -5, 18, 19, -5}));
  // A shift beyond the map leaves only the fill; (0, 0) is the identity.
  EXPECT_EQ(shift_channels({1, 2, 3, 4}, {1, 2, 2}, {{-2, 0}}, 7), (std::vector<std::int8_t>(4, 7)));
  EXPECT_EQ(shift_channels(in, {2, 3, 3}, {{0, 0}, {0, 0}}, 0), in);
  // Shifting back restores the pixels that stayed inside.
  EXPECT_EQ(shift_channels(shift_channels({1, 2, 3, 4}, {1, 2, 2}, {{1, 1}}, 0), {1, 2, 2}, {{-1, -1}}, 0),
            (std::vector<std::int8_t>{1, 0, 0, 0}));
}

TEST(ShiftChannels, GroupedShifts) {
  const std::vector<ChannelShift> s = grouped_shifts(19, 3);  // 9 groups of 2, one channel left over
  ASSERT_EQ(s.size(), 19u);
  EXPECT_EQ(s[0].dy, -1);
  EXPECT_EQ(s[0].dx, -1);
  EXPECT_EQ(s[1].dx, -1);
  EXPECT_EQ(s[2].dy, -1);
  EXPECT_EQ(s[2].dx, 0);
  EXPECT_EQ(s[8].dy, 0);
  EXPECT_EQ(s[8].dx, 0);
  EXPECT_EQ(s[17].dy, 1);
  EXPECT_EQ(s[17].dx, 1);
  EXPECT_EQ(s[18].dy, 0);
  EXPECT_EQ(s[18].dx, 0);
  expect_invalid([] { grouped_shifts(9, 2); }, "kernel_size");
}

TEST(Activation, ReluRelu6Clamp) {
  const QuantParams q{0.1f, -10};
  const std::vector<std::int8_t> in = {-128, -11, -10, 0, 50, 51, 127};
  EXPECT_EQ(relu(in, q), (std::vector<std::int8_t>{-10, -10, -10, 0, 50, 51, 127}));
  EXPECT_EQ(relu6(in, q), (std::vector<std::int8_t>{-10, -10, -10, 0, 50, 50, 50}));
  EXPECT_EQ(clamp(in, ActivationRange{-1, 1}), (std::vector<std::int8_t>{-1, -1, -1, 0, 1, 1, 1}));
}

TEST(Validation, ConvParametersAreNamed) {
  const std::vector<std::int8_t> in(2 * 4 * 4), w(4 * 9 * 2);
  const Requantization rq = identity_requantization();
  auto run = [&](ConvParams p, TensorShape s = {2, 4, 4}) { conv2d(in, s, w, {}, p, rq); };
  ConvParams p = conv(3, 4);
  p.stride_h = 0;
  expect_invalid([&] { run(p); }, "stride_h");
  p = conv(3, 4);
  p.stride_w = -1;
  expect_invalid([&] { run(p); }, "stride_w");
  p = conv(0, 4);
  expect_invalid([&] { run(p); }, "kernel_h");
  p = conv(3, 4);
  p.dilation_w = 0;
  expect_invalid([&] { run(p); }, "dilation_w");
  p = conv(3, 4);
  p.pad.left = -1;
  expect_invalid([&] { run(p); }, "pad_left");
  p = conv(3, 4);
  p.groups = 3;
  expect_invalid([&] { run(p); }, "groups");
  p = conv(3, 3);
  p.groups = 2;
  expect_invalid([&] { run(p); }, "out_channels");
  p = conv(3, 0);
  expect_invalid([&] { run(p); }, "out_channels");
  p = conv(5, 4);
  expect_invalid([&] { run(p); }, "kernel_h");  // output height <= 0
  p = conv(3, 4);
  p.dilation_h = 3;
  expect_invalid([&] { run(p); }, "dilation_h");
  p = conv(3, 4);
  p.input_zero_point = 128;
  expect_invalid([&] { run(p); }, "input_zero_point");
  expect_invalid([&] { run(conv(3, 4), {2, 4, 5}); }, "input");
  expect_invalid([&] { run(conv(3, 4), {2, 0, 4}); }, "in_shape");
  expect_invalid([&] { conv2d(in, {2, 4, 4}, std::vector<std::int8_t>(10), {}, conv(3, 4), rq); }, "weights");
  expect_invalid([&] { conv2d(in, {2, 4, 4}, w, {1, 2}, conv(3, 4), rq); }, "bias");
  Requantization bad = rq;
  bad.per_channel.resize(2);
  expect_invalid([&] { conv2d(in, {2, 4, 4}, w, {}, conv(3, 4), bad); }, "per_channel");
  expect_invalid([&] { conv_output_shape({2, 4, 4}, conv(0, 4)); }, "kernel_h");
  p = conv(3, 4);
  p.stride_h = 0;
  expect_invalid([&] { conv2d_accumulators(in, {2, 4, 4}, w, {}, p); }, "stride_h");
  expect_invalid([&] { conv2d_float({}, {2, 4, 4}, {}, {}, conv(3, 4)); }, "input");
}

TEST(Validation, OtherKernelsNameTheParameter) {
  const std::vector<std::int8_t> in(16);
  FullyConnectedParams fc;
  expect_invalid([&] { fully_connected(in, {16, 1, 1}, {}, {}, fc, identity_requantization()); }, "out_features");
  fc.out_features = 2;
  expect_invalid(
      [&] {
        fully_connected(in, {16, 1, 1}, std::vector<std::int8_t>(31), {}, fc, identity_requantization());
      },
      "weights");
  expect_invalid([&] { fully_connected_float({}, {1, 1, 1}, {}, {}, 1); }, "input");
  PoolParams p = pool(2, 0);
  expect_invalid([&] { max_pool(in, {1, 4, 4}, p); }, "stride_h");
  p = pool(5, 1);
  expect_invalid([&] { average_pool(in, {1, 4, 4}, p); }, "kernel_h");
  p = pool(2, 1, 2);
  expect_invalid([&] { average_pool(in, {1, 4, 4}, p); }, "pad_top");
  p = pool(2, 2);
  p.act_min = 5;
  p.act_max = 4;
  expect_invalid([&] { max_pool(in, {1, 4, 4}, p); }, "act_min");
  expect_invalid([&] { max_pool(in, {1, 4, 5}, pool(2, 2)); }, "input");
  expect_invalid([&] { global_average_pool(in, {1, 4, 5}); }, "input");
  const AddParams ap = make_add_params({1.0f, 0}, {1.0f, 0}, {1.0f, 0});
  expect_invalid([&] { add(in, std::vector<std::int8_t>(15), {16, 1, 1}, ap); }, "input2");
  expect_invalid([&] { make_add_params({0.0f, 0}, {1.0f, 0}, {1.0f, 0}); }, "input1.scale");
  expect_invalid([&] { make_add_params({1.0f, 0}, {1.0f, 200}, {1.0f, 0}); }, "input2.zero_point");
  const std::vector<std::int8_t> a(4), b(6);
  expect_invalid([&] { concat_channels({{&a, {1, 2, 2}}, {&b, {1, 2, 3}}}); }, "inputs[1].shape");
  expect_invalid([&] { concat_channels({{&a, {1, 2, 2}}, {&b, {2, 2, 2}}}); }, "inputs[1].data");
  expect_invalid([&] { concat_channels({{nullptr, {1, 2, 2}}}); }, "inputs[0].data");
  expect_invalid([&] { concat_channels({}); }, "inputs");
  expect_invalid([&] { channel_shuffle(in, {4, 2, 2}, 3); }, "groups");
  expect_invalid([&] { channel_shuffle(in, {4, 2, 2}, 0); }, "groups");
  expect_invalid([&] { shift_channels(in, {4, 2, 2}, {{0, 0}}, 0); }, "shifts");
  expect_invalid([&] { shift_channels(in, {4, 2, 2}, std::vector<ChannelShift>(4), -129); }, "zero_point");
  expect_invalid([&] { clamp(in, ActivationRange{3, 2}); }, "act_min");
  expect_invalid([&] { requantize_tensor(in, {1.0f, 0}, {0.0f, 0}); }, "out.scale");
}

}  // namespace
}  // namespace npuvp::runtime
