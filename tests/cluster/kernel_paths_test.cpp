// Every vector path of the cluster kernel gives the scalar path's bits, on
// random integer convolution jobs of every shape the kernel takes: odd sizes,
// taps outside the tile, strides, dilations, groups, depthwise, a channel
// offset into a wider tile, and int8, int4 and int16 operands.
#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "models/pe_array/cluster_kernel.h"
#include "models/pe_array/vector_conv.h"

namespace npuvp::pe_array {
namespace {

struct RandomJob {
  ClusterJob job{};
  std::vector<std::int8_t> tile, weights;
  std::vector<std::int32_t> bias;
  std::vector<RequantEntry> requant;
  JobOperands operands() const { return {tile.data(), nullptr, weights.data(), bias.data(), requant.data()}; }
  std::size_t out_bytes() const {
    return static_cast<std::size_t>(job.out_h) * job.out_w * job.k_count * element_bytes(Datatype(job.datatype));
  }
};

enum class Shape { kDense, kGrouped, kDepthwise };

// extreme: every element the most negative value, for the operand-sign and
// vpmaddwd-overflow corners.
RandomJob random_job(std::mt19937& rng, Datatype datatype, Shape shape, bool extreme) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  RandomJob r;
  ClusterJob& j = r.job;
  j.op = static_cast<std::uint32_t>(JobOp::kConv2d);
  j.datatype = static_cast<std::uint32_t>(datatype);
  j.kernel_h = pick(1, 5), j.kernel_w = pick(1, 5);
  j.stride_h = pick(1, 3), j.stride_w = pick(1, 3);
  j.dilation_h = pick(1, 2), j.dilation_w = pick(1, 2);
  const int groups = shape == Shape::kDense ? 1 : pick(2, 40);
  j.group_in = shape == Shape::kDepthwise ? 1 : pick(1, shape == Shape::kDense ? 150 : 9);
  // Filters that fill whole 64-byte rows, as layers of 64 channels do, are
  // read where they are rather than copied into padded rows.
  if (shape == Shape::kDense && pick(0, 3) == 0) j.group_in = 64 * pick(1, 2);
  j.group_out = shape == Shape::kDepthwise ? 1 : pick(1, 13);
  j.k_count = shape == Shape::kDepthwise ? groups : (groups - 1) * j.group_out + pick(1, j.group_out);
  const std::uint32_t groups_read = (j.k_count - 1) / j.group_out + 1;
  j.in_channel_offset = pick(0, 3);
  j.in_c = j.in_channel_offset + groups_read * j.group_in + pick(0, 3);
  j.in_h = pick(1, 9), j.in_w = pick(1, 9);
  const unsigned eb = element_bytes(datatype);
  j.in_row_pitch = j.in_w * j.in_c * eb + pick(0, 5);
  j.origin_y = pick(-2, 1), j.origin_x = pick(-2, 1);
  j.out_h = pick(1, 6), j.out_w = pick(1, 6);
  j.out_pixel_pitch = j.k_count;
  const int range = datatype == Datatype::kInt16 ? 32768 : datatype == Datatype::kInt4 ? 8 : 128;
  j.input_zero_point = extreme ? -range : pick(-range, range - 1);
  j.output_zero_point = pick(-5, 5);
  j.act_min = -range + pick(0, 3), j.act_max = range - 1 - pick(0, 3);
  auto fill = [&](std::vector<std::int8_t>& v, std::size_t elements) {
    v.resize(elements * eb);
    for (std::size_t i = 0; i < elements; ++i) {
      const int x = extreme ? -range : pick(-range, range - 1);
      for (unsigned b = 0; b < eb; ++b) v[i * eb + b] = static_cast<std::int8_t>(x >> (8 * b));
    }
  };
  fill(r.tile, (j.in_row_pitch * j.in_h + eb - 1) / eb);
  fill(r.weights, static_cast<std::size_t>(j.k_count) * j.kernel_h * j.kernel_w * j.group_in);
  for (std::uint32_t k = 0; k < j.k_count; ++k) {
    // A bias near the int32 limits makes the accumulator wrap.
    r.bias.push_back(k % 5 == 0 ? std::numeric_limits<std::int32_t>::max() - pick(0, 1000) : pick(-50000, 50000));
    r.requant.push_back({pick(1 << 29, std::numeric_limits<std::int32_t>::max()), pick(-14, 1)});
  }
  return r;
}

std::vector<std::int8_t> run(const RandomJob& r, KernelPath path) {
  std::vector<std::int8_t> out(r.out_bytes());
  run_job(r.job, r.operands(), out.data(), path);
  return out;
}

void expect_paths_agree(KernelPath path, Datatype datatype) {
  if (!kernel_path_supported(path)) GTEST_SKIP() << kernel_path_name(path) << " is not supported by this CPU";
  std::mt19937 rng(17 + static_cast<int>(datatype));
  std::set<std::int8_t> seen;  // the outputs are not all one clamped value
  for (int trial = 0; trial < 600; ++trial) {
    const auto shape = static_cast<Shape>(trial % 3);
    const RandomJob r = random_job(rng, datatype, shape, trial % 50 == 49);
    const auto scalar = run(r, KernelPath::kScalar);
    ASSERT_EQ(run(r, path), scalar) << kernel_path_name(path) << " trial " << trial << " shape "
                                    << static_cast<int>(shape) << " k_count " << r.job.k_count << " group_in "
                                    << r.job.group_in << " group_out " << r.job.group_out;
    seen.insert(scalar.begin(), scalar.end());
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(KernelPaths, Avx2MatchesScalarInt8) { expect_paths_agree(KernelPath::kAvx2, Datatype::kInt8); }
TEST(KernelPaths, Avx2MatchesScalarInt4) { expect_paths_agree(KernelPath::kAvx2, Datatype::kInt4); }
TEST(KernelPaths, Avx2MatchesScalarInt16) { expect_paths_agree(KernelPath::kAvx2, Datatype::kInt16); }
TEST(KernelPaths, Avx512MatchesScalarInt8) { expect_paths_agree(KernelPath::kAvx512, Datatype::kInt8); }
TEST(KernelPaths, Avx512MatchesScalarInt4) { expect_paths_agree(KernelPath::kAvx512, Datatype::kInt4); }
TEST(KernelPaths, Avx512MatchesScalarInt16) { expect_paths_agree(KernelPath::kAvx512, Datatype::kInt16); }

// A dense job's reduction split over two or three jobs, each reading its
// run of the input channels with its weights' part: the first holds its sums
// (kJobHoldSums), the next start from them (kJobAccumulate), and the last
// gives the unsplit job's bits, on every path and datatype.
void expect_split_reduction_agrees(KernelPath path, Datatype datatype) {
  if (!kernel_path_supported(path)) GTEST_SKIP() << kernel_path_name(path) << " is not supported by this CPU";
  std::mt19937 rng(41 + static_cast<int>(datatype));
  for (int trial = 0; trial < 200; ++trial) {
    const RandomJob r = random_job(rng, datatype, Shape::kDense, trial % 50 == 49);
    const std::uint32_t cg = r.job.group_in, taps = r.job.kernel_h * r.job.kernel_w;
    if (cg < 2) continue;
    std::vector<std::uint32_t> cuts{0, std::uniform_int_distribution<std::uint32_t>(1, cg - 1)(rng), cg};
    if (cuts[1] + 1 < cg && trial % 2 == 0)
      cuts.insert(cuts.begin() + 2, std::uniform_int_distribution<std::uint32_t>(cuts[1] + 1, cg - 1)(rng));
    const unsigned eb = element_bytes(datatype);
    std::vector<std::int64_t> sums(std::size_t{r.job.out_h} * r.job.out_w * r.job.k_count), held(sums.size());
    std::vector<std::int8_t> out(r.out_bytes());
    for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
      RandomJob part = r;
      part.job.group_in = cuts[c + 1] - cuts[c];
      part.job.in_channel_offset += cuts[c];
      part.job.flags |= (c > 0 ? kJobAccumulate : 0) | (c + 2 < cuts.size() ? kJobHoldSums : 0);
      part.weights.clear();
      for (std::uint32_t k = 0; k < r.job.k_count; ++k)
        for (std::uint32_t t = 0; t < taps; ++t) {
          const auto* from = &r.weights[((std::size_t{k} * taps + t) * cg + cuts[c]) * eb];
          part.weights.insert(part.weights.end(), from, from + std::size_t{part.job.group_in} * eb);
        }
      JobOperands in = part.operands();
      in.sums = sums.data();
      in.held = held.data();
      run_job(part.job, in, out.data(), path);
      sums = held;
    }
    ASSERT_EQ(out, run(r, KernelPath::kScalar)) << kernel_path_name(path) << " datatype " << static_cast<int>(datatype)
                                                << " trial " << trial << " cut at " << cuts[1] << " of " << cg;
  }
}

TEST(KernelPaths, AReductionSplitOverJobsGivesTheUnsplitBits) {
  for (const KernelPath path : {KernelPath::kScalar, KernelPath::kAvx2, KernelPath::kAvx512})
    for (const Datatype d : {Datatype::kInt8, Datatype::kInt4, Datatype::kInt16}) {
      SCOPED_TRACE(kernel_path_name(path));
      if (kernel_path_supported(path)) expect_split_reduction_agrees(path, d);
    }
}

// The vector output stage gives the scalar requantize()'s bits over the whole
// int32 range of accumulators and multipliers (the one overflow case of the
// doubling high multiply, INT32_MIN x INT32_MIN, included), every shift from
// 31 right to 31 left, ties, counts that leave a partial vector, and any
// zero point and clamp of an int8 output.
TEST(KernelPaths, VectorRequantizationMatchesScalar) {
  for (const KernelPath path : {KernelPath::kAvx2, KernelPath::kAvx512}) {
    if (!kernel_path_supported(path)) continue;
    const VectorIsa* isa = vector_isa(path);
    ASSERT_NE(isa, nullptr);
    ASSERT_NE(isa->requantize_bytes, nullptr) << kernel_path_name(path);
    std::mt19937 rng(5);
    auto pick = [&](std::int64_t lo, std::int64_t hi) {
      return static_cast<std::int32_t>(std::uniform_int_distribution<std::int64_t>(lo, hi)(rng));
    };
    constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min(),
                           kMax = std::numeric_limits<std::int32_t>::max();
    for (int trial = 0; trial < 2000; ++trial) {
      const auto count = static_cast<std::uint32_t>(pick(1, 40));
      std::vector<std::uint32_t> acc(count);
      std::vector<RequantEntry> rq(count);
      for (std::uint32_t k = 0; k < count; ++k) {
        const int corner = pick(0, 9);
        acc[k] = static_cast<std::uint32_t>(corner == 0 ? kMin : corner == 1 ? kMax : pick(kMin, kMax));
        // Small accumulators with large shifts land on ties of the rounding shift.
        if (corner == 2) acc[k] = static_cast<std::uint32_t>(pick(-4096, 4096));
        rq[k] = {corner == 0 || corner == 3 ? kMin : pick(kMin, kMax), pick(-31, 31)};
        if (rq[k].shift > 0) acc[k] >>= rq[k].shift;  // left shifts that keep the value's bits
        // A negative product plus its nudge exactly -2^31: the division's
        // rounding toward zero decides it (-1, not 0).
        if (corner == 4) acc[k] = static_cast<std::uint32_t>(-(1 << 30) - 1), rq[k] = {1, 0};
      }
      const std::int32_t zp = pick(-128, 127), lo = pick(-128, 0), hi = pick(lo, 127);
      std::vector<std::int8_t> vector(count + 1, 42), scalar(count + 1, 42);
      isa->requantize_bytes(acc.data(), rq.data(), count, zp, lo, hi, vector.data());
      for (std::uint32_t k = 0; k < count; ++k)
        scalar[k] = static_cast<std::int8_t>(
            std::clamp<std::int64_t>(std::int64_t{requantize(static_cast<std::int32_t>(acc[k]), rq[k])} + zp, lo, hi));
      ASSERT_EQ(vector, scalar) << kernel_path_name(path) << " trial " << trial;  // and nothing past count written
    }
  }
}

// TFLite ADD on the vector path (an add job, and a convolution's fused add)
// gives the scalar path's bits: random multipliers over the whole int32
// range, every shift a layer may take, every left shift up to 22, zero
// points within an int8's range and beyond the vector loop's (where the
// scalar loop runs), and counts that leave a partial vector.
void expect_vector_add_agrees(KernelPath path) {
  if (!kernel_path_supported(path)) GTEST_SKIP() << kernel_path_name(path) << " is not supported by this CPU";
  ASSERT_NE(vector_isa(path)->add_bytes, nullptr);
  std::mt19937 rng(23);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return static_cast<std::int32_t>(std::uniform_int_distribution<std::int64_t>(lo, hi)(rng));
  };
  std::set<std::int8_t> seen;
  int vector_terms = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    RandomJob r;
    ClusterJob& j = r.job;
    const bool fused = trial % 2 == 1;
    j.datatype = static_cast<std::uint32_t>(Datatype::kInt8);
    j.kernel_h = j.kernel_w = j.stride_h = j.stride_w = j.dilation_h = j.dilation_w = 1;
    j.group_in = j.group_out = 1;
    j.k_count = static_cast<std::uint32_t>(pick(1, 40));
    j.in_channel_offset = fused ? 0 : static_cast<std::uint32_t>(pick(0, 3));
    j.in_c = j.in_channel_offset + j.k_count + (fused ? 0 : static_cast<std::uint32_t>(pick(0, 3)));
    j.in_h = j.out_h = static_cast<std::uint32_t>(pick(1, 4));
    j.in_w = j.out_w = static_cast<std::uint32_t>(pick(1, 4));
    j.in_row_pitch = j.in_w * j.in_c;
    j.out_pixel_pitch = j.k_count;
    const bool wide = trial % 10 == 0;  // zero points the vector loop does not take
    const auto zero = [&] { return wide ? pick(-100000, 100000) : pick(-128, 127); };
    j.left_shift = pick(0, 22);
    j.in1_multiplier = pick(1, std::numeric_limits<std::int32_t>::max()), j.in1_shift = pick(-31, 0);
    j.in2_multiplier = pick(1, std::numeric_limits<std::int32_t>::max()), j.in2_shift = pick(-31, 0);
    j.out_multiplier = pick(1, std::numeric_limits<std::int32_t>::max()), j.out_shift = pick(-31, 8);
    j.in2_zero_point = zero();
    const std::int32_t lo = pick(-128, 0), hi = pick(lo, 127);
    std::vector<std::int8_t> second(std::size_t{j.in_h} * j.in_row_pitch);
    for (auto& v : second) v = static_cast<std::int8_t>(pick(-128, 127));
    std::vector<std::int8_t> tile2;
    if (fused) {
      // A 1x1 convolution of one input channel, its result input 1.
      j.op = static_cast<std::uint32_t>(JobOp::kConv2d);
      j.fuse = kJobFuseAdd;
      j.in_c = 1, j.in_row_pitch = j.in_w, j.group_out = j.k_count;
      j.input_zero_point = pick(-128, 127), j.output_zero_point = zero();
      j.act_min = -128, j.act_max = 127;
      j.fused_output_zero_point = zero(), j.fused_act_min = lo, j.fused_act_max = hi;
      r.tile.resize(std::size_t{j.in_h} * j.in_w);
      r.weights.resize(j.k_count);
      for (auto& v : r.tile) v = static_cast<std::int8_t>(pick(-128, 127));
      for (auto& v : r.weights) v = static_cast<std::int8_t>(pick(-128, 127));
      for (std::uint32_t k = 0; k < j.k_count; ++k) {
        r.bias.push_back(pick(-5000, 5000));
        r.requant.push_back({pick(1 << 29, std::numeric_limits<std::int32_t>::max()), pick(-10, 0)});
      }
      second.resize(std::size_t{j.out_h} * j.out_w * j.k_count);
    } else {
      j.op = static_cast<std::uint32_t>(JobOp::kAdd);
      j.input_zero_point = zero(), j.output_zero_point = zero();
      j.act_min = lo, j.act_max = hi;
      r.tile.resize(second.size());
      for (auto& v : r.tile) v = static_cast<std::int8_t>(pick(-128, 127));
      tile2 = second;
    }
    JobOperands in = r.operands();
    if (fused)
      in.residual = second.data();
    else
      in.tile2 = tile2.data();
    const AddTerms terms{{j.in1_multiplier, j.in1_shift},
                         {j.in2_multiplier, j.in2_shift},
                         {j.out_multiplier, j.out_shift},
                         fused ? j.output_zero_point : j.input_zero_point,
                         j.in2_zero_point,
                         fused ? j.fused_output_zero_point : j.output_zero_point,
                         lo,
                         hi,
                         j.left_shift};
    vector_terms += vector_add_fits(terms) ? 1 : 0;
    std::vector<std::int8_t> scalar(r.out_bytes() + 1, 42), vector(r.out_bytes() + 1, 42);
    run_job(j, in, scalar.data(), KernelPath::kScalar);
    run_job(j, in, vector.data(), path);
    ASSERT_EQ(vector, scalar) << kernel_path_name(path) << " trial " << trial << (fused ? " fused" : " add");
    // (and nothing past the outputs written)
    seen.insert(scalar.begin(), scalar.end());
  }
  EXPECT_GT(seen.size(), 100u);
  EXPECT_GT(vector_terms, 1200);
}

TEST(KernelPaths, VectorAddMatchesScalarAvx2) { expect_vector_add_agrees(KernelPath::kAvx2); }
TEST(KernelPaths, VectorAddMatchesScalarAvx512) { expect_vector_add_agrees(KernelPath::kAvx512); }

// A requantized result at the int32 limit plus a positive zero point clamps
// to the activation's maximum on every path: the output stage adds the zero
// point in a wider adder instead of wrapping to a negative value.
TEST(KernelPaths, AZeroPointOnASaturatedResultClampsInsteadOfWrapping) {
  for (const Datatype datatype : {Datatype::kInt8, Datatype::kInt16}) {
    const bool wide = datatype == Datatype::kInt16;
    RandomJob r;
    ClusterJob& j = r.job;
    j.op = static_cast<std::uint32_t>(JobOp::kConv2d);
    j.datatype = static_cast<std::uint32_t>(datatype);
    j.kernel_h = j.kernel_w = j.stride_h = j.stride_w = j.dilation_h = j.dilation_w = 1;
    j.group_in = j.group_out = j.k_count = j.in_c = j.in_h = j.in_w = j.out_h = j.out_w = 1;
    j.in_row_pitch = element_bytes(datatype);
    j.out_pixel_pitch = 1;
    j.output_zero_point = 5;
    j.act_min = wide ? -32768 : -128;
    j.act_max = wide ? 32767 : 127;
    // int16: 32767 × 32767 on top of the largest bias exceeds int32 in the
    // 48-bit accumulator; int8: the largest bias alone requantizes to 2^31 - 2.
    const std::int8_t operand[2] = {wide ? std::int8_t{-1} : std::int8_t{0}, std::int8_t{0x7f}};
    r.tile.assign(operand, operand + element_bytes(datatype));
    r.weights = r.tile;
    r.bias = {std::numeric_limits<std::int32_t>::max()};
    r.requant = {{std::numeric_limits<std::int32_t>::max(), 0}};
    for (const KernelPath path : {KernelPath::kScalar, KernelPath::kAvx2, KernelPath::kAvx512}) {
      if (!kernel_path_supported(path)) continue;
      const auto out = run(r, path);
      const int value = wide ? static_cast<std::int16_t>(static_cast<std::uint8_t>(out[0]) | (out[1] << 8)) : out[0];
      EXPECT_EQ(value, j.act_max) << kernel_path_name(path) << (wide ? " int16" : " int8");
    }
  }
}

TEST(KernelPaths, NamesSelectPathsAndBadNamesSayWhatIsExpected) {
  EXPECT_EQ(parse_kernel_path("scalar"), KernelPath::kScalar);
  for (KernelPath p : {KernelPath::kAvx2, KernelPath::kAvx512}) {
    if (kernel_path_supported(p)) {
      EXPECT_EQ(parse_kernel_path(kernel_path_name(p)), p);
      continue;
    }
    try {
      parse_kernel_path(kernel_path_name(p));
      ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), std::string("NPUVP_KERNEL=") + kernel_path_name(p) + ": this CPU cannot run it");
    }
  }
  try {
    parse_kernel_path("sse");
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "NPUVP_KERNEL=sse: expected scalar, avx2 or avx512");
  }
}

}  // namespace
}  // namespace npuvp::pe_array
