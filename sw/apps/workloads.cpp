#include "sw/apps/workloads.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <future>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>

#include "models/common/cpu_profile.h"
#include "sw/apps/footprint.h"
#include "sw/apps/onnx_spec.h"
#include "sw/apps/prepared_cache.h"
#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/network_yaml.h"
#include "sw/runtime/frontend/onnx_module.h"
#include "sw/runtime/frontend/scalesim_topology.h"
#include "sw/runtime/frontend/zoo.h"
#include "sw/runtime/lowering/conv_workload.h"
#include "sw/runtime/lowering/lowering.h"
#include "sw/runtime/quantize/network_quantizer.h"
#include "sw/runtime/reference/reference_executor.h"

namespace npuvp::apps {
namespace {

struct NetworkDef {
  std::string name;
  std::string description;
  std::vector<runtime::ConvLayerSpec> layers;
};

// The foundation slice: ConvLayerSpec's defaults are exactly its layer.
runtime::ConvLayerSpec slice_layer() {
  runtime::ConvLayerSpec spec;
  spec.name = "conv3x3";
  return spec;
}

const std::vector<NetworkDef>& networks() {
  static const std::vector<NetworkDef> defs = {
      {"conv_slice",
       "one 3x3 convolution, 56x56x64 -> 64, stride 1, pad 1, ReLU (the foundation slice)",
       {slice_layer()}},
  };
  return defs;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A SCALE-Sim topology: each row a standalone convolution without padding,
// whose last partial window SCALE-Sim keeps (extra bottom/right padding here).
NetworkDef load_scalesim_network(const std::string& file) {
  NetworkDef def{"", "SCALE-Sim topology", {}};
  for (const auto& s : runtime::load_scalesim_topology(file)) {
    runtime::ConvLayerSpec spec;
    spec.name = s.name;
    spec.in_c = s.channels;
    spec.in_h = s.ifmap_h;
    spec.in_w = s.ifmap_w;
    spec.out_c = s.num_filter;
    spec.window.kernel_h = s.filter_h;
    spec.window.kernel_w = s.filter_w;
    spec.window.stride_h = spec.window.stride_w = s.stride;
    spec.window.pad = {
        0, 0, (runtime::scalesim_ofmap_dim(s.ifmap_h, s.filter_h, s.stride) - 1) * s.stride + s.filter_h - s.ifmap_h,
        (runtime::scalesim_ofmap_dim(s.ifmap_w, s.filter_w, s.stride) - 1) * s.stride + s.filter_w - s.ifmap_w};
    spec.relu = false;
    def.layers.push_back(spec);
  }
  return def;
}

NetworkDef find_network(const std::string& name) {
  if (ends_with(name, ".csv")) {
    NetworkDef def = load_scalesim_network(name);
    def.name = std::filesystem::path(name).stem().string();
    return def;
  }
  for (const auto& n : networks())
    if (name == n.name) return n;
  std::string known;
  for (const auto& n : networks()) known += std::string(known.empty() ? "" : ", ") + n.name;
  for (const auto& n : runtime::zoo_names()) known += ", " + n;
  throw std::invalid_argument("unknown network '" + name + "' (known: " + known +
                              "; or a network file: *.yaml, *.onnx, a SCALE-Sim *.csv)");
}

}  // namespace

nlohmann::json describe_conv_layer(const runtime::PreparedConv& l) {
  return {{"name", l.spec.name},
          {"type", "conv2d"},
          {"in_shape", {l.in_shape.c, l.in_shape.h, l.in_shape.w}},
          {"out_shape", {l.out_shape.c, l.out_shape.h, l.out_shape.w}},
          {"kernel", {l.params.kernel_h, l.params.kernel_w}},
          {"stride", {l.params.stride_h, l.params.stride_w}},
          {"padding", {l.params.pad.top, l.params.pad.left, l.params.pad.bottom, l.params.pad.right}},
          {"dilation", {l.params.dilation_h, l.params.dilation_w}},
          {"groups", l.params.groups},
          {"datatype", runtime::datatype_name(l.spec.datatype)},
          {"macs", l.macs()},
          {"params", l.parameter_count()}};
}

namespace {

Workload conv_workload(const NetworkDef& net, const WorkloadOptions& options, firmware::DataflowChoice dataflow) {
  std::vector<runtime::ConvLayerSpec> specs;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    runtime::ConvLayerSpec spec = net.layers[i];
    if (i == 0 && options.input_h > 0) {
      spec.in_h = options.input_h;
      spec.in_w = options.input_w;
    }
    spec.dataflow = dataflow;
    spec.weight_sparsity = options.weight_sparsity;
    spec.datatype = runtime::parse_datatype(options.datatype);
    specs.push_back(spec);
  }
  check_footprint(conv_footprint(specs), options.dram_bytes, options.max_host_bytes);
  auto layers = std::make_shared<std::vector<runtime::PreparedConv>>();
  for (std::size_t i = 0; i < specs.size(); ++i)
    layers->push_back(runtime::prepare_conv(specs[i], options.seed + static_cast<std::uint32_t>(i)));
  Workload w;
  w.name = net.name;
  const auto& first = layers->front();
  w.input_shape = {first.in_shape.c, first.in_shape.h, first.in_shape.w};
  for (const auto& l : *layers) w.layers.push_back(describe_conv_layer(l));
  runtime::LoweringFaults faults;
  faults.input_row_pitch_delta = options.fault_input_row_pitch_delta;
  for (std::size_t i = 0; i < layers->size(); ++i)
    w.commands.push_back(runtime::conv_command((*layers)[i], static_cast<std::uint32_t>(i), {}, faults));
  w.verdicts = std::make_shared<LayerVerdicts>();
  w.verdicts->mismatches.assign(layers->size(), 0);
  w.verdicts->verified.assign(layers->size(), false);
  w.program = [layers, faults, verdicts = w.verdicts](sw::NpuDriver& driver) {
    for (std::size_t i = 0; i < layers->size(); ++i) {
      const auto r = runtime::run_conv_on_npu(driver, (*layers)[i], static_cast<std::uint32_t>(i), faults);
      verdicts->mismatches[i] = r.mismatches;
      verdicts->verified[i] = r.verified();
    }
  };
  return w;
}

runtime::Network load_ir_network(const std::string& name) {
  if (ends_with(name, ".yaml")) return runtime::load_network_yaml(name);
  return runtime::make_network(name);
}

// The network input as --input gives it, and for an ONNX model quantized as
// its QuantizeLinear does (round half to even); the expected outputs follow,
// now with `reference`, else when the preparation completes.
void use_input(runtime::QuantizedNetwork& q, const InputTensor* input, bool onnx, bool reference) {
  std::vector<std::int8_t> codes = q.layers.front().expected;
  const runtime::QuantParams& in_q = q.layers.front().output;
  if (input != nullptr && input->quantized) {
    // One byte a code: an int16 input's codes need two (it failed mid-run).
    if (q.layers.front().bits == 16)
      throw std::invalid_argument(
          "--input: int8/uint8 codes for an int16 input, whose codes take 16 bits; give it float32 values");
    codes = input->codes;
    for (const std::int8_t v : codes)
      if (v < in_q.qmin || v > in_q.qmax)
        throw std::invalid_argument("--input: code " + std::to_string(int{v}) + " outside the int" +
                                    std::to_string(q.layers.front().bits) + " input's range [" +
                                    std::to_string(in_q.qmin) + ", " + std::to_string(in_q.qmax) + "]");
    q.float_input = runtime::dequantize_tensor(codes, q.layers.front().output);
  } else if (input != nullptr || onnx) {
    if (input != nullptr) q.float_input = input->values;
    codes = onnx ? quantize_linear(q.float_input, q.layers.front().output)
                 : runtime::quantize_tensor(q.float_input, q.layers.front().output);
  }
  if (codes == q.layers.front().expected) return;
  q.layers.front().expected = std::move(codes);
  if (reference) runtime::compute_reference_outputs(q);
}

// A network quantized, with what completes its preparation: the reference
// outputs, the SQNR against the float model (into the verdicts), the float
// weights freed and the cache entry written. `complete` is empty when there
// is nothing left (read from the cache, or a quantized ONNX model).
struct PreparedNetwork {
  std::shared_ptr<runtime::QuantizedNetwork> q;
  std::function<void()> complete;
  bool from_cache = false;
};

// The completion of a network quantized: with `reference`, its reference
// outputs and SQNR are still to compute (else the quantizer computed them).
std::function<void()> completion(std::shared_ptr<runtime::QuantizedNetwork> q, bool reference, bool generated_weights,
                                 std::shared_ptr<LayerVerdicts> verdicts, std::string cache_dir, std::string key) {
  return [q = std::move(q), reference, generated_weights, verdicts = std::move(verdicts),
          cache_dir = std::move(cache_dir), key = std::move(key)] {
    const profile::Scope cpu(profile::Phase::kReference);
    if (reference) {
      runtime::compute_reference_outputs(*q);
      // An int8 input file replaces the calibration input: the float model then
      // saw another image than the NPU.
      if (q->network.has_float_weights() &&
          q->layers.front().expected == runtime::quantize_tensor(q->float_input, q->layers.front().output))
        verdicts->sqnr_db = runtime::layer_sqnr_db(*q);
      runtime::release_reference_outputs(*q);
    }
    // An imported model's own weights stay: the ONNX operator check reads them.
    if (generated_weights) q->network.drop_float_weights();
    if (!cache_dir.empty()) store_prepared(cache_dir, key, *q, verdicts->sqnr_db);
  };
}

// The prepared network from the cache, if it holds `key` for `net`'s structure.
std::shared_ptr<runtime::QuantizedNetwork> from_cache(const std::string& dir, const std::string& key,
                                                      runtime::Network& net, LayerVerdicts& verdicts) {
  // The quantizer folds BatchNorms after generating the weights, so a network
  // without weights is folded on a copy unless the entry is used.
  runtime::Network folded = net;
  folded.fold_batchnorm();
  auto data = load_prepared(dir, key, folded.size());
  if (!data) return nullptr;
  verdicts.sqnr_db = std::move(data->sqnr_db);
  return std::make_shared<runtime::QuantizedNetwork>(runtime::QuantizedNetwork{
      std::move(folded), std::move(data->layers), std::move(data->float_input), std::move(data->float_output)});
}

PreparedNetwork quantized_network(const std::string& name, const WorkloadOptions& options,
                                  const std::shared_ptr<LayerVerdicts>& verdicts) {
  const profile::Scope cpu(profile::Phase::kPrepare);
  runtime::QuantizationOptions qo;
  qo.weight_seed = options.seed;
  qo.input_seed = options.seed + 1;
  const bool onnx = ends_with(name, ".onnx");
  std::optional<InputTensor> input;
  auto read_input = [&](const runtime::Network& net) {
    if (!options.input_file.empty()) input = read_input_tensor(options.input_file, net.layer(0).out_shape, net.name());
  };
  qo.bits = options.datatype == "int4" ? 4 : options.datatype == "int16" ? 16 : 8;
  if (onnx && runtime::onnx_importer().is_quantized(name)) {
    // A quantized model brings its own scales and zero points.
    if (qo.bits != 8)
      throw std::invalid_argument(name + ": --datatype " + options.datatype +
                                  " needs a float model (a quantized ONNX model brings its own int8 quantization)");
    if (options.input_h > 0) throw std::invalid_argument(name + ": --input-size cannot change a quantized model");
    auto q =
        std::make_shared<runtime::QuantizedNetwork>(runtime::onnx_importer().import_quantized(name, qo.input_seed));
    read_input(q->network);
    use_input(*q, input ? &*input : nullptr, true, true);
    runtime::release_reference_outputs(*q);
    return {q, nullptr, false};
  }
  runtime::Network net = onnx ? runtime::onnx_importer().import_float(name) : load_ir_network(name);
  std::set<std::string> forced;
  for (const auto& assignment : options.layer_dataflow) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument("--layer-dataflow: expected LAYER=ws|os|os2d, got '" + assignment + "'");
    // Given twice, the last one won without a word.
    if (!forced.insert(assignment.substr(0, eq)).second)
      throw std::invalid_argument("--layer-dataflow: layer '" + assignment.substr(0, eq) +
                                  "' is given twice; expected one dataflow per layer");
    net.set_dataflow(assignment.substr(0, eq), assignment.substr(eq + 1));
  }
  if (options.input_h > 0)
    net.infer_shapes(runtime::TensorShape{net.layer(0).out_shape.c, options.input_h, options.input_w});
  check_footprint(network_footprint(net, options.batch), options.dram_bytes, options.max_host_bytes);
  read_input(net);
  std::string key;
  if (!options.cache_dir.empty()) {
    key = prepared_key_text({name, options.input_h, options.input_w, options.seed, options.datatype, options.input_file,
                             options.weight_sparsity, options.batch});
    if (auto q = from_cache(options.cache_dir, key, net, *verdicts)) return {q, nullptr, true};
  }
  // A float input is also the calibration input; int8 codes replace the seeded one after it.
  if (input && !input->quantized) qo.float_input = input->values;
  const bool generated_weights = !net.has_float_weights();
  // Where the NPU's input is the calibration input quantized, the reference
  // outputs and the SQNR come with the calibration's float pass, timed as the
  // reference; else they follow the input's codes.
  const bool calibration_input = !onnx && !(input && input->quantized);
  qo.reference_outputs = calibration_input;
  qo.keep_reference_outputs = false;  // the run checks against digests
  // The SQNR comes with the calibration too: the float weights are dropped
  // after it (completion) and can go as soon as each layer is quantized.
  qo.keep_generated_weights = !calibration_input;
  std::int64_t reference_ns = 0, step_start = 0;
  qo.on_reference_step = [&](bool begin) {
    const std::int64_t now = profile::thread_cpu_ns();
    if (begin)
      step_start = now;
    else
      reference_ns += now - step_start;
  };
  std::vector<double> sqnr_db;
  auto q = std::make_shared<runtime::QuantizedNetwork>(calibration_input
                                                           ? runtime::quantize_network(std::move(net), qo, sqnr_db)
                                                           : runtime::quantize_network(std::move(net), qo));
  // The steps ran inside this prepare scope.
  profile::phase_ns[static_cast<std::size_t>(profile::Phase::kPrepare)] -= reference_ns;
  profile::phase_ns[static_cast<std::size_t>(profile::Phase::kReference)] += reference_ns;
  if (calibration_input) verdicts->sqnr_db = std::move(sqnr_db);
  use_input(*q, input ? &*input : nullptr, onnx, false);
  return {q, completion(q, !calibration_input, generated_weights, verdicts, options.cache_dir, key), false};
}

// Every layer's output as the NPU wrote it, and for an ONNX model how far it
// is from the operator specification's arithmetic.
void keep_tensors(const runtime::QuantizedNetwork& q, const runtime::NetworkRun& run, const std::string& input_file,
                  bool onnx, NetworkTensors* tensors, LayerVerdicts& verdicts) {
  std::vector<std::vector<std::int8_t>> outputs;
  for (const auto& check : run.layers) outputs.push_back(check.output);
  if (onnx) verdicts.onnx_spec_mismatches = onnx_spec_mismatches(q, outputs);
  if (tensors == nullptr) return;
  tensors->network = q.network.name();
  tensors->input_file = input_file;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const runtime::Layer& l = q.network.layer(static_cast<int>(i));
    if (l.type == runtime::LayerType::kFlatten)
      outputs[i] = flatten_in_chw_order(outputs[i], q.network.layer(l.inputs[0]).out_shape);
    tensors->layers.push_back({l.name, q.layers[i].output, l.out_shape, std::move(outputs[i])});
  }
}

Workload network_workload(const std::string& name, const WorkloadOptions& options, firmware::DataflowChoice dataflow) {
  Workload w;
  w.verdicts = std::make_shared<LayerVerdicts>();
  PreparedNetwork prepared = quantized_network(name, options, w.verdicts);
  const std::shared_ptr<runtime::QuantizedNetwork> q = prepared.q;
  w.prepared_from_cache = prepared.from_cache;
  // The reference runs beside the simulation when a thread is free for it;
  // further images copy the completed network, so a batch completes first.
  if (prepared.complete && options.threads >= 2 && options.batch == 1)
    w.background = std::async(std::launch::async, std::move(prepared.complete)).share();
  else if (prepared.complete)
    prepared.complete();
  // Further images: the same quantization, their own seeded inputs.
  auto images = std::make_shared<std::vector<runtime::QuantizedNetwork>>();
  std::mt19937 rng(options.seed + 2);
  const auto& in_q = q->layers.front().output;
  const auto lo = static_cast<int>(std::max(float(in_q.qmin), std::round(-1.0f / in_q.scale) + in_q.zero_point));
  const auto hi = static_cast<int>(std::min(float(in_q.qmax), std::round(1.0f / in_q.scale) + in_q.zero_point));
  for (int b = 1; b < options.batch; ++b) {
    const profile::Scope cpu(profile::Phase::kReference);
    runtime::QuantizedNetwork image = *q;
    std::uniform_int_distribution<int> value(lo, hi);
    for (auto& v : image.layers.front().expected) v = static_cast<std::int8_t>(value(rng));
    runtime::compute_reference_outputs(image);
    runtime::release_reference_outputs(image);
    runtime::drop_weights(image);  // the run reads the first image's
    images->push_back(std::move(image));
  }
  w.name = q->network.name();
  const auto in = q->network.layer(0).out_shape;
  w.input_shape = {in.c, in.h, in.w};
  w.layers = q->network.layers_json();
  for (std::size_t i = 0; i < w.layers.size(); ++i) w.layers[i]["datatype"] = "int" + std::to_string(q->layers[i].bits);
  const bool onnx = ends_with(name, ".onnx");
  if (options.keep_outputs) w.tensors = std::make_shared<NetworkTensors>();
  runtime::ExecutionOptions eo;
  eo.dataflow = dataflow;
  eo.fold_data_movement = options.fold_data_movement;
  eo.fuse_layers = options.fuse_layers;
  eo.tile_fits = options.tile_fits;
  eo.dram_access_bytes = options.dram_access_bytes;
  eo.keep_outputs = onnx || w.tensors != nullptr;
  // The commands the run will submit, for the checks before simulation: the
  // same options lower them (kept outputs unfuse adds, unfolded data
  // movement copies), only onto addresses from 0.
  std::uint64_t next = 0;
  runtime::LoweringOptions lowering = runtime::lowering_options(eo);
  lowering.initial_data = false;  // the run lowers again, onto the NPU's memory
  w.commands =
      runtime::lower_network(
          *q, [&](std::uint64_t bytes) { return std::exchange(next, next + (bytes + 63) / 64 * 64); }, lowering)
          .commands;
  if (w.commands.empty())
    throw std::invalid_argument(
        "network '" + q->network.name() +
        "': no layer gives the NPU work: every layer is data movement folded into how the host reads the "
        "output (flatten, slice_channels, channel_shuffle, ...), so there is nothing to simulate; add a layer "
        "that computes (a convolution, pooling, an activation or an add), or run them as copies "
        "(--set firmware.fold_data_movement=false)");
  w.verdicts->mismatches.assign(w.layers.size(), 0);
  w.verdicts->verified.assign(w.layers.size(), false);
  w.verdicts->folded_into.assign(w.layers.size(), {});
  w.verdicts->not_fused.assign(w.layers.size(), {});
  if (w.background.valid()) eo.await_reference = [reference = w.background] { reference.get(); };
  w.program = [q, images, eo, onnx, input_file = options.input_file, verdicts = w.verdicts,
               tensors = w.tensors](sw::NpuDriver& driver) {
    std::vector<const runtime::QuantizedNetwork*> batch{q.get()};
    for (const auto& image : *images) batch.push_back(&image);
    const std::vector<runtime::NetworkRun> runs =
        batch.size() == 1 ? std::vector<runtime::NetworkRun>{runtime::run_network_on_npu(driver, *q, eo)}
                          : runtime::run_batch_on_npu(driver, batch, eo);
    std::fill(verdicts->verified.begin(), verdicts->verified.end(), true);
    for (const auto& r : runs)
      for (const auto& check : r.layers) {
        const auto i = static_cast<std::size_t>(check.index);
        verdicts->mismatches.at(i) += check.mismatches;
        verdicts->verified.at(i) = verdicts->verified.at(i) && check.verified;
        verdicts->folded_into.at(i) = check.folded_into;
        verdicts->not_fused.at(i) = check.not_fused;
      }
    if (eo.keep_outputs) keep_tensors(*q, runs.front(), input_file, onnx, tensors.get(), *verdicts);
  };
  return w;
}

bool is_ir_network(const std::string& name) {
  return ends_with(name, ".yaml") || ends_with(name, ".onnx") || runtime::is_zoo_network(name);
}

}  // namespace

firmware::DataflowChoice parse_dataflow(const std::string& d, const std::string& objective) {
  if (objective != "latency" && objective != "energy")
    throw std::invalid_argument("--objective: expected latency or energy, got '" + objective + "'");
  if (d != "hybrid" && objective != "latency")
    throw std::invalid_argument("--objective: only a hybrid dataflow has one (--dataflow hybrid)");
  if (d == "ws") return firmware::DataflowChoice::kWeightStationary;
  if (d == "os") return firmware::DataflowChoice::kOutputStationary;
  if (d == "os2d") return firmware::DataflowChoice::kSpatialOutputStationary;
  if (d == "hybrid")
    return objective == "energy" ? firmware::DataflowChoice::kHybridEnergy : firmware::DataflowChoice::kHybridLatency;
  throw std::invalid_argument("--dataflow: expected ws, os, os2d or hybrid, got '" + d + "'");
}

std::pair<int, int> parse_input_size(const std::string& text) {
  const std::string expected =
      "--input-size: expected HxW with H and W from 1 to 16384 (e.g. 112x112), got '" + text + "'";
  const auto x = text.find('x');
  const auto dimension = [&](const std::string& digits) {
    // Digits only: stoi would take "56abc" as 56 and "-5" as a number.
    if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument(expected);
    const int v = std::stoi(digits);
    if (v < 1 || v > 16384) throw std::invalid_argument(expected);
    return v;
  };
  if (x == std::string::npos) throw std::invalid_argument(expected);
  return {dimension(text.substr(0, x)), dimension(text.substr(x + 1))};
}

Workload make_workload(const WorkloadOptions& options) {
  const auto dataflow = parse_dataflow(options.dataflow, options.objective);
  if (options.input_h < 0 || options.input_w < 0) throw std::invalid_argument("--input-size: expected HxW > 0");
  if (options.batch < 1 || options.batch > kMaxBatch)
    throw std::invalid_argument("--batch: expected 1 to " + std::to_string(kMaxBatch));
  const bool ir = is_ir_network(options.network);
  if (!ir && !options.layer_dataflow.empty())
    throw std::invalid_argument("--layer-dataflow: only zoo, YAML and ONNX networks have named layers to override");
  if (!ir && options.batch != 1) throw std::invalid_argument("--batch: only zoo, YAML and ONNX networks run batched");
  if (!ir && (!options.input_file.empty() || options.keep_outputs))
    throw std::invalid_argument(std::string(options.input_file.empty() ? "--dump" : "--input") +
                                ": only zoo, YAML and ONNX networks take input tensors and dump their layers");
  if (options.batch != 1 && (!options.input_file.empty() || options.keep_outputs))
    throw std::invalid_argument(std::string(options.input_file.empty() ? "--dump" : "--input") +
                                ": one image only (--batch 1)");
  if (ir && options.weight_sparsity != 0)
    throw std::invalid_argument(
        "--weight-sparsity: only conv_slice and SCALE-Sim layers take it (zoo, YAML and ONNX networks bring their own "
        "weights)");
  if (ir && options.datatype != "int8" && options.datatype != "int4" && options.datatype != "int16")
    throw std::invalid_argument("--datatype: zoo, YAML and ONNX networks take int8, int4 or int16, got '" +
                                options.datatype +
                                "' (the network runtime quantizes to integers; fp16 runs on "
                                "conv_slice and SCALE-Sim layers)");
  return ir ? network_workload(options.network, options, dataflow)
            : conv_workload(find_network(options.network), options, dataflow);
}

nlohmann::json list_networks() {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : networks()) {
    std::uint64_t macs = 0, params = 0;
    for (const auto& l : n.layers) {
      const runtime::ConvParams p{l.window, 0, l.out_c};
      const runtime::TensorShape out = runtime::conv_output_shape({l.in_c, l.in_h, l.in_w}, p);
      const std::uint64_t filter = std::uint64_t(p.kernel_h) * p.kernel_w * l.in_c;
      macs += std::uint64_t(out.size()) * filter;
      params += l.out_c * filter + l.out_c;
    }
    const auto& first = n.layers.front();
    out.push_back({{"name", n.name},
                   {"description", n.description},
                   {"input", {first.in_c, first.in_h, first.in_w}},
                   {"params", params},
                   {"macs", macs}});
  }
  for (const auto& z : runtime::zoo_listing()) out.push_back(z);
  return out;
}

}  // namespace npuvp::apps
