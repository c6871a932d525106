#pragma once
// How the IR's error messages print shapes, window sizes and padding.

#include <string>

#include "sw/runtime/ir/network.h"

namespace npuvp::runtime::ir_format {

inline std::string shape_str(TensorShape s) {
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

inline std::string hw_str(std::int64_t h, std::int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

inline std::string pad_str(const Padding& p) {
  return std::to_string(p.top) + "," + std::to_string(p.left) + "," + std::to_string(p.bottom) + "," +
         std::to_string(p.right);
}

}  // namespace npuvp::runtime::ir_format
