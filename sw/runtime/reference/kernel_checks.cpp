#include "sw/runtime/reference/kernel_checks.h"

#include <algorithm>
#include <stdexcept>

namespace npuvp::runtime::kernel_checks {

using Index = std::ptrdiff_t;

[[noreturn]] void fail(const char* where, const std::string& what) {
  throw std::invalid_argument(std::string(where) + ": " + what);
}

std::string to_string(TensorShape s) {
  return "{c=" + std::to_string(s.c) + ", h=" + std::to_string(s.h) + ", w=" + std::to_string(s.w) + "}";
}

void require_positive(const char* where, const char* name, int v) {
  if (v <= 0) fail(where, std::string(name) + " must be positive (got " + std::to_string(v) + ")");
}

void require_non_negative(const char* where, const char* name, int v) {
  if (v < 0) fail(where, std::string(name) + " must not be negative (got " + std::to_string(v) + ")");
}

void require_int8(const char* where, const char* name, std::int32_t v) {
  if (v < -128 || v > 127) fail(where, std::string(name) + " must be in [-128, 127] (got " + std::to_string(v) + ")");
}

void require_shape(const char* where, const char* name, TensorShape s) {
  if (s.c <= 0 || s.h <= 0 || s.w <= 0) {
    fail(where, std::string(name) + " must have positive dimensions (got " + to_string(s) + ")");
  }
}

void require_size(const char* where, const char* name, std::size_t actual, std::size_t expected,
                  const std::string& because) {
  if (actual != expected) {
    fail(where, std::string(name) + " has " + std::to_string(actual) + " elements, expected " +
                    std::to_string(expected) + " (" + because + ")");
  }
}

void require_act_range(const char* where, std::int32_t act_min, std::int32_t act_max) {
  if (act_min < -128 || act_max > 127 || act_min > act_max) {
    fail(where, "act_min/act_max must satisfy -128 <= act_min <= act_max <= 127 (got " + std::to_string(act_min) +
                    ", " + std::to_string(act_max) + ")");
  }
}

void require_multiplier(const char* where, const char* name, FixedPointMultiplier m) {
  if (m.shift > 30 || m.shift < -31) {
    fail(where, std::string(name) + ".shift must be in [-31, 30] (got " + std::to_string(m.shift) + ")");
  }
}

namespace {

// The checks convolution and pooling share, in the order their messages follow.
void validate_window(const char* where, TensorShape in, const Window& p) {
  require_shape(where, "in_shape", in);
  require_positive(where, "kernel_h", p.kernel_h);
  require_positive(where, "kernel_w", p.kernel_w);
  require_positive(where, "stride_h", p.stride_h);
  require_positive(where, "stride_w", p.stride_w);
  require_non_negative(where, "pad_top", p.pad.top);
  require_non_negative(where, "pad_left", p.pad.left);
  require_non_negative(where, "pad_bottom", p.pad.bottom);
  require_non_negative(where, "pad_right", p.pad.right);
}

}  // namespace

// Validates everything of a convolution that does not depend on the data vectors.
TensorShape validate_conv(const char* where, TensorShape in, const ConvParams& p) {
  validate_window(where, in, p);
  require_positive(where, "dilation_h", p.dilation_h);
  require_positive(where, "dilation_w", p.dilation_w);
  require_positive(where, "groups", p.groups);
  require_positive(where, "out_channels", p.out_channels);
  if (in.c % p.groups != 0) {
    fail(where,
         "in_shape.c (" + std::to_string(in.c) + ") is not divisible by groups (" + std::to_string(p.groups) + ")");
  }
  if (p.out_channels % p.groups != 0) {
    fail(where, "out_channels (" + std::to_string(p.out_channels) + ") is not divisible by groups (" +
                    std::to_string(p.groups) + ")");
  }
  require_int8(where, "input_zero_point", p.input_zero_point);
  const Index eff_kh = static_cast<Index>(p.dilation_h) * (p.kernel_h - 1) + 1;
  const Index eff_kw = static_cast<Index>(p.dilation_w) * (p.kernel_w - 1) + 1;
  const Index span_h = static_cast<Index>(in.h) + p.pad.top + p.pad.bottom - eff_kh;
  const Index span_w = static_cast<Index>(in.w) + p.pad.left + p.pad.right - eff_kw;
  if (span_h < 0) {
    fail(where, "output height <= 0: kernel_h " + std::to_string(p.kernel_h) + " with dilation_h " +
                    std::to_string(p.dilation_h) + " exceeds the padded input height " +
                    std::to_string(in.h + p.pad.top + p.pad.bottom));
  }
  if (span_w < 0) {
    fail(where, "output width <= 0: kernel_w " + std::to_string(p.kernel_w) + " with dilation_w " +
                    std::to_string(p.dilation_w) + " exceeds the padded input width " +
                    std::to_string(in.w + p.pad.left + p.pad.right));
  }
  return {p.out_channels, static_cast<int>(span_h / p.stride_h + 1), static_cast<int>(span_w / p.stride_w + 1)};
}

std::size_t conv_weight_count(TensorShape in, const ConvParams& p) {
  return static_cast<std::size_t>(p.out_channels) * static_cast<std::size_t>(p.kernel_h) *
         static_cast<std::size_t>(p.kernel_w) * static_cast<std::size_t>(in.c / p.groups);
}

// Kernel taps k in [lo, hi) whose input coordinate origin + k * dilation lies in [0, extent).
void valid_taps(int origin, int extent, int dilation, int kernel, int& lo, int& hi) {
  lo = origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
  hi = origin >= extent ? 0 : std::min(kernel, (extent - 1 - origin) / dilation + 1);
  if (hi < lo) hi = lo;
}

TensorShape validate_pool(const char* where, TensorShape in, const PoolParams& p) {
  validate_window(where, in, p);
  require_int8(where, "zero_point", p.zero_point);
  require_act_range(where, p.act_min, p.act_max);
  const Index span_h = static_cast<Index>(in.h) + p.pad.top + p.pad.bottom - p.kernel_h;
  const Index span_w = static_cast<Index>(in.w) + p.pad.left + p.pad.right - p.kernel_w;
  if (span_h < 0) {
    fail(where, "output height <= 0: kernel_h " + std::to_string(p.kernel_h) + " exceeds the padded input height " +
                    std::to_string(in.h + p.pad.top + p.pad.bottom));
  }
  if (span_w < 0) {
    fail(where, "output width <= 0: kernel_w " + std::to_string(p.kernel_w) + " exceeds the padded input width " +
                    std::to_string(in.w + p.pad.left + p.pad.right));
  }
  const TensorShape out{in.c, static_cast<int>(span_h / p.stride_h + 1), static_cast<int>(span_w / p.stride_w + 1)};
  if (p.pad.top >= p.kernel_h || static_cast<Index>(out.h - 1) * p.stride_h - p.pad.top >= in.h) {
    fail(where, "pad_top/pad_bottom too large: a window of kernel_h " + std::to_string(p.kernel_h) +
                    " lies entirely in the padding");
  }
  if (p.pad.left >= p.kernel_w || static_cast<Index>(out.w - 1) * p.stride_w - p.pad.left >= in.w) {
    fail(where, "pad_left/pad_right too large: a window of kernel_w " + std::to_string(p.kernel_w) +
                    " lies entirely in the padding");
  }
  return out;
}

}  // namespace npuvp::runtime::kernel_checks
