#include "sw/runtime/reference/reference_simd.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "sw/runtime/reference/kernel_checks.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NPUVP_HAVE_SIMD 1
#define NPUVP_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define NPUVP_AVX2 __attribute__((target("avx2")))
#else
#define NPUVP_HAVE_SIMD 0
#endif

namespace npuvp::runtime::reference_simd {
namespace {

using Index = std::ptrdiff_t;
constexpr int kMaxPixels = 8;
// Both instruction sets broadcast 4 bytes of a pixel's input to every lane:
// four offset bytes (VNNI) or two int16 values (AVX2).
constexpr int kGroupBytes = 4;

Isa& forced() {
  static Isa isa = best_isa();
  return isa;
}

// Up to 8 output pixels of one row with the same valid taps, and one block of
// output channels of one group. Steps are in bytes.
struct Block {
  const std::uint8_t* x;   // the first pixel's first valid tap, at the group's first input channel
  Index pixel_step;        // from one pixel's window to the next
  Index row_step;          // ... from one valid kernel row to the next
  Index col_step;          // ... from one valid kernel column to the next
  int rows, cols, groups;  // valid kernel rows and columns, input groups per tap
  const std::uint8_t* w;   // the block's weights at the first valid tap
  Index w_row_step;        // from one kernel row to the next
  std::int32_t* raw;       // the first pixel's sums at the block's first channel
  Index raw_step;          // sums per pixel
  int lanes;               // output channels of the block that exist
};
using BlockFn = void (*)(const Block&);

#if NPUVP_HAVE_SIMD
std::int32_t group_at(const std::uint8_t* x) {
  std::int32_t group;
  std::memcpy(&group, x, sizeof group);
  return group;
}

template <int NP>
NPUVP_VNNI void block_vnni(const Block& b) {
  constexpr Index kVector = 64;
  __m512i acc[NP];
  for (int q = 0; q < NP; ++q) acc[q] = _mm512_setzero_si512();
  for (int ky = 0; ky < b.rows; ++ky)
    for (int kx = 0; kx < b.cols; ++kx) {
      const std::uint8_t* x = b.x + ky * b.row_step + kx * b.col_step;
      const std::uint8_t* w = b.w + ky * b.w_row_step + kx * b.groups * kVector;
      for (int c = 0; c < b.groups; ++c) {
        const __m512i wv = _mm512_loadu_si512(w + c * kVector);
        for (int q = 0; q < NP; ++q)
          acc[q] = _mm512_dpbusd_epi32(acc[q], _mm512_set1_epi32(group_at(x + q * b.pixel_step + c * kGroupBytes)), wv);
      }
    }
  const auto mask = static_cast<__mmask16>((1u << b.lanes) - 1u);
  for (int q = 0; q < NP; ++q) _mm512_mask_storeu_epi32(b.raw + q * b.raw_step, mask, acc[q]);
}

template <int NP>
NPUVP_AVX2 void block_avx2(const Block& b) {
  constexpr Index kVector = 32;
  __m256i acc[NP];
  for (int q = 0; q < NP; ++q) acc[q] = _mm256_setzero_si256();
  for (int ky = 0; ky < b.rows; ++ky)
    for (int kx = 0; kx < b.cols; ++kx) {
      const std::uint8_t* x = b.x + ky * b.row_step + kx * b.col_step;
      const std::uint8_t* w = b.w + ky * b.w_row_step + kx * b.groups * kVector;
      for (int c = 0; c < b.groups; ++c) {
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + c * kVector));
        for (int q = 0; q < NP; ++q)
          acc[q] = _mm256_add_epi32(
              acc[q], _mm256_madd_epi16(_mm256_set1_epi32(group_at(x + q * b.pixel_step + c * kGroupBytes)), wv));
      }
    }
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(b.lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (int q = 0; q < NP; ++q) _mm256_maskstore_epi32(b.raw + q * b.raw_step, mask, acc[q]);
}

// Indexed by pixels: 1, 2, 4 or 8.
constexpr BlockFn kVnniBlocks[] = {nullptr, block_vnni<1>, block_vnni<2>, nullptr,      block_vnni<4>,
                                   nullptr, nullptr,       nullptr,       block_vnni<8>};
constexpr BlockFn kAvx2Blocks[] = {nullptr, block_avx2<1>, block_avx2<2>, nullptr,      block_avx2<4>,
                                   nullptr, nullptr,       nullptr,       block_avx2<8>};
#endif

}  // namespace

Isa best_isa() {
#if NPUVP_HAVE_SIMD
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"))
    return Isa::kAvx512Vnni;
  if (__builtin_cpu_supports("avx2")) return Isa::kAvx2;
#endif
  return Isa::kPortable;
}

Isa active_isa() { return forced(); }

void force_isa(Isa isa) {
  const Isa best = best_isa();
  if (isa == Isa::kAvx512Vnni && best != Isa::kAvx512Vnni)
    throw std::invalid_argument("reference_simd::force_isa: this CPU has no AVX-512 VNNI");
  if (isa == Isa::kAvx2 && best == Isa::kPortable)
    throw std::invalid_argument("reference_simd::force_isa: this CPU has no AVX2");
  forced() = isa;
}

namespace {

// Lays out the input (offset by 128, as V) and the weights for vectors of
// `lanes` channels by kGroupBytes / sizeof(V) input channels; every store is
// of a V, so the loops compile to plain moves.
template <class V>
void lay_out(const std::vector<std::int8_t>& input, const std::vector<std::int8_t>& weights, const ConvParams& p,
             int icg, int ocg, int lanes, int blocks, int groups_per_tap, std::vector<std::uint8_t>& x,
             std::vector<std::uint8_t>& w) {
  constexpr int kGroup = kGroupBytes / static_cast<int>(sizeof(V));
  const int taps = p.kernel_h * p.kernel_w;
  // The last group of a window may read up to kGroup - 1 channels past it:
  // products with the zero weights beyond the group's channels.
  x.assign((input.size() + kGroup) * sizeof(V), 0);
  for (std::size_t i = 0; i < input.size(); ++i) {
    const auto v = static_cast<V>(input[i] + 128);
    std::memcpy(&x[i * sizeof(V)], &v, sizeof v);
  }
  const Index vector_bytes = static_cast<Index>(lanes) * kGroupBytes;
  const Index tap_size = static_cast<Index>(groups_per_tap) * vector_bytes;
  w.assign(static_cast<std::size_t>(p.groups) * blocks * taps * tap_size, 0);
  // Written in order, a block's channels read side by side, an input group
  // each (the last one short).
  for (int g = 0; g < p.groups; ++g)
    for (int blk = 0; blk < blocks; ++blk) {
      const Index k0 = static_cast<Index>(g) * ocg + blk * lanes;
      const int block_lanes = std::min(lanes, ocg - blk * lanes);
      std::uint8_t* dst = w.data() + (static_cast<Index>(g) * blocks + blk) * taps * tap_size;
      for (int t = 0; t < taps; ++t)
        for (int c = 0; c < groups_per_tap; ++c, dst += vector_bytes) {
          const int i = c * kGroup, n = std::min(kGroup, icg - i);
          for (int o = 0; o < block_lanes; ++o) {
            const std::int8_t* src = weights.data() + ((k0 + o) * taps + t) * icg + i;
            for (int j = 0; j < n; ++j) {
              const auto v = static_cast<V>(src[j]);
              std::memcpy(dst + (o * kGroup + j) * static_cast<Index>(sizeof(V)), &v, sizeof v);
            }
          }
        }
    }
}

}  // namespace

DenseConv::DenseConv(Isa isa, const std::vector<std::int8_t>& input, TensorShape in,
                     const std::vector<std::int8_t>& weights, const ConvParams& p, TensorShape out)
    : isa_(isa), in_(in), out_(out), p_(p) {
  if (isa == Isa::kPortable || static_cast<int>(isa) > static_cast<int>(best_isa()))
    throw std::invalid_argument("reference_simd::DenseConv: not a vector path this CPU has");
  const bool bytes = isa == Isa::kAvx512Vnni;
  lanes_ = bytes ? 16 : 8;
  group_ = bytes ? kGroupBytes : kGroupBytes / 2;
  const int icg = in.c / p.groups;
  ocg_ = p.out_channels / p.groups;
  blocks_ = (ocg_ + lanes_ - 1) / lanes_;
  groups_per_tap_ = (icg + group_ - 1) / group_;
  if (bytes)
    lay_out<std::uint8_t>(input, weights, p, icg, ocg_, lanes_, blocks_, groups_per_tap_, x_, w_);
  else
    lay_out<std::int16_t>(input, weights, p, icg, ocg_, lanes_, blocks_, groups_per_tap_, x_, w_);
}

void DenseConv::row(int oy, std::int32_t* raw) const {
#if NPUVP_HAVE_SIMD
  const BlockFn* blocks = isa_ == Isa::kAvx512Vnni ? kVnniBlocks : kAvx2Blocks;
#else
  const BlockFn* blocks = nullptr;  // never reached: the constructor refused every path
#endif
  const Index vb = kGroupBytes / group_;  // bytes per input value
  const int C = in_.c, O = p_.out_channels, kw = p_.kernel_w, taps = p_.kernel_h * kw, icg = C / p_.groups;
  const Index tap_size = static_cast<Index>(groups_per_tap_) * lanes_ * kGroupBytes;
  const int iy0 = oy * p_.stride_h - p_.pad.top;
  int ky_lo = 0, ky_hi = 0;
  kernel_checks::valid_taps(iy0, in_.h, p_.dilation_h, p_.kernel_h, ky_lo, ky_hi);
  for (int ox = 0; ox < out_.w;) {
    const int ix0 = ox * p_.stride_w - p_.pad.left;
    int kx_lo = 0, kx_hi = 0;
    kernel_checks::valid_taps(ix0, in_.w, p_.dilation_w, kw, kx_lo, kx_hi);
    int np = 1;
    while (np < kMaxPixels && ox + np < out_.w) {
      int lo = 0, hi = 0;
      kernel_checks::valid_taps(ix0 + np * p_.stride_w, in_.w, p_.dilation_w, kw, lo, hi);
      if (lo != kx_lo || hi != kx_hi) break;
      ++np;
    }
    np = np == 8 ? 8 : np >= 4 ? 4 : np >= 2 ? 2 : 1;
    std::int32_t* pixel_raw = raw + static_cast<Index>(ox) * O;
    if (ky_hi == ky_lo || kx_hi == kx_lo) {  // a window wholly in the padding reads nothing
      std::fill(pixel_raw, pixel_raw + static_cast<Index>(np) * O, 0);
      ox += np;
      continue;
    }
    for (int g = 0; g < p_.groups; ++g)
      for (int blk = 0; blk < blocks_; ++blk) {
        const Index block_index = static_cast<Index>(g) * blocks_ + blk;
        Block b;
        b.x = x_.data() + (((iy0 + static_cast<Index>(ky_lo) * p_.dilation_h) * in_.w + ix0 +
                            static_cast<Index>(kx_lo) * p_.dilation_w) *
                               C +
                           static_cast<Index>(g) * icg) *
                              vb;
        b.pixel_step = static_cast<Index>(p_.stride_w) * C * vb;
        b.row_step = static_cast<Index>(p_.dilation_h) * in_.w * C * vb;
        b.col_step = static_cast<Index>(p_.dilation_w) * C * vb;
        b.rows = ky_hi - ky_lo;
        b.cols = kx_hi - kx_lo;
        b.groups = groups_per_tap_;
        b.w = w_.data() + (block_index * taps + static_cast<Index>(ky_lo) * kw + kx_lo) * tap_size;
        b.w_row_step = static_cast<Index>(kw) * tap_size;
        b.raw = pixel_raw + static_cast<Index>(g) * ocg_ + blk * lanes_;
        b.raw_step = O;
        b.lanes = std::min(lanes_, ocg_ - blk * lanes_);
        blocks[np](b);
      }
    ox += np;
  }
}

}  // namespace npuvp::runtime::reference_simd
