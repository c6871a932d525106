#include "sw/runtime/frontend/onnx_import.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>
#include <utility>

#include "sw/runtime/frontend/onnx_importer.h"

namespace npuvp::runtime {

namespace onnx_detail {

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

std::string Importer::unique_name(const std::string& base) const {
  std::string name = base.empty() ? "layer" : base;
  for (int k = 1; net_->index_of(name) >= 0; ++k) name = base + "_" + std::to_string(k);
  return name;
}

int Importer::append(const Node& n, Layer l, const std::string& base_name) {
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

void Importer::make_input() {
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
    if (!dim.has_dim_value()) {
      if (k != 0) fail(where + ": dimension " + std::to_string(k) + " is symbolic; expected fixed C, H and W");
      d[k] = 1;  // a symbolic batch: batch 1
      continue;
    }
    // Cast as it was, 2^32 + 8 ran as 8.
    if (dim.dim_value() < 1 || dim.dim_value() > std::numeric_limits<int>::max())
      fail(where + ": dimension " + std::to_string(k) + " is " + std::to_string(dim.dim_value()) + "; expected 1 to " +
           std::to_string(std::numeric_limits<int>::max()));
    d[k] = static_cast<int>(dim.dim_value());
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

void Importer::check_output() const {
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

void Importer::import_node(int k) {
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

Padding Importer::pads(const Node& n, TensorShape in, std::pair<int, int> k, std::pair<int, int> s,
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

int Importer::make_conv(const Node& n, int x, WeightTensor w, BiasTensor b) {
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

void Importer::conv(int, const Node& n) {
  const int x = value_input(n, 0);
  WeightTensor w = weight_input(n, 1, "W");
  BiasTensor b;
  if (has_input(n, 2)) b = bias_from(n, n.input(2), w.dims.empty() ? 0 : static_cast<std::size_t>(w.dims[0]));
  no_extra_outputs(n, 1);
  set_output(n, make_conv(n, x, std::move(w), std::move(b)));
}

int Importer::make_fc(const Node& n, int x, WeightTensor w, bool trans, BiasTensor b) {
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
    fail(n, "input '" + n.input(0) +
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

void Importer::gemm(int, const Node& n) {
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

void Importer::matmul(int k, const Node& n) {
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

bool Importer::fusable_producer(const Node& n, int x) {
  if (!quantized_) return false;
  const LayerType t = net_->layer(x).type;
  if (t != LayerType::kConv2d && t != LayerType::kFullyConnected && t != LayerType::kAdd) return false;
  auto it = consumers_.find(n.input(0));
  return it != consumers_.end() && it->second.size() == 1 && find(x) == x && !info(x).has_params &&
         info(x).act == Activation::kNone;
}

void Importer::activation(const Node& n, LayerType type) {
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

void Importer::clip(int, const Node& n) {
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

void Importer::pool(int, const Node& n) {
  const bool max = n.op_type() == "MaxPool";
  const int x = value_input(n, 0);
  require_4d(n, x);
  no_extra_outputs(n, 1);
  if (max && attr_int(n, "storage_order", 0) != 0) fail(n, "storage_order=1; supported: 0");
  // Required by ONNX; without it the message was "kernel_shape [0,0]: expected positive".
  if (attr(n, "kernel_shape") == nullptr) fail(n, "the required attribute kernel_shape is missing");
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

int Importer::make_global_pool(const Node& n, int x) {
  require_4d(n, x);
  Layer l;
  l.type = LayerType::kGlobalAvgPool;
  l.inputs = {x};
  const int layer = append(n, std::move(l));
  if (quantized_) unite(layer, x);
  return layer;
}

int Importer::make_add(const Node& n, int a, int b) {
  Layer l;
  l.type = LayerType::kAdd;
  l.inputs = {a, b};
  const int layer = append(n, std::move(l));
  const LayerInfo &ia = info(a), &ib = info(b);
  if (ia.flat != ib.flat) fail(n, "adds a 2-D and a 4-D tensor; supported: equal shapes");
  if (ia.flat && !(ia.unflat == ib.unflat)) info(layer).unflat = {0, 0, 0};
  return layer;
}

void Importer::add(int, const Node& n) {
  for (int k = 0; k < 2; ++k)
    if (has_input(n, k) && (find_const(n.input(k)) || qconsts_.count(n.input(k))))
      fail(n, "adds the constant '" + n.input(k) +
                  "'; supported: the sum of two activations, or a constant bias right after MatMul");
  set_output(n, make_add(n, value_input(n, 0), value_input(n, 1)));
}

void Importer::concat(int, const Node& n) {
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

int Importer::make_flatten(const Node& n, int x) {
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

void Importer::flatten(int, const Node& n) {
  const int x = value_input(n, 0);
  const std::int64_t axis = attr_int(n, "axis", 1);
  if (axis != 1) fail(n, "axis " + std::to_string(axis) + "; supported: 1 (to [N, C*H*W])");
  set_output(n, make_flatten(n, x));
}

Dims Importer::onnx_dims(int x) const {
  const TensorShape s = net_->layer(x).out_shape;
  if (info_[static_cast<std::size_t>(x)].flat) return {1, static_cast<std::int64_t>(s.size())};
  return {1, s.c, s.h, s.w};
}

Dims Importer::reshape_target(const Node& n, const Dims& in) const {
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
    } else if (t[k] < 0 || __builtin_mul_overflow(known, t[k], &known) || known > kMaxElements) {
      fail(n, "shape " + dims_str(t) + " does not hold the input " + dims_str(in));
    }
  }
  const std::int64_t total = element_count(in);
  if (infer >= 0 && known > 0) t[static_cast<std::size_t>(infer)] = total / known;
  if (total < 0 || element_count(t) != total)
    fail(n, "shape " + dims_str(t) + " does not hold the input " + dims_str(in));
  return t;
}

std::optional<int> Importer::only_reader(const std::string& tensor, const char* op) const {
  auto it = consumers_.find(tensor);
  if (it == consumers_.end() || it->second.size() != 1) return std::nullopt;
  if (model_.graph().node(it->second[0]).op_type() != op) return std::nullopt;
  return it->second[0];
}

void Importer::reshape(int, const Node& n) {
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

void Importer::transpose(int, const Node& n) {
  fail(n, "Transpose perm " + dims_str(attr_ints(n, "perm")) +
              "; supported: only inside the channel shuffle Reshape [1, g, C/g, H, W] -> "
              "Transpose (0, 2, 1, 3, 4) -> Reshape [1, C, H, W]");
}

void Importer::batch_norm(int, const Node& n) {
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

void Importer::identity(int, const Node& n) {
  if (n.op_type() == "Dropout") no_extra_outputs(n, 1);
  set_output(n, value_input(n, 0));
}

void Importer::constant(int, const Node& n) {
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

}  // namespace onnx_detail

using namespace onnx_detail;

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
