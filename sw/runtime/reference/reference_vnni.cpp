#include "sw/runtime/reference/reference_vnni.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "sw/runtime/reference/kernel_checks.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NPUVP_HAVE_VNNI 1
#define NPUVP_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#else
#define NPUVP_HAVE_VNNI 0
#endif

namespace npuvp::runtime::reference_vnni {
namespace {

using Index = std::ptrdiff_t;
constexpr int kLanes = 16;
constexpr int kQuad = 4;
constexpr int kVectorBytes = kLanes * kQuad;
constexpr int kMaxPixels = 8;

Isa& forced() {
  static Isa isa = best_isa();
  return isa;
}

// Up to 8 output pixels of one row with the same valid taps, and one block of
// 16 output channels of one group.
struct Block {
  const std::uint8_t* x;  // the first pixel's first valid tap, at the group's first input channel
  Index pixel_step;       // input bytes from one pixel's window to the next
  Index row_step;         // ... from one valid kernel row to the next
  Index col_step;         // ... from one valid kernel column to the next
  int rows, cols, quads;  // valid kernel rows and columns, input channel quads per group
  const std::int8_t* w;   // the block's weights at the first valid tap
  Index w_row_step;       // weights from one kernel row to the next
  std::int32_t* raw;      // the first pixel's sums at the block's first channel
  Index raw_step;         // sums per pixel
  int lanes;              // output channels of the block that exist
};

#if NPUVP_HAVE_VNNI
template <int NP>
NPUVP_VNNI void block(const Block& b) {
  __m512i acc[NP];
  for (int q = 0; q < NP; ++q) acc[q] = _mm512_setzero_si512();
  for (int ky = 0; ky < b.rows; ++ky)
    for (int kx = 0; kx < b.cols; ++kx) {
      const std::uint8_t* x = b.x + ky * b.row_step + kx * b.col_step;
      const std::int8_t* w = b.w + ky * b.w_row_step + static_cast<Index>(kx) * b.quads * kVectorBytes;
      for (int c = 0; c < b.quads; ++c) {
        const __m512i wv = _mm512_loadu_si512(w + static_cast<Index>(c) * kVectorBytes);
        for (int q = 0; q < NP; ++q) {
          std::int32_t quad;
          std::memcpy(&quad, x + q * b.pixel_step + c * kQuad, sizeof quad);
          acc[q] = _mm512_dpbusd_epi32(acc[q], _mm512_set1_epi32(quad), wv);
        }
      }
    }
  const auto mask = static_cast<__mmask16>((1u << b.lanes) - 1u);
  for (int q = 0; q < NP; ++q) _mm512_mask_storeu_epi32(b.raw + q * b.raw_step, mask, acc[q]);
}
#else
template <int NP>
void block(const Block&) {
  throw std::logic_error("reference_vnni: built without AVX-512 VNNI");
}
#endif

}  // namespace

Isa best_isa() {
#if NPUVP_HAVE_VNNI
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"))
    return Isa::kAvx512Vnni;
#endif
  return Isa::kPortable;
}

Isa active_isa() { return forced(); }

void force_isa(Isa isa) {
  if (isa == Isa::kAvx512Vnni && best_isa() != Isa::kAvx512Vnni)
    throw std::invalid_argument("reference_vnni::force_isa: this CPU has no AVX-512 VNNI");
  forced() = isa;
}

DenseConv::DenseConv(const std::vector<std::int8_t>& input, TensorShape in, const std::vector<std::int8_t>& weights,
                     const ConvParams& p, TensorShape out)
    : in_(in), out_(out), p_(p) {
  const int icg = in.c / p.groups, taps = p.kernel_h * p.kernel_w;
  ocg_ = p.out_channels / p.groups;
  blocks_ = (ocg_ + kLanes - 1) / kLanes;
  quads_ = (icg + kQuad - 1) / kQuad;
  // The last quad of a window may read up to 3 channels past it: products
  // with the zero weights beyond the group's channels.
  x_.resize(input.size() + kQuad);
  const std::int8_t* source = input.data();
  std::uint8_t* unsigned_x = x_.data();
  for (std::size_t i = 0; i < input.size(); ++i) unsigned_x[i] = static_cast<std::uint8_t>(source[i] ^ 0x80);
  const Index tap_size = static_cast<Index>(quads_) * kVectorBytes;
  w_.assign(static_cast<std::size_t>(p.groups) * blocks_ * taps * tap_size, 0);
  // Written in order, a block's 16 channels read side by side, a quad each
  // (the last one short).
  for (int g = 0; g < p.groups; ++g)
    for (int blk = 0; blk < blocks_; ++blk) {
      const Index k0 = static_cast<Index>(g) * ocg_ + blk * kLanes;
      const int lanes = std::min(kLanes, ocg_ - blk * kLanes);
      std::int8_t* dst = w_.data() + (static_cast<Index>(g) * blocks_ + blk) * taps * tap_size;
      for (int t = 0; t < taps; ++t)
        for (int c = 0; c < quads_; ++c, dst += kVectorBytes) {
          const int i = c * kQuad, n = std::min(kQuad, icg - i);
          for (int o = 0; o < lanes; ++o) {
            const std::int8_t* src = weights.data() + ((k0 + o) * taps + t) * icg + i;
            if (n == kQuad)
              std::memcpy(dst + o * kQuad, src, kQuad);
            else
              std::copy(src, src + n, dst + o * kQuad);
          }
        }
    }
}

void DenseConv::row(int oy, std::int32_t* raw) const {
  const int C = in_.c, O = p_.out_channels, kw = p_.kernel_w, taps = p_.kernel_h * kw, icg = C / p_.groups;
  const Index tap_size = static_cast<Index>(quads_) * kVectorBytes;
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
        b.x = x_.data() +
              ((iy0 + static_cast<Index>(ky_lo) * p_.dilation_h) * in_.w + ix0 +
               static_cast<Index>(kx_lo) * p_.dilation_w) *
                  C +
              static_cast<Index>(g) * icg;
        b.pixel_step = static_cast<Index>(p_.stride_w) * C;
        b.row_step = static_cast<Index>(p_.dilation_h) * in_.w * C;
        b.col_step = static_cast<Index>(p_.dilation_w) * C;
        b.rows = ky_hi - ky_lo;
        b.cols = kx_hi - kx_lo;
        b.quads = quads_;
        b.w = w_.data() + (block_index * taps + static_cast<Index>(ky_lo) * kw + kx_lo) * tap_size;
        b.w_row_step = static_cast<Index>(kw) * tap_size;
        b.raw = pixel_raw + static_cast<Index>(g) * ocg_ + blk * kLanes;
        b.raw_step = O;
        b.lanes = std::min(kLanes, ocg_ - blk * kLanes);
        switch (np) {
          case 8:
            block<8>(b);
            break;
          case 4:
            block<4>(b);
            break;
          case 2:
            block<2>(b);
            break;
          default:
            block<1>(b);
        }
      }
    ox += np;
  }
}

}  // namespace npuvp::runtime::reference_vnni
