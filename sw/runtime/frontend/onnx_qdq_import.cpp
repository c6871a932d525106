#include "sw/runtime/frontend/onnx_importer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>
#include <utility>

#include "sw/runtime/reference/reference_executor.h"

namespace npuvp::runtime::onnx_detail {

int Importer::find(int layer) {
  int r = layer;
  while (info(r).parent != r) r = info(r).parent;
  while (info(layer).parent != r) {
    const int next = info(layer).parent;
    info(layer).parent = r;
    layer = next;
  }
  return r;
}

std::optional<QuantParams> Importer::params_of(int layer) {
  const LayerInfo& root = info(find(layer));
  return root.has_params ? std::optional<QuantParams>(root.params) : std::nullopt;
}

void Importer::unite(int a, int b) {
  const int ra = find(a), rb = find(b);
  if (ra == rb) return;
  if (info(ra).has_params && !info(rb).has_params) {
    info(rb).has_params = true;
    info(rb).params = info(ra).params;
  }
  info(ra).parent = rb;
}

int Importer::with_params(const Node& n, int layer, QuantParams p) {
  const int root = find(layer);
  if (!info(root).has_params) {
    info(root).has_params = true;
    info(root).params = p;
    return layer;
  }
  if (same(info(root).params, p)) return layer;
  const int c = net_->layer(layer).out_shape.c;
  Layer l;
  l.type = LayerType::kConv2d;
  l.inputs = {layer};
  l.conv.out_channels = c;
  l.conv.groups = c;
  l.weights.weights.assign(static_cast<std::size_t>(c), 1.0f);
  const int r = append(n, std::move(l), net_->layer(layer).name + "_requant");
  info(r).w.assign(static_cast<std::size_t>(c), 1);
  info(r).w_scales.assign(static_cast<std::size_t>(c), 1.0f);
  info(r).has_params = true;
  info(r).params = p;
  return r;
}

void Importer::read_qparams(const Node& n, int scale_k, int zero_k, std::vector<float>& scales,
                            std::vector<std::int32_t>& zero, int& zero_type) const {
  const Constant& s = const_input(n, scale_k, "scale");
  if (!s.is_float()) fail(n, "scale must be float");
  scales = s.f;
  for (float v : scales)
    if (!(v > 0.0f) || !std::isfinite(v)) fail(n, "scale " + std::to_string(v) + " must be positive and finite");
  if (has_input(n, zero_k)) {
    const Constant& z = const_input(n, zero_k, "zero_point");
    zero_type = z.type;
    if (z.type != onnx::TensorProto::INT8 && z.type != onnx::TensorProto::UINT8 && z.type != onnx::TensorProto::INT32)
      fail(n,
           "zero point of type " + onnx::TensorProto_DataType_Name(z.type) + "; supported: INT8, UINT8 (INT32 bias)");
    if (z.size() != scales.size())
      fail(n, "zero point has " + std::to_string(z.size()) + " values, scale " + std::to_string(scales.size()));
    zero.clear();
    for (auto v : z.i) zero.push_back(static_cast<std::int32_t>(v) - (z.type == onnx::TensorProto::UINT8 ? 128 : 0));
  } else {
    zero_type = -1;
    zero.assign(scales.size(), 0);
  }
}

QuantParams Importer::activation_params(const Node& n, int scale_k, int zero_k) const {
  std::vector<float> s;
  std::vector<std::int32_t> z;
  int type = 0;
  read_qparams(n, scale_k, zero_k, s, z, type);
  if (s.size() != 1) fail(n, "per-axis activation quantization; supported: per tensor");
  if (type == onnx::TensorProto::INT32) fail(n, "int32 activation; supported: int8, uint8");
  if (type == -1 && n.op_type() == "QuantizeLinear") z[0] = -128;  // uint8 zero point 0
  return {s[0], z[0]};
}

int Importer::axis_of(const Node& n, std::size_t rank, std::size_t scales) const {
  // ONNX reads `axis` for per-axis scales only: a 1-D bias with one scale and
  // the default axis 1 is per tensor, and was refused.
  if (scales == 1) return 0;
  const std::int64_t given = attr_int(n, "axis", 1);
  const std::int64_t axis = given < 0 ? given + static_cast<std::int64_t>(rank) : given;
  if (rank > 0 && (axis < 0 || axis >= static_cast<std::int64_t>(rank)))
    fail(n, "axis " + std::to_string(given) + " out of range for a tensor of rank " + std::to_string(rank));
  return static_cast<int>(axis);
}

void Importer::quantize_linear(int, const Node& n) {
  if (!has_input(n, 0)) fail(n, "missing input x");
  if (find_const(n.input(0))) {  // a float weight quantized in the graph
    const Constant& c = *find_const(n.input(0));
    if (!c.is_float()) fail(n, "input must be float");
    QConstant q;
    int type = 0;
    read_qparams(n, 1, 2, q.scales, q.zero, type);
    if (type == -1) q.zero.assign(q.scales.size(), -128);
    q.dims = c.dims;
    q.axis = axis_of(n, c.dims.size(), q.scales.size());
    std::size_t inner = 1;
    for (std::size_t d = static_cast<std::size_t>(q.axis) + 1; d < c.dims.size(); ++d)
      inner *= static_cast<std::size_t>(c.dims[d]);
    if (q.scales.size() != 1 && (c.dims.empty() || q.scales.size() != static_cast<std::size_t>(c.dims[q.axis])))
      fail(n, "per-axis scale count does not match the axis");
    for (std::size_t e = 0; e < c.f.size(); ++e) {
      const std::size_t ch = q.scales.size() == 1 ? 0 : (e / inner) % q.scales.size();
      q.values.push_back(quantize_value(c.f[e], {q.scales[ch], q.zero[ch]}));
    }
    qconsts_[n.output(0)] = std::move(q);
    return;
  }
  const int x = value_input(n, 0);
  set_output(n, with_params(n, x, activation_params(n, 1, 2)));
}

void Importer::dequantize_linear(int, const Node& n) {
  if (!has_input(n, 0)) fail(n, "missing input x");
  const std::string& x = n.input(0);
  if (auto it = qconsts_.find(x); it != qconsts_.end()) {  // Q -> DQ of a constant
    qconsts_[n.output(0)] = it->second;
    return;
  }
  if (const Constant* c = find_const(x)) {
    QConstant q;
    int type = 0;
    read_qparams(n, 1, 2, q.scales, q.zero, type);
    if (c->type != onnx::TensorProto::INT8 && c->type != onnx::TensorProto::UINT8 &&
        c->type != onnx::TensorProto::INT32)
      fail(n, "constant '" + x + "' of type " + onnx::TensorProto_DataType_Name(c->type) +
                  "; supported: INT8, UINT8, INT32");
    if (type != -1 && type != c->type) fail(n, "zero point type differs from the data type");
    q.int32 = c->type == onnx::TensorProto::INT32;
    q.dims = c->dims;
    q.axis = axis_of(n, c->dims.size(), q.scales.size());
    if (q.scales.size() != 1 && (c->dims.empty() || q.scales.size() != static_cast<std::size_t>(c->dims[q.axis])))
      fail(n, "per-axis scale count " + std::to_string(q.scales.size()) + " does not match axis " +
                  std::to_string(q.axis) + " of " + dims_str(c->dims));
    const std::int32_t shift = c->type == onnx::TensorProto::UINT8 ? 128 : 0;
    for (auto v : c->i) q.values.push_back(static_cast<std::int32_t>(v) - shift);
    qconsts_[n.output(0)] = std::move(q);
    return;
  }
  const int layer = value_input(n, 0);
  std::vector<float> s;
  std::vector<std::int32_t> z;
  int type = 0;
  read_qparams(n, 1, 2, s, z, type);
  const auto p = params_of(layer);
  if (s.size() != 1) fail(n, "per-axis activation quantization; supported: per tensor");
  if (!p) fail(n, "input '" + x + "' is not quantized (expected the output of a QuantizeLinear or QLinear operator)");
  const bool zero_ok = type == -1 ? (p->zero_point == 0 || p->zero_point == -128) : p->zero_point == z[0];
  if (p->scale != s[0] || !zero_ok)
    fail(n, "parameters (" + std::to_string(s[0]) + ", " + std::to_string(z[0]) + ") differ from those of '" + x +
                "' (" + std::to_string(p->scale) + ", " + std::to_string(p->zero_point) + ")");
  set_output(n, layer);
}

WeightTensor Importer::qlinear_weight(const Node& n, int k, int axis) const {
  const Constant& c = const_input(n, k, "weight");
  if (c.type != onnx::TensorProto::INT8 && c.type != onnx::TensorProto::UINT8)
    fail(n, "weight of type " + onnx::TensorProto_DataType_Name(c.type) + "; supported: INT8, UINT8");
  WeightTensor w;
  std::vector<std::int32_t> zero;
  int type = 0;
  read_qparams(n, k + 1, k + 2, w.scales, zero, type);
  if (type == -1 && c.type == onnx::TensorProto::UINT8) zero.assign(zero.size(), -128);
  for (auto z : zero)
    if (z != 0)
      fail(n, "weight zero point " + std::to_string(z) + "; supported: symmetric weights (int8 0, uint8 128)");
  w.dims = c.dims;
  w.axis = axis;
  w.quantized = true;
  if (w.scales.size() != 1 && (c.dims.size() <= static_cast<std::size_t>(axis) ||
                               w.scales.size() != static_cast<std::size_t>(c.dims[static_cast<std::size_t>(axis)])))
    fail(n, "weight scale count " + std::to_string(w.scales.size()) + " does not match axis " + std::to_string(axis) +
                " of " + dims_str(c.dims));
  const std::int32_t shift = c.type == onnx::TensorProto::UINT8 ? 128 : 0;
  std::size_t inner = 1;
  for (std::size_t d = static_cast<std::size_t>(axis) + 1; d < c.dims.size(); ++d)
    inner *= static_cast<std::size_t>(c.dims[d]);
  for (std::size_t e = 0; e < c.i.size(); ++e) {
    w.q.push_back(static_cast<std::int32_t>(c.i[e]) - shift);
    const std::size_t ch = w.scales.size() == 1 ? 0 : (e / inner) % w.scales.size();
    w.f.push_back(static_cast<float>(w.q.back()) * w.scales[ch]);
  }
  return w;
}

void Importer::qlinear_conv(int, const Node& n) {
  const QuantParams xp = activation_params(n, 1, 2);
  const int x = with_params(n, value_input(n, 0), xp);
  WeightTensor w = qlinear_weight(n, 3, 0);
  BiasTensor b;
  if (has_input(n, 8)) {
    const Constant& c = const_input(n, 8, "B");
    if (c.type != onnx::TensorProto::INT32 || w.dims.empty() || c.size() != static_cast<std::size_t>(w.dims[0]))
      fail(n, "bias must be INT32 with one value per output channel");
    b.present = true;
    for (std::size_t k = 0; k < c.size(); ++k) {
      b.q.push_back(static_cast<std::int32_t>(c.i[k]));
      b.scales.push_back(xp.scale * (w.scales.size() == 1 ? w.scales[0] : w.scales[k]));
      b.f.push_back(static_cast<float>(b.q.back()) * b.scales.back());
    }
  }
  const int layer = make_conv(n, x, std::move(w), std::move(b));
  set_output(n, with_params(n, layer, activation_params(n, 6, 7)));
}

void Importer::qlinear_matmul(int, const Node& n) {
  const int x = with_params(n, value_input(n, 0), activation_params(n, 1, 2));
  const int layer = make_fc(n, x, qlinear_weight(n, 3, 1), false, {});
  set_output(n, with_params(n, layer, activation_params(n, 6, 7)));
}

void Importer::qlinear_add(int, const Node& n) {
  const int a = with_params(n, value_input(n, 0), activation_params(n, 1, 2));
  const int b = with_params(n, value_input(n, 3), activation_params(n, 4, 5));
  const int layer = make_add(n, a, b);
  set_output(n, with_params(n, layer, activation_params(n, 6, 7)));
}

void Importer::qlinear_global_pool(int, const Node& n) {
  if (attr_int(n, "channels_last", 0) != 0) fail(n, "channels_last=1; supported: NCHW (0)");
  const int x = with_params(n, value_input(n, 0), activation_params(n, 1, 2));
  const int layer = make_global_pool(n, x);
  set_output(n, with_params(n, layer, activation_params(n, 3, 4)));
}

QuantizedNetwork Importer::finish_quantized(std::uint64_t seed) {
  const Network& n = *net_;
  const int count = static_cast<int>(n.size());
  for (int i = 0; i < count; ++i)
    if (!params_of(i))
      fail("layer '" + n.layer(i).name +
           "': its output has no quantization parameters (expected a QuantizeLinear on it or on a tensor sharing "
           "them)");
  QuantizedNetwork q{*net_, std::vector<QuantizedLayer>(n.size()), {}, {}};
  try {
    for (int i = 0; i < count; ++i) {
      // The node is what the user can find in the model: a scale of 1e30
      // fails deep in the requantization arithmetic otherwise.
      const auto quantize_layer = [&] {
        const Layer& l = n.layer(i);
        QuantizedLayer& ql = q.layers[static_cast<std::size_t>(i)];
        LayerInfo& li = info(i);
        ql.output = *params_of(i);
        ql.activation = li.act;
        ql.fused_into = li.fused_into;
        if (l.type != LayerType::kConv2d && l.type != LayerType::kFullyConnected) return;
        const QuantParams in_q = *params_of(l.inputs[0]);
        if (l.type == LayerType::kConv2d) {
          ql.conv = to_conv_params(l);
        } else {
          ql.conv.kernel_h = ql.conv.kernel_w = 1;
          ql.conv.out_channels = l.fc.out_features;
        }
        ql.conv.input_zero_point = in_q.zero_point;
        ql.weights = li.w;
        ql.weight_scales = li.w_scales;
        if (li.bias.present) {
          bool exact = !li.bias.q.empty();
          for (std::size_t k = 0; exact && k < li.bias.q.size(); ++k) {
            const double want = static_cast<double>(in_q.scale) * li.w_scales[k];
            exact = std::abs(li.bias.scales[k] - want) <= 1e-5 * want;
          }
          ql.bias = exact ? li.bias.q : quantize_bias(li.bias.f, in_q.scale, li.w_scales);
        }
        ql.requant = make_requantization(in_q.scale, li.w_scales, ql.output, ql.activation);
      };
      try {
        quantize_layer();
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("node '" + n.layer(i).name + "': " + e.what());
      }
    }
    const QuantParams in_q = q.layers[0].output;
    const double lo = static_cast<double>(in_q.scale) * (-128 - in_q.zero_point);
    const double hi = static_cast<double>(in_q.scale) * (127 - in_q.zero_point);
    std::mt19937_64 engine(seed);
    q.float_input.resize(n.input_shape().size());
    for (auto& v : q.float_input)
      v = static_cast<float>(lo + (hi - lo) * (static_cast<double>(engine() >> 11) / 9007199254740992.0));
    q.layers[0].expected = quantize_tensor(q.float_input, in_q);
    compute_reference_outputs(q);
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  q.float_output = dequantize_tensor(q.expected(static_cast<int>(q.layers.size()) - 1), q.layers.back().output);
  return q;
}

}  // namespace npuvp::runtime::onnx_detail
