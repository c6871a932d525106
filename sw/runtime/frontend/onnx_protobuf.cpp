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

namespace npuvp::runtime::onnx_detail {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string dims_str(const Dims& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

std::int64_t element_count(const Dims& d) {
  std::int64_t n = 1;
  for (auto x : d)
    if (x < 0 || __builtin_mul_overflow(n, x, &n) || n > kMaxElements) return -1;
  return n;
}

onnx::ModelProto load_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot open the ONNX model file");
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in))
    throw std::invalid_argument(path + ": not a valid ONNX model (the protobuf ModelProto does not parse)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw std::invalid_argument(path + ": not a valid ONNX model (expected a graph with at least one node)");
  return model;
}

template <class T, class Out>
void decode_raw(const std::string& raw, std::size_t n, std::vector<Out>& out, const std::string& where) {
  if (raw.size() != n * sizeof(T))
    throw std::invalid_argument(where + ": raw_data holds " + std::to_string(raw.size()) + " bytes, expected " +
                                std::to_string(n * sizeof(T)));
  out.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    T v;
    std::memcpy(&v, raw.data() + k * sizeof(T), sizeof(T));
    out[k] = static_cast<Out>(v);
  }
}

Constant decode_tensor(const onnx::TensorProto& t, const std::string& where_prefix) {
  const std::string where = where_prefix + "tensor '" + t.name() + "'";
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw std::invalid_argument(where + ": data stored in an external file; supported: data inside the model");
  Constant c;
  c.dims.assign(t.dims().begin(), t.dims().end());
  c.type = t.data_type();
  for (auto d : c.dims)
    if (d < 0) throw std::invalid_argument(where + ": negative dimension in " + dims_str(c.dims));
  const std::int64_t count = element_count(c.dims);
  if (count < 0) throw std::invalid_argument(where + ": dims " + dims_str(c.dims) + " hold more than 2^40 elements");
  const auto n = static_cast<std::size_t>(count);
  const bool raw = t.has_raw_data();
  const std::string& r = t.raw_data();
  switch (c.type) {
    case onnx::TensorProto::FLOAT:
      if (raw)
        decode_raw<float>(r, n, c.f, where);
      else
        c.f.assign(t.float_data().begin(), t.float_data().end());
      break;
    case onnx::TensorProto::DOUBLE:
      if (raw)
        decode_raw<double>(r, n, c.f, where);
      else
        for (double v : t.double_data()) c.f.push_back(static_cast<float>(v));
      break;
    case onnx::TensorProto::INT8:
      if (raw)
        decode_raw<std::int8_t>(r, n, c.i, where);
      else
        c.i.assign(t.int32_data().begin(), t.int32_data().end());
      break;
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL:
      if (raw)
        decode_raw<std::uint8_t>(r, n, c.i, where);
      else
        c.i.assign(t.int32_data().begin(), t.int32_data().end());
      break;
    case onnx::TensorProto::INT32:
      if (raw)
        decode_raw<std::int32_t>(r, n, c.i, where);
      else
        c.i.assign(t.int32_data().begin(), t.int32_data().end());
      break;
    case onnx::TensorProto::INT64:
      if (raw)
        decode_raw<std::int64_t>(r, n, c.i, where);
      else
        c.i.assign(t.int64_data().begin(), t.int64_data().end());
      break;
    default:
      throw std::invalid_argument(where + ": data type " + onnx::TensorProto_DataType_Name(c.type) +
                                  " not supported; supported: FLOAT, DOUBLE, INT8, UINT8, INT32, INT64, BOOL");
  }
  if (c.size() != n)
    throw std::invalid_argument(where + ": holds " + std::to_string(c.size()) + " values, expected " +
                                std::to_string(n) + " for dims " + dims_str(c.dims));
  return c;
}

void Importer::run() {
  model_ = load_model(path_);
  const onnx::GraphProto& g = model_.graph();
  for (const auto& t : g.initializer()) consts_[t.name()] = decode_tensor(t, path_ + ": initializer ");
  for (int k = 0; k < g.node_size(); ++k) {
    const Node& n = g.node(k);
    // Every supported operator has an output 0, and importing a node looks
    // ahead at its readers' outputs: a node without one is refused first.
    if (n.output_size() == 0 || n.output(0).empty()) fail(n, "missing output 0");
    for (const auto& in : n.input())
      if (!in.empty()) consumers_[in].push_back(k);
  }
  make_input();
  consumed_.assign(static_cast<std::size_t>(g.node_size()), false);
  for (int k = 0; k < g.node_size(); ++k)
    if (!consumed_[static_cast<std::size_t>(k)]) import_node(k);
  check_output();
}

std::string Importer::node_name(const Node& n) const {
  if (!n.name().empty()) return n.name();
  if (n.output_size() > 0 && !n.output(0).empty()) return n.output(0);
  return n.op_type();
}

[[noreturn]] void Importer::fail(const Node& n, const std::string& what) const {
  fail("node '" + node_name(n) + "' (" + n.op_type() + "): " + what);
}

const onnx::AttributeProto* Importer::attr(const Node& n, const char* name) const {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

const onnx::AttributeProto* Importer::typed_attr(const Node& n, const char* name,
                                                 onnx::AttributeProto::AttributeType type) const {
  // Read as another type, float strides were an empty list ("strides []:
  // expected 2 values").
  const auto* a = attr(n, name);
  if (a != nullptr && a->type() != type && a->type() != onnx::AttributeProto::UNDEFINED)
    fail(n, std::string("attribute ") + name + ": expected " + onnx::AttributeProto::AttributeType_Name(type) +
                ", got " + onnx::AttributeProto::AttributeType_Name(a->type()));
  return a;
}

std::int64_t Importer::attr_int(const Node& n, const char* name, std::int64_t def) const {
  const auto* a = typed_attr(n, name, onnx::AttributeProto::INT);
  return a ? a->i() : def;
}

float Importer::attr_float(const Node& n, const char* name, float def) const {
  const auto* a = typed_attr(n, name, onnx::AttributeProto::FLOAT);
  return a ? a->f() : def;
}

Dims Importer::attr_ints(const Node& n, const char* name, Dims def) const {
  const auto* a = typed_attr(n, name, onnx::AttributeProto::INTS);
  return a ? Dims(a->ints().begin(), a->ints().end()) : def;
}

std::string Importer::attr_string(const Node& n, const char* name, const std::string& def) const {
  const auto* a = typed_attr(n, name, onnx::AttributeProto::STRING);
  return a ? a->s() : def;
}

std::pair<int, int> Importer::attr_pair(const Node& n, const char* name, int def) const {
  const Dims v = attr_ints(n, name, {def, def});
  if (v.size() != 2) fail(n, std::string("attribute ") + name + " " + dims_str(v) + ": expected 2 values (2-D)");
  if (v[0] <= 0 || v[1] <= 0) fail(n, std::string("attribute ") + name + " " + dims_str(v) + ": expected positive");
  return {static_cast<int>(v[0]), static_cast<int>(v[1])};
}

const Constant* Importer::find_const(const std::string& name) const {
  auto it = consts_.find(name);
  return it == consts_.end() ? nullptr : &it->second;
}

const Constant& Importer::const_input(const Node& n, int k, const char* what) const {
  if (!has_input(n, k)) fail(n, std::string("missing input ") + what);
  const Constant* c = find_const(n.input(k));
  if (!c) fail(n, std::string("input ") + what + " '" + n.input(k) + "' must be a constant (initializer)");
  return *c;
}

int Importer::value_input(const Node& n, int k) const {
  if (!has_input(n, k)) fail(n, "missing input " + std::to_string(k));
  auto it = values_.find(n.input(k));
  if (it != values_.end()) return it->second;
  if (consts_.count(n.input(k)) || qconsts_.count(n.input(k)))
    fail(n, "input '" + n.input(k) + "' is a constant; supported: an activation tensor here");
  fail(n, "input '" + n.input(k) + "' is not produced by any imported node or the graph input");
}

void Importer::set_output(const Node& n, int layer, int k) {
  if (n.output_size() <= k || n.output(k).empty()) fail(n, "missing output " + std::to_string(k));
  values_[n.output(k)] = layer;
}

void Importer::no_extra_outputs(const Node& n, int used) const {
  for (int k = used; k < n.output_size(); ++k)
    if (!n.output(k).empty() && consumers_.count(n.output(k)))
      fail(n, "output " + std::to_string(k) + " ('" + n.output(k) + "') is used; supported: output 0 only");
}

WeightTensor Importer::weight_input(const Node& n, int k, const char* what) const {
  if (!has_input(n, k)) fail(n, std::string("missing input ") + what);
  WeightTensor w;
  if (auto it = qconsts_.find(n.input(k)); it != qconsts_.end()) {
    const QConstant& qc = it->second;
    if (qc.int32) fail(n, std::string("input ") + what + " is an int32 tensor; expected int8 weights");
    for (auto z : qc.zero)
      if (z != 0)
        fail(n, std::string("input ") + what + " has zero point " + std::to_string(z) +
                    "; supported: symmetric weights (int8 zero point 0, uint8 128)");
    w.dims = qc.dims;
    w.q = qc.values;
    w.scales = qc.scales;
    w.axis = qc.axis;
    w.quantized = true;
    w.f.resize(w.q.size());
    std::size_t inner = 1;
    for (std::size_t d = static_cast<std::size_t>(qc.axis) + 1; d < qc.dims.size(); ++d)
      inner *= static_cast<std::size_t>(qc.dims[d]);
    for (std::size_t e = 0; e < w.q.size(); ++e) {
      const std::size_t ch = w.scales.size() == 1 ? 0 : (e / inner) % w.scales.size();
      w.f[e] = static_cast<float>(w.q[e]) * w.scales[ch];
    }
    return w;
  }
  const Constant& c = const_input(n, k, what);
  if (!c.is_float()) fail(n, std::string("input ") + what + " must be float or DequantizeLinear'd int8");
  w.dims = c.dims;
  w.f = c.f;
  return w;
}

BiasTensor Importer::bias_from(const Node& n, const std::string& name, std::size_t channels) const {
  BiasTensor b;
  b.present = true;
  if (auto it = qconsts_.find(name); it != qconsts_.end()) {
    const QConstant& qc = it->second;
    if (qc.values.size() != channels)
      fail(n, "bias '" + name + "' has " + std::to_string(qc.values.size()) + " values, expected " +
                  std::to_string(channels));
    b.q.resize(channels);
    b.f.resize(channels);
    b.scales.resize(channels);
    for (std::size_t k = 0; k < channels; ++k) {
      const float s = qc.scales.size() == 1 ? qc.scales[0] : qc.scales[k];
      const std::int32_t z = qc.zero.size() == 1 ? qc.zero[0] : qc.zero[k];
      const std::int64_t q = std::int64_t{qc.values[k]} - z;
      if (q < std::numeric_limits<std::int32_t>::min() || q > std::numeric_limits<std::int32_t>::max())
        fail(n, "bias '" + name + "' channel " + std::to_string(k) + ": " + std::to_string(qc.values[k]) +
                    " less its zero point " + std::to_string(z) + " is outside int32");
      b.q[k] = static_cast<std::int32_t>(q);
      b.scales[k] = s;
      b.f[k] = static_cast<float>(b.q[k]) * s;
    }
    return b;
  }
  const Constant* c = find_const(name);
  if (!c || !c->is_float()) fail(n, "bias '" + name + "' must be a float constant or DequantizeLinear'd int32");
  if (c->f.size() != channels)
    fail(n, "bias '" + name + "' has " + std::to_string(c->f.size()) + " values, expected " + std::to_string(channels));
  b.f = c->f;
  return b;
}

void Importer::check_scale_axis(const Node& n, const WeightTensor& w, int axis) const {
  if (w.quantized && w.scales.size() != 1 && w.axis != axis)
    fail(n, "weight scales along axis " + std::to_string(w.axis) + "; supported: per tensor or along axis " +
                std::to_string(axis) + " (the output channels)");
}

void Importer::set_weights(int layer, const Node& n, WeightTensor w, BiasTensor b, int out_channels) {
  if (!quantized_) return;
  LayerInfo& li = info(layer);
  if (w.quantized) {
    li.w.resize(w.q.size());
    for (std::size_t k = 0; k < w.q.size(); ++k) {
      if (w.q[k] < -128 || w.q[k] > 127) fail(n, "weight value " + std::to_string(w.q[k]) + " outside int8");
      li.w[k] = static_cast<std::int8_t>(w.q[k]);
    }
    li.w_scales =
        w.scales.size() == 1 ? std::vector<float>(static_cast<std::size_t>(out_channels), w.scales[0]) : w.scales;
    for (float s : li.w_scales)
      if (!(s > 0.0f) || !std::isfinite(s)) fail(n, "weight scale " + std::to_string(s) + " must be positive");
  } else {
    PerChannelWeights pw = quantize_weights_per_channel(w.f, out_channels);
    li.w = std::move(pw.values);
    li.w_scales = std::move(pw.scales);
  }
  li.bias = std::move(b);
}

void Importer::require_4d(const Node& n, int layer) const {
  if (info_[static_cast<std::size_t>(layer)].flat)
    fail(n, "input '" + n.input(0) + "' is a 2-D tensor; expected a 4-D NCHW tensor");
}

}  // namespace npuvp::runtime::onnx_detail
