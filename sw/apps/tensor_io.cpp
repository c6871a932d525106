#include "sw/apps/tensor_io.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "sw/apps/npy.h"

namespace npuvp::apps {
namespace {

using runtime::TensorShape;

std::vector<std::size_t> nchw(TensorShape s) {
  return {1, static_cast<std::size_t>(s.c), static_cast<std::size_t>(s.h), static_cast<std::size_t>(s.w)};
}

// NCHW -> HWC (to_hwc) or back.
template <class T>
std::vector<T> relayout(const std::vector<T>& v, TensorShape s, bool to_hwc) {
  std::vector<T> out(v.size());
  for (int c = 0; c < s.c; ++c)
    for (int y = 0; y < s.h; ++y)
      for (int x = 0; x < s.w; ++x) {
        const std::size_t hwc = (static_cast<std::size_t>(y) * s.w + x) * s.c + c;
        const std::size_t nchw = (static_cast<std::size_t>(c) * s.h + y) * s.w + x;
        out[to_hwc ? hwc : nchw] = v[to_hwc ? nchw : hwc];
      }
  return out;
}

const char* dtype_name(NpyType t) {
  return t == NpyType::kFloat32 ? "float32" : t == NpyType::kInt8 ? "int8" : "uint8";
}

void write_json(const std::filesystem::path& path, const nlohmann::json& j) {
  std::ofstream os(path);
  os << j.dump(2) << '\n';
  os.flush();
  if (!os) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

InputTensor read_input_tensor(const std::string& file, TensorShape shape, const std::string& network) {
  const NpyArray a = read_npy(file);
  std::vector<std::size_t> s = a.shape;
  if (s.size() == 3) s.insert(s.begin(), 1);
  if (s != nchw(shape))
    throw std::invalid_argument(file + ": shape " + npy_shape_text(a.shape) + " does not match the input " +
                                npy_shape_text(nchw(shape)) + " (NCHW) of network '" + network + "'");
  InputTensor in;
  in.file = file;
  in.quantized = a.type != NpyType::kFloat32;
  if (a.type == NpyType::kFloat32) {
    in.values = relayout(a.floats(), shape, true);
    for (float v : in.values)
      if (!std::isfinite(v)) throw std::invalid_argument(file + ": holds a NaN or infinite value");
  } else if (a.type == NpyType::kInt8) {
    in.codes = relayout(a.int8s(), shape, true);
  } else {
    for (std::uint8_t v : relayout(a.uint8s(), shape, true)) in.codes.push_back(static_cast<std::int8_t>(v - 128));
  }
  return in;
}

std::vector<std::int8_t> quantize_linear(const std::vector<float>& hwc, runtime::QuantParams q) {
  std::vector<std::int8_t> out;
  out.reserve(hwc.size());
  for (float x : hwc) {
    // std::nearbyint rounds half to even in the default rounding mode.
    const float r = std::nearbyint(x / q.scale) + static_cast<float>(q.zero_point);
    out.push_back(static_cast<std::int8_t>(std::clamp(r, float(q.qmin), float(q.qmax))));
  }
  return out;
}

std::vector<std::int8_t> flatten_in_chw_order(const std::vector<std::int8_t>& hwc, TensorShape input) {
  return relayout(hwc, input, false);
}

std::string dump_file_name(std::size_t index, const std::string& layer) {
  std::string number = std::to_string(index);
  if (number.size() < 3) number.insert(0, 3 - number.size(), '0');
  std::string name = layer;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  return number + "_" + name + ".npy";
}

nlohmann::json write_tensor_dump(const std::string& dir, const NetworkTensors& tensors) {
  const std::filesystem::path root(dir);
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) throw std::runtime_error("cannot create the dump directory " + dir + ": " + ec.message());
  nlohmann::json files = nlohmann::json::array();
  auto entry = [&](const std::string& file, const LayerTensor& t, NpyType type) {
    files.push_back({{"file", file},
                     {"layer", t.layer},
                     {"dtype", dtype_name(type)},
                     {"shape", nchw(t.shape)},
                     {"scale", t.q.scale},
                     {"zero_point", t.q.zero_point}});
  };
  for (std::size_t i = 0; i < tensors.layers.size(); ++i) {
    const LayerTensor& t = tensors.layers[i];
    const std::string file = dump_file_name(i, t.layer);
    write_npy((root / file).string(), make_npy(relayout(t.codes, t.shape, false), nchw(t.shape)));
    entry(file, t, NpyType::kInt8);
  }
  if (!tensors.layers.empty()) {
    const LayerTensor& last = tensors.layers.back();
    write_npy((root / "output.npy").string(),
              make_npy(relayout(runtime::dequantize_tensor(last.codes, last.q), last.shape, false), nchw(last.shape)));
    entry("output.npy", last, NpyType::kFloat32);
    files.back()["dequantized_from"] = files[files.size() - 2]["file"];
  }
  const nlohmann::json manifest = {
      {"network", tensors.network},
      {"input", tensors.input_file.empty() ? nlohmann::json("seeded random") : nlohmann::json(tensors.input_file)},
      {"layout", "NCHW, batch 1; real = scale * (code - zero_point)"},
      {"source", "the NPU's outputs read back from simulated DRAM"},
      {"files", files}};
  write_json(root / "manifest.json", manifest);
  return manifest;
}

}  // namespace npuvp::apps
