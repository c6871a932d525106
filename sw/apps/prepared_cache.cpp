#include "sw/apps/prepared_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <type_traits>

#include "models/common/output_file.h"

namespace npuvp::apps {
namespace {

namespace fs = std::filesystem;
using runtime::hash_bytes;

constexpr char kMagic[8] = {'N', 'P', 'U', 'V', 'P', 'P', 'N', '3'};

std::string hex(std::uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

std::string file_hash(const std::string& path, const char* what) {
  std::ifstream is(path, std::ios::binary);
  if (!is) throw std::runtime_error(path + ": cannot read the " + std::string(what));
  std::uint64_t h = 0;
  std::vector<char> chunk(1 << 20);
  std::uint64_t bytes = 0;
  while (is.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || is.gcount() > 0) {
    h = hash_bytes(chunk.data(), static_cast<std::size_t>(is.gcount()), h);
    bytes += static_cast<std::uint64_t>(is.gcount());
  }
  return std::to_string(bytes) + " bytes, hash " + hex(h);
}

// The running build: a rebuild relinks the executable, which changes its
// modification time (and most often its size).
std::string build_id() {
  struct stat st {};
  std::string id = std::string("npuvp ") + NPUVP_VERSION;
  if (stat("/proc/self/exe", &st) == 0)
    id += " exe " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
          std::to_string(st.st_mtim.tv_nsec);
  return id;
}

// Streams the entry's fields with the checksum chained over every byte,
// past the page cache where the file system allows (io::OutputFile's bulk
// mode): an entry holds every layer's expected output (244 MB for MobileNet
// v1 at 1080x1920), whose copy into fresh page-cache pages cost up to 0.65 s
// of system time on this project's virtual machine, against 0.06 s direct.
// Throws std::runtime_error naming the file when it cannot be written.
class Writer {
 public:
  explicit Writer(const std::string& path) : file_(path, io::OutputFile::Mode::kBulk), os_(file_.stream()) {}
  void bytes(const void* data, std::size_t n) {
    sum_ = hash_bytes(data, n, sum_);
    os_.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  }
  template <class T>
  void value(const T& v) {
    static_assert(std::is_trivially_copyable<T>::value, "stored byte for byte");
    bytes(&v, sizeof v);
  }
  template <class T>
  void vector(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable<T>::value, "stored byte for byte");
    value(static_cast<std::uint64_t>(v.size()));
    bytes(v.data(), v.size() * sizeof(T));
  }
  void finish() {
    const std::uint64_t sum = sum_;
    os_.write(reinterpret_cast<const char*>(&sum), sizeof sum);
    file_.commit();
  }

 private:
  io::OutputFile file_;
  std::ostream& os_;
  std::uint64_t sum_ = 0;
};

// Reads what Writer wrote; any short read or oversized count throws.
class Reader {
 public:
  explicit Reader(const std::string& path) : is_(path, std::ios::binary) {
    if (is_) {
      is_.seekg(0, std::ios::end);
      left_ = static_cast<std::uint64_t>(is_.tellg());
      is_.seekg(0);
    }
  }
  bool ok() const { return static_cast<bool>(is_); }
  void bytes(void* data, std::size_t n) {
    if (n > left_ || !is_.read(static_cast<char*>(data), static_cast<std::streamsize>(n)))
      throw std::runtime_error("truncated");
    left_ -= n;
    sum_ = hash_bytes(data, n, sum_);
  }
  template <class T>
  T value() {
    T v;
    bytes(&v, sizeof v);
    return v;
  }
  template <class T>
  std::vector<T> vector() {
    const auto n = value<std::uint64_t>();
    if (n > left_ / sizeof(T)) throw std::runtime_error("truncated (a length beyond the end of the file)");
    std::vector<T> v(static_cast<std::size_t>(n));
    bytes(v.data(), v.size() * sizeof(T));
    return v;
  }
  // The checksum stored at the end against the one of what was read, and nothing after it.
  bool verifies() {
    const std::uint64_t computed = sum_;
    std::uint64_t stored = 0;
    if (left_ != sizeof stored || !is_.read(reinterpret_cast<char*>(&stored), sizeof stored)) return false;
    return stored == computed;
  }

 private:
  std::ifstream is_;
  std::uint64_t left_ = 0;
  std::uint64_t sum_ = 0;
};

void write_layer(Writer& w, const runtime::QuantizedLayer& l) {
  w.value(l.output);
  w.value(l.conv);
  w.vector(l.weights);
  w.vector(l.weight_scales);
  w.vector(l.bias);
  w.vector(l.requant.per_channel);
  w.value(l.requant.output_zero_point);
  w.value(l.requant.act_min);
  w.value(l.requant.act_max);
  w.value(static_cast<std::int32_t>(l.activation));
  w.value(static_cast<std::int32_t>(l.fused_into));
  w.vector(l.expected);
  w.value(l.expected_digest);
  w.value(static_cast<std::int32_t>(l.bits));
}

runtime::QuantizedLayer read_layer(Reader& r) {
  runtime::QuantizedLayer l;
  l.output = r.value<runtime::QuantParams>();
  l.conv = r.value<runtime::ConvParams>();
  l.weights = r.vector<std::int8_t>();
  l.weight_scales = r.vector<float>();
  l.bias = r.vector<std::int32_t>();
  l.requant.per_channel = r.vector<runtime::FixedPointMultiplier>();
  l.requant.output_zero_point = r.value<std::int32_t>();
  l.requant.act_min = r.value<std::int32_t>();
  l.requant.act_max = r.value<std::int32_t>();
  const auto activation = r.value<std::int32_t>();
  if (activation < 0 || activation > static_cast<std::int32_t>(runtime::Activation::kRelu6))
    throw std::runtime_error("an unknown activation");
  l.activation = static_cast<runtime::Activation>(activation);
  l.fused_into = r.value<std::int32_t>();
  l.expected = r.vector<std::int8_t>();
  l.expected_digest = r.value<runtime::TensorDigest>();
  l.bits = r.value<std::int32_t>();
  if (l.bits != 4 && l.bits != 8 && l.bits != 16)
    throw std::runtime_error("a layer of " + std::to_string(l.bits) + " bits");
  return l;
}

void warn(const std::string& what) { std::cerr << "npuvp: warning: prepared-network cache: " << what << '\n'; }

}  // namespace

std::string prepared_key_text(const PreparedKey& key) {
  std::string text = "npuvp prepared network, format 1\nbuild " + build_id() + "\nnetwork " + key.network;
  if (fs::is_regular_file(key.network)) text += " (" + file_hash(key.network, "network file") + ")";
  text += "\ninput_size " + std::to_string(key.input_h) + "x" + std::to_string(key.input_w);
  text += "\nseed " + std::to_string(key.seed) + "\ndatatype " + key.datatype;
  text +=
      "\ninput " + (key.input_file.empty() ? std::string("seeded")
                                           : key.input_file + " (" + file_hash(key.input_file, "--input file") + ")");
  char sparsity[32];
  std::snprintf(sparsity, sizeof sparsity, "%.17g", key.weight_sparsity);
  text += "\nweight_sparsity " + std::string(sparsity) + "\nbatch " + std::to_string(key.batch) + "\n";
  return text;
}

std::string default_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && *xdg != '\0') return (fs::path(xdg) / "npuvp").string();
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return (fs::path(home) / ".cache" / "npuvp").string();
  return "";
}

std::string prepared_entry_path(const std::string& dir, const std::string& key_text) {
  return (fs::path(dir) / (hex(hash_bytes(key_text.data(), key_text.size(), 1)) +
                           hex(hash_bytes(key_text.data(), key_text.size(), 2)) + ".prepared"))
      .string();
}

std::optional<PreparedData> load_prepared(const std::string& dir, const std::string& key_text,
                                          std::size_t layer_count) {
  const std::string path = prepared_entry_path(dir, key_text);
  Reader r(path);
  if (!r.ok()) return std::nullopt;
  try {
    char magic[sizeof kMagic];
    r.bytes(magic, sizeof magic);
    if (std::memcmp(magic, kMagic, sizeof magic) != 0) throw std::runtime_error("not a prepared-network entry");
    const std::vector<char> key = r.vector<char>();
    if (std::string(key.begin(), key.end()) != key_text) throw std::runtime_error("made for another key");
    PreparedData d;
    const auto layers = r.value<std::uint64_t>();
    if (layers != layer_count) throw std::runtime_error("made for another network structure");
    for (std::uint64_t i = 0; i < layers; ++i) d.layers.push_back(read_layer(r));
    d.float_input = r.vector<float>();
    d.float_output = r.vector<float>();
    d.sqnr_db = r.vector<double>();
    if (!r.verifies()) throw std::runtime_error("checksum mismatch");
    return d;
  } catch (const std::exception& e) {
    warn(path + ": " + e.what() + ", not used (prepared again)");
    return std::nullopt;
  }
}

void store_prepared(const std::string& dir, const std::string& key_text, const runtime::QuantizedNetwork& q,
                    const std::vector<double>& sqnr_db) {
  static std::atomic<unsigned> serial{0};
  const std::string path = prepared_entry_path(dir, key_text);
  // Unique among processes (pid) and threads (serial): writers never share a temporary.
  const std::string temp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(serial++);
  std::error_code ec;
  fs::create_directories(dir, ec);
  try {
    Writer w(temp);
    w.bytes(kMagic, sizeof kMagic);
    w.vector(std::vector<char>(key_text.begin(), key_text.end()));
    w.value(static_cast<std::uint64_t>(q.layers.size()));
    for (const auto& l : q.layers) write_layer(w, l);
    w.vector(q.float_input);
    w.vector(q.float_output);
    w.vector(sqnr_db);
    w.finish();
  } catch (const std::runtime_error& e) {
    fs::remove(temp, ec);
    warn(dir + ": " + e.what() + ", the network is prepared again next time");
    return;
  }
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    warn(path + ": cannot rename the entry into place (" + ec.message() + ")");
  }
}

}  // namespace npuvp::apps
