#pragma once
// Shape of one activation tensor of batch 1. Activations are stored in HWC
// layout (channels innermost): element (y, x, c) is at index (y * w + x) * c_total + c.

#include <cstddef>

namespace npuvp::runtime {

struct TensorShape {
  int c, h, w;

  std::size_t size() const {
    return static_cast<std::size_t>(c) * static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
  }
};

inline bool operator==(const TensorShape& a, const TensorShape& b) { return a.c == b.c && a.h == b.h && a.w == b.w; }
inline bool operator!=(const TensorShape& a, const TensorShape& b) { return !(a == b); }

}  // namespace npuvp::runtime
