#pragma once
// NumPy .npy files, format version 1.0, as `npuvp run --input` reads them and
// `--dump` writes them: little-endian data in C order, of float32, int8 or
// uint8 (the types a network's input and its stored activations take). What
// the format allows beyond that (Fortran order, big-endian data, other
// types, versions 2 and 3) is refused with an error naming the file.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace npuvp::apps {

enum class NpyType { kFloat32, kInt8, kUint8 };

// The header's descr: "<f4", "|i1" or "|u1".
const char* npy_descr(NpyType type);
std::size_t npy_item_bytes(NpyType type);

struct NpyArray {
  NpyType type = NpyType::kFloat32;
  std::vector<std::size_t> shape;  // empty: a scalar (one element)
  std::vector<std::uint8_t> data;  // the elements as stored: little-endian, C order

  std::size_t elements() const;
  // The elements as float32 / int8 / uint8; throws std::logic_error for another type.
  std::vector<float> floats() const;
  std::vector<std::int8_t> int8s() const;
  std::vector<std::uint8_t> uint8s() const;
};

NpyArray make_npy(const std::vector<float>& values, std::vector<std::size_t> shape);
NpyArray make_npy(const std::vector<std::int8_t>& values, std::vector<std::size_t> shape);

// "(1, 3, 16, 16)", as NumPy prints a shape ("(5,)" for one dimension).
std::string npy_shape_text(const std::vector<std::size_t>& shape);

// Throws std::invalid_argument starting with "<path>: " for a file that cannot
// be read, is not a version 1.0 .npy file, or holds what this reader refuses.
NpyArray read_npy(const std::string& path);

// Throws std::runtime_error naming the path when it cannot be written, and
// std::invalid_argument when data does not hold shape's elements.
void write_npy(const std::string& path, const NpyArray& array);

}  // namespace npuvp::apps
