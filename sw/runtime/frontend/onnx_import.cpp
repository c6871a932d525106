#include "sw/runtime/frontend/onnx_import.h"

#include "sw/runtime/reference/reference_executor.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <utility>

namespace npuvp::runtime {

namespace {

using Dims = std::vector<std::int64_t>;

const std::vector<std::string> kFloatOperators = {"Conv",
                                                  "Gemm",
                                                  "MatMul",
                                                  "Relu",
                                                  "Clip",
                                                  "MaxPool",
                                                  "AveragePool",
                                                  "GlobalAveragePool",
                                                  "Add",
                                                  "Concat",
                                                  "Flatten",
                                                  "Reshape",
                                                  "Transpose (channel shuffle)",
                                                  "BatchNormalization",
                                                  "Identity",
                                                  "Dropout",
                                                  "Constant"};
const std::vector<std::string> kQuantizedOperators = {"QuantizeLinear", "DequantizeLinear", "QLinearConv",
                                                      "QLinearMatMul",  "QLinearAdd",       "QLinearGlobalAveragePool"};

bool is_quantized_operator(const std::string& op) {
  return std::find(kQuantizedOperators.begin(), kQuantizedOperators.end(), op) != kQuantizedOperators.end();
}

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
  for (auto x : d) n *= x;
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

// A constant tensor (initializer or Constant node), its values widened.
struct Constant {
  Dims dims;
  int type = 0;
  std::vector<float> f;         // FLOAT, DOUBLE
  std::vector<std::int64_t> i;  // integer types
  bool is_float() const { return type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::DOUBLE; }
  std::size_t size() const { return is_float() ? f.size() : i.size(); }
  double at(std::size_t k) const { return is_float() ? f[k] : static_cast<double>(i[k]); }
};

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
  const auto n = static_cast<std::size_t>(element_count(c.dims));
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

// A constant as its integer values after DequantizeLinear's view: int8 (uint8
// moved by -128, which is exact) or int32, with per-tensor or per-axis scales
// and zero points.
struct QConstant {
  Dims dims;
  std::vector<std::int32_t> values;
  std::vector<float> scales;       // 1 or dims[axis]
  std::vector<std::int32_t> zero;  // as scales
  int axis = 0;
  bool int32 = false;
};

// A weight of a conv-like layer: float values, or integer values with scales
// along `axis` (1 value: per tensor).
struct WeightTensor {
  Dims dims;
  std::vector<float> f;
  std::vector<std::int32_t> q;
  std::vector<float> scales;
  int axis = 0;
  bool quantized = false;

  void reorder(const std::vector<std::size_t>& order) {  // new[k] = old[order[k]]
    if (quantized) {
      std::vector<std::int32_t> r(order.size());
      for (std::size_t k = 0; k < order.size(); ++k) r[k] = q[order[k]];
      q = std::move(r);
    }
    std::vector<float> r(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) r[k] = f[order[k]];
    f = std::move(r);
  }
};

struct BiasTensor {
  bool present = false;
  std::vector<float> f;         // float values (dequantized when quantized)
  std::vector<std::int32_t> q;  // int32 values of a quantized bias
  std::vector<float> scales;    // their scales, one per channel
};

// What the importer knows about each network layer beyond the IR.
struct LayerInfo {
  int parent = 0;  // union-find over layers sharing output quantization
  bool has_params = false;
  QuantParams params;  // valid at a root with has_params
  bool flat = false;   // a 2-D [1, N] tensor in ONNX
  // For a flat tensor: the {C, H, W} whose HWC flattening the data follows
  // ({0, 0, 0}: mixed, no single order).
  TensorShape unflat{0, 0, 0};
  // Quantized conv-like layers: int8 OHWI/[out][in] weights and their scales,
  // bias as given.
  std::vector<std::int8_t> w;
  std::vector<float> w_scales;
  BiasTensor bias;
  Activation act = Activation::kNone;
  int fused_into = -1;
};

class Importer {
 public:
  Importer(std::string path, bool quantized) : path_(std::move(path)), quantized_(quantized) {}

  void run() {
    model_ = load_model(path_);
    const onnx::GraphProto& g = model_.graph();
    for (const auto& t : g.initializer()) consts_[t.name()] = decode_tensor(t, path_ + ": initializer ");
    for (int k = 0; k < g.node_size(); ++k)
      for (const auto& in : g.node(k).input())
        if (!in.empty()) consumers_[in].push_back(k);
    make_input();
    consumed_.assign(static_cast<std::size_t>(g.node_size()), false);
    for (int k = 0; k < g.node_size(); ++k)
      if (!consumed_[static_cast<std::size_t>(k)]) import_node(k);
    check_output();
  }

  Network take_network() { return std::move(*net_); }

  QuantizedNetwork finish_quantized(std::uint64_t seed);

 private:
  using Node = onnx::NodeProto;

  // ------------------------------------------------------------ errors

  std::string node_name(const Node& n) const {
    if (!n.name().empty()) return n.name();
    if (n.output_size() > 0 && !n.output(0).empty()) return n.output(0);
    return n.op_type();
  }

  [[noreturn]] void fail(const std::string& what) const { throw std::invalid_argument(path_ + ": " + what); }
  [[noreturn]] void fail(const Node& n, const std::string& what) const {
    fail("node '" + node_name(n) + "' (" + n.op_type() + "): " + what);
  }

  // ------------------------------------------------------------ attributes

  const onnx::AttributeProto* attr(const Node& n, const char* name) const {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  std::int64_t attr_int(const Node& n, const char* name, std::int64_t def) const {
    const auto* a = attr(n, name);
    return a ? a->i() : def;
  }
  float attr_float(const Node& n, const char* name, float def) const {
    const auto* a = attr(n, name);
    return a ? a->f() : def;
  }
  Dims attr_ints(const Node& n, const char* name, Dims def = {}) const {
    const auto* a = attr(n, name);
    return a ? Dims(a->ints().begin(), a->ints().end()) : def;
  }
  std::string attr_string(const Node& n, const char* name, const std::string& def) const {
    const auto* a = attr(n, name);
    return a ? a->s() : def;
  }
  // A 2-element spatial attribute (strides, dilations, kernel_shape).
  std::pair<int, int> attr_pair(const Node& n, const char* name, int def) const {
    const Dims v = attr_ints(n, name, {def, def});
    if (v.size() != 2) fail(n, std::string("attribute ") + name + " " + dims_str(v) + ": expected 2 values (2-D)");
    if (v[0] <= 0 || v[1] <= 0) fail(n, std::string("attribute ") + name + " " + dims_str(v) + ": expected positive");
    return {static_cast<int>(v[0]), static_cast<int>(v[1])};
  }

  // ------------------------------------------------------------ tensors

  bool has_input(const Node& n, int k) const { return n.input_size() > k && !n.input(k).empty(); }

  const Constant* find_const(const std::string& name) const {
    auto it = consts_.find(name);
    return it == consts_.end() ? nullptr : &it->second;
  }

  const Constant& const_input(const Node& n, int k, const char* what) const {
    if (!has_input(n, k)) fail(n, std::string("missing input ") + what);
    const Constant* c = find_const(n.input(k));
    if (!c) fail(n, std::string("input ") + what + " '" + n.input(k) + "' must be a constant (initializer)");
    return *c;
  }

  // The layer producing activation input k.
  int value_input(const Node& n, int k) const {
    if (!has_input(n, k)) fail(n, "missing input " + std::to_string(k));
    auto it = values_.find(n.input(k));
    if (it != values_.end()) return it->second;
    if (consts_.count(n.input(k)) || qconsts_.count(n.input(k)))
      fail(n, "input '" + n.input(k) + "' is a constant; supported: an activation tensor here");
    fail(n, "input '" + n.input(k) + "' is not produced by any imported node or the graph input");
  }

  void set_output(const Node& n, int layer, int k = 0) {
    if (n.output_size() <= k || n.output(k).empty()) fail(n, "missing output " + std::to_string(k));
    values_[n.output(k)] = layer;
  }

  void no_extra_outputs(const Node& n, int used) const {
    for (int k = used; k < n.output_size(); ++k)
      if (!n.output(k).empty() && consumers_.count(n.output(k)))
        fail(n, "output " + std::to_string(k) + " ('" + n.output(k) + "') is used; supported: output 0 only");
  }

  // ------------------------------------------------------------ layers

  std::string unique_name(const std::string& base) const {
    std::string name = base.empty() ? "layer" : base;
    for (int k = 1; net_->index_of(name) >= 0; ++k) name = base + "_" + std::to_string(k);
    return name;
  }

  // Appends `l` (named after the node) with errors of the IR re-thrown with
  // the node; flat/unflat follow its first input unless set by the caller.
  int append(const Node& n, Layer l, const std::string& base_name = {}) {
    l.name = unique_name(base_name.empty() ? node_name(n) : base_name);
    int index = 0;
    try {
      index = net_->append(std::move(l));
    } catch (const std::invalid_argument& e) {
      fail(n, e.what());
    }
    LayerInfo info;
    info.parent = index;
    const Layer& added = net_->layer(index);
    if (!added.inputs.empty()) {
      const LayerInfo& in = info_[static_cast<std::size_t>(added.inputs[0])];
      info.flat = in.flat;
      info.unflat = in.unflat;
    }
    if (!info.flat) info.unflat = added.out_shape;
    info_.push_back(std::move(info));
    return index;
  }

  LayerInfo& info(int layer) { return info_[static_cast<std::size_t>(layer)]; }

  int find(int layer) {
    int r = layer;
    while (info(r).parent != r) r = info(r).parent;
    while (info(layer).parent != r) {
      const int next = info(layer).parent;
      info(layer).parent = r;
      layer = next;
    }
    return r;
  }

  std::optional<QuantParams> params_of(int layer) {
    const LayerInfo& root = info(find(layer));
    return root.has_params ? std::optional<QuantParams>(root.params) : std::nullopt;
  }

  void unite(int a, int b) {
    const int ra = find(a), rb = find(b);
    if (ra == rb) return;
    if (info(ra).has_params && !info(rb).has_params) {
      info(rb).has_params = true;
      info(rb).params = info(ra).params;
    }
    info(ra).parent = rb;
  }

  static bool same(QuantParams a, QuantParams b) { return a.scale == b.scale && a.zero_point == b.zero_point; }

  // The layer whose output is `layer`'s tensor quantized with `p`: `layer`
  // itself when its quantization is still open or equal, otherwise a new
  // requantizing 1x1 depthwise conv.
  int with_params(const Node& n, int layer, QuantParams p) {
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

  // ------------------------------------------------------------ graph

  void make_input() {
    const onnx::GraphProto& g = model_.graph();
    std::vector<const onnx::ValueInfoProto*> inputs;
    for (const auto& vi : g.input())
      if (!consts_.count(vi.name())) inputs.push_back(&vi);
    if (inputs.size() != 1)
      fail("the graph has " + std::to_string(inputs.size()) +
           " non-constant inputs; supported: exactly one (the NCHW image)");
    const onnx::ValueInfoProto& in = *inputs[0];
    const std::string where = "graph input '" + in.name() + "'";
    if (!in.type().has_tensor_type() || in.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT)
      fail(where + ": expected a FLOAT tensor");
    const auto& shape = in.type().tensor_type().shape();
    if (shape.dim_size() != 4)
      fail(where + ": expected 4 dimensions (N, C, H, W), got " + std::to_string(shape.dim_size()));
    int d[4];
    for (int k = 0; k < 4; ++k) {
      const auto& dim = shape.dim(k);
      if (dim.has_dim_value())
        d[k] = static_cast<int>(dim.dim_value());
      else if (k == 0)
        d[k] = 1;  // a symbolic batch: batch 1
      else
        fail(where + ": dimension " + std::to_string(k) + " is symbolic; expected fixed C, H and W");
    }
    if (d[0] != 1) fail(where + ": batch " + std::to_string(d[0]) + "; supported: batch 1");
    const std::string stem = std::filesystem::path(path_).stem().string();
    try {
      net_.emplace(stem.empty() ? "onnx" : stem, TensorShape{d[1], d[2], d[3]});
    } catch (const std::invalid_argument& e) {
      fail(where + ": " + e.what());
    }
    LayerInfo info0;
    info0.parent = 0;
    info0.unflat = net_->layer(0).out_shape;
    info_.push_back(info0);
    values_[in.name()] = 0;
  }

  void check_output() const {
    const onnx::GraphProto& g = model_.graph();
    if (g.output_size() != 1)
      fail("the graph has " + std::to_string(g.output_size()) + " outputs; supported: exactly one");
    const std::string& name = g.output(0).name();
    auto it = values_.find(name);
    if (it == values_.end()) fail("graph output '" + name + "' is not an activation produced by the imported nodes");
    if (it->second != net_->output())
      fail("graph output '" + name + "' is layer '" + net_->layer(it->second).name + "', but layer '" +
           net_->layer(net_->output()).name + "' comes after it; supported: the output produced by the last node");
  }

  void import_node(int k) {
    const Node& n = model_.graph().node(k);
    const std::string& op = n.op_type();
    if (!quantized_ && is_quantized_operator(op))
      fail(n, "quantized operator in a float import; import the model with import_onnx_quantized");
    static const std::map<std::string, void (Importer::*)(int, const Node&)> handlers = {
        {"Conv", &Importer::conv},
        {"Gemm", &Importer::gemm},
        {"MatMul", &Importer::matmul},
        {"Relu", &Importer::relu},
        {"Clip", &Importer::clip},
        {"MaxPool", &Importer::pool},
        {"AveragePool", &Importer::pool},
        {"GlobalAveragePool", &Importer::global_pool},
        {"Add", &Importer::add},
        {"Concat", &Importer::concat},
        {"Flatten", &Importer::flatten},
        {"Reshape", &Importer::reshape},
        {"Transpose", &Importer::transpose},
        {"BatchNormalization", &Importer::batch_norm},
        {"Identity", &Importer::identity},
        {"Dropout", &Importer::identity},
        {"Constant", &Importer::constant},
        {"QuantizeLinear", &Importer::quantize_linear},
        {"DequantizeLinear", &Importer::dequantize_linear},
        {"QLinearConv", &Importer::qlinear_conv},
        {"QLinearMatMul", &Importer::qlinear_matmul},
        {"QLinearAdd", &Importer::qlinear_add},
        {"QLinearGlobalAveragePool", &Importer::qlinear_global_pool},
    };
    auto it = handlers.find(op);
    if (it == handlers.end())
      fail(n, "operator not supported; supported: " + join(kFloatOperators) +
                  (quantized_ ? ", " + join(kQuantizedOperators) : std::string()));
    (this->*(it->second))(k, n);
  }

  // ------------------------------------------------------------ weights

  // Weight input k: a float constant, or a DequantizeLinear'd constant.
  WeightTensor weight_input(const Node& n, int k, const char* what) const {
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

  BiasTensor bias_from(const Node& n, const std::string& name, std::size_t channels) const {
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
        b.q[k] = qc.values[k] - z;
        b.scales[k] = s;
        b.f[k] = static_cast<float>(b.q[k]) * s;
      }
      return b;
    }
    const Constant* c = find_const(name);
    if (!c || !c->is_float()) fail(n, "bias '" + name + "' must be a float constant or DequantizeLinear'd int32");
    if (c->f.size() != channels)
      fail(n,
           "bias '" + name + "' has " + std::to_string(c->f.size()) + " values, expected " + std::to_string(channels));
    b.f = c->f;
    return b;
  }

  // Per-channel scales of `w` must lie along `axis` (the output channels).
  void check_scale_axis(const Node& n, const WeightTensor& w, int axis) const {
    if (w.quantized && w.scales.size() != 1 && w.axis != axis)
      fail(n, "weight scales along axis " + std::to_string(w.axis) + "; supported: per tensor or along axis " +
                  std::to_string(axis) + " (the output channels)");
  }

  // Stores a quantized import's int8 weights of a conv-like layer (already
  // [out][...] in our order) and its bias.
  // (The IR layer got the float values before it was appended.)
  void set_weights(int layer, const Node& n, WeightTensor w, BiasTensor b, int out_channels) {
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

  // Spatial padding from pads / auto_pad.
  Padding pads(const Node& n, TensorShape in, std::pair<int, int> k, std::pair<int, int> s,
               std::pair<int, int> d) const {
    const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
    if (auto_pad == "NOTSET") {
      const Dims p = attr_ints(n, "pads", {0, 0, 0, 0});
      if (p.size() != 4) fail(n, "attribute pads " + dims_str(p) + ": expected 4 values (top, left, bottom, right)");
      for (auto v : p)
        if (v < 0) fail(n, "attribute pads " + dims_str(p) + ": expected non-negative");
      return {static_cast<int>(p[0]), static_cast<int>(p[1]), static_cast<int>(p[2]), static_cast<int>(p[3])};
    }
    if (auto_pad == "VALID") return {};
    if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
      fail(n, "auto_pad '" + auto_pad + "'; supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER");
    const auto same = [&](int size, int kernel, int stride, int dilation, int& begin, int& end) {
      const int out = (size + stride - 1) / stride;
      const int total = std::max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size);
      const int small = total / 2;
      begin = auto_pad == "SAME_UPPER" ? small : total - small;
      end = total - begin;
    };
    Padding p;
    same(in.h, k.first, s.first, d.first, p.top, p.bottom);
    same(in.w, k.second, s.second, d.second, p.left, p.right);
    return p;
  }

  void require_4d(const Node& n, int layer) const {
    if (info_[static_cast<std::size_t>(layer)].flat)
      fail(n, "input '" + n.input(0) + "' is a 2-D tensor; expected a 4-D NCHW tensor");
  }

  // ------------------------------------------------------------ operators

  int make_conv(const Node& n, int x, WeightTensor w, BiasTensor b) {
    require_4d(n, x);
    if (w.dims.size() != 4) fail(n, "weight " + dims_str(w.dims) + ": expected 4-D OIHW");
    check_scale_axis(n, w, 0);
    const TensorShape in = net_->layer(x).out_shape;
    const int o = static_cast<int>(w.dims[0]), ig = static_cast<int>(w.dims[1]);
    const int kh = static_cast<int>(w.dims[2]), kw = static_cast<int>(w.dims[3]);
    const int group = static_cast<int>(attr_int(n, "group", 1));
    if (group <= 0 || ig * group != in.c || o % group != 0)
      fail(n, "weight " + dims_str(w.dims) + " with group " + std::to_string(group) + " does not fit input channels " +
                  std::to_string(in.c));
    const Dims ks = attr_ints(n, "kernel_shape", {kh, kw});
    if (ks.size() != 2 || ks[0] != kh || ks[1] != kw)
      fail(n, "kernel_shape " + dims_str(ks) + " differs from the weight " + dims_str(w.dims));
    const auto stride = attr_pair(n, "strides", 1);
    const auto dilation = attr_pair(n, "dilations", 1);
    Layer l;
    l.type = LayerType::kConv2d;
    l.inputs = {x};
    Conv2dAttrs& a = l.conv;
    a.out_channels = o;
    a.kernel_h = kh;
    a.kernel_w = kw;
    a.stride_h = stride.first;
    a.stride_w = stride.second;
    a.dilation_h = dilation.first;
    a.dilation_w = dilation.second;
    a.groups = group;
    a.pad = pads(n, in, {kh, kw}, stride, dilation);
    a.bias = b.present;
    // OIHW -> OHWI.
    std::vector<std::size_t> order(w.f.size());
    for (int oc = 0; oc < o; ++oc)
      for (int y = 0; y < kh; ++y)
        for (int xx = 0; xx < kw; ++xx)
          for (int i = 0; i < ig; ++i)
            order[((static_cast<std::size_t>(oc) * kh + y) * kw + xx) * ig + i] =
                ((static_cast<std::size_t>(oc) * ig + i) * kh + y) * kw + xx;
    w.reorder(order);
    l.weights.weights = w.f;
    l.weights.bias = b.f;
    const int layer = append(n, std::move(l));
    set_weights(layer, n, std::move(w), std::move(b), o);
    return layer;
  }

  void conv(int, const Node& n) {
    const int x = value_input(n, 0);
    WeightTensor w = weight_input(n, 1, "W");
    BiasTensor b;
    if (has_input(n, 2)) b = bias_from(n, n.input(2), w.dims.empty() ? 0 : static_cast<std::size_t>(w.dims[0]));
    no_extra_outputs(n, 1);
    set_output(n, make_conv(n, x, std::move(w), std::move(b)));
  }

  // An FC layer from weights `w` laid out [out][in] (trans) or [in][out].
  int make_fc(const Node& n, int x, WeightTensor w, bool trans, BiasTensor b) {
    const LayerInfo& xi = info_[static_cast<std::size_t>(x)];
    if (!xi.flat) fail(n, "input '" + n.input(0) + "' is 4-D; expected a 2-D tensor (add a Flatten)");
    if (w.dims.size() != 2) fail(n, "weight " + dims_str(w.dims) + ": expected 2-D");
    check_scale_axis(n, w, trans ? 0 : 1);
    const int out = static_cast<int>(trans ? w.dims[0] : w.dims[1]);
    const int in = static_cast<int>(trans ? w.dims[1] : w.dims[0]);
    const TensorShape u = xi.unflat;
    if (static_cast<int>(net_->layer(x).out_shape.size()) != in)
      fail(n, "weight " + dims_str(w.dims) + " expects " + std::to_string(in) + " input features, the input has " +
                  std::to_string(net_->layer(x).out_shape.size()));
    if (u.size() != static_cast<std::size_t>(in))
      fail(n,
           "input '" + n.input(0) +
               "' concatenates or adds flattened maps of different layouts; supported: an FC over one flattened map");
    // Source element of our [o][(y * W + x) * C + c] (HWC flattening of u).
    std::vector<std::size_t> order(w.f.size());
    for (int o = 0; o < out; ++o)
      for (int c = 0; c < u.c; ++c)
        for (int y = 0; y < u.h; ++y)
          for (int xx = 0; xx < u.w; ++xx) {
            const auto chw = static_cast<std::size_t>((c * u.h + y) * u.w + xx);
            const auto hwc = static_cast<std::size_t>((y * u.w + xx) * u.c + c);
            order[static_cast<std::size_t>(o) * in + hwc] =
                trans ? static_cast<std::size_t>(o) * in + chw : chw * out + static_cast<std::size_t>(o);
          }
    w.reorder(order);
    if (w.quantized && w.scales.size() != 1) w.axis = 0;
    Layer l;
    l.type = LayerType::kFullyConnected;
    l.inputs = {x};
    l.fc.out_features = out;
    l.fc.bias = b.present;
    l.weights.weights = w.f;
    l.weights.bias = b.f;
    const int layer = append(n, std::move(l));
    info(layer).flat = true;
    info(layer).unflat = net_->layer(layer).out_shape;
    set_weights(layer, n, std::move(w), std::move(b), out);
    return layer;
  }

  void gemm(int, const Node& n) {
    if (attr_int(n, "transA", 0) != 0) fail(n, "transA=1; supported: transA=0");
    if (attr_float(n, "alpha", 1.0f) != 1.0f) fail(n, "alpha != 1; supported: alpha=1");
    const bool trans = attr_int(n, "transB", 0) != 0;
    const int x = value_input(n, 0);
    WeightTensor w = weight_input(n, 1, "B");
    BiasTensor b;
    if (has_input(n, 2)) {
      if (attr_float(n, "beta", 1.0f) != 1.0f) fail(n, "beta != 1; supported: beta=1");
      if (w.dims.size() == 2) b = bias_from(n, n.input(2), static_cast<std::size_t>(trans ? w.dims[0] : w.dims[1]));
    }
    set_output(n, make_fc(n, x, std::move(w), trans, std::move(b)));
  }

  void matmul(int k, const Node& n) {
    const int x = value_input(n, 0);
    WeightTensor w = weight_input(n, 1, "B");
    BiasTensor b;
    // An Add of a constant [N] that is the MatMul's only reader: the bias.
    const Node* add_node = nullptr;
    auto it = consumers_.find(n.output(0));
    if (it != consumers_.end() && it->second.size() == 1 && w.dims.size() == 2) {
      const int a = it->second[0];
      const Node& cand = model_.graph().node(a);
      if (cand.op_type() == "Add" && cand.input_size() == 2 && a > k) {
        const std::string& other = cand.input(0) == n.output(0) ? cand.input(1) : cand.input(0);
        if (find_const(other) || qconsts_.count(other)) {
          b = bias_from(cand, other, static_cast<std::size_t>(w.dims[1]));
          add_node = &cand;
          consumed_[static_cast<std::size_t>(a)] = true;
        }
      }
    }
    const int layer = make_fc(n, x, std::move(w), false, std::move(b));
    set_output(add_node ? *add_node : n, layer);
  }

  bool fusable_producer(const Node& n, int x) {
    if (!quantized_) return false;
    const LayerType t = net_->layer(x).type;
    if (t != LayerType::kConv2d && t != LayerType::kFullyConnected && t != LayerType::kAdd) return false;
    auto it = consumers_.find(n.input(0));
    return it != consumers_.end() && it->second.size() == 1 && find(x) == x && !info(x).has_params &&
           info(x).act == Activation::kNone;
  }

  void activation(const Node& n, LayerType type) {
    const int x = value_input(n, 0);
    Layer l;
    l.type = type;
    l.inputs = {x};
    const bool fuse = fusable_producer(n, x);
    const int layer = append(n, std::move(l));
    if (quantized_) {
      unite(layer, x);
      if (fuse) {
        info(layer).fused_into = x;
        info(x).act = type == LayerType::kReLU6 ? Activation::kRelu6 : Activation::kRelu;
      }
    }
    set_output(n, layer);
  }

  void relu(int, const Node& n) { activation(n, LayerType::kReLU); }

  void clip(int, const Node& n) {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (n.input_size() > 1) {  // opset >= 11: constant inputs
      if (has_input(n, 1)) lo = static_cast<float>(const_input(n, 1, "min").at(0));
      if (has_input(n, 2)) hi = static_cast<float>(const_input(n, 2, "max").at(0));
    } else {
      lo = attr_float(n, "min", lo);
      hi = attr_float(n, "max", hi);
    }
    if (lo != 0.0f || !(hi == 6.0f || hi >= std::numeric_limits<float>::max()))
      fail(n, "Clip(" + std::to_string(lo) + ", " + std::to_string(hi) +
                  "); supported: min 0 with max 6 (ReLU6) or no max (ReLU)");
    activation(n, hi == 6.0f ? LayerType::kReLU6 : LayerType::kReLU);
  }

  void pool(int, const Node& n) {
    const bool max = n.op_type() == "MaxPool";
    const int x = value_input(n, 0);
    require_4d(n, x);
    no_extra_outputs(n, 1);
    if (max && attr_int(n, "storage_order", 0) != 0) fail(n, "storage_order=1; supported: 0");
    const auto kernel = attr_pair(n, "kernel_shape", 0);
    const auto stride = attr_pair(n, "strides", 1);
    const auto dilation = attr_pair(n, "dilations", 1);
    if (dilation.first != 1 || dilation.second != 1) fail(n, "dilated pooling; supported: dilations 1");
    const TensorShape in = net_->layer(x).out_shape;
    Layer l;
    l.type = max ? LayerType::kMaxPool : LayerType::kAvgPool;
    l.inputs = {x};
    PoolAttrs& p = l.pool;
    p.kernel_h = kernel.first;
    p.kernel_w = kernel.second;
    p.stride_h = stride.first;
    p.stride_w = stride.second;
    p.pad = pads(n, in, kernel, stride, dilation);
    p.ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
    p.count_include_pad = !max && attr_int(n, "count_include_pad", 0) != 0;
    // ONNX's output size, against the IR's (PyTorch's: a ceil-mode window
    // starting in the end padding is dropped).
    const auto extent = [&](int size, int pb, int pe, int k, int s) {
      const int span = size + pb + pe - k;
      int out = (p.ceil_mode ? (span + s - 1) / s : span / s) + 1;
      const int onnx_out = out;
      if (p.ceil_mode && (out - 1) * s >= size + pb) --out;
      if (out != onnx_out)
        fail(n, "ceil_mode output size " + std::to_string(onnx_out) +
                    " includes a window starting in the end padding, which PyTorch semantics drop; "
                    "supported: ceil_mode windows starting inside the input");
      return out;
    };
    extent(in.h, p.pad.top, p.pad.bottom, p.kernel_h, p.stride_h);
    extent(in.w, p.pad.left, p.pad.right, p.kernel_w, p.stride_w);
    const int layer = append(n, std::move(l));
    if (quantized_) unite(layer, x);
    set_output(n, layer);
  }

  void global_pool(int, const Node& n) { set_output(n, make_global_pool(n, value_input(n, 0))); }

  int make_global_pool(const Node& n, int x) {
    require_4d(n, x);
    Layer l;
    l.type = LayerType::kGlobalAvgPool;
    l.inputs = {x};
    const int layer = append(n, std::move(l));
    if (quantized_) unite(layer, x);
    return layer;
  }

  int make_add(const Node& n, int a, int b) {
    Layer l;
    l.type = LayerType::kAdd;
    l.inputs = {a, b};
    const int layer = append(n, std::move(l));
    const LayerInfo &ia = info(a), &ib = info(b);
    if (ia.flat != ib.flat) fail(n, "adds a 2-D and a 4-D tensor; supported: equal shapes");
    if (ia.flat && !(ia.unflat == ib.unflat)) info(layer).unflat = {0, 0, 0};
    return layer;
  }

  void add(int, const Node& n) {
    for (int k = 0; k < 2; ++k)
      if (has_input(n, k) && (find_const(n.input(k)) || qconsts_.count(n.input(k))))
        fail(n, "adds the constant '" + n.input(k) +
                    "'; supported: the sum of two activations, or a constant bias right after MatMul");
    set_output(n, make_add(n, value_input(n, 0), value_input(n, 1)));
  }

  void concat(int, const Node& n) {
    std::vector<int> inputs;
    for (int k = 0; k < n.input_size(); ++k) inputs.push_back(value_input(n, k));
    if (inputs.empty()) fail(n, "no inputs");
    const bool flat = info(inputs[0]).flat;
    const std::int64_t axis = attr_int(n, "axis", 1);
    if (!(axis == 1 || axis == (flat ? -1 : -3))) fail(n, "axis " + std::to_string(axis) + "; supported: 1 (channels)");
    bool ordered = true;
    for (int x : inputs) {
      if (info(x).flat != flat) fail(n, "concatenates 2-D and 4-D tensors");
      ordered = ordered && (!flat || info(x).unflat.h * info(x).unflat.w == 1);
    }
    if (quantized_) {
      // Concat inputs share one set of parameters: the concat output's (the
      // QuantizeLinear reading it) or else the first known input's.
      std::optional<QuantParams> target;
      auto it = consumers_.find(n.output(0));
      if (it != consumers_.end() && it->second.size() == 1) {
        const Node& q = model_.graph().node(it->second[0]);
        if (q.op_type() == "QuantizeLinear") target = activation_params(q, 1, 2);
      }
      for (int x : inputs)
        if (!target) target = params_of(x);
      if (target)
        for (int& x : inputs) x = with_params(n, x, *target);
    }
    Layer l;
    l.type = LayerType::kConcat;
    l.inputs = inputs;
    const int layer = append(n, std::move(l));
    if (quantized_)
      for (int x : inputs) unite(layer, x);
    if (flat) info(layer).unflat = ordered ? net_->layer(layer).out_shape : TensorShape{0, 0, 0};
    set_output(n, layer);
  }

  int make_flatten(const Node& n, int x) {
    if (info(x).flat) return x;  // [1, N] stays [1, N]
    Layer l;
    l.type = LayerType::kFlatten;
    l.inputs = {x};
    const int layer = append(n, std::move(l));
    info(layer).flat = true;
    info(layer).unflat = net_->layer(x).out_shape;
    if (quantized_) unite(layer, x);
    return layer;
  }

  void flatten(int, const Node& n) {
    const int x = value_input(n, 0);
    const std::int64_t axis = attr_int(n, "axis", 1);
    if (axis != 1) fail(n, "axis " + std::to_string(axis) + "; supported: 1 (to [N, C*H*W])");
    set_output(n, make_flatten(n, x));
  }

  // ONNX dims of the tensor of layer x.
  Dims onnx_dims(int x) const {
    const TensorShape s = net_->layer(x).out_shape;
    if (info_[static_cast<std::size_t>(x)].flat) return {1, static_cast<std::int64_t>(s.size())};
    return {1, s.c, s.h, s.w};
  }

  // Reshape's target for input dims `in` (0 copies, -1 infers).
  Dims reshape_target(const Node& n, const Dims& in) const {
    const Constant& c = const_input(n, 1, "shape");
    Dims t;
    for (std::size_t k = 0; k < c.size(); ++k) t.push_back(static_cast<std::int64_t>(c.at(k)));
    const bool allowzero = attr_int(n, "allowzero", 0) != 0;
    int infer = -1;
    std::int64_t known = 1;
    for (std::size_t k = 0; k < t.size(); ++k) {
      if (t[k] == 0 && !allowzero) {
        if (k >= in.size()) fail(n, "shape " + dims_str(t) + ": 0 at an axis the input " + dims_str(in) + " lacks");
        t[k] = in[k];
      }
      if (t[k] == -1) {
        if (infer >= 0) fail(n, "shape " + dims_str(t) + ": more than one -1");
        infer = static_cast<int>(k);
      } else {
        known *= t[k];
      }
    }
    const std::int64_t total = element_count(in);
    if (infer >= 0 && known > 0) t[static_cast<std::size_t>(infer)] = total / known;
    if (element_count(t) != total) fail(n, "shape " + dims_str(t) + " does not hold the input " + dims_str(in));
    return t;
  }

  // The node reading `tensor` when it is the only reader and of type `op`.
  std::optional<int> only_reader(const std::string& tensor, const char* op) const {
    auto it = consumers_.find(tensor);
    if (it == consumers_.end() || it->second.size() != 1) return std::nullopt;
    if (model_.graph().node(it->second[0]).op_type() != op) return std::nullopt;
    return it->second[0];
  }

  void reshape(int, const Node& n) {
    const int x = value_input(n, 0);
    const Dims in = onnx_dims(x);
    const Dims t = reshape_target(n, in);
    if (t == in) return set_output(n, x);
    if (t.size() == 2 && t[0] == 1) return set_output(n, make_flatten(n, x));
    // ShuffleNet's channel shuffle: [1, g, C/g, H, W] -> (0, 2, 1, 3, 4) -> [1, C, H, W].
    if (t.size() == 5 && in.size() == 4 && t[0] == 1 && t[1] * t[2] == in[1] && t[3] == in[2] && t[4] == in[3]) {
      const auto tr = only_reader(n.output(0), "Transpose");
      if (tr) {
        const Node& tn = model_.graph().node(*tr);
        const auto back = only_reader(tn.output(0), "Reshape");
        if (attr_ints(tn, "perm") == Dims{0, 2, 1, 3, 4} && back) {
          const Node& bn = model_.graph().node(*back);
          if (reshape_target(bn, {t[0], t[2], t[1], t[3], t[4]}) == in) {
            consumed_[static_cast<std::size_t>(*tr)] = true;
            consumed_[static_cast<std::size_t>(*back)] = true;
            Layer l;
            l.type = LayerType::kChannelShuffle;
            l.inputs = {x};
            l.shuffle_groups = static_cast<int>(t[1]);
            const int layer = append(n, std::move(l));
            if (quantized_) unite(layer, x);
            return set_output(bn, layer);
          }
        }
      }
    }
    fail(n, "reshape of " + dims_str(in) + " to " + dims_str(t) +
                "; supported: to [N, -1] (flatten), or the channel shuffle Reshape [1, g, C/g, H, W] -> "
                "Transpose (0, 2, 1, 3, 4) -> Reshape [1, C, H, W]");
  }

  void transpose(int, const Node& n) {
    fail(n, "Transpose perm " + dims_str(attr_ints(n, "perm")) +
                "; supported: only inside the channel shuffle Reshape [1, g, C/g, H, W] -> "
                "Transpose (0, 2, 1, 3, 4) -> Reshape [1, C, H, W]");
  }

  void batch_norm(int, const Node& n) {
    if (quantized_)
      fail(n, "BatchNormalization in a quantized model; supported: BatchNorm folded into the conv before quantization");
    if (attr_int(n, "training_mode", 0) != 0) fail(n, "training_mode=1; supported: inference (0)");
    no_extra_outputs(n, 1);
    const int x = value_input(n, 0);
    if (info(x).flat && info(x).unflat.h * info(x).unflat.w != 1)
      fail(n, "BatchNorm over a flattened map (its channel order differs from the NPU's HWC flattening)");
    const int c = net_->layer(x).out_shape.c;
    const char* names[] = {"scale", "B", "mean", "var"};
    std::vector<float> v[4];
    for (int k = 0; k < 4; ++k) {
      const Constant& t = const_input(n, k + 1, names[k]);
      if (!t.is_float() || t.f.size() != static_cast<std::size_t>(c))
        fail(n, std::string("input ") + names[k] + " must be float with " + std::to_string(c) + " values");
      v[k] = t.f;
    }
    Layer l;
    l.type = LayerType::kBatchNorm;
    l.inputs = {x};
    l.bn_eps = attr_float(n, "epsilon", 1e-5f);
    l.weights.gamma = v[0];
    l.weights.beta = v[1];
    l.weights.mean = v[2];
    l.weights.var = v[3];
    set_output(n, append(n, std::move(l)));
  }

  void identity(int, const Node& n) {
    if (n.op_type() == "Dropout") no_extra_outputs(n, 1);
    set_output(n, value_input(n, 0));
  }

  void constant(int, const Node& n) {
    if (n.output_size() != 1) fail(n, "expected one output");
    Constant c;
    if (const auto* a = attr(n, "value")) {
      c = decode_tensor(a->t(), path_ + ": node '" + node_name(n) + "' (Constant): ");
    } else if (const auto* a = attr(n, "value_float")) {
      c.type = onnx::TensorProto::FLOAT;
      c.f = {a->f()};
    } else if (const auto* a = attr(n, "value_floats")) {
      c.type = onnx::TensorProto::FLOAT;
      c.f.assign(a->floats().begin(), a->floats().end());
      c.dims = {static_cast<std::int64_t>(c.f.size())};
    } else if (const auto* a = attr(n, "value_int")) {
      c.type = onnx::TensorProto::INT64;
      c.i = {a->i()};
    } else if (const auto* a = attr(n, "value_ints")) {
      c.type = onnx::TensorProto::INT64;
      c.i.assign(a->ints().begin(), a->ints().end());
      c.dims = {static_cast<std::int64_t>(c.i.size())};
    } else {
      fail(n, "supported: the value, value_float(s) and value_int(s) attributes");
    }
    consts_[n.output(0)] = std::move(c);
  }

  // ------------------------------------------------------------ quantization

  // Scales and zero points of input scale_k / zero_k (zero optional: 0 of
  // `default_type`), uint8 zero points moved by -128.
  void read_qparams(const Node& n, int scale_k, int zero_k, std::vector<float>& scales, std::vector<std::int32_t>& zero,
                    int& zero_type) const {
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

  // Per-tensor activation parameters of inputs scale_k / zero_k. A missing
  // zero point is ONNX's uint8 0 for QuantizeLinear.
  QuantParams activation_params(const Node& n, int scale_k, int zero_k) const {
    std::vector<float> s;
    std::vector<std::int32_t> z;
    int type = 0;
    read_qparams(n, scale_k, zero_k, s, z, type);
    if (s.size() != 1) fail(n, "per-axis activation quantization; supported: per tensor");
    if (type == onnx::TensorProto::INT32) fail(n, "int32 activation; supported: int8, uint8");
    if (type == -1 && n.op_type() == "QuantizeLinear") z[0] = -128;  // uint8 zero point 0
    return {s[0], z[0]};
  }

  int axis_of(const Node& n, std::size_t rank) const {
    std::int64_t axis = attr_int(n, "axis", 1);
    if (axis < 0) axis += static_cast<std::int64_t>(rank);
    if (rank > 0 && (axis < 0 || axis >= static_cast<std::int64_t>(rank))) fail(n, "axis out of range");
    return static_cast<int>(axis);
  }

  void quantize_linear(int, const Node& n) {
    if (find_const(n.input(0))) {  // a float weight quantized in the graph
      const Constant& c = *find_const(n.input(0));
      if (!c.is_float()) fail(n, "input must be float");
      QConstant q;
      int type = 0;
      read_qparams(n, 1, 2, q.scales, q.zero, type);
      if (type == -1) q.zero.assign(q.scales.size(), -128);
      q.dims = c.dims;
      q.axis = axis_of(n, c.dims.size());
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

  void dequantize_linear(int, const Node& n) {
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
      q.axis = axis_of(n, c->dims.size());
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

  // Integer weight input k with scales/zero points in inputs k+1, k+2.
  WeightTensor qlinear_weight(const Node& n, int k, int axis) const {
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

  void qlinear_conv(int, const Node& n) {
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

  void qlinear_matmul(int, const Node& n) {
    const int x = with_params(n, value_input(n, 0), activation_params(n, 1, 2));
    const int layer = make_fc(n, x, qlinear_weight(n, 3, 1), false, {});
    set_output(n, with_params(n, layer, activation_params(n, 6, 7)));
  }

  void qlinear_add(int, const Node& n) {
    const int a = with_params(n, value_input(n, 0), activation_params(n, 1, 2));
    const int b = with_params(n, value_input(n, 3), activation_params(n, 4, 5));
    const int layer = make_add(n, a, b);
    set_output(n, with_params(n, layer, activation_params(n, 6, 7)));
  }

  void qlinear_global_pool(int, const Node& n) {
    if (attr_int(n, "channels_last", 0) != 0) fail(n, "channels_last=1; supported: NCHW (0)");
    const int x = with_params(n, value_input(n, 0), activation_params(n, 1, 2));
    const int layer = make_global_pool(n, x);
    set_output(n, with_params(n, layer, activation_params(n, 3, 4)));
  }

  std::string path_;
  bool quantized_;
  onnx::ModelProto model_;
  std::optional<Network> net_;
  std::vector<LayerInfo> info_;               // one per network layer
  std::map<std::string, Constant> consts_;    // initializers and Constant outputs
  std::map<std::string, QConstant> qconsts_;  // DequantizeLinear'd constants
  std::map<std::string, int> values_;         // activation tensor -> layer
  std::map<std::string, std::vector<int>> consumers_;
  std::vector<bool> consumed_;  // nodes folded into an earlier node's pattern
};

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
      const Layer& l = n.layer(i);
      QuantizedLayer& ql = q.layers[static_cast<std::size_t>(i)];
      LayerInfo& li = info(i);
      ql.output = *params_of(i);
      ql.activation = li.act;
      ql.fused_into = li.fused_into;
      if (l.type != LayerType::kConv2d && l.type != LayerType::kFullyConnected) continue;
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
  q.float_output = dequantize_tensor(q.layers.back().expected, q.layers.back().output);
  return q;
}

}  // namespace

Network import_onnx_float(const std::string& path) {
  Importer importer(path, false);
  importer.run();
  return importer.take_network();
}

QuantizedNetwork import_onnx_quantized(const std::string& path, std::uint64_t input_seed) {
  Importer importer(path, true);
  importer.run();
  return importer.finish_quantized(input_seed);
}

bool onnx_model_is_quantized(const std::string& path) {
  const onnx::ModelProto model = load_model(path);
  for (const auto& node : model.graph().node())
    if (is_quantized_operator(node.op_type())) return true;
  return false;
}

QuantizedNetwork import_onnx(const std::string& path, const QuantizationOptions& options) {
  if (onnx_model_is_quantized(path)) return import_onnx_quantized(path, options.input_seed);
  return quantize_network(import_onnx_float(path), options);
}

std::vector<std::string> onnx_supported_operators(bool quantized) {
  std::vector<std::string> ops = kFloatOperators;
  if (quantized) ops.insert(ops.end(), kQuantizedOperators.begin(), kQuantizedOperators.end());
  return ops;
}

}  // namespace npuvp::runtime
