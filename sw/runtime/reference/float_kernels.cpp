#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "sw/runtime/reference/kernel_checks.h"
#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime {

using namespace kernel_checks;

namespace {

using Index = std::ptrdiff_t;

// The calibration's float convolution keeps each output element's order of
// additions (bias, then tap by tap, input channel by input channel) and so its
// bits, but holds its sums in vector registers across the whole reduction.
// This file is built without floating-point contraction, so no instruction
// set fuses a multiply and an add that the others round apart. The kernels
// are written once per vector width W and compiled for the instruction set
// whose registers hold W floats, chosen at run time (float_isa()). Written
// for 16-float vectors alone, GCC split each into two on AVX2, kept a block's
// 16 sums for 8 pixels on the stack (loaded and stored at each addition), and
// took the clamp and range apart lane by lane: the calibration was 36 % of a
// ResNet-50 run's CPU on an AVX2 host (docs/performance.md).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NPUVP_FLOAT_X86 1
#define NPUVP_FLOAT_AVX512 __attribute__((target("arch=x86-64-v4")))
#define NPUVP_FLOAT_AVX2 __attribute__((target("avx2")))
#else
#define NPUVP_FLOAT_X86 0
#endif

constexpr int kLanes = 16;  // output channels a block of weights holds side by side
template <int W>
struct FloatVector {
  typedef float type __attribute__((vector_size(W * sizeof(float))));
};

// The activation's clamp, std::min(std::max(v, lo), hi) (a NaN stays one;
// with no activation lo and hi are infinite and it changes nothing), applied
// to each sum as it is stored rather than in a pass of its own over the
// output: at 1080x1920 a layer's output is up to 133 MB, which that pass read
// and wrote again (0.12 s of the calibration).
struct Bounds {
  float lo, hi;
};

// Through memory rather than a return value: a wide vector is returned in
// different registers by each instruction set's ABI.
template <class V>
inline __attribute__((always_inline)) void load(V& v, const float* p) {
  std::memcpy(&v, p, sizeof v);
}

// std::max(v, lo) is (v < lo ? lo : v) and std::min(m, hi) (hi < m ? hi : m),
// lane by lane.
template <class V>
inline __attribute__((always_inline)) void clamp(V& v, const Bounds& b) {
  V lo{}, hi{};
  lo += b.lo;
  hi += b.hi;
  v = v < lo ? lo : v;
  v = hi < v ? hi : v;
}
inline float clamp(float v, const Bounds& b) { return std::min(std::max(v, b.lo), b.hi); }

// The least and greatest value stored so far, lane by lane (a NaN loses
// every comparison, so it is passed over), as the values are stored: the
// calibration's range without a pass of its own over each output.
struct LaneRange {
  float lo[kLanes], hi[kLanes];
  LaneRange() {
    std::fill(std::begin(lo), std::end(lo), std::numeric_limits<float>::infinity());
    std::fill(std::begin(hi), std::end(hi), -std::numeric_limits<float>::infinity());
  }
  void add(float v, int lane) {
    lo[lane] = v < lo[lane] ? v : lo[lane];
    hi[lane] = hi[lane] < v ? v : hi[lane];
  }
  void into(StoredRange* stored) const {
    if (stored == nullptr) return;
    stored->seen = true;
    for (int j = 0; j < kLanes; ++j) {
      stored->lo = lo[j] < stored->lo ? lo[j] : stored->lo;
      stored->hi = stored->hi < hi[j] ? hi[j] : stored->hi;
    }
  }
};
// Adds the first `count` lanes of `v` to the range's lanes `first` on.
template <int W>
inline __attribute__((always_inline)) void add_lanes(const typename FloatVector<W>::type& v, int first, int count,
                                                     LaneRange& r) {
  if (count < W) {
    for (int j = 0; j < count; ++j) r.add(v[j], first + j);
    return;
  }
  typename FloatVector<W>::type lo, hi;
  load(lo, r.lo + first);
  load(hi, r.hi + first);
  lo = v < lo ? v : lo;
  hi = hi < v ? v : hi;
  std::memcpy(r.lo + first, &lo, sizeof lo);
  std::memcpy(r.hi + first, &hi, sizeof hi);
}

// Up to 8 output pixels of one row with the same valid taps, and one block of
// 16 output channels of one group.
struct FloatBlock {
  const float* x;       // the first pixel's first valid tap, at the group's first input channel
  Index pixel_step;     // input elements from one pixel's window to the next
  Index row_step;       // ... from one valid kernel row to the next
  Index col_step;       // ... from one valid kernel column to the next
  int rows, cols, icg;  // valid kernel rows and columns, input channels per group
  const float* w;       // [valid tap ...][icg][16], at the first valid tap
  Index w_row_step;     // weights from one kernel row to the next
  const float* bias;    // 16 lanes
  float* y;             // the first pixel's output at the block's first channel
  Index y_step;         // output elements per pixel
  int lanes;            // output channels of the block that exist
  Bounds bounds;        // the activation's clamp, applied as the sums are stored
  LaneRange* range;     // what is stored, for the calibration
};

// NP pixels' sums of W of the block's channels at a time, each slice a pass
// over the whole reduction (its inputs come again from the cache); the
// channels past `lanes` are not computed.
template <int NP, int W>
inline __attribute__((always_inline)) void float_block(const FloatBlock& b) {
  using V = typename FloatVector<W>::type;
  for (int s = 0; s < b.lanes; s += W) {
    V acc[NP];
    for (int q = 0; q < NP; ++q) load(acc[q], b.bias + s);
    for (int ky = 0; ky < b.rows; ++ky) {
      for (int kx = 0; kx < b.cols; ++kx) {
        const float* x = b.x + ky * b.row_step + kx * b.col_step;
        const float* w = b.w + ky * b.w_row_step + static_cast<Index>(kx) * b.icg * kLanes + s;
        for (int i = 0; i < b.icg; ++i) {
          V wv;
          load(wv, w + static_cast<Index>(i) * kLanes);
          for (int q = 0; q < NP; ++q) acc[q] += x[q * b.pixel_step + i] * wv;
        }
      }
    }
    const int count = std::min(W, b.lanes - s);
    for (int q = 0; q < NP; ++q) {
      clamp(acc[q], b.bounds);
      std::memcpy(b.y + q * b.y_step + s, &acc[q], sizeof(float) * static_cast<std::size_t>(count));
      add_lanes<W>(acc[q], s, count, *b.range);
    }
  }
}

constexpr int kMaxPixels = 8;

// One depthwise output pixel: a[c] = bias[c] (0 without one), then
// a[c] += x[t][c] * w[t][c] over its valid taps t in order, for each of n
// channels, clamped.
struct DepthwisePixel {
  const float* const* x;  // per valid tap, the input pixel's first channel
  const float* const* w;  // per valid tap, its weights' first channel
  int taps, n;
  const float* bias;  // nullptr: none
  Bounds bounds;
  float* a;
  LaneRange* range;
};

// The sums of V vectors of W channels from channel c on stay in registers
// across the taps, so `a` is stored once, not once per tap, and V chains of
// additions run side by side; each sum's additions keep their order.
template <int W, int V>
inline __attribute__((always_inline)) void depthwise_channels(const DepthwisePixel& d, int c) {
  using Vec = typename FloatVector<W>::type;
  Vec sum[V] = {};
  for (int v = 0; v < V && d.bias != nullptr; ++v) load(sum[v], d.bias + c + v * W);
  for (int t = 0; t < d.taps; ++t)
    for (int v = 0; v < V; ++v) {
      Vec xv, wv;
      load(xv, d.x[t] + c + v * W);
      load(wv, d.w[t] + c + v * W);
      sum[v] += xv * wv;
    }
  for (int v = 0; v < V; ++v) {
    clamp(sum[v], d.bounds);
    std::memcpy(d.a + c + v * W, &sum[v], sizeof sum[v]);
    add_lanes<W>(sum[v], 0, W, *d.range);
  }
}

template <int W>
inline __attribute__((always_inline)) void depthwise_pixel(const DepthwisePixel& d) {
  int c = 0;
  for (; c + 4 * W <= d.n; c += 4 * W) depthwise_channels<W, 4>(d, c);
  for (; c + W <= d.n; c += W) depthwise_channels<W, 1>(d, c);
  for (; c < d.n; ++c) {
    float sum = d.bias != nullptr ? d.bias[c] : 0.0f;
    for (int t = 0; t < d.taps; ++t) sum += d.x[t][c] * d.w[t][c];
    d.a[c] = clamp(sum, d.bounds);
    d.range->add(d.a[c], 0);
  }
}

// The kernels of one instruction set: float_block<1..8> indexed by pixels,
// and the depthwise pixel.
struct FloatKernels {
  void (*block[kMaxPixels + 1])(const FloatBlock&);
  void (*depthwise)(const DepthwisePixel&);
};
// Defines ISA's kernels for vectors of W floats, compiled with TARGET.
#define NPUVP_FLOAT_KERNELS(ISA, TARGET, W)                                                                \
  template <int NP>                                                                                        \
  TARGET void block_##ISA(const FloatBlock& b) {                                                           \
    float_block<NP, W>(b);                                                                                 \
  }                                                                                                        \
  TARGET void depthwise_##ISA(const DepthwisePixel& d) { depthwise_pixel<W>(d); }                          \
  constexpr FloatKernels k_##ISA{{nullptr, block_##ISA<1>, block_##ISA<2>, block_##ISA<3>, block_##ISA<4>, \
                                  block_##ISA<5>, block_##ISA<6>, block_##ISA<7>, block_##ISA<8>},         \
                                 depthwise_##ISA};
NPUVP_FLOAT_KERNELS(portable, , 4)
#if NPUVP_FLOAT_X86
NPUVP_FLOAT_KERNELS(avx2, NPUVP_FLOAT_AVX2, 8)
NPUVP_FLOAT_KERNELS(avx512, NPUVP_FLOAT_AVX512, 16)
#endif
#undef NPUVP_FLOAT_KERNELS

const FloatKernels& float_kernels() {
  switch (float_isa()) {
#if NPUVP_FLOAT_X86
    case FloatIsa::kAvx512:
      return k_avx512;
    case FloatIsa::kAvx2:
      return k_avx2;
#endif
    default:
      return k_portable;
  }
}

// A convolution that is not depthwise: the weights reordered to
// [group][16-channel block][tap][in][16] (zero beyond the group's channels), then
// every output row in blocks of pixels with the same valid taps.
void conv_dense(const std::vector<float>& x, TensorShape in, const std::vector<float>& w,
                const std::vector<float>& bias, const ConvParams& p, TensorShape out, const Bounds& bounds,
                std::vector<float>& y, LaneRange& range) {
  const int C = in.c, O = p.out_channels, G = p.groups, icg = C / G, ocg = O / G;
  const int kh = p.kernel_h, kw = p.kernel_w, taps = kh * kw, blocks = (ocg + kLanes - 1) / kLanes;
  const Index block_size = static_cast<Index>(taps) * icg * kLanes;
  const FloatKernels& kernels = float_kernels();
  std::vector<float> wt(static_cast<std::size_t>(G) * blocks * block_size, 0.0f);
  std::vector<float> bt(static_cast<std::size_t>(G) * blocks * kLanes, 0.0f);
  // Written in order, a block's 16 channels read side by side: each line of
  // the reordered weights is filled at once rather than once per channel.
  const Index row = static_cast<Index>(taps) * icg;
  for (int g = 0; g < G; ++g)
    for (int blk = 0; blk < blocks; ++blk) {
      const Index block = static_cast<Index>(g) * blocks + blk, k0 = static_cast<Index>(g) * ocg + blk * kLanes;
      const int lanes = std::min(kLanes, ocg - blk * kLanes);
      float* dst = wt.data() + block * block_size;
      for (int o = 0; o < lanes && !bias.empty(); ++o)
        bt[static_cast<std::size_t>(block * kLanes + o)] = bias[static_cast<std::size_t>(k0 + o)];
      for (Index j = 0; j < row; ++j)
        for (int o = 0; o < lanes; ++o) dst[j * kLanes + o] = w[static_cast<std::size_t>((k0 + o) * row + j)];
    }
  // Output columns in segments with the same valid kernel columns.
  struct Segment {
    int lo, hi, kx_lo, kx_hi;  // columns [lo, hi)
  };
  std::vector<Segment> columns;
  for (int ox = 0; ox < out.w; ++ox) {
    int lo = 0, hi = 0;
    valid_taps(ox * p.stride_w - p.pad.left, in.w, p.dilation_w, kw, lo, hi);
    if (columns.empty() || columns.back().kx_lo != lo || columns.back().kx_hi != hi)
      columns.push_back({ox, ox, lo, hi});
    columns.back().hi = ox + 1;
  }
  // A run: up to 8 pixels with the same valid taps along a row or, for a
  // segment narrower than 8 (the columns whose window the padding cuts), down
  // a column, over rows with the same valid kernel rows: a lone pixel would
  // hold one vector of sums, a chain of dependent additions.
  struct Run {
    int oy, ox, np, kx_lo, kx_hi;
    bool down;
  };
  std::vector<Run> runs;
  // Each row's runs, and every 8 rows the column runs down them; then each
  // block of weights over those runs while it stays in cache.
  for (int oy = 0, band = 0; oy < out.h; ++oy) {
    const int iy0 = oy * p.stride_h - p.pad.top;
    int ky_lo = 0, ky_hi = 0;
    valid_taps(iy0, in.h, p.dilation_h, kh, ky_lo, ky_hi);
    runs.clear();
    for (const Segment& seg : columns)
      if (seg.hi - seg.lo >= kMaxPixels)
        for (int ox = seg.lo; ox < seg.hi; ox += kMaxPixels)
          runs.push_back({oy, ox, std::min(kMaxPixels, seg.hi - ox), seg.kx_lo, seg.kx_hi, false});
    int next_lo = 0, next_hi = 0;
    if (oy + 1 < out.h) valid_taps(iy0 + p.stride_h, in.h, p.dilation_h, kh, next_lo, next_hi);
    if (oy + 1 == out.h || oy + 1 - band == kMaxPixels || next_lo != ky_lo || next_hi != ky_hi) {
      for (const Segment& seg : columns)
        if (seg.hi - seg.lo < kMaxPixels)
          for (int ox = seg.lo; ox < seg.hi; ++ox)
            runs.push_back({band, ox, oy + 1 - band, seg.kx_lo, seg.kx_hi, true});
      band = oy + 1;
    }
    for (int g = 0; g < G; ++g)
      for (int blk = 0; blk < blocks; ++blk)
        for (const Run& run : runs) {
          const Index block = static_cast<Index>(g) * blocks + blk;
          const int ix0 = run.ox * p.stride_w - p.pad.left, kx_lo = run.kx_lo, kx_hi = run.kx_hi;
          const int run_iy0 = run.oy * p.stride_h - p.pad.top;
          FloatBlock b;
          // A window wholly in the padding reads nothing: its output is the bias.
          const bool empty = ky_hi == ky_lo || kx_hi == kx_lo;
          b.x = x.data() + (empty ? 0
                                  : ((run_iy0 + static_cast<Index>(ky_lo) * p.dilation_h) * in.w + ix0 +
                                     static_cast<Index>(kx_lo) * p.dilation_w) *
                                            C +
                                        static_cast<Index>(g) * icg);
          b.pixel_step = run.down ? static_cast<Index>(p.stride_h) * in.w * C : static_cast<Index>(p.stride_w) * C;
          b.row_step = static_cast<Index>(p.dilation_h) * in.w * C;
          b.col_step = static_cast<Index>(p.dilation_w) * C;
          b.rows = ky_hi - ky_lo;
          b.cols = kx_hi - kx_lo;
          b.icg = icg;
          b.w = wt.data() + block * block_size + (static_cast<Index>(ky_lo) * kw + kx_lo) * icg * kLanes;
          b.w_row_step = static_cast<Index>(kw) * icg * kLanes;
          b.bias = bt.data() + block * kLanes;
          b.y =
              y.data() + (static_cast<Index>(run.oy) * out.w + run.ox) * O + static_cast<Index>(g) * ocg + blk * kLanes;
          b.y_step = run.down ? static_cast<Index>(out.w) * O : O;
          b.lanes = std::min(kLanes, ocg - blk * kLanes);
          b.bounds = bounds;
          b.range = &range;
          kernels.block[run.np](b);
        }
  }
}

}  // namespace

FloatIsa best_float_isa() {
#if NPUVP_FLOAT_X86
  if (__builtin_cpu_supports("x86-64-v4")) return FloatIsa::kAvx512;
  if (__builtin_cpu_supports("avx2")) return FloatIsa::kAvx2;
#endif
  return FloatIsa::kPortable;
}

namespace {
FloatIsa& chosen_float_isa() {
  static FloatIsa isa = best_float_isa();
  return isa;
}
}  // namespace

FloatIsa float_isa() { return chosen_float_isa(); }

void force_float_isa(FloatIsa isa) {
  const FloatIsa best = best_float_isa();
  if (static_cast<int>(isa) > static_cast<int>(best))
    throw std::invalid_argument(std::string("force_float_isa: this CPU has no ") +
                                (isa == FloatIsa::kAvx512 ? "AVX-512" : "AVX2"));
  chosen_float_isa() = isa;
}

std::vector<float> conv2d_float(const std::vector<float>& x, TensorShape in, const std::vector<float>& w,
                                const std::vector<float>& bias, const ConvParams& p_in, float act_min, float act_max,
                                std::vector<float> storage, StoredRange* stored) {
  const char* where = "conv2d_float";
  ConvParams p = p_in;
  p.input_zero_point = 0;
  const TensorShape out = validate_conv(where, in, p);
  validate_conv_data(where, x, in, w, bias, p);
  if (!(act_min <= act_max)) fail(where, "act_min must not exceed act_max");
  const int C = in.c, O = p.out_channels;
  std::vector<float> y = std::move(storage);
  // Storage too small is freed before the output is allocated, not grown:
  // growing would copy its stale values into the new block, and holding it
  // meanwhile keeps its pages from the new block (on a virtual machine a
  // page the host has not backed yet costs several times one it has).
  if (y.capacity() < out.size()) std::vector<float>().swap(y);
  y.resize(out.size());  // every element is written below
  const Bounds bounds{act_min, act_max};
  LaneRange range;
  if (out.h * out.w == 1 && p.kernel_h == 1 && p.kernel_w == 1 && p.groups == 1 && p.pad.top == 0 && p.pad.left == 0) {
    // Fully connected: one dot product per output, no transposed copy of the
    // weights, added to the bias. Eight outputs' sums go side by side, each
    // its own chain of additions in input order: a single chain waited out
    // each addition's latency.
    constexpr int kChains = 8;
    const auto finish = [&](int o, float sum) {
      const float start = bias.empty() ? 0.0f : bias[static_cast<std::size_t>(o)];
      y[static_cast<std::size_t>(o)] = clamp(start + sum, bounds);
      range.add(y[static_cast<std::size_t>(o)], 0);
    };
    int o = 0;
    for (; o + kChains <= O; o += kChains) {
      const float* wr = w.data() + static_cast<Index>(o) * C;
      float sum[kChains] = {};
      for (int i = 0; i < C; ++i)
        for (int j = 0; j < kChains; ++j) sum[j] += x[static_cast<std::size_t>(i)] * wr[static_cast<Index>(j) * C + i];
      for (int j = 0; j < kChains; ++j) finish(o + j, sum[j]);
    }
    for (; o < O; ++o) {
      const float* wr = w.data() + static_cast<Index>(o) * C;
      float sum = 0.0f;
      for (int i = 0; i < C; ++i) sum += x[static_cast<std::size_t>(i)] * wr[i];
      finish(o, sum);
    }
    range.into(stored);
    return y;
  }
  if (p.groups == C && p.groups == O) {
    // Depthwise: the weights as [tap][channel], the inner loop over contiguous channels.
    const int taps = p.kernel_h * p.kernel_w;
    std::vector<float> wt(w.size());
    for (int c = 0; c < C; ++c)
      for (int t = 0; t < taps; ++t)
        wt[static_cast<std::size_t>(t) * C + c] = w[static_cast<std::size_t>(c) * taps + t];
    // A pixel's valid taps: where each reads the input and its weights.
    std::vector<const float*> tap_x(static_cast<std::size_t>(taps)), tap_w(static_cast<std::size_t>(taps));
    const float* const bias_or_none = bias.empty() ? nullptr : bias.data();
    const auto depthwise = float_kernels().depthwise;
    for (int oy = 0; oy < out.h; ++oy) {
      const int iy0 = oy * p.stride_h - p.pad.top;
      int ky_lo = 0, ky_hi = 0;
      valid_taps(iy0, in.h, p.dilation_h, p.kernel_h, ky_lo, ky_hi);
      for (int ox = 0; ox < out.w; ++ox) {
        const int ix0 = ox * p.stride_w - p.pad.left;
        int kx_lo = 0, kx_hi = 0;
        valid_taps(ix0, in.w, p.dilation_w, p.kernel_w, kx_lo, kx_hi);
        int valid = 0;
        for (int ky = ky_lo; ky < ky_hi; ++ky) {
          const Index iy = iy0 + static_cast<Index>(ky) * p.dilation_h;
          for (int kx = kx_lo; kx < kx_hi; ++kx, ++valid) {
            const Index ix = ix0 + static_cast<Index>(kx) * p.dilation_w;
            tap_x[static_cast<std::size_t>(valid)] = x.data() + (iy * in.w + ix) * C;
            tap_w[static_cast<std::size_t>(valid)] = wt.data() + static_cast<Index>(ky * p.kernel_w + kx) * C;
          }
        }
        depthwise({tap_x.data(), tap_w.data(), valid, C, bias_or_none, bounds,
                   y.data() + (static_cast<Index>(oy) * out.w + ox) * O, &range});
      }
    }
    range.into(stored);
    return y;
  }
  conv_dense(x, in, w, bias, p, out, bounds, y, range);
  range.into(stored);
  return y;
}

std::vector<float> pool_float(const std::vector<float>& x, TensorShape in, const PoolParams& p, bool average) {
  const char* where = average ? "average_pool_float" : "max_pool_float";
  const TensorShape out = validate_pool(where, in, p);
  require_size(where, "input", x.size(), in.size(), "in_shape " + to_string(in));
  std::vector<float> y(out.size());
  const int C = in.c;
  std::vector<double> acc(static_cast<std::size_t>(C));
  for (int oy = 0; oy < out.h; ++oy) {
    const int iy0 = oy * p.stride_h - p.pad.top;
    int ky_lo = 0, ky_hi = 0;
    valid_taps(iy0, in.h, 1, p.kernel_h, ky_lo, ky_hi);
    const int padded_rows = std::min(iy0 + p.kernel_h, in.h + p.pad.bottom) - std::max(iy0, -p.pad.top);
    for (int ox = 0; ox < out.w; ++ox) {
      const int ix0 = ox * p.stride_w - p.pad.left;
      int kx_lo = 0, kx_hi = 0;
      valid_taps(ix0, in.w, 1, p.kernel_w, kx_lo, kx_hi);
      const int padded_cols = std::min(ix0 + p.kernel_w, in.w + p.pad.right) - std::max(ix0, -p.pad.left);
      std::fill(acc.begin(), acc.end(), average ? 0.0 : -std::numeric_limits<double>::infinity());
      for (int ky = ky_lo; ky < ky_hi; ++ky)
        for (int kx = kx_lo; kx < kx_hi; ++kx) {
          const float* xp = x.data() + (static_cast<Index>(iy0 + ky) * in.w + ix0 + kx) * C;
          for (int c = 0; c < C; ++c) acc[c] = average ? acc[c] + xp[c] : std::max<double>(acc[c], xp[c]);
        }
      const int count = p.count_include_pad ? padded_rows * padded_cols : (ky_hi - ky_lo) * (kx_hi - kx_lo);
      float* o = y.data() + (static_cast<Index>(oy) * out.w + ox) * C;
      for (int c = 0; c < C; ++c) o[c] = static_cast<float>(average ? acc[c] / count : acc[c]);
    }
  }
  return y;
}

std::vector<float> fully_connected_float(const std::vector<float>& input, TensorShape in_shape,
                                         const std::vector<float>& weights, const std::vector<float>& bias,
                                         int out_features, float act_min, float act_max) {
  const char* where = "fully_connected_float";
  require_shape(where, "in_shape", in_shape);
  require_positive(where, "out_features", out_features);
  require_size(where, "input", input.size(), in_shape.size(), "in_shape " + to_string(in_shape));
  require_size(where, "weights", weights.size(), static_cast<std::size_t>(out_features) * in_shape.size(),
               "out_features * in_shape.c * in_shape.h * in_shape.w");
  ConvParams conv;
  conv.kernel_h = conv.kernel_w = 1;
  conv.out_channels = out_features;
  const TensorShape flat{static_cast<int>(in_shape.size()), 1, 1};
  try {
    return conv2d_float(input, flat, weights, bias, conv, act_min, act_max);
  } catch (const std::invalid_argument& e) {
    fail(where, std::string(e.what()).substr(std::string("conv2d_float: ").size()));
  }
}
}  // namespace npuvp::runtime
