// The vector paths' inner loops, each compiled for its ISA by a target
// attribute so that one binary carries them all and picks one at run time.
#include <algorithm>
#include <cstring>
#include <limits>

#include "models/pe_array/vector_conv.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define NPUVP_AVX2 __attribute__((target("avx2")))
#define NPUVP_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))

namespace npuvp::pe_array {
namespace {

NPUVP_AVX2 std::uint32_t sum_lanes(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return static_cast<std::uint32_t>(_mm_cvtsi128_si32(s));
}

// vpmaddwd sums two int16 products into an int32 lane; its one overflow,
// 2 × (−2^15)² = 2^31, wraps to the same bits as a 32-bit accumulator.
// Filters go four at a time, each patch vector loaded once for the four, and
// their sums reduced together (hadd): the patch loads and the horizontal sums
// per filter were as many instructions as the products.
NPUVP_AVX2 void dot_s16_avx2(const std::uint8_t* patch, const std::uint8_t* filters, std::size_t bytes,
                             std::size_t count, std::uint32_t* acc) {
  const std::size_t next = bytes / sizeof(__m256i);  // vectors from one filter's row to the next
  std::size_t j = 0;
  for (; j + 4 <= count; j += 4) {
    const std::uint8_t* f = filters + j * bytes;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (std::size_t i = 0; i < bytes; i += 32) {
      const __m256i p = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(patch + i));
      const auto* w = reinterpret_cast<const __m256i*>(f + i);
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(p, _mm256_loadu_si256(w)));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(p, _mm256_loadu_si256(w + next)));
      a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(p, _mm256_loadu_si256(w + 2 * next)));
      a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(p, _mm256_loadu_si256(w + 3 * next)));
    }
    // Each 128-bit half: the four filters' partial sums side by side.
    const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
    auto* out = reinterpret_cast<__m128i*>(acc + j);
    _mm_storeu_si128(out, _mm_add_epi32(_mm_loadu_si128(out),
                                        _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1))));
  }
  for (; j < count; ++j) {
    const std::uint8_t* f = filters + j * bytes;
    __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
    for (std::size_t i = 0; i < bytes; i += 64) {
      const auto* p = reinterpret_cast<const __m256i*>(patch + i);
      const auto* w = reinterpret_cast<const __m256i*>(f + i);
      a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_loadu_si256(p), _mm256_loadu_si256(w)));
      b = _mm256_add_epi32(b, _mm256_madd_epi16(_mm256_loadu_si256(p + 1), _mm256_loadu_si256(w + 1)));
    }
    acc[j] += sum_lanes(_mm256_add_epi32(a, b));
  }
}

NPUVP_AVX2 void depthwise_avx2(const std::int8_t* const* taps, const int* tap_index, int valid, unsigned element_bytes,
                               const std::int32_t* weights, std::size_t stride, std::uint32_t k_count, std::int32_t zp,
                               std::uint32_t* acc) {
  const __m256i z = _mm256_set1_epi32(zp);
  alignas(16) std::int8_t tail[16] = {};
  for (std::uint32_t k = 0; k < k_count; k += 8) {
    const std::uint32_t n = std::min<std::uint32_t>(8, k_count - k);
    auto* a_at = reinterpret_cast<__m256i*>(acc + k);
    __m256i a = _mm256_loadu_si256(a_at);
    for (int v = 0; v < valid; ++v) {
      const std::int8_t* x = taps[v] + static_cast<std::size_t>(k) * element_bytes;
      if (n < 8) x = static_cast<const std::int8_t*>(std::memcpy(tail, x, n * element_bytes));
      const __m256i xv = element_bytes == 1
                             ? _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x)))
                             : _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
      const auto* w = reinterpret_cast<const __m256i*>(weights + static_cast<std::size_t>(tap_index[v]) * stride + k);
      a = _mm256_add_epi32(a, _mm256_mullo_epi32(_mm256_sub_epi32(xv, z), _mm256_loadu_si256(w)));
    }
    _mm256_storeu_si256(a_at, a);
  }
}

// round(x * m / 2^31) of the low halves of each 64-bit lane, toward zero as
// the scalar's integer division. AVX2 has no 64-bit arithmetic shift, but
// the quotient fits 32 bits (but for INT32_MIN², which requantize_lanes_avx2
// replaces): a logical shift leaves the same low half.
NPUVP_AVX2 __m256i doubling_high_half_avx2(__m256i x, __m256i m) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i product = _mm256_mul_epi32(x, m);
  const __m256i nudge =
      _mm256_blendv_epi8(_mm256_set1_epi64x(std::int64_t{1} << 30), _mm256_set1_epi64x(1 - (std::int64_t{1} << 30)),
                         _mm256_cmpgt_epi64(zero, product));
  const __m256i sum = _mm256_add_epi64(product, nudge);
  // Toward zero: a negative dividend first gets the divisor less one.
  const __m256i below = _mm256_cmpgt_epi64(zero, sum);
  return _mm256_srli_epi64(
      _mm256_add_epi64(sum, _mm256_and_si256(below, _mm256_set1_epi64x((std::int64_t{1} << 31) - 1))), 31);
}

// requantize() on 8 lanes, as requantize_lanes on 16.
NPUVP_AVX2 __m256i requantize_lanes_avx2(__m256i acc, __m256i multiplier, __m256i shift) {
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
  const __m256i left = _mm256_max_epi32(shift, zero), right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
  const __m256i a = _mm256_sllv_epi32(acc, left);  // wraps, as a 32-bit shifter does
  const __m256i even = doubling_high_half_avx2(a, multiplier);
  const __m256i odd = doubling_high_half_avx2(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(multiplier, 32));
  __m256i high = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  const __m256i int_min = _mm256_set1_epi32(std::numeric_limits<std::int32_t>::min());
  const __m256i overflow = _mm256_and_si256(_mm256_cmpeq_epi32(a, int_min), _mm256_cmpeq_epi32(multiplier, int_min));
  high = _mm256_blendv_epi8(high, _mm256_set1_epi32(std::numeric_limits<std::int32_t>::max()), overflow);
  // Rounding shift right, ties away from zero.
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
  const __m256i remainder = _mm256_and_si256(high, mask);
  const __m256i threshold =
      _mm256_add_epi32(_mm256_srai_epi32(mask, 1), _mm256_and_si256(_mm256_cmpgt_epi32(zero, high), one));
  return _mm256_add_epi32(_mm256_srav_epi32(high, right),
                          _mm256_and_si256(_mm256_cmpgt_epi32(remainder, threshold), one));
}

// The output stage of 8 lanes, as store_bytes's of 16; `n` of them stored.
NPUVP_AVX2 void store_bytes_avx2(__m256i r, __m256i zp, __m256i lo, __m256i hi, std::size_t n, std::int8_t* out) {
  const __m256i limit = _mm256_set1_epi32(1 << 24);
  const __m256i clamped = _mm256_min_epi32(_mm256_max_epi32(r, _mm256_sub_epi32(_mm256_setzero_si256(), limit)), limit);
  const __m256i v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(clamped, zp), lo), hi);
  // Within an int8's range: the saturating packs keep every value.
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  alignas(16) std::int8_t bytes[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(bytes), _mm_packs_epi16(words, words));
  std::memcpy(out, bytes, n);
}

NPUVP_AVX2 void requantize_bytes_avx2(const std::uint32_t* acc, const RequantEntry* rq, std::uint32_t count,
                                      std::int32_t zp, std::int32_t lo, std::int32_t hi, std::int8_t* out) {
  static_assert(sizeof(RequantEntry) == 8, "pairs of {multiplier, shift}");
  // {multiplier, shift} pairs: each half's multipliers first, then its shifts.
  const __m256i pairs = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  const __m256i z = _mm256_set1_epi32(zp), low = _mm256_set1_epi32(lo), top = _mm256_set1_epi32(hi);
  for (std::uint32_t k = 0; k < count; k += 8) {
    const std::size_t n = std::min<std::uint32_t>(8, count - k);
    // A partial vector from a copy: nothing past `count` is read.
    std::uint32_t acc_tail[8] = {};
    RequantEntry rq_tail[8] = {};
    const std::uint32_t* a = acc + k;
    const RequantEntry* r = rq + k;
    if (n < 8) {
      a = static_cast<const std::uint32_t*>(std::memcpy(acc_tail, a, n * sizeof *a));
      r = static_cast<const RequantEntry*>(std::memcpy(rq_tail, r, n * sizeof *r));
    }
    const __m256i first = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r)), pairs);
    const __m256i second =
        _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + 4)), pairs);
    const __m256i multiplier = _mm256_permute2x128_si256(first, second, 0x20);
    const __m256i shift = _mm256_permute2x128_si256(first, second, 0x31);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
    store_bytes_avx2(requantize_lanes_avx2(v, multiplier, shift), z, low, top, n, out + k);
  }
}

// `n` int8 inputs of an add (n <= 8) less their zero point, shifted left.
NPUVP_AVX2 __m256i add_input_avx2(const std::int8_t* x, std::size_t n, __m256i zero, __m128i left) {
  std::int8_t tail[8] = {};
  if (n < 8) x = static_cast<const std::int8_t*>(std::memcpy(tail, x, n));
  const __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x)));
  return _mm256_sll_epi32(_mm256_sub_epi32(v, zero), left);
}

NPUVP_AVX2 void add_bytes_avx2(const std::int8_t* a, const std::int8_t* b, std::size_t count, const AddTerms& t,
                               std::int8_t* out) {
  const __m256i m1 = _mm256_set1_epi32(t.in1.multiplier), s1 = _mm256_set1_epi32(t.in1.shift),
                m2 = _mm256_set1_epi32(t.in2.multiplier), s2 = _mm256_set1_epi32(t.in2.shift),
                mo = _mm256_set1_epi32(t.out.multiplier), so = _mm256_set1_epi32(t.out.shift);
  const __m256i z1 = _mm256_set1_epi32(t.in1_zero), z2 = _mm256_set1_epi32(t.in2_zero),
                zo = _mm256_set1_epi32(t.out_zero), lo = _mm256_set1_epi32(t.lo), hi = _mm256_set1_epi32(t.hi);
  const __m128i left = _mm_cvtsi32_si128(t.left_shift);
  for (std::size_t k = 0; k < count; k += 8) {
    const std::size_t n = std::min<std::size_t>(8, count - k);
    const __m256i sum = _mm256_add_epi32(requantize_lanes_avx2(add_input_avx2(a + k, n, z1, left), m1, s1),
                                         requantize_lanes_avx2(add_input_avx2(b + k, n, z2, left), m2, s2));
    store_bytes_avx2(requantize_lanes_avx2(sum, mo, so), zo, lo, hi, n, out + k);
  }
}

NPUVP_AVX512 inline __m512i madd_s16(__m512i a, __m512i p, __m512i w) {
  return _mm512_add_epi32(a, _mm512_madd_epi16(p, w));
}
// vpdpbusd: four u8 × s8 products per lane added to it, without saturation.
NPUVP_AVX512 inline __m512i dot_u8s8_step(__m512i a, __m512i p, __m512i w) { return _mm512_dpbusd_epi32(a, p, w); }

// The lanes of v's two halves added. The masked forms pass an explicit zero
// source: GCC 12 warns on the unmasked ones' undefined source.
NPUVP_AVX512 inline __m256i add_halves(__m512i v) {
  return _mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(0xff, v, 0), _mm512_maskz_extracti64x4_epi64(0xff, v, 1));
}

NPUVP_AVX512 inline std::uint32_t sum_lanes(__m512i v) { return sum_lanes(add_halves(v)); }

// acc[i] += the sum of a_i's lanes, i < 4: the four reduced together, halving
// and pairwise adding across them rather than each on its own.
NPUVP_AVX512 inline void add_sums4(__m512i a0, __m512i a1, __m512i a2, __m512i a3, std::uint32_t* acc) {
  const __m256i pairs = _mm256_hadd_epi32(_mm256_hadd_epi32(add_halves(a0), add_halves(a1)),
                                          _mm256_hadd_epi32(add_halves(a2), add_halves(a3)));
  const __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
  auto* out = reinterpret_cast<__m128i*>(acc);
  _mm_storeu_si128(out, _mm_add_epi32(_mm_loadu_si128(out), sums));
}

// Four filters per pass share each patch load.
template <__m512i (*step)(__m512i, __m512i, __m512i)>
NPUVP_AVX512 void dot_avx512(const std::uint8_t* patch, const std::uint8_t* filters, std::size_t bytes,
                             std::size_t count, std::uint32_t* acc) {
  std::size_t j = 0;
  for (; j + 4 <= count; j += 4) {
    const std::uint8_t* f = filters + j * bytes;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (std::size_t i = 0; i < bytes; i += 64) {
      const __m512i p = _mm512_loadu_si512(patch + i);
      a0 = step(a0, p, _mm512_loadu_si512(f + i));
      a1 = step(a1, p, _mm512_loadu_si512(f + bytes + i));
      a2 = step(a2, p, _mm512_loadu_si512(f + 2 * bytes + i));
      a3 = step(a3, p, _mm512_loadu_si512(f + 3 * bytes + i));
    }
    add_sums4(a0, a1, a2, a3, acc + j);
  }
  for (; j < count; ++j) {
    __m512i a = _mm512_setzero_si512();
    for (std::size_t i = 0; i < bytes; i += 64)
      a = step(a, _mm512_loadu_si512(patch + i), _mm512_loadu_si512(filters + j * bytes + i));
    acc[j] += sum_lanes(a);
  }
}

NPUVP_AVX512 void depthwise_avx512(const std::int8_t* const* taps, const int* tap_index, int valid,
                                   unsigned element_bytes, const std::int32_t* weights, std::size_t stride,
                                   std::uint32_t k_count, std::int32_t zp, std::uint32_t* acc) {
  const __m512i z = _mm512_set1_epi32(zp);
  for (std::uint32_t k = 0; k < k_count; k += 16) {
    const std::uint32_t n = std::min<std::uint32_t>(16, k_count - k);
    const auto m = static_cast<__mmask16>((1u << n) - 1);
    __m512i a = _mm512_loadu_si512(acc + k);
    for (int v = 0; v < valid; ++v) {
      const std::int8_t* x = taps[v] + static_cast<std::size_t>(k) * element_bytes;
      // Masked loads: the lanes past k_count read nothing beyond the tile.
      const __m512i xv = element_bytes == 1 ? _mm512_maskz_cvtepi8_epi32(m, _mm_maskz_loadu_epi8(m, x))
                                            : _mm512_maskz_cvtepi16_epi32(m, _mm256_maskz_loadu_epi16(m, x));
      const __m512i w = _mm512_loadu_si512(weights + static_cast<std::size_t>(tap_index[v]) * stride + k);
      a = _mm512_add_epi32(a, _mm512_mullo_epi32(_mm512_sub_epi32(xv, z), w));
    }
    _mm512_storeu_si512(acc + k, a);
  }
}

// Every lane: the masked forms with a zero source (see add_halves).
constexpr __mmask8 kLanes64 = 0xff;
constexpr __mmask16 kLanes32 = 0xffff;

// round(x * m / 2^31) of the low halves of each 64-bit lane, toward zero as
// the scalar's integer division.
NPUVP_AVX512 __m512i doubling_high_half(__m512i x, __m512i m) {
  const __m512i product = _mm512_maskz_mul_epi32(kLanes64, x, m);
  const __mmask8 negative = _mm512_cmplt_epi64_mask(product, _mm512_setzero_si512());
  const __m512i nudge = _mm512_mask_blend_epi64(negative, _mm512_set1_epi64(std::int64_t{1} << 30),
                                                _mm512_set1_epi64(1 - (std::int64_t{1} << 30)));
  const __m512i sum = _mm512_add_epi64(product, nudge);
  const __mmask8 below = _mm512_cmplt_epi64_mask(sum, _mm512_setzero_si512());
  // Toward zero: a negative dividend first gets the divisor less one.
  return _mm512_maskz_srai_epi64(
      kLanes64, _mm512_mask_add_epi64(sum, below, sum, _mm512_set1_epi64((std::int64_t{1} << 31) - 1)), 31);
}

// requantize() on 16 lanes. The doubling high multiply needs each lane's
// 64-bit product: even and odd lanes are multiplied apart (vpmuldq takes
// the low half of each 64-bit lane).
NPUVP_AVX512 __m512i requantize_lanes(__m512i acc, __m512i multiplier, __m512i shift) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i left = _mm512_maskz_max_epi32(kLanes32, shift, zero),
                right = _mm512_maskz_max_epi32(kLanes32, _mm512_sub_epi32(zero, shift), zero);
  const __m512i a = _mm512_maskz_sllv_epi32(kLanes32, acc, left);  // wraps, as a 32-bit shifter does
  const __m512i even = doubling_high_half(a, multiplier);
  const __m512i odd =
      doubling_high_half(_mm512_maskz_srli_epi64(kLanes64, a, 32), _mm512_maskz_srli_epi64(kLanes64, multiplier, 32));
  __m512i high = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(kLanes64, odd, 32));
  const __m512i int_min = _mm512_set1_epi32(std::numeric_limits<std::int32_t>::min());
  const __mmask16 overflow = _mm512_cmpeq_epi32_mask(a, int_min) & _mm512_cmpeq_epi32_mask(multiplier, int_min);
  high = _mm512_mask_mov_epi32(high, overflow, _mm512_set1_epi32(std::numeric_limits<std::int32_t>::max()));
  // Rounding shift right, ties away from zero.
  const __m512i mask =
      _mm512_sub_epi32(_mm512_maskz_sllv_epi32(kLanes32, _mm512_set1_epi32(1), right), _mm512_set1_epi32(1));
  const __m512i remainder = _mm512_and_si512(high, mask);
  const __mmask16 negative = _mm512_cmplt_epi32_mask(high, zero);
  const __m512i threshold = _mm512_mask_add_epi32(_mm512_maskz_srai_epi32(kLanes32, mask, 1), negative,
                                                  _mm512_maskz_srai_epi32(kLanes32, mask, 1), _mm512_set1_epi32(1));
  const __m512i shifted = _mm512_maskz_srav_epi32(kLanes32, high, right);
  return _mm512_mask_add_epi32(shifted, _mm512_cmpgt_epi32_mask(remainder, threshold), shifted, _mm512_set1_epi32(1));
}

// The output stage of one vector: clamped to ±2^24 (which changes no
// output, kVectorZeroPointLimit), put around the zero point, clamped to
// [lo, hi] and stored as the bytes of the lanes in `n`.
NPUVP_AVX512 void store_bytes(__m512i r, __m512i zp, __m512i lo, __m512i hi, __mmask16 n, std::int8_t* out) {
  const __m512i limit = _mm512_set1_epi32(1 << 24);
  const __m512i clamped = _mm512_maskz_min_epi32(
      kLanes32, _mm512_maskz_max_epi32(kLanes32, r, _mm512_sub_epi32(_mm512_setzero_si512(), limit)), limit);
  const __m512i v =
      _mm512_maskz_min_epi32(kLanes32, _mm512_maskz_max_epi32(kLanes32, _mm512_add_epi32(clamped, zp), lo), hi);
  _mm_mask_storeu_epi8(out, n, _mm512_maskz_cvtepi32_epi8(kLanes32, v));
}

NPUVP_AVX512 void requantize_bytes_avx512(const std::uint32_t* acc, const RequantEntry* rq, std::uint32_t count,
                                          std::int32_t zp, std::int32_t lo, std::int32_t hi, std::int8_t* out) {
  static_assert(sizeof(RequantEntry) == 8, "pairs of {multiplier, shift}");
  const __m512i pairs = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i z = _mm512_set1_epi32(zp), low = _mm512_set1_epi32(lo), top = _mm512_set1_epi32(hi);
  for (std::uint32_t k = 0; k < count; k += 16) {
    const std::uint32_t n = std::min<std::uint32_t>(16, count - k);
    const auto m = static_cast<__mmask16>((1u << n) - 1);
    const auto* entries = reinterpret_cast<const std::int32_t*>(rq + k);
    // {multiplier, shift} pairs: the multipliers at even words, the shifts at odd ones.
    const auto words = [](std::uint32_t lanes) { return static_cast<__mmask16>((1u << (2 * lanes)) - 1); };
    const __m512i first = _mm512_maskz_loadu_epi32(words(std::min(n, 8u)), entries);
    const __m512i second = n > 8 ? _mm512_maskz_loadu_epi32(words(n - 8), entries + 16) : _mm512_setzero_si512();
    const __m512i multiplier = _mm512_permutex2var_epi32(first, pairs, second);
    const __m512i shift = _mm512_permutex2var_epi32(first, _mm512_add_epi32(pairs, _mm512_set1_epi32(1)), second);
    store_bytes(requantize_lanes(_mm512_maskz_loadu_epi32(m, acc + k), multiplier, shift), z, low, top, m, out + k);
  }
}

NPUVP_AVX512 void add_bytes_avx512(const std::int8_t* a, const std::int8_t* b, std::size_t count, const AddTerms& t,
                                   std::int8_t* out) {
  const __m512i m1 = _mm512_set1_epi32(t.in1.multiplier), s1 = _mm512_set1_epi32(t.in1.shift),
                m2 = _mm512_set1_epi32(t.in2.multiplier), s2 = _mm512_set1_epi32(t.in2.shift),
                mo = _mm512_set1_epi32(t.out.multiplier), so = _mm512_set1_epi32(t.out.shift);
  const __m512i z1 = _mm512_set1_epi32(t.in1_zero), z2 = _mm512_set1_epi32(t.in2_zero),
                zo = _mm512_set1_epi32(t.out_zero), lo = _mm512_set1_epi32(t.lo), hi = _mm512_set1_epi32(t.hi);
  const __m128i left = _mm_cvtsi32_si128(t.left_shift);
  for (std::size_t k = 0; k < count; k += 16) {
    const auto n = static_cast<__mmask16>((1u << std::min<std::size_t>(16, count - k)) - 1);
    const __m512i x1 = _mm512_maskz_sll_epi32(
        kLanes32, _mm512_sub_epi32(_mm512_maskz_cvtepi8_epi32(kLanes32, _mm_maskz_loadu_epi8(n, a + k)), z1), left);
    const __m512i x2 = _mm512_maskz_sll_epi32(
        kLanes32, _mm512_sub_epi32(_mm512_maskz_cvtepi8_epi32(kLanes32, _mm_maskz_loadu_epi8(n, b + k)), z2), left);
    const __m512i sum = _mm512_add_epi32(requantize_lanes(x1, m1, s1), requantize_lanes(x2, m2, s2));
    store_bytes(requantize_lanes(sum, mo, so), zo, lo, hi, n, out + k);
  }
}

}  // namespace

const VectorIsa* vector_isa(KernelPath path) {
  static const VectorIsa avx2{nullptr, dot_s16_avx2, depthwise_avx2, requantize_bytes_avx2, add_bytes_avx2};
  static const VectorIsa avx512{dot_avx512<dot_u8s8_step>, dot_avx512<madd_s16>, depthwise_avx512,
                                requantize_bytes_avx512, add_bytes_avx512};
  switch (path) {
    case KernelPath::kAvx2:
      return &avx2;
    case KernelPath::kAvx512:
      return &avx512;
    case KernelPath::kScalar:
      break;
  }
  return nullptr;
}

bool kernel_path_supported(KernelPath path) {
  switch (path) {
    case KernelPath::kScalar:
      return true;
    case KernelPath::kAvx2:
      return __builtin_cpu_supports("avx2");
    case KernelPath::kAvx512:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

}  // namespace npuvp::pe_array

#else  // not x86-64: the scalar path only

namespace npuvp::pe_array {
const VectorIsa* vector_isa(KernelPath) { return nullptr; }
bool kernel_path_supported(KernelPath path) { return path == KernelPath::kScalar; }
}  // namespace npuvp::pe_array

#endif
