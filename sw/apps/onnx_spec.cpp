#include "sw/apps/onnx_spec.h"

#include <algorithm>
#include <cmath>

#include "sw/runtime/reference/reference_executor.h"

namespace npuvp::apps {

std::vector<std::int8_t> onnx_spec_output(const runtime::QuantizedNetwork& q, int index,
                                          const std::vector<std::int8_t>& input) {
  const runtime::Layer& l = q.network.layer(index);
  const runtime::QuantizedLayer& ql = q.layers[static_cast<std::size_t>(index)];
  const runtime::ConvForm form = runtime::conv_form(q.network, index);
  const std::vector<std::int32_t> acc = runtime::conv2d_accumulators(input, form.in, ql.weights, ql.bias, ql.conv);
  const float x_scale = q.layers[static_cast<std::size_t>(l.inputs[0])].output.scale;
  const int channels = ql.conv.out_channels;
  std::vector<float> m(static_cast<std::size_t>(channels));
  for (int k = 0; k < channels; ++k) {
    const float w_scale = ql.weight_scales.size() == 1 ? ql.weight_scales[0] : ql.weight_scales[k];
    // float32 throughout, left to right, as the operator's float32 scale inputs multiply.
    const float xw = x_scale * w_scale;
    m[static_cast<std::size_t>(k)] = xw / ql.output.scale;
  }
  std::vector<std::int8_t> out(acc.size());
  for (std::size_t e = 0; e < acc.size(); ++e) {
    // The product in double, as the operators' reference implementation
    // (numpy: int32 times float32 promotes to float64); nearbyint rounds half to even.
    const double y = std::nearbyint(static_cast<double>(acc[e]) * m[e % static_cast<std::size_t>(channels)]) +
                     ql.requant.output_zero_point;
    const double saturated = std::clamp(y, -128.0, 127.0);
    out[e] = static_cast<std::int8_t>(
        std::clamp(static_cast<std::int32_t>(saturated), ql.requant.act_min, ql.requant.act_max));
  }
  return out;
}

std::vector<std::size_t> onnx_spec_mismatches(const runtime::QuantizedNetwork& q,
                                              const std::vector<std::vector<std::int8_t>>& outputs) {
  std::vector<std::size_t> counts(outputs.size(), 0);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const runtime::Layer& l = q.network.layer(static_cast<int>(i));
    if (!runtime::is_conv_like(l.type) || l.inputs.empty()) continue;
    const auto spec = onnx_spec_output(q, static_cast<int>(i), outputs[static_cast<std::size_t>(l.inputs[0])]);
    for (std::size_t e = 0; e < spec.size() && e < outputs[i].size(); ++e) counts[i] += spec[e] != outputs[i][e];
  }
  return counts;
}

}  // namespace npuvp::apps
