#include "sw/apps/npy.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .npy data is copied as the host stores it");

namespace npuvp::apps {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicBytes = 6;
constexpr std::size_t kPreambleBytes = kMagicBytes + 2 + 2;  // magic, version, header length
constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 40;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::invalid_argument(path + ": " + what);
}

// The text after "'key':" in the header dict, spaces skipped.
std::size_t value_of(const std::string& header, const std::string& key, const std::string& path) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) fail(path, "the .npy header has no '" + key + "' (header: " + header + ")");
  auto v = header.find(':', k);
  if (v == std::string::npos) fail(path, "the .npy header's '" + key + "' has no value");
  ++v;
  while (v < header.size() && header[v] == ' ') ++v;
  return v;
}

NpyType parse_descr(const std::string& descr, const std::string& path) {
  if (descr.size() >= 2 && descr[0] == '>' && descr != ">i1" && descr != ">u1")
    fail(path, "big-endian data ('" + descr + "'); supported: little-endian");
  if (descr == "<f4") return NpyType::kFloat32;
  if (descr == "|i1" || descr == "<i1" || descr == ">i1") return NpyType::kInt8;
  if (descr == "|u1" || descr == "<u1" || descr == ">u1") return NpyType::kUint8;
  fail(path, "dtype '" + descr + "'; supported: float32 ('<f4'), int8 ('|i1'), uint8 ('|u1')");
}

std::vector<std::size_t> parse_shape(const std::string& header, std::size_t at, const std::string& path) {
  if (at >= header.size() || header[at] != '(') fail(path, "the .npy header's shape is not a tuple");
  const auto end = header.find(')', at);
  if (end == std::string::npos) fail(path, "the .npy header's shape is not a tuple");
  std::vector<std::size_t> shape;
  std::string digits;
  for (std::size_t i = at + 1; i <= end; ++i) {
    const char c = header[i];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c == ',' || c == ')') {
      if (!digits.empty()) {
        if (digits.size() > 12) fail(path, "shape dimension " + digits + " is too large");
        shape.push_back(std::stoull(digits));
      }
      digits.clear();
    } else if (c != ' ') {
      fail(path, "the .npy header's shape " + header.substr(at, end - at + 1) + " is not a tuple of whole numbers");
    }
  }
  // The product is the data's size: one that wraps 64 bits would match a short file.
  std::uint64_t elements = 1;
  for (const std::size_t d : shape)
    if (__builtin_mul_overflow(elements, std::uint64_t{d}, &elements) || elements > kMaxElements)
      fail(path, "the .npy header's shape " + npy_shape_text(shape) + " has more than 2^40 elements");
  return shape;
}

std::size_t element_count(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

template <class T>
std::vector<T> values_of(const NpyArray& a, NpyType want) {
  if (a.type != want)
    throw std::logic_error(std::string("npy array of ") + npy_descr(a.type) + ", not " + npy_descr(want));
  std::vector<T> v(a.elements());
  if (!v.empty()) std::memcpy(v.data(), a.data.data(), v.size() * sizeof(T));
  return v;
}

template <class T>
NpyArray make(NpyType type, const std::vector<T>& values, std::vector<std::size_t> shape) {
  NpyArray a;
  a.type = type;
  a.shape = std::move(shape);
  if (element_count(a.shape) != values.size())
    throw std::invalid_argument("npy: " + std::to_string(values.size()) + " values do not fill shape " +
                                npy_shape_text(a.shape));
  a.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(a.data.data(), values.data(), a.data.size());
  return a;
}

}  // namespace

const char* npy_descr(NpyType type) {
  switch (type) {
    case NpyType::kFloat32:
      return "<f4";
    case NpyType::kInt8:
      return "|i1";
    case NpyType::kUint8:
      return "|u1";
  }
  return "?";
}

std::size_t npy_item_bytes(NpyType type) { return type == NpyType::kFloat32 ? 4 : 1; }

std::size_t NpyArray::elements() const { return element_count(shape); }
std::vector<float> NpyArray::floats() const { return values_of<float>(*this, NpyType::kFloat32); }
std::vector<std::int8_t> NpyArray::int8s() const { return values_of<std::int8_t>(*this, NpyType::kInt8); }
std::vector<std::uint8_t> NpyArray::uint8s() const { return values_of<std::uint8_t>(*this, NpyType::kUint8); }

NpyArray make_npy(const std::vector<float>& values, std::vector<std::size_t> shape) {
  return make(NpyType::kFloat32, values, std::move(shape));
}

NpyArray make_npy(const std::vector<std::int8_t>& values, std::vector<std::size_t> shape) {
  return make(NpyType::kInt8, values, std::move(shape));
}

std::string npy_shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

NpyArray read_npy(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  if (!is) fail(path, "cannot open the file");
  const std::string bytes((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
  if (bytes.size() < kPreambleBytes || bytes.compare(0, kMagicBytes, kMagic, kMagicBytes) != 0)
    fail(path, "not a .npy file (it does not start with \\x93NUMPY)");
  const auto major = static_cast<unsigned char>(bytes[6]), minor = static_cast<unsigned char>(bytes[7]);
  if (major != 1 || minor != 0)
    fail(path, ".npy format version " + std::to_string(major) + "." + std::to_string(minor) + "; supported: 1.0");
  const std::size_t header_bytes =
      static_cast<unsigned char>(bytes[8]) | static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8;
  if (bytes.size() < kPreambleBytes + header_bytes) fail(path, "the .npy header is truncated");
  std::string header = bytes.substr(kPreambleBytes, header_bytes);
  header.erase(header.find_last_not_of(" \n") + 1);  // the padding

  const std::size_t d = value_of(header, "descr", path);
  const auto close = d < header.size() ? header.find(header[d], d + 1) : std::string::npos;
  if (close == std::string::npos || (header[d] != '\'' && header[d] != '"'))
    fail(path, "the .npy header's descr is not a string");
  NpyArray a;
  const std::string descr = header.substr(d + 1, close - d - 1);
  const std::size_t f = value_of(header, "fortran_order", path);
  if (header.compare(f, 4, "True") == 0)
    fail(path, "fortran_order is True; supported: C order (save np.ascontiguousarray(x))");
  if (header.compare(f, 5, "False") != 0) fail(path, "the .npy header's fortran_order is neither True nor False");
  a.type = parse_descr(descr, path);
  a.shape = parse_shape(header, value_of(header, "shape", path), path);

  const std::size_t have = bytes.size() - kPreambleBytes - header_bytes;
  const std::size_t need = a.elements() * npy_item_bytes(a.type);
  if (have != need)
    fail(path, "holds " + std::to_string(have) + " data bytes; shape " + npy_shape_text(a.shape) + " of '" + descr +
                   "' needs " + std::to_string(need));
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(kPreambleBytes + header_bytes), bytes.end());
  return a;
}

void write_npy(const std::string& path, const NpyArray& a) {
  if (a.data.size() != a.elements() * npy_item_bytes(a.type))
    throw std::invalid_argument(path + ": " + std::to_string(a.data.size()) + " data bytes do not hold shape " +
                                npy_shape_text(a.shape));
  std::string header = std::string("{'descr': '") + npy_descr(a.type) +
                       "', 'fortran_order': False, 'shape': " + npy_shape_text(a.shape) + ", }";
  // NumPy pads the header with spaces and a newline so the data starts 64-byte aligned.
  const std::size_t total = (kPreambleBytes + header.size() + 1 + 63) / 64 * 64;
  header.append(total - kPreambleBytes - header.size() - 1, ' ');
  header += '\n';
  std::ofstream os(path, std::ios::binary);
  os.write(kMagic, kMagicBytes);
  const char preamble[4] = {1, 0, static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  os.write(preamble, sizeof preamble);
  os << header;
  os.write(reinterpret_cast<const char*>(a.data.data()), static_cast<std::streamsize>(a.data.size()));
  os.flush();
  if (!os) throw std::runtime_error("cannot write " + path);
}

}  // namespace npuvp::apps
