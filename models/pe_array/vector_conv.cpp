#include "models/pe_array/vector_conv.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "models/pe_array/job_layout.h"

namespace npuvp::pe_array {
namespace {

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// `count` rows of `row` bytes whose first `used` bytes the caller writes:
// only the tails past them, which the dot products read, are zeroed. A
// zero-initialised vector cleared the whole of every job's filters and
// patches, nearly all of it then overwritten.
std::unique_ptr<std::uint8_t[]> rows_with_zero_tails(std::size_t count, std::size_t row, std::size_t used) {
  std::unique_ptr<std::uint8_t[]> rows(new std::uint8_t[count * row]);
  for (std::size_t r = 0; r < count; ++r) std::memset(&rows[r * row + used], 0, row - used);
  return rows;
}

// The loops below run per job over every weight and per output pixel
// over every tap: compiled once per ISA, the loader's resolver picking the
// widest the CPU has (integer sums and copies: the same result in each).
// GCC's spelling; other compilers build the portable loop.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NPUVP_KERNEL_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define NPUVP_KERNEL_CLONES
#endif

// sums[r] = Σ v[r × n + i], i < n, for each of `runs` runs of n values.
NPUVP_KERNEL_CLONES void run_sums(const std::int8_t* v, std::size_t runs, std::size_t n, std::uint32_t* sums) {
  for (std::size_t r = 0; r < runs; ++r) {
    std::int32_t s = 0;
    for (std::size_t i = 0; i < n; ++i) s += v[r * n + i];
    sums[r] = static_cast<std::uint32_t>(s);
  }
}

// One output pixel's patch rows: for each of `count` taps j and each group g,
// the cg values at src[j] + g × cg go to patch + g × row + at[j], each
// written by put(row, i, value). One call per pixel: a call per tap, through
// the clones' resolver, cost more than its copy (a 7×7 stem's taps are 3
// bytes each, a 3×3 layer's 64).
template <typename Put>
inline __attribute__((always_inline)) void gather_taps(std::uint8_t* patch, std::size_t row, std::size_t groups,
                                                       std::size_t cg, const std::int8_t* const* src,
                                                       const std::size_t* at, std::size_t count, Put put) {
  for (std::size_t j = 0; j < count; ++j)
    for (std::size_t g = 0; g < groups; ++g) {
      std::uint8_t* dst = patch + g * row + at[j];
      const std::int8_t* v = src[j] + g * cg;
      for (std::size_t i = 0; i < cg; ++i) put(dst, i, v[i]);
    }
}

// For vpdpbusd, the values offset by 128 to unsigned bytes.
NPUVP_KERNEL_CLONES void gather_offset(std::uint8_t* patch, std::size_t row, std::size_t groups, std::size_t cg,
                                       const std::int8_t* const* src, const std::size_t* at, std::size_t count) {
  gather_taps(patch, row, groups, cg, src, at, count,
              [](std::uint8_t* dst, std::size_t i, std::int8_t v) { dst[i] = static_cast<std::uint8_t>(v ^ 0x80); });
}

// For the dot products on int16 operands, the values sign-extended to two
// bytes, little-endian.
NPUVP_KERNEL_CLONES void gather_widened(std::uint8_t* patch, std::size_t row, std::size_t groups, std::size_t cg,
                                        const std::int8_t* const* src, const std::size_t* at, std::size_t count) {
  gather_taps(patch, row, groups, cg, src, at, count, [](std::uint8_t* dst, std::size_t i, std::int8_t v) {
    const auto u = static_cast<std::uint16_t>(static_cast<std::int16_t>(v));
    std::memcpy(dst + 2 * i, &u, 2);
  });
}

// Each of `count` runs of n values at v, sign-extended into the first 2n
// bytes of a row of `row` bytes at dst, and summed into sums[r]: a job's
// filters for the int16 dot products, converted and summed in one pass.
NPUVP_KERNEL_CLONES void widen_rows(const std::int8_t* v, std::size_t count, std::size_t n, std::uint8_t* dst,
                                    std::size_t row, std::uint32_t* sums) {
  for (std::size_t r = 0; r < count; ++r) {
    std::int32_t s = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto u = static_cast<std::uint16_t>(static_cast<std::int16_t>(v[r * n + i]));
      std::memcpy(dst + r * row + 2 * i, &u, 2);
      s += v[r * n + i];
    }
    sums[r] = static_cast<std::uint32_t>(s);
  }
}

// How the dot products see their operands. vpdpbusd multiplies unsigned by
// signed bytes, so the patch holds x + 128 and the sum carries 128 × Σw,
// subtracted once per filter; otherwise both operands widen to int16.
struct U8S8 {
  static constexpr std::size_t kBytes = 1;
  static constexpr std::uint32_t kPatchOffset = 128;
};
struct S16 {
  static constexpr std::size_t kBytes = 2;
  static constexpr std::uint32_t kPatchOffset = 0;
};

template <typename F>
void store_outputs(const ClusterJob& job, const JobOperands& in, const std::uint32_t* acc, std::size_t first,
                   std::int8_t* out, const VectorIsa& isa) {
  const std::int32_t lo = std::max(job.act_min, F::kMin), hi = std::min(job.act_max, F::kMax);
  if constexpr (F::kBytes == 1) {
    const std::int32_t zp = job.output_zero_point;
    if (isa.requantize_bytes != nullptr && zp >= -kVectorZeroPointLimit && zp <= kVectorZeroPointLimit && lo <= hi)
      return isa.requantize_bytes(acc, in.requant, job.k_count, zp, lo, hi, out + first);
  }
  for (std::uint32_t k = 0; k < job.k_count; ++k) {
    const std::int64_t r =
        std::int64_t{requantize(static_cast<std::int32_t>(acc[k]), in.requant[k])} + job.output_zero_point;
    F::store(out, first + k, static_cast<std::int32_t>(std::clamp<std::int64_t>(r, lo, hi)));
  }
}

// A pixel's sums as results, or held in the array for the next job (kJobHoldSums).
template <typename F>
void store_or_hold(const ClusterJob& job, const JobOperands& in, const std::uint32_t* acc, std::size_t first,
                   std::int8_t* out, const VectorIsa& isa) {
  if ((job.flags & kJobHoldSums) == 0) return store_outputs<F>(job, in, acc, first, out, isa);
  for (std::size_t k = 0; k < job.k_count; ++k) in.held[first + k] = static_cast<std::int32_t>(acc[k]);
}

// Each output pixel's taps are gathered into one patch row per group, padded
// taps as 0; the zero point is folded in per filter as the scalar kernel
// does (−zp × Σw over the taps inside the tile), so the dot products run over
// whole filters without branches.
template <typename F, typename Op>
void conv_patches(const ClusterJob& job, const JobOperands& in, std::int8_t* out, const VectorIsa& isa,
                  void (*dot)(const std::uint8_t*, const std::uint8_t*, std::size_t, std::size_t, std::uint32_t*)) {
  static_assert(F::kBytes == 1, "the taps are gathered and the filters summed as bytes");
  const int taps = job.kernel_h * job.kernel_w;
  const std::size_t cg = job.group_in;
  const std::size_t filter_size = taps * cg;
  const std::size_t row = round_up(filter_size * Op::kBytes, kRowAlign);
  const std::size_t groups = (job.k_count - 1) / job.group_out + 1;
  const auto zp = static_cast<std::uint32_t>(job.input_zero_point);
  // One byte per value both sides: a filter row is the weights as stored,
  // read where they are when a filter fills its rows exactly (channels in
  // multiples of 64, as most layers have), copied into padded rows otherwise.
  constexpr bool kBytewise = Op::kBytes == 1;
  const bool in_place = kBytewise && row == filter_size;
  std::unique_ptr<std::uint8_t[]> copied;
  if (!in_place) copied = rows_with_zero_tails(job.k_count, row, filter_size * Op::kBytes);
  const std::uint8_t* filters = in_place ? reinterpret_cast<const std::uint8_t*>(in.weights) : copied.get();
  // Σw per filter and per tap: the zero point is folded in per filter, and a
  // padded tap's part taken back out. The per-tap sums are needed only for a
  // padded tap under a nonzero zero point, so they are summed then.
  std::vector<std::uint32_t> tap_sum, total(job.k_count, 0), base(job.k_count);
  bool tap_sums_known = false;
  if constexpr (kBytewise) {
    for (std::size_t k = 0; k < job.k_count && !in_place; ++k)
      std::memcpy(&copied[k * row], in.weights + k * filter_size, filter_size);
    // A dot product with ones (the tails are zero).
    const std::vector<std::uint8_t> ones(row, 1);
    dot(ones.data(), filters, row, job.k_count, total.data());
  } else {
    widen_rows(in.weights, job.k_count, filter_size, copied.get(), row, total.data());
  }
  for (std::size_t k = 0; k < job.k_count; ++k)
    base[k] = static_cast<std::uint32_t>(in.bias[k]) - (zp + Op::kPatchOffset) * total[k];
  const auto patch = rows_with_zero_tails(groups, row, filter_size * Op::kBytes);
  std::vector<std::uint32_t> acc(job.k_count);
  // The pixel's taps inside the tile and where their values go in a patch
  // row, gathered in one call.
  std::vector<const std::int8_t*> tap_src(taps);
  std::vector<std::size_t> tap_at(taps);
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox) {
      const Window w = window(job, oy, ox);
      const std::size_t first = (static_cast<std::size_t>(oy) * job.out_w + ox) * job.k_count;
      acc = base;
      if (job.flags & kJobAccumulate)
        for (std::size_t k = 0; k < job.k_count; ++k)
          acc[k] += static_cast<std::uint32_t>(in.sums[first + k]) - static_cast<std::uint32_t>(in.bias[k]);
      std::size_t inside = 0;
      for (int ky = 0; ky < job.kernel_h; ++ky) {
        for (int kx = 0; kx < job.kernel_w; ++kx) {
          const std::size_t t = static_cast<std::size_t>(ky) * job.kernel_w + kx;
          if (ky >= w.ky_lo && ky < w.ky_hi && kx >= w.kx_lo && kx < w.kx_hi) {
            tap_src[inside] = tap_pixel(job, w, in.tile, ky, kx, F::kBytes);
            tap_at[inside++] = t * cg * Op::kBytes;
            continue;
          }
          // A 0, offset as the taps inside are.
          for (std::size_t g = 0; g < groups; ++g)
            std::memset(&patch[g * row + t * cg * Op::kBytes], Op::kPatchOffset, cg * Op::kBytes);
          if (zp == 0) continue;
          if (!tap_sums_known) {
            tap_sum.resize(static_cast<std::size_t>(job.k_count) * taps);
            run_sums(in.weights, job.k_count * taps, cg, tap_sum.data());
            tap_sums_known = true;
          }
          for (std::size_t k = 0; k < job.k_count; ++k) acc[k] += zp * tap_sum[k * taps + t];
        }
      }
      if constexpr (kBytewise)
        gather_offset(patch.get(), row, groups, cg, tap_src.data(), tap_at.data(), inside);
      else
        gather_widened(patch.get(), row, groups, cg, tap_src.data(), tap_at.data(), inside);
      for (std::size_t g = 0; g < groups; ++g) {
        const std::size_t k0 = g * job.group_out;
        const std::size_t count = std::min<std::size_t>(job.group_out, job.k_count - k0);
        dot(&patch[g * row], &filters[k0 * row], row, count, &acc[k0]);
      }
      store_or_hold<F>(job, in, acc.data(), first, out, isa);
    }
  }
}

// One filter per channel: lanes run across channels, weights transposed to
// tap-major rows once per job.
template <typename F>
void conv_depthwise(const ClusterJob& job, const JobOperands& in, std::int8_t* out, const VectorIsa& isa) {
  const int taps = job.kernel_h * job.kernel_w;
  const std::size_t stride = round_up(job.k_count, kLanes);
  std::vector<std::int32_t> weights(taps * stride);
  for (std::size_t k = 0; k < job.k_count; ++k)
    for (int t = 0; t < taps; ++t) weights[t * stride + k] = F::load(in.weights, k * taps + t);
  std::vector<std::uint32_t> acc(stride);
  std::vector<const std::int8_t*> tap_ptr(taps);
  std::vector<int> tap_index(taps);
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox) {
      const int valid = valid_taps(job, oy, ox, in.tile, F::kBytes, tap_ptr, tap_index);
      const std::size_t first = (static_cast<std::size_t>(oy) * job.out_w + ox) * job.k_count;
      for (std::size_t k = 0; k < job.k_count; ++k)
        acc[k] = static_cast<std::uint32_t>(job.flags & kJobAccumulate ? in.sums[first + k] : in.bias[k]);
      isa.depthwise(tap_ptr.data(), tap_index.data(), valid, F::kBytes, weights.data(), stride, job.k_count,
                    job.input_zero_point, acc.data());
      store_or_hold<F>(job, in, acc.data(), first, out, isa);
    }
  }
}

template <typename F>
void conv_bytes(const ClusterJob& job, const JobOperands& in, std::int8_t* out, const VectorIsa& isa) {
  if (job.group_in == 1 && job.group_out == 1) return conv_depthwise<F>(job, in, out, isa);
  if constexpr (F::kBytes == 1)
    if (isa.dot_u8s8) return conv_patches<F, U8S8>(job, in, out, isa, isa.dot_u8s8);
  conv_patches<F, S16>(job, in, out, isa, isa.dot_s16);
}

}  // namespace

void conv_vector(const ClusterJob& job, const JobOperands& in, std::int8_t* out, const VectorIsa& isa) {
  if (job.k_count == 0) return;
  switch (static_cast<Datatype>(job.datatype)) {
    case Datatype::kInt8:
      return conv_bytes<Int8Format>(job, in, out, isa);
    case Datatype::kInt4:
      return conv_bytes<Int4Format>(job, in, out, isa);
    case Datatype::kInt16:  // a 48-bit accumulator: the scalar kernel's
    case Datatype::kFp16:
      break;  // the caller's
  }
}

}  // namespace npuvp::pe_array
