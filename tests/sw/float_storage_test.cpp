// How much memory conv2d_float holds at once when handed storage too small
// for its output. This binary replaces the global operator new and delete to
// count the bytes live (sanitizer builds, which replace them too, skip it).
#include <malloc.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#include "sw/runtime/reference/reference_kernels.h"

namespace {

std::size_t g_live = 0;
std::size_t g_peak = 0;

void* counted_allocation(std::size_t bytes) {
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (p == nullptr) throw std::bad_alloc();
  g_live += malloc_usable_size(p);
  g_peak = std::max(g_peak, g_live);
  return p;
}

void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  g_live -= malloc_usable_size(p);
  std::free(p);
}

}  // namespace

void* operator new(std::size_t bytes) { return counted_allocation(bytes); }
void* operator new[](std::size_t bytes) { return counted_allocation(bytes); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }

namespace npuvp::runtime {
namespace {

// A calibration pass hands each layer the largest output freed so far; at
// 1080x1920 the next output is often twice its size (MobileNet v1's first
// pointwise layer: 126 MiB after two of 63 MiB). Held while the output is
// allocated, the storage's pages could not serve it.
TEST(FloatStorage, StorageTooSmallIsFreedBeforeTheOutputIsAllocated) {
  const TensorShape in{16, 64, 64};  // c, h, w
  ConvParams p;
  p.out_channels = 32;  // a 1x1 convolution: few weights, so few temporaries
  const std::vector<float> x(in.size(), 0.5f), w(std::size_t{16} * 32, 0.25f), bias(32, 1.0f);
  const std::size_t out_bytes = std::size_t{64} * 64 * 32 * sizeof(float);  // 512 KiB
  std::vector<float> storage(out_bytes / sizeof(float) / 2);
  const std::size_t storage_bytes = malloc_usable_size(storage.data());
  const std::size_t live_before = g_live;
  g_peak = g_live;
  const std::vector<float> y = conv2d_float(x, in, w, bias, p, 0.0f, 100.0f, std::move(storage));
  ASSERT_EQ(y.size(), out_bytes / sizeof(float));
  EXPECT_EQ(y.front(), 1.0f + 16 * 0.5f * 0.25f);
  // Held, the storage would make the peak at least live_before + out_bytes.
  EXPECT_LT(g_peak, live_before - storage_bytes + out_bytes + out_bytes / 8)
      << "peak " << g_peak << " B, " << live_before << " B live before, storage " << storage_bytes << " B, output "
      << out_bytes << " B";
}

// Storage large enough is the output's memory: nothing of the output's size
// is allocated.
TEST(FloatStorage, StorageLargeEnoughHoldsTheOutput) {
  const TensorShape in{16, 64, 64};
  ConvParams p;
  p.out_channels = 32;
  const std::vector<float> x(in.size(), 0.5f), w(std::size_t{16} * 32, 0.25f), bias(32, 1.0f);
  std::vector<float> storage(std::size_t{64} * 64 * 32 + 5);
  const float* memory = storage.data();
  const std::size_t live_before = g_live;
  g_peak = g_live;
  const std::vector<float> y = conv2d_float(x, in, w, bias, p, 0.0f, 100.0f, std::move(storage));
  EXPECT_EQ(y.data(), memory);
  EXPECT_LT(g_peak, live_before + std::size_t{64} * 64 * 32 * sizeof(float) / 8);
}

}  // namespace
}  // namespace npuvp::runtime
