// A convolution job's fused pool epilogue against the reference conv2d then
// pool: the map split into runs of pooled rows as the firmware splits it, each
// job computing the convolution rows its pooled rows' windows cover (the
// rows shared by neighbouring windows computed by both jobs).
#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "models/pe_array/cluster_kernel.h"
#include "sw/runtime/quantize/quantization.h"
#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::pe_array {
namespace {

struct Case {
  runtime::TensorShape in, conv_out, pooled;
  runtime::ConvParams conv;
  runtime::PoolParams pool;
  bool is_max = true;
  std::vector<std::int8_t> input, weights;
  std::vector<std::int32_t> bias;
  std::vector<RequantEntry> table;
  runtime::Requantization rq;
};

Case random_case(std::mt19937& rng, int trial) {
  std::uniform_int_distribution<int> small(1, 6);
  Case c;
  c.conv.kernel_h = c.conv.kernel_w = 1 + 2 * (small(rng) % 2);
  c.conv.stride_h = c.conv.stride_w = small(rng) % 2 + 1;
  c.conv.pad = runtime::Padding::uniform(c.conv.kernel_h / 2);
  c.conv.out_channels = small(rng) + 2;
  c.conv.input_zero_point = static_cast<int>(rng() % 21) - 10;
  c.pool.kernel_h = small(rng) % 3 + 2;
  c.pool.kernel_w = small(rng) % 3 + 2;
  c.pool.stride_h = small(rng) % 2 + 1;
  c.pool.stride_w = small(rng) % 2 + 1;
  c.pool.pad.top = small(rng) % c.pool.kernel_h;
  c.pool.pad.left = small(rng) % c.pool.kernel_w;
  c.pool.pad.bottom = small(rng) % c.pool.kernel_h;
  c.pool.pad.right = small(rng) % c.pool.kernel_w;
  c.is_max = trial % 2 == 0;
  c.pool.count_include_pad = !c.is_max && trial % 4 == 1;
  c.in = {small(rng) * 2, small(rng) + 9, small(rng) + 9};
  c.conv_out = runtime::conv_output_shape(c.in, c.conv);
  c.pooled = runtime::pool_output_shape(c.conv_out, c.pool);
  c.input.resize(c.in.size());
  c.weights.resize(static_cast<std::size_t>(c.conv.out_channels) * c.conv.kernel_h * c.conv.kernel_w * c.in.c);
  for (auto& v : c.input) v = static_cast<std::int8_t>(rng());
  for (auto& v : c.weights) v = static_cast<std::int8_t>(rng());
  c.bias.resize(c.conv.out_channels);
  for (auto& b : c.bias) b = static_cast<std::int32_t>(rng() % 20001) - 10000;
  std::vector<float> scales(c.conv.out_channels);
  for (auto& s : scales) s = 0.001f + static_cast<float>(rng() % 1000) * 1e-5f;
  c.rq = runtime::make_requantization(0.05f, scales, runtime::QuantParams{0.2f, static_cast<int>(rng() % 21) - 10},
                                      trial % 3 == 0 ? runtime::Activation::kNone : runtime::Activation::kRelu);
  for (const auto& m : c.rq.per_channel) c.table.push_back({m.multiplier, m.shift});
  c.pool.zero_point = c.rq.output_zero_point;
  return c;
}

// The pooled map computed by jobs of `rows` pooled rows each; `shift` moves
// every epilogue's window by that many result rows (a wrong epilogue).
std::vector<std::int8_t> fused_jobs(const Case& c, int rows, int shift = 0) {
  const int k = c.conv.out_channels;
  std::vector<std::int8_t> out(c.pooled.size());
  for (int p0 = 0; p0 < c.pooled.h; p0 += rows) {
    const int pr = std::min(rows, c.pooled.h - p0);
    const int c0 = std::max(0, p0 * c.pool.stride_h - c.pool.pad.top);
    const int c1 = std::min(c.conv_out.h, (p0 + pr - 1) * c.pool.stride_h - c.pool.pad.top + c.pool.kernel_h);
    ClusterJob job{};
    job.op = static_cast<std::uint32_t>(JobOp::kConv2d);
    job.in_h = c.in.h, job.in_w = c.in.w, job.in_c = c.in.c;
    job.in_row_pitch = c.in.w * c.in.c;
    job.origin_y = c0 * c.conv.stride_h - c.conv.pad.top;
    job.origin_x = -c.conv.pad.left;
    job.out_h = c1 - c0, job.out_w = c.conv_out.w;
    job.k_count = k, job.group_in = c.in.c, job.group_out = k;
    job.out_pixel_pitch = k;
    job.out_row_pitch = c.pooled.w * k;
    contract::write_window_fields(job, c.conv);
    job.input_zero_point = c.conv.input_zero_point;
    job.output_zero_point = c.rq.output_zero_point;
    job.act_min = c.rq.act_min, job.act_max = c.rq.act_max;
    job.fuse = c.is_max ? kJobFuseMaxPool : kJobFuseAvgPool;
    job.fused_act_min = -128, job.fused_act_max = 127;
    if (c.pool.count_include_pad) job.flags |= kJobCountIncludePad;
    PoolEpilogue e{};
    e.kernel_h = c.pool.kernel_h, e.kernel_w = c.pool.kernel_w;
    e.stride_h = c.pool.stride_h, e.stride_w = c.pool.stride_w;
    e.pad_top = c.pool.pad.top, e.pad_left = c.pool.pad.left;
    e.pad_bottom = c.pool.pad.bottom, e.pad_right = c.pool.pad.right;
    e.origin_y = p0 * c.pool.stride_h - c.pool.pad.top - c0 + shift;
    e.out_h = pr, e.out_w = c.pooled.w;
    e.image_h = c.conv_out.h, e.image_w = c.conv_out.w;
    e.first_row = c0;
    write_pool_epilogue(job, e);
    JobOperands operands;
    operands.tile = c.input.data();
    operands.weights = c.weights.data();
    operands.bias = c.bias.data();
    operands.requant = c.table.data();
    std::vector<std::int8_t> got(
        static_cast<std::size_t>(std::max<std::uint32_t>(job.out_h * job.out_w, e.out_h * e.out_w)) * k);
    run_job(job, operands, got.data());
    std::copy_n(got.begin(), static_cast<std::size_t>(pr) * c.pooled.w * k,
                out.begin() + static_cast<std::ptrdiff_t>(p0) * c.pooled.w * k);
  }
  return out;
}

std::vector<std::int8_t> reference(const Case& c) {
  const auto conv = runtime::conv2d(c.input, c.in, c.weights, c.bias, c.conv, c.rq);
  return c.is_max ? runtime::max_pool(conv, c.conv_out, c.pool) : runtime::average_pool(conv, c.conv_out, c.pool);
}

TEST(PoolEpilogue, RandomConvolutionsPooledInTheirJobsAreBitExact) {
  std::mt19937 rng(17);
  int checked = 0;
  for (int trial = 0; trial < 120; ++trial) {
    const Case c = random_case(rng, trial);
    if (c.pooled.h <= 0 || c.pooled.w <= 0) continue;
    const auto expected = reference(c);
    for (int rows : {1, 2, 3, c.pooled.h})
      ASSERT_EQ(fused_jobs(c, rows), expected) << "trial " << trial << " rows " << rows;
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

// The check above catches an epilogue that pools the wrong rows: max pool
// windows one result row off differ from the reference in most cases.
TEST(PoolEpilogue, AnEpilogueOneRowOffFailsTheComparison) {
  std::mt19937 rng(17);
  int differ = 0, cases = 0;
  for (int trial = 0; trial < 120; ++trial) {
    const Case c = random_case(rng, trial);
    if (c.pooled.h <= 0 || c.pooled.w <= 0 || !c.is_max) continue;
    ++cases;
    differ += fused_jobs(c, 2, 1) != reference(c);
  }
  EXPECT_GT(differ, cases * 9 / 10);
}

}  // namespace
}  // namespace npuvp::pe_array
