#pragma once
// The ONNX importer behind onnx_import.h, shared by its three sources:
// onnx_protobuf.cpp (reading the protobuf: the model, tensors, attributes,
// node inputs and the weights of conv-like layers), onnx_import.cpp (the
// graph and the float operators) and onnx_qdq_import.cpp (quantization
// parameters shared between layers, QuantizeLinear / DequantizeLinear /
// QLinear operators and the quantized network they give).

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sw/runtime/frontend/onnx_import.h"

namespace npuvp::runtime::onnx_detail {

using Dims = std::vector<std::int64_t>;

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

extern const std::vector<std::string> kFloatOperators;

extern const std::vector<std::string> kQuantizedOperators;

bool is_quantized_operator(const std::string& op);

std::string join(const std::vector<std::string>& v);

std::string dims_str(const Dims& d);

// The product of the dims; -1 when a dim is negative or the product passes
// kMaxElements (far beyond any tensor a platform holds, and before int64 wraps).
inline constexpr std::int64_t kMaxElements = std::int64_t{1} << 40;
std::int64_t element_count(const Dims& d);

onnx::ModelProto load_model(const std::string& path);

Constant decode_tensor(const onnx::TensorProto& t, const std::string& where_prefix);

;

class Importer {
 public:
  Importer(std::string path, bool quantized) : path_(std::move(path)), quantized_(quantized) {}

  void run();

  Network take_network() { return std::move(*net_); }

  QuantizedNetwork finish_quantized(std::uint64_t seed);

 private:
  using Node = onnx::NodeProto;

  // ------------------------------------------------------------ errors

  std::string node_name(const Node& n) const;

  [[noreturn]] void fail(const std::string& what) const { throw std::invalid_argument(path_ + ": " + what); }
  [[noreturn]] void fail(const Node& n, const std::string& what) const;

  // ------------------------------------------------------------ attributes

  const onnx::AttributeProto* attr(const Node& n, const char* name) const;
  // attr(), refused when the file gives it another type.
  const onnx::AttributeProto* typed_attr(const Node& n, const char* name,
                                         onnx::AttributeProto::AttributeType type) const;
  std::int64_t attr_int(const Node& n, const char* name, std::int64_t def) const;
  float attr_float(const Node& n, const char* name, float def) const;
  Dims attr_ints(const Node& n, const char* name, Dims def = {}) const;
  std::string attr_string(const Node& n, const char* name, const std::string& def) const;
  // A 2-element spatial attribute (strides, dilations, kernel_shape).
  std::pair<int, int> attr_pair(const Node& n, const char* name, int def) const;

  // ------------------------------------------------------------ tensors

  bool has_input(const Node& n, int k) const { return n.input_size() > k && !n.input(k).empty(); }

  const Constant* find_const(const std::string& name) const;

  const Constant& const_input(const Node& n, int k, const char* what) const;

  // The layer producing activation input k.
  int value_input(const Node& n, int k) const;

  void set_output(const Node& n, int layer, int k = 0);

  void no_extra_outputs(const Node& n, int used) const;

  // ------------------------------------------------------------ layers

  std::string unique_name(const std::string& base) const;

  // Appends `l` (named after the node) with errors of the IR re-thrown with
  // the node; flat/unflat follow its first input unless set by the caller.
  int append(const Node& n, Layer l, const std::string& base_name = {});

  LayerInfo& info(int layer) { return info_[static_cast<std::size_t>(layer)]; }

  int find(int layer);

  std::optional<QuantParams> params_of(int layer);

  void unite(int a, int b);

  static bool same(QuantParams a, QuantParams b) { return a.scale == b.scale && a.zero_point == b.zero_point; }

  // The layer whose output is `layer`'s tensor quantized with `p`: `layer`
  // itself when its quantization is still open or equal, otherwise a new
  // requantizing 1x1 depthwise conv.
  int with_params(const Node& n, int layer, QuantParams p);

  // ------------------------------------------------------------ graph

  void make_input();

  void check_output() const;

  void import_node(int k);

  // ------------------------------------------------------------ weights

  // Weight input k: a float constant, or a DequantizeLinear'd constant.
  WeightTensor weight_input(const Node& n, int k, const char* what) const;

  BiasTensor bias_from(const Node& n, const std::string& name, std::size_t channels) const;

  // Per-channel scales of `w` must lie along `axis` (the output channels).
  void check_scale_axis(const Node& n, const WeightTensor& w, int axis) const;

  // Stores a quantized import's int8 weights of a conv-like layer (already
  // [out][...] in our order) and its bias.
  // (The IR layer got the float values before it was appended.)
  void set_weights(int layer, const Node& n, WeightTensor w, BiasTensor b, int out_channels);

  // Spatial padding from pads / auto_pad.
  Padding pads(const Node& n, TensorShape in, std::pair<int, int> k, std::pair<int, int> s,
               std::pair<int, int> d) const;

  void require_4d(const Node& n, int layer) const;

  // ------------------------------------------------------------ operators

  int make_conv(const Node& n, int x, WeightTensor w, BiasTensor b);

  void conv(int, const Node& n);

  // An FC layer from weights `w` laid out [out][in] (trans) or [in][out].
  int make_fc(const Node& n, int x, WeightTensor w, bool trans, BiasTensor b);

  void gemm(int, const Node& n);

  void matmul(int k, const Node& n);

  bool fusable_producer(const Node& n, int x);

  void activation(const Node& n, LayerType type);

  void relu(int, const Node& n) { activation(n, LayerType::kReLU); }

  void clip(int, const Node& n);

  void pool(int, const Node& n);

  void global_pool(int, const Node& n) { set_output(n, make_global_pool(n, value_input(n, 0))); }

  int make_global_pool(const Node& n, int x);

  int make_add(const Node& n, int a, int b);

  void add(int, const Node& n);

  void concat(int, const Node& n);

  int make_flatten(const Node& n, int x);

  void flatten(int, const Node& n);

  // ONNX dims of the tensor of layer x.
  Dims onnx_dims(int x) const;

  // Reshape's target for input dims `in` (0 copies, -1 infers).
  Dims reshape_target(const Node& n, const Dims& in) const;

  // The node reading `tensor` when it is the only reader and of type `op`.
  std::optional<int> only_reader(const std::string& tensor, const char* op) const;

  void reshape(int, const Node& n);

  void transpose(int, const Node& n);

  void batch_norm(int, const Node& n);

  void identity(int, const Node& n);

  void constant(int, const Node& n);

  // ------------------------------------------------------------ quantization

  // Scales and zero points of input scale_k / zero_k (zero optional: 0 of
  // `default_type`), uint8 zero points moved by -128.
  void read_qparams(const Node& n, int scale_k, int zero_k, std::vector<float>& scales, std::vector<std::int32_t>& zero,
                    int& zero_type) const;

  // Per-tensor activation parameters of inputs scale_k / zero_k. A missing
  // zero point is ONNX's uint8 0 for QuantizeLinear.
  QuantParams activation_params(const Node& n, int scale_k, int zero_k) const;

  // The quantization axis of a tensor of `rank` dimensions with `scales`
  // scales: 0 (unused) for one scale.
  int axis_of(const Node& n, std::size_t rank, std::size_t scales) const;

  void quantize_linear(int, const Node& n);

  void dequantize_linear(int, const Node& n);

  // Integer weight input k with scales/zero points in inputs k+1, k+2.
  WeightTensor qlinear_weight(const Node& n, int k, int axis) const;

  void qlinear_conv(int, const Node& n);

  void qlinear_matmul(int, const Node& n);

  void qlinear_add(int, const Node& n);

  void qlinear_global_pool(int, const Node& n);

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

}  // namespace npuvp::runtime::onnx_detail
