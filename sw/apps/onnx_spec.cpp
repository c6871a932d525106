#include "sw/apps/onnx_spec.h"

#include <algorithm>
#include <cmath>

#include "sw/runtime/reference/reference_executor.h"

namespace npuvp::apps {
namespace {

using runtime::QuantizedNetwork;

std::int8_t saturate(double y, runtime::ActivationRange act) {
  const auto v = static_cast<std::int32_t>(std::clamp(y, -128.0, 127.0));
  return static_cast<std::int8_t>(std::clamp(v, act.min, act.max));
}

std::vector<std::int8_t> conv_like(const QuantizedNetwork& q, int index, const std::vector<std::int8_t>& input) {
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
    out[e] = saturate(y, {ql.requant.act_min, ql.requant.act_max});
  }
  return out;
}

// DequantizeLinear of both inputs, Add and QuantizeLinear, each in float32.
std::vector<std::int8_t> add(const QuantizedNetwork& q, int index, const std::vector<std::int8_t>& a,
                             const std::vector<std::int8_t>& b) {
  const runtime::Layer& l = q.network.layer(index);
  const runtime::QuantizedLayer& ql = q.layers[static_cast<std::size_t>(index)];
  const runtime::QuantParams qa = q.layers[static_cast<std::size_t>(l.inputs[0])].output;
  const runtime::QuantParams qb = q.layers[static_cast<std::size_t>(l.inputs[1])].output;
  const runtime::ActivationRange act = runtime::activation_range(ql.activation, ql.output);
  std::vector<std::int8_t> out(a.size());
  for (std::size_t e = 0; e < a.size(); ++e) {
    const float da = static_cast<float>(a[e] - qa.zero_point) * qa.scale;
    const float db = static_cast<float>(b[e] - qb.zero_point) * qb.scale;
    const float sum = da + db;
    out[e] = saturate(std::nearbyint(sum / ql.output.scale) + ql.output.zero_point, act);
  }
  return out;
}

// The average of the real values with the output's parameters equal to the
// input's (as the runtime's pools keep them): the codes' window average
// rounded half to even.
std::vector<std::int8_t> average(const QuantizedNetwork& q, int index, const std::vector<std::int8_t>& input) {
  const runtime::Layer& l = q.network.layer(index);
  const runtime::TensorShape in = q.network.layer(l.inputs[0]).out_shape;
  runtime::PoolParams p;
  if (l.type == runtime::LayerType::kAvgPool) {
    p = runtime::pool_params(q.network, index, in);
    p.zero_point = q.layers[static_cast<std::size_t>(l.inputs[0])].output.zero_point;
  } else if (l.type == runtime::LayerType::kAdaptiveAvgPool) {
    p = runtime::adaptive_pool_as_uniform(l, in);
  } else {  // global: one window over the whole map
    p.kernel_h = in.h;
    p.kernel_w = in.w;
  }
  p.ties_to_even = true;
  return runtime::average_pool(input, in, p);
}

}  // namespace

std::optional<std::vector<std::int8_t>> onnx_spec_output(const QuantizedNetwork& q, int index,
                                                         const std::vector<std::vector<std::int8_t>>& outputs) {
  const runtime::Layer& l = q.network.layer(index);
  if (l.inputs.empty()) return std::nullopt;
  const auto& x = outputs[static_cast<std::size_t>(l.inputs[0])];
  switch (l.type) {
    case runtime::LayerType::kConv2d:
    case runtime::LayerType::kFullyConnected:
    case runtime::LayerType::kBatchNorm:
      return conv_like(q, index, x);
    case runtime::LayerType::kAdd:
      return add(q, index, x, outputs[static_cast<std::size_t>(l.inputs[1])]);
    case runtime::LayerType::kAvgPool:
    case runtime::LayerType::kAdaptiveAvgPool:
    case runtime::LayerType::kGlobalAvgPool:
      return average(q, index, x);
    default:
      return std::nullopt;
  }
}

std::vector<std::size_t> onnx_spec_mismatches(const QuantizedNetwork& q,
                                              const std::vector<std::vector<std::int8_t>>& outputs) {
  std::vector<std::size_t> counts(outputs.size(), 0);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto spec = onnx_spec_output(q, static_cast<int>(i), outputs);
    if (!spec) continue;
    for (std::size_t e = 0; e < spec->size() && e < outputs[i].size(); ++e) counts[i] += (*spec)[e] != outputs[i][e];
  }
  return counts;
}

}  // namespace npuvp::apps
