// The cluster's arithmetic (written as hardware does it) against the
// independent host reference kernels: bit-exact for random jobs.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "models/common/half.h"
#include "models/pe_array/cluster_kernel.h"
#include "sw/runtime/quantize/quantization.h"
#include "sw/runtime/reference/reference_kernels.h"

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
    p.pad.top = small(rng) % 3;
    p.pad.left = small(rng) % 3;
    p.pad.bottom = small(rng) % 3;
    p.pad.right = small(rng) % 3;
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
    const auto rq =
        runtime::make_requantization(0.05f, scales, runtime::QuantParams{0.2f, 5}, runtime::Activation::kRelu);
    const auto expected = runtime::conv2d(input, in, weights, bias, p, rq);

    ClusterJob job{};
    job.op = static_cast<std::uint32_t>(JobOp::kConv2d);
    job.in_h = in.h, job.in_w = in.w, job.in_c = in.c;
    job.in_row_pitch = in.w * in.c;
    job.origin_y = -p.pad.top;
    job.origin_x = -p.pad.left;
    job.out_h = out.h, job.out_w = out.w;
    job.k_count = p.out_channels;
    job.group_in = in.c;
    job.group_out = p.out_channels;
    job.out_pixel_pitch = p.out_channels;
    contract::write_window_fields(job, p);
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

// Every half converts to float and back to itself; float -> half rounds to
// nearest, ties to even, over the normal and subnormal ranges and at overflow.
TEST(Half, RoundTripsAndRoundsToNearestEven) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0) continue;  // NaN payloads
    ASSERT_EQ(half::from_float(half::to_float(static_cast<std::uint16_t>(h))), h) << std::hex << h;
  }
  EXPECT_EQ(half::to_float(0x3C00), 1.0f);
  EXPECT_EQ(half::to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(half::from_float(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // tie, even stays
  EXPECT_EQ(half::from_float(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie, odd rounds up
  EXPECT_EQ(half::from_float(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3C01);
  EXPECT_EQ(half::from_float(std::ldexp(1.0f, -25)), 0x0000);  // tie at half the smallest subnormal
  EXPECT_EQ(half::from_float(std::ldexp(3.0f, -26)), 0x0001);
  EXPECT_EQ(half::from_float(65520.0f), 0x7C00);  // rounds past the largest half
  EXPECT_EQ(half::from_float(65519.0f), 0x7BFF);
  EXPECT_EQ(half::from_float(-0.0f), 0x8000);
}

// Random whole-image convolution jobs of one datatype: the tensors as bytes
// the cluster reads, and the job describing them.
struct DatatypeJob {
  ClusterJob job{};
  std::vector<std::int8_t> input, weights;
  std::vector<std::int32_t> bias;
  std::vector<RequantEntry> requant;
  runtime::TensorShape in, out;
};

std::uint16_t bits16(const std::vector<std::int8_t>& bytes, std::size_t i) {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(bytes[2 * i]) |
                                    (static_cast<std::uint8_t>(bytes[2 * i + 1]) << 8));
}

// binary16 bits to their exact value, independently of models/common/half.h.
double half_value(std::uint16_t h) {
  const double sign = (h & 0x8000) != 0 ? -1.0 : 1.0;
  const int exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  if (exponent == 0x1F) return mantissa != 0 ? std::nan("") : sign * INFINITY;
  return exponent == 0 ? sign * std::ldexp(mantissa, -24) : sign * std::ldexp(1024 + mantissa, exponent - 25);
}

bool random_job(std::mt19937& rng, Datatype datatype, DatatypeJob& d) {
  std::uniform_int_distribution<int> small(1, 9);
  ClusterJob& j = d.job;
  j = ClusterJob{};
  j.op = static_cast<std::uint32_t>(JobOp::kConv2d);
  j.datatype = static_cast<std::uint32_t>(datatype);
  j.kernel_h = static_cast<std::uint8_t>(small(rng) % 4 + 1);
  j.kernel_w = static_cast<std::uint8_t>(small(rng) % 4 + 1);
  j.stride_h = static_cast<std::uint8_t>(small(rng) % 2 + 1);
  j.stride_w = static_cast<std::uint8_t>(small(rng) % 2 + 1);
  j.dilation_h = j.dilation_w = static_cast<std::uint8_t>(small(rng) % 2 + 1);
  const int pad = small(rng) % 3;
  d.in = runtime::TensorShape{small(rng) * 2, small(rng) + 4, small(rng) + 4};
  const int k_count = small(rng) + 1;
  const int span_h = (j.kernel_h - 1) * j.dilation_h + 1, span_w = (j.kernel_w - 1) * j.dilation_w + 1;
  d.out = runtime::TensorShape{k_count, (d.in.h + 2 * pad - span_h) / j.stride_h + 1,
                               (d.in.w + 2 * pad - span_w) / j.stride_w + 1};
  if (d.in.h + 2 * pad < span_h || d.in.w + 2 * pad < span_w) return false;
  const unsigned e = element_bytes(datatype);
  j.in_h = d.in.h, j.in_w = d.in.w, j.in_c = d.in.c;
  j.in_row_pitch = d.in.w * d.in.c * e;
  j.origin_y = j.origin_x = -pad;
  j.out_h = d.out.h, j.out_w = d.out.w;
  j.k_count = k_count;
  j.group_in = d.in.c;
  j.group_out = k_count;
  j.out_pixel_pitch = k_count * e;
  j.out_row_pitch = d.out.w * j.out_pixel_pitch;
  const std::size_t inputs = static_cast<std::size_t>(d.in.c) * d.in.h * d.in.w;
  const std::size_t weights = static_cast<std::size_t>(k_count) * j.kernel_h * j.kernel_w * d.in.c;
  d.input.resize(inputs * e);
  d.weights.resize(weights * e);
  d.bias.resize(k_count);
  d.requant.clear();
  if (datatype == Datatype::kFp16) {
    // Magnitudes in [2^-4, 2^2) with random sign and mantissa.
    const auto half_bits = [&] {
      return static_cast<std::uint32_t>(((rng() & 1) << 15) | ((11 + rng() % 6) << 10) | (rng() & 0x3FF));
    };
    for (std::size_t i = 0; i < inputs; ++i) {
      const auto h = half_bits();
      d.input[2 * i] = static_cast<std::int8_t>(h & 0xFF);
      d.input[2 * i + 1] = static_cast<std::int8_t>(h >> 8);
    }
    for (std::size_t i = 0; i < weights; ++i) {
      const auto h = half_bits();
      d.weights[2 * i] = static_cast<std::int8_t>(h & 0xFF);
      d.weights[2 * i + 1] = static_cast<std::int8_t>(h >> 8);
    }
    for (auto& b : d.bias) {
      const float f = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 256.0f;
      std::memcpy(&b, &f, sizeof b);
    }
    if (rng() & 1) j.flags |= kJobFp16Relu;
    return true;
  }
  const bool wide = datatype == Datatype::kInt16;
  const std::int32_t lo = wide ? -32768 : -8, hi = wide ? 32767 : 7;
  std::uniform_int_distribution<std::int32_t> value(lo, hi);
  const auto store = [&](std::vector<std::int8_t>& t, std::size_t i, std::int32_t v) {
    if (!wide) {
      t[i] = static_cast<std::int8_t>(v);
      return;
    }
    t[2 * i] = static_cast<std::int8_t>(v & 0xFF);
    t[2 * i + 1] = static_cast<std::int8_t>((static_cast<std::uint32_t>(v) >> 8) & 0xFF);
  };
  for (std::size_t i = 0; i < inputs; ++i) store(d.input, i, value(rng));
  for (std::size_t i = 0; i < weights; ++i) store(d.weights, i, value(rng));
  // int16 sums of full-range products overflow 32 bits (not the 48-bit accumulator).
  for (auto& b : d.bias) b = static_cast<std::int32_t>(rng());
  j.input_zero_point = std::uniform_int_distribution<int>(lo / 4, hi / 4)(rng);
  j.output_zero_point = std::uniform_int_distribution<int>(lo / 4, hi / 4)(rng);
  j.act_min = (rng() & 1) ? j.output_zero_point : lo;
  j.act_max = hi;
  // Scales that keep most outputs inside the range: int4 sums stay small,
  // int16 sums span several times ±2^31.
  std::uniform_real_distribution<double> real(1e-3, 0.9);
  for (int k = 0; k < k_count; ++k) {
    const auto m = runtime::quantize_multiplier(real(rng) * (wide ? 1e-5 : 0.1));
    d.requant.push_back({m.multiplier, m.shift});
  }
  return true;
}

// The host's loop nest: exact sums of (x - zero point) × w (int4 taken modulo
// 2^32, int16 exact in int64), as doubles for fp16; padding contributes nothing.
template <typename Term>
void for_each_output(const DatatypeJob& d, Term term) {
  const ClusterJob& j = d.job;
  for (int oy = 0; oy < d.out.h; ++oy)
    for (int ox = 0; ox < d.out.w; ++ox)
      for (int k = 0; k < d.out.c; ++k) {
        std::vector<std::pair<std::size_t, std::size_t>> taps;  // (input element, weight element)
        for (int ky = 0; ky < j.kernel_h; ++ky)
          for (int kx = 0; kx < j.kernel_w; ++kx) {
            const int y = j.origin_y + oy * j.stride_h + ky * j.dilation_h;
            const int x = j.origin_x + ox * j.stride_w + kx * j.dilation_w;
            if (y < 0 || y >= d.in.h || x < 0 || x >= d.in.w) continue;
            for (int c = 0; c < d.in.c; ++c)
              taps.emplace_back((static_cast<std::size_t>(y) * d.in.w + x) * d.in.c + c,
                                ((static_cast<std::size_t>(k) * j.kernel_h + ky) * j.kernel_w + kx) * d.in.c + c);
          }
        term((static_cast<std::size_t>(oy) * d.out.w + ox) * d.out.c + k, k, taps);
      }
}

void expect_integer_jobs_exact(Datatype datatype, unsigned seed) {
  std::mt19937 rng(seed);
  const bool wide = datatype == Datatype::kInt16;
  DatatypeJob d;
  for (int trial = 0, run = 0; trial < 200; ++trial) {
    if (!random_job(rng, datatype, d)) continue;
    ++run;
    const auto element = [&](const std::vector<std::int8_t>& t, std::size_t i) -> std::int64_t {
      return wide ? static_cast<std::int16_t>(bits16(t, i)) : t[i];
    };
    std::vector<std::int32_t> expected(static_cast<std::size_t>(d.out.c) * d.out.h * d.out.w);
    for_each_output(d, [&](std::size_t o, int k, const auto& taps) {
      std::int64_t acc = d.bias[k];
      for (const auto& [x, w] : taps) acc += (element(d.input, x) - d.job.input_zero_point) * element(d.weights, w);
      const auto acc32 = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc));
      const runtime::FixedPointMultiplier m{d.requant[k].multiplier, d.requant[k].shift};
      const std::int32_t v = (wide ? runtime::multiply_by_quantized_multiplier_int64(acc, m)
                                   : runtime::multiply_by_quantized_multiplier(acc32, m)) +
                             d.job.output_zero_point;
      expected[o] = std::clamp(v, d.job.act_min, d.job.act_max);
    });
    std::vector<std::int8_t> got(expected.size() * element_bytes(datatype));
    JobOperands operands;
    operands.tile = d.input.data();
    operands.weights = d.weights.data();
    operands.bias = d.bias.data();
    operands.requant = d.requant.data();
    run_job(d.job, operands, got.data());
    for (std::size_t i = 0; i < expected.size(); ++i)
      ASSERT_EQ(element(got, i), expected[i]) << "trial " << trial << " element " << i;
  }
}

TEST(ClusterKernel, RandomInt4JobsAreBitExact) { expect_integer_jobs_exact(Datatype::kInt4, 21); }
TEST(ClusterKernel, RandomInt16JobsAreBitExactWith48BitAccumulation) {
  expect_integer_jobs_exact(Datatype::kInt16, 22);
}

// fp16 against double math on the same half inputs, with the tolerance the
// workload check uses (sw/runtime/lowering/conv_workload.h): one half ulp at the
// result + 1e-3 relative + n fp32 roundings of the summed magnitudes.
TEST(ClusterKernel, RandomFp16JobsMatchDoubleReferenceWithinTolerance) {
  std::mt19937 rng(23);
  DatatypeJob d;
  std::size_t checked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    if (!random_job(rng, Datatype::kFp16, d)) continue;
    std::vector<std::int8_t> got(static_cast<std::size_t>(d.out.c) * d.out.h * d.out.w * 2);
    JobOperands operands;
    operands.tile = d.input.data();
    operands.weights = d.weights.data();
    operands.bias = d.bias.data();
    run_job(d.job, operands, got.data());
    const bool relu = (d.job.flags & kJobFp16Relu) != 0;
    for_each_output(d, [&](std::size_t o, int k, const auto& taps) {
      float bias;
      std::memcpy(&bias, &d.bias[k], sizeof bias);
      double acc = bias, magnitude = std::fabs(bias);
      for (const auto& [x, w] : taps) {
        const double t = half_value(bits16(d.input, x)) * half_value(bits16(d.weights, w));
        acc += t;
        magnitude += std::fabs(t);
      }
      if (relu) acc = std::max(acc, 0.0);
      int exponent = 0;
      std::frexp(acc, &exponent);
      const double tolerance = std::ldexp(1.0, std::max(exponent - 11, -24)) + 1e-3 * std::fabs(acc) +
                               static_cast<double>(taps.size() + 1) * std::ldexp(magnitude, -24);
      const double npu = half_value(bits16(got, o));
      ASSERT_LE(std::fabs(npu - acc), tolerance) << "trial " << trial << " element " << o;
      if (relu) {
        ASSERT_GE(npu, 0.0);
      }
      ++checked;
    });
  }
  EXPECT_GT(checked, 1000u);
}

}  // namespace
}  // namespace npuvp::pe_array

namespace npuvp::pe_array {
namespace {

// A whole-image pooling or add job for the tile/image geometry of `in`.
ClusterJob whole_image_job(JobOp op, const runtime::TensorShape& in, const runtime::TensorShape& out) {
  ClusterJob job{};
  job.op = static_cast<std::uint32_t>(op);
  job.in_h = in.h, job.in_w = in.w, job.in_c = in.c;
  job.in_row_pitch = in.w * in.c;
  job.out_h = out.h, job.out_w = out.w;
  job.k_count = in.c;
  job.out_pixel_pitch = in.c;
  job.out_row_pitch = out.w * in.c;
  job.stride_h = job.stride_w = job.dilation_h = job.dilation_w = 1;
  job.kernel_h = job.kernel_w = 1;
  job.image_h = in.h, job.image_w = in.w;
  job.act_min = -128, job.act_max = 127;
  return job;
}

TEST(ClusterKernel, RandomPoolJobsAreBitExact) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    std::uniform_int_distribution<int> small(1, 7);
    runtime::PoolParams p;
    p.kernel_h = small(rng) % 4 + 1;
    p.kernel_w = small(rng) % 4 + 1;
    p.stride_h = small(rng) % 3 + 1;
    p.stride_w = small(rng) % 3 + 1;
    p.pad.top = small(rng) % p.kernel_h;
    p.pad.left = small(rng) % p.kernel_w;
    p.pad.bottom = small(rng) % p.kernel_h;
    p.pad.right = small(rng) % p.kernel_w;
    p.count_include_pad = trial % 3 == 0;
    p.zero_point = static_cast<int>(rng() % 21) - 10;
    const bool is_max = trial % 2 == 0;
    if (is_max) p.count_include_pad = false;
    const runtime::TensorShape in{small(rng) * 2 + 1, small(rng) + 4, small(rng) + 4};
    const runtime::TensorShape out = runtime::pool_output_shape(in, p);
    if (out.h <= 0 || out.w <= 0) continue;
    std::vector<std::int8_t> input(static_cast<std::size_t>(in.c) * in.h * in.w);
    for (auto& v : input) v = static_cast<std::int8_t>(rng());
    const auto expected = is_max ? runtime::max_pool(input, in, p) : runtime::average_pool(input, in, p);
    ClusterJob job = whole_image_job(is_max ? JobOp::kMaxPool : JobOp::kAvgPool, in, out);
    contract::write_window_fields(job, contract::ConvWindow{p});
    job.origin_y = -p.pad.top;
    job.origin_x = -p.pad.left;
    job.input_zero_point = p.zero_point;
    if (p.count_include_pad) job.flags |= kJobCountIncludePad;
    std::vector<std::int8_t> got(expected.size());
    JobOperands operands;
    operands.tile = input.data();
    run_job(job, operands, got.data());
    ASSERT_EQ(got, expected) << "trial " << trial << (is_max ? " max" : " avg");
  }
}

TEST(ClusterKernel, RandomAddJobsAreBitExact) {
  std::mt19937 rng(9);
  for (int trial = 0; trial < 100; ++trial) {
    const runtime::TensorShape shape{static_cast<int>(rng() % 17) + 1, static_cast<int>(rng() % 9) + 1,
                                     static_cast<int>(rng() % 9) + 1};
    std::uniform_real_distribution<float> scale(0.01f, 0.2f);
    const runtime::QuantParams q1{scale(rng), static_cast<int>(rng() % 41) - 20};
    const runtime::QuantParams q2{scale(rng), static_cast<int>(rng() % 41) - 20};
    const runtime::QuantParams qo{scale(rng), static_cast<int>(rng() % 41) - 20};
    const auto p =
        runtime::make_add_params(q1, q2, qo, trial % 2 ? runtime::Activation::kRelu : runtime::Activation::kNone);
    std::vector<std::int8_t> a(shape.size()), b(shape.size());
    for (auto& v : a) v = static_cast<std::int8_t>(rng());
    for (auto& v : b) v = static_cast<std::int8_t>(rng());
    const auto expected = runtime::add(a, b, shape, p);
    ClusterJob job = whole_image_job(JobOp::kAdd, shape, shape);
    job.input_zero_point = -p.input1_offset;
    job.in2_zero_point = -p.input2_offset;
    job.output_zero_point = p.output_offset;
    job.left_shift = p.left_shift;
    job.in1_multiplier = p.input1_multiplier.multiplier, job.in1_shift = p.input1_multiplier.shift;
    job.in2_multiplier = p.input2_multiplier.multiplier, job.in2_shift = p.input2_multiplier.shift;
    job.out_multiplier = p.output_multiplier.multiplier, job.out_shift = p.output_multiplier.shift;
    job.act_min = p.act_min, job.act_max = p.act_max;
    std::vector<std::int8_t> got(expected.size());
    JobOperands operands;
    operands.tile = a.data();
    operands.tile2 = b.data();
    run_job(job, operands, got.data());
    ASSERT_EQ(got, expected) << "trial " << trial;
  }
}

}  // namespace
}  // namespace npuvp::pe_array
