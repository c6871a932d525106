#include "sw/apps/footprint.h"

#include <cmath>
#include <stdexcept>

#include "contract/cluster_regs.h"

namespace npuvp::apps {
namespace {

double aligned(double bytes) { return std::ceil(bytes / 64) * 64; }

std::string mib(double bytes) { return std::to_string(static_cast<std::uint64_t>(std::ceil(bytes / 1048576))); }

void add_layer(Footprint& f, const std::string& name, double dram, double host) {
  f.dram_bytes += dram;
  f.host_bytes += host + dram;
  if (dram > f.largest_dram_bytes) {
    f.largest_dram_bytes = dram;
    f.largest_layer = name;
  }
}

}  // namespace

Footprint conv_footprint(const std::vector<runtime::ConvLayerSpec>& specs) {
  Footprint f;
  for (const auto& s : specs) {
    const auto& w = s.window;
    if (s.in_c <= 0 || s.in_h <= 0 || s.in_w <= 0 || s.out_c <= 0 || w.groups <= 0 || w.stride_h <= 0 ||
        w.stride_w <= 0)
      continue;
    const auto out_dim = [](double in, int pad_a, int pad_b, int k, int d, int stride) {
      return std::floor((in + pad_a + pad_b - double(d) * (k - 1) - 1) / stride) + 1;
    };
    const double out_h = out_dim(s.in_h, w.pad.top, w.pad.bottom, w.kernel_h, w.dilation_h, w.stride_h);
    const double out_w = out_dim(s.in_w, w.pad.left, w.pad.right, w.kernel_w, w.dilation_w, w.stride_w);
    if (out_h <= 0 || out_w <= 0) continue;
    const double e = pe_array::element_bytes(static_cast<pe_array::Datatype>(s.datatype));
    const double input = e * s.in_c * s.in_h * s.in_w;
    const double weights = e * s.out_c * (s.in_c / w.groups) * w.kernel_h * w.kernel_w;
    const double outputs = double(s.out_c) * out_h * out_w;
    const double dram = aligned(input) + aligned(weights) + aligned(4.0 * s.out_c) + aligned(8.0 * s.out_c) +
                        aligned(e * outputs) + aligned(sizeof(firmware::LayerCommand));
    const double reference = s.datatype == firmware::Datatype::kFp16 ? 2 * sizeof(double) * outputs : e * outputs;
    add_layer(f, s.name, dram, input + weights + 4.0 * s.out_c + reference);
  }
  return f;
}

Footprint network_footprint(const runtime::Network& network, int images) {
  Footprint f;
  f.images = images;
  for (int i = 0; i < static_cast<int>(network.size()); ++i) {
    const runtime::Layer& l = network.layer(i);
    const double tensor = static_cast<double>(l.out_shape.size()), params = static_cast<double>(l.params);
    const double values = tensor * images + params;
    // Data movement and batch normalization may be folded into their
    // neighbours; the input, convolutions and fully connected layers always
    // have buffers of their own.
    const bool own_buffers =
        i == 0 || l.type == runtime::LayerType::kConv2d || l.type == runtime::LayerType::kFullyConnected;
    add_layer(f, l.name, own_buffers ? values : 0, sizeof(float) * (tensor + params) + values);
  }
  return f;
}

void check_footprint(const Footprint& f, std::uint64_t dram_bytes, std::uint64_t max_host_bytes) {
  if (dram_bytes != 0 && f.dram_bytes > static_cast<double>(dram_bytes))
    throw std::invalid_argument(
        "the layers' tensors need " + mib(f.dram_bytes) + " MiB of DRAM (layer '" + f.largest_layer + "' " +
        mib(f.largest_dram_bytes) +
        " MiB), more than the platform's dram.backing_mib = " + mib(static_cast<double>(dram_bytes)) +
        ": raise it (--set dram.backing_mib=N, up to the part's capacity) or run a smaller "
        "--input-size" +
        (f.images > 1 ? std::string(" or --batch") : std::string()));
  if (max_host_bytes != 0 && f.host_bytes > static_cast<double>(max_host_bytes))
    throw std::invalid_argument("the run needs at least " + mib(f.host_bytes) +
                                " MiB of host memory for its tensors, their reference outputs and their DRAM copies, "
                                "more than --max-memory " +
                                mib(static_cast<double>(max_host_bytes)) +
                                ": raise --max-memory or run a smaller --input-size" +
                                (f.images > 1 ? std::string(" or --batch") : std::string()));
}

}  // namespace npuvp::apps
