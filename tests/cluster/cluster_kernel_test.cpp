// The cluster's arithmetic (written as hardware does it) against the
// independent host reference kernels: bit-exact for random jobs.
#include <random>

#include <gtest/gtest.h>

#include "models/pe_array/cluster_kernel.h"
#include "sw/runtime/quantization.h"
#include "sw/runtime/reference_kernels.h"

namespace npuvp::pe_array {
namespace {

TEST(ClusterKernel, RequantizeMatchesTheReferenceOnRandomValues) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::int32_t> acc(-(1 << 24), 1 << 24);
  std::uniform_real_distribution<double> real(1e-6, 0.99);
  for (int i = 0; i < 20000; ++i) {
    const auto m = runtime::quantize_multiplier(real(rng) * (i % 7 == 0 ? 8.0 : 1.0));
    const std::int32_t x = i % 1000 == 0 ? std::numeric_limits<std::int32_t>::min() / 2 : acc(rng);
    ASSERT_EQ(requantize(x, RequantEntry{m.multiplier, m.shift}), runtime::multiply_by_quantized_multiplier(x, m))
        << "x=" << x << " m=" << m.multiplier << " shift=" << m.shift;
  }
}

// A job covering a whole (small) image, so that the tile is the image and
// the reference conv2d computes the same thing.
TEST(ClusterKernel, RandomConvJobsAreBitExact) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    std::uniform_int_distribution<int> small(1, 9);
    runtime::ConvParams p;
    p.kernel_h = small(rng) % 5 + 1;
    p.kernel_w = small(rng) % 5 + 1;
    p.stride_h = small(rng) % 3 + 1;
    p.stride_w = small(rng) % 3 + 1;
    p.dilation_h = small(rng) % 2 + 1;
    p.dilation_w = small(rng) % 2 + 1;
    p.pad_top = small(rng) % 3;
    p.pad_left = small(rng) % 3;
    p.pad_bottom = small(rng) % 3;
    p.pad_right = small(rng) % 3;
    p.out_channels = small(rng) + 1;
    p.input_zero_point = static_cast<int>(rng() % 41) - 20;
    const runtime::TensorShape in{small(rng) * 3, small(rng) + 8, small(rng) + 8};
    const runtime::TensorShape out = runtime::conv_output_shape(in, p);
    if (out.h <= 0 || out.w <= 0) continue;
    std::vector<std::int8_t> input(static_cast<std::size_t>(in.c) * in.h * in.w);
    std::vector<std::int8_t> weights(static_cast<std::size_t>(p.out_channels) * p.kernel_h * p.kernel_w * in.c);
    for (auto& v : input) v = static_cast<std::int8_t>(rng());
    for (auto& v : weights) v = static_cast<std::int8_t>(rng());
    std::vector<std::int32_t> bias(p.out_channels);
    for (auto& b : bias) b = static_cast<std::int32_t>(rng() % 20001) - 10000;
    std::vector<float> scales(p.out_channels);
    for (auto& s : scales) s = 0.001f + static_cast<float>(rng() % 1000) * 1e-5f;
    const auto rq = runtime::make_requantization(0.05f, scales, runtime::QuantParams{0.2f, 5}, runtime::Activation::kRelu);
    const auto expected = runtime::conv2d(input, in, weights, bias, p, rq);

    ClusterJob job{};
    job.op = static_cast<std::uint32_t>(JobOp::kConv2d);
    job.in_h = in.h, job.in_w = in.w, job.in_c = in.c;
    job.in_row_pitch = in.w * in.c;
    job.origin_y = -p.pad_top;
    job.origin_x = -p.pad_left;
    job.out_h = out.h, job.out_w = out.w;
    job.k_count = p.out_channels;
    job.group_in = in.c;
    job.group_out = p.out_channels;
    job.out_pixel_pitch = p.out_channels;
    job.kernel_h = p.kernel_h, job.kernel_w = p.kernel_w;
    job.stride_h = p.stride_h, job.stride_w = p.stride_w;
    job.dilation_h = p.dilation_h, job.dilation_w = p.dilation_w;
    job.input_zero_point = p.input_zero_point;
    job.output_zero_point = rq.output_zero_point;
    job.act_min = rq.act_min, job.act_max = rq.act_max;
    std::vector<RequantEntry> table;
    for (const auto& m : rq.per_channel) table.push_back({m.multiplier, m.shift});
    std::vector<std::int8_t> got(expected.size());
    JobOperands operands;
    operands.tile = input.data();
    operands.weights = weights.data();
    operands.bias = bias.data();
    operands.requant = table.data();
    run_job(job, operands, got.data());
    ASSERT_EQ(got, expected) << "trial " << trial;
  }
}

}  // namespace
}  // namespace npuvp::pe_array
