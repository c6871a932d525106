#include "models/pe_array/cluster_kernel.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "models/common/half.h"
#include "models/pe_array/job_layout.h"
#include "models/pe_array/vector_conv.h"

namespace npuvp::pe_array {
namespace {

std::int32_t saturate(std::int32_t v, const ClusterJob& job) { return std::clamp(v, job.act_min, job.act_max); }

// The accumulator: int8 and int4 products sum in a 32-bit register, int16
// products (up to 2^30 each) in a 48-bit one, as TFLite's 16-bit kernels
// accumulate in int64 and requantize values below 2^47. Sums wrap modulo the
// register's width (computed unsigned, where wrapping is defined).
template <typename F>
struct Accumulator {
  using Sum = std::uint32_t;
  static std::int32_t requantized(Sum acc, RequantEntry rq) { return requantize(static_cast<std::int32_t>(acc), rq); }
  static std::int64_t held(Sum acc) { return static_cast<std::int32_t>(acc); }
};
template <>
struct Accumulator<Int16Format> {
  using Sum = std::uint64_t;
  static std::int32_t requantized(Sum acc, RequantEntry rq) {
    const auto a48 = static_cast<std::int64_t>(acc << 16) / (std::int64_t{1} << 16);  // sign-extend bit 47
    return requantize48(a48, rq);
  }
  static std::int64_t held(Sum acc) { return static_cast<std::int64_t>(acc); }
};

// F: the operands' format; O: the results' (another width where the output
// stage converts).
template <typename F, typename O = F>
void conv_int(const ClusterJob& job, const JobOperands& in, std::int8_t* out) {
  using Sum = typename Accumulator<F>::Sum;
  const int taps = job.kernel_h * job.kernel_w;
  const int cg = static_cast<int>(job.group_in);
  const std::size_t filter_size = static_cast<std::size_t>(taps) * cg;
  // Sum of each filter tap's weights: with it, a padded tap (input equal to the
  // zero point) contributes nothing and a real tap needs no per-MAC subtraction.
  std::vector<Sum> tap_weight_sum(static_cast<std::size_t>(job.k_count) * taps);
  for (std::uint32_t k = 0; k < job.k_count; ++k)
    for (int t = 0; t < taps; ++t) {
      Sum s = 0;
      for (int i = 0; i < cg; ++i) s += static_cast<Sum>(F::load(in.weights, k * filter_size + t * cg + i));
      tap_weight_sum[k * taps + t] = s;
    }
  const auto zp = static_cast<Sum>(job.input_zero_point);
  const std::int32_t lo = std::max(job.act_min, O::kMin), hi = std::min(job.act_max, O::kMax);
  std::vector<const std::int8_t*> tap_ptr(taps);
  std::vector<int> tap_index(taps);
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox) {
      const int valid = valid_taps(job, oy, ox, in.tile, F::kBytes, tap_ptr, tap_index);
      const std::size_t o = (static_cast<std::size_t>(oy) * job.out_w + ox) * job.k_count;
      for (std::uint32_t k = 0; k < job.k_count; ++k) {
        const std::size_t group_channel = static_cast<std::size_t>(k / job.group_out) * cg;
        const std::size_t filter = k * filter_size;
        auto acc = job.flags & kJobAccumulate ? static_cast<Sum>(in.sums[o + k]) : static_cast<Sum>(in.bias[k]);
        for (int v = 0; v < valid; ++v) {
          const std::size_t wt = filter + static_cast<std::size_t>(tap_index[v]) * cg;
          Sum dot = 0;
          for (int i = 0; i < cg; ++i)
            dot += static_cast<Sum>(F::load(tap_ptr[v], group_channel + i) * F::load(in.weights, wt + i));
          acc += dot - zp * tap_weight_sum[k * taps + tap_index[v]];
        }
        if (job.flags & kJobHoldSums) {
          in.held[o + k] = Accumulator<F>::held(acc);
          continue;
        }
        // The zero point is added in a wider adder: a saturated product plus it clamps, never wraps.
        const std::int64_t r = std::int64_t{Accumulator<F>::requantized(acc, in.requant[k])} + job.output_zero_point;
        O::store(out, o + k, static_cast<std::int32_t>(std::clamp<std::int64_t>(r, lo, hi)));
      }
    }
  }
}

// fp16: exact half products (11 × 11 significant bits fit a float) summed in
// fp32 in tap-major, channel-minor order after the fp32 bias; padded taps
// are 0.0 and contribute nothing. One rounding to half at the end.
void conv_fp16(const ClusterJob& job, const JobOperands& in, std::int8_t* out) {
  const int taps = job.kernel_h * job.kernel_w;
  const int cg = static_cast<int>(job.group_in);
  const std::size_t filter_size = static_cast<std::size_t>(taps) * cg;
  const auto widen = [](const std::int8_t* p, std::size_t i) {
    const auto* b = reinterpret_cast<const std::uint8_t*>(p) + 2 * i;
    return half::to_float(static_cast<std::uint16_t>(b[0] | (b[1] << 8)));
  };
  // The operand registers hold fp32 copies: widen every weight once.
  std::vector<float> weights(filter_size * job.k_count);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = widen(in.weights, i);
  const bool relu = (job.flags & kJobFp16Relu) != 0;
  std::vector<const std::int8_t*> tap_ptr(taps);
  std::vector<int> tap_index(taps);
  const std::size_t channels = static_cast<std::size_t>(job.k_count / job.group_out) * cg;  // the job reads
  std::vector<float> x(static_cast<std::size_t>(taps) * channels);
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox) {
      const int valid = valid_taps(job, oy, ox, in.tile, 2, tap_ptr, tap_index);
      for (int v = 0; v < valid; ++v)
        for (std::size_t c = 0; c < channels; ++c) x[v * channels + c] = widen(tap_ptr[v], c);
      const std::size_t first = (static_cast<std::size_t>(oy) * job.out_w + ox) * job.k_count;
      auto* o = reinterpret_cast<std::uint8_t*>(out) + 2 * first;
      for (std::uint32_t k = 0; k < job.k_count; ++k) {
        const std::size_t group_channel = static_cast<std::size_t>(k / job.group_out) * cg;
        float acc;
        std::memcpy(&acc, &in.bias[k], sizeof acc);
        for (int v = 0; v < valid; ++v) {
          const float* xv = &x[v * channels + group_channel];
          const float* wt = &weights[k * filter_size + static_cast<std::size_t>(tap_index[v]) * cg];
          for (int i = 0; i < cg; ++i) acc += xv[i] * wt[i];
        }
        if (relu && !(acc > 0)) acc = 0;
        const std::uint16_t h = half::from_float(acc);
        o[2 * k] = static_cast<std::uint8_t>(h);
        o[2 * k + 1] = static_cast<std::uint8_t>(h >> 8);
      }
    }
  }
}

void conv(const ClusterJob& job, const JobOperands& in, std::int8_t* out, KernelPath path) {
  const auto datatype = static_cast<Datatype>(job.datatype);
  if (datatype == Datatype::kFp16) return conv_fp16(job, in, out);
  if (job.flags & kJobInt16Output) return conv_int<Int8Format, Int16Format>(job, in, out);
  if (job.flags & kJobInt8Output) return conv_int<Int16Format, Int8Format>(job, in, out);
  // The host's vector units sum int16 products in 32-bit lanes: int16 stays scalar.
  if (const VectorIsa* isa = vector_isa(path); isa && datatype != Datatype::kInt16)
    return conv_vector(job, in, out, *isa);
  switch (datatype) {
    case Datatype::kInt8:
      return conv_int<Int8Format>(job, in, out);
    case Datatype::kInt4:
      return conv_int<Int4Format>(job, in, out);
    case Datatype::kInt16:
      return conv_int<Int16Format>(job, in, out);
    case Datatype::kFp16:
      break;
  }
}

template <typename F>
void pool(const ClusterJob& job, const JobOperands& in, std::int8_t* out) {
  const bool is_max = job.op == static_cast<std::uint32_t>(JobOp::kMaxPool);
  std::vector<std::int32_t> acc(job.k_count);
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox) {
      const Window w = window(job, oy, ox);
      std::fill(acc.begin(), acc.end(), is_max ? std::numeric_limits<std::int32_t>::min() : 0);
      for (int ky = w.ky_lo; ky < w.ky_hi; ++ky)
        for (int kx = w.kx_lo; kx < w.kx_hi; ++kx) {
          const std::int8_t* x = pixel(job, in.tile, w.y0 + ky, w.x0 + kx, F::kBytes);
          for (std::uint32_t k = 0; k < job.k_count; ++k)
            acc[k] = is_max ? std::max<std::int32_t>(acc[k], F::load(x, k)) : acc[k] + F::load(x, k);
        }
      const std::size_t o = (static_cast<std::size_t>(oy) * job.out_w + ox) * job.k_count;
      if (is_max) {
        for (std::uint32_t k = 0; k < job.k_count; ++k) F::store(out, o + k, saturate(acc[k], job));
        continue;
      }
      std::int32_t count = (w.ky_hi - w.ky_lo) * (w.kx_hi - w.kx_lo);
      std::int32_t pad_sum = 0;
      if (job.flags & kJobCountIncludePad) {
        // The window clipped to the padded map, not to the image.
        const int y_img = w.y0 + job.tile_row0;
        const int rows = std::min<int>(y_img + job.kernel_h, static_cast<int>(job.image_h) + job.pad_bottom) -
                         std::max<int>(y_img, -static_cast<int>(job.pad_top));
        const int cols = std::min<int>(w.x0 + job.kernel_w, static_cast<int>(job.image_w) + job.pad_right) -
                         std::max<int>(w.x0, -static_cast<int>(job.pad_left));
        pad_sum = (rows * cols - count) * job.input_zero_point;
        count = rows * cols;
      }
      for (std::uint32_t k = 0; k < job.k_count; ++k) {
        const std::int32_t s = acc[k] + pad_sum;
        // Round half away from zero, as TFLite's average pool does.
        const std::int32_t avg = (s >= 0 ? s + count / 2 : s - count / 2) / count;
        F::store(out, o + k, saturate(avg, job));
      }
    }
  }
}

// The terms of a TFLite ADD (int8, or int16 with left_shift 15): input 1
// around in1_zero, the job's input 2, the sum around out_zero in [lo, hi].
AddTerms add_terms(const ClusterJob& job, std::int32_t in1_zero, std::int32_t out_zero, std::int32_t lo,
                   std::int32_t hi) {
  return {{job.in1_multiplier, job.in1_shift},
          {job.in2_multiplier, job.in2_shift},
          {job.out_multiplier, job.out_shift},
          in1_zero,
          job.in2_zero_point,
          out_zero,
          lo,
          hi,
          job.left_shift};
}

template <typename F>
void add_channels(const AddTerms& t, std::size_t count, const std::int8_t* a, const std::int8_t* b, std::int8_t* o) {
  for (std::size_t k = 0; k < count; ++k) {
    const std::int32_t s1 = requantize((F::load(a, k) - t.in1_zero) * (1 << t.left_shift), t.in1);
    const std::int32_t s2 = requantize((F::load(b, k) - t.in2_zero) * (1 << t.left_shift), t.in2);
    F::store(o, k, std::clamp(requantize(s1 + s2, t.out) + t.out_zero, t.lo, t.hi));
  }
}

// An int8 add's vector loop, where the path has one that takes its terms.
const VectorIsa* vector_add(KernelPath path, const AddTerms& t) {
  const VectorIsa* isa = vector_isa(path);
  return isa != nullptr && isa->add_bytes != nullptr && vector_add_fits(t) ? isa : nullptr;
}

template <typename F>
void add(const ClusterJob& job, const JobOperands& in, std::int8_t* out, KernelPath path) {
  const AddTerms t = add_terms(job, job.input_zero_point, job.output_zero_point, job.act_min, job.act_max);
  const VectorIsa* isa = std::is_same_v<F, Int8Format> ? vector_add(path, t) : nullptr;
  for (std::uint32_t oy = 0; oy < job.out_h; ++oy) {
    for (std::uint32_t ox = 0; ox < job.out_w; ++ox) {
      const int y = job.origin_y + static_cast<int>(oy) * job.stride_h;
      const int x = job.origin_x + static_cast<int>(ox) * job.stride_w;
      std::int8_t* o = out + (static_cast<std::size_t>(oy) * job.out_w + ox) * job.k_count * F::kBytes;
      const std::int8_t* a = pixel(job, in.tile, y, x, F::kBytes);
      const std::int8_t* b = pixel(job, in.tile2, y, x, F::kBytes);
      if (isa != nullptr)
        isa->add_bytes(a, b, job.k_count, t, o);
      else
        add_channels<F>(t, job.k_count, a, b, o);
    }
  }
}

// The fused epilogue: each int8 result, as the convolution wrote it, is
// input 1 of the add; the sum replaces it.
void residual_add(const ClusterJob& job, const std::int8_t* residual, std::int8_t* out, KernelPath path) {
  const AddTerms t =
      add_terms(job, job.output_zero_point, job.fused_output_zero_point, job.fused_act_min, job.fused_act_max);
  const std::size_t count = std::size_t{job.out_h} * job.out_w * job.k_count;
  if (const VectorIsa* isa = vector_add(path, t)) return isa->add_bytes(out, residual, count, t, out);
  add_channels<Int8Format>(t, count, out, residual, out);
}

// The fused pool epilogue: the convolution's int8 results are the pooling
// job's tile (contract/cluster_regs.h, PoolEpilogue).
void pool_results(const ClusterJob& job, const std::int8_t* results, std::int8_t* out) {
  const PoolEpilogue e = read_pool_epilogue(job);
  ClusterJob p = job;
  p.op = static_cast<std::uint32_t>(job.fuse == kJobFuseMaxPool ? JobOp::kMaxPool : JobOp::kAvgPool);
  p.in_h = job.out_h;
  p.in_w = job.out_w;
  p.in_c = job.k_count;
  p.in_row_pitch = job.out_w * job.k_count;
  p.in_channel_offset = 0;
  p.origin_y = e.origin_y;
  p.origin_x = -static_cast<std::int32_t>(e.pad_left);
  p.kernel_h = e.kernel_h;
  p.kernel_w = e.kernel_w;
  p.stride_h = e.stride_h;
  p.stride_w = e.stride_w;
  p.dilation_h = p.dilation_w = 1;
  p.out_h = e.out_h;
  p.out_w = e.out_w;
  p.input_zero_point = job.output_zero_point;
  p.act_min = job.fused_act_min;
  p.act_max = job.fused_act_max;
  p.tile_row0 = e.first_row;
  p.image_h = e.image_h;
  p.image_w = e.image_w;
  p.pad_top = e.pad_top;
  p.pad_left = e.pad_left;
  p.pad_bottom = e.pad_bottom;
  p.pad_right = e.pad_right;
  pool<Int8Format>(p, JobOperands{results}, out);
}

}  // namespace

std::int32_t requantize48(std::int64_t acc, RequantEntry rq) {
  // TFLite's MultiplyByQuantizedMultiplier for int64 accumulators: the
  // multiplier rounded to 15 bits, one rounding shift.
  const std::int64_t reduced = rq.multiplier < 0x7FFF0000 ? (std::int64_t{rq.multiplier} + (1 << 15)) >> 16 : 0x7FFF;
  const int total_shift = 15 - rq.shift;
  // A left shift of 14 or more (never a quantizer's) keeps the product unrounded.
  const std::int64_t product = acc * reduced;
  const std::int64_t r = total_shift <= 0 ? product : (product + (std::int64_t{1} << (total_shift - 1))) >> total_shift;
  return static_cast<std::int32_t>(
      std::clamp<std::int64_t>(r, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
}

const char* kernel_path_name(KernelPath path) {
  switch (path) {
    case KernelPath::kAvx2:
      return "avx2";
    case KernelPath::kAvx512:
      return "avx512";
    case KernelPath::kScalar:
      break;
  }
  return "scalar";
}

KernelPath parse_kernel_path(const char* name) {
  for (KernelPath p : {KernelPath::kScalar, KernelPath::kAvx2, KernelPath::kAvx512}) {
    if (std::strcmp(name, kernel_path_name(p)) != 0) continue;
    if (!kernel_path_supported(p))
      throw std::invalid_argument(std::string("NPUVP_KERNEL=") + name + ": this CPU cannot run it");
    return p;
  }
  throw std::invalid_argument(std::string("NPUVP_KERNEL=") + name + ": expected scalar, avx2 or avx512");
}

KernelPath kernel_path() {
  static const KernelPath path = [] {
    if (const char* name = std::getenv("NPUVP_KERNEL")) return parse_kernel_path(name);
    for (KernelPath p : {KernelPath::kAvx512, KernelPath::kAvx2})
      if (kernel_path_supported(p)) return p;
    return KernelPath::kScalar;
  }();
  return path;
}

void run_job(const ClusterJob& job, const JobOperands& in, std::int8_t* out) { run_job(job, in, out, kernel_path()); }

void run_job(const ClusterJob& job, const JobOperands& in, std::int8_t* out, KernelPath path) {
  switch (static_cast<JobOp>(job.op)) {
    case JobOp::kConv2d:
      if (fuses_pool(job)) {
        thread_local std::vector<std::int8_t> results;
        results.resize(std::size_t{job.out_h} * job.out_w * job.k_count);
        conv(job, in, results.data(), path);
        pool_results(job, results.data(), out);
        break;
      }
      conv(job, in, out, path);
      if (job.fuse == kJobFuseAdd) residual_add(job, in.residual, out, path);
      break;
    case JobOp::kMaxPool:
    case JobOp::kAvgPool:
      if (static_cast<Datatype>(job.datatype) == Datatype::kInt16) return pool<Int16Format>(job, in, out);
      pool<Int8Format>(job, in, out);
      break;
    case JobOp::kAdd:
      if (static_cast<Datatype>(job.datatype) == Datatype::kInt16) return add<Int16Format>(job, in, out, path);
      add<Int8Format>(job, in, out, path);
      break;
  }
}

}  // namespace npuvp::pe_array
