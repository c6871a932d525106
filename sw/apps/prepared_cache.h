#pragma once
// The on-disk cache of prepared networks: what quantizing a network costs
// (float weights, the calibration pass, the int8 weights and scales, the
// reference outputs, the SQNR pass) is done once and read back by later runs
// and sweep points that ask for the same network with the same inputs.
//
// An entry is keyed by a text naming everything the prepared network depends
// on (PreparedKey); its file name is a hash of that text and the entry holds
// the text itself, so a hash collision reads as a miss. An entry is written to
// a temporary file in the cache directory and renamed into place, so that a
// process never sees half of one, and ends with a checksum of its content:
// an entry that does not verify is never used (the caller recomputes and
// overwrites it).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sw/runtime/quantize/quantized_network.h"
#include "sw/runtime/quantize/tensor_digest.h"

namespace npuvp::apps {

// What a prepared network depends on, beside the network built from its
// source (the layer structure is rebuilt on every run, cheaply).
struct PreparedKey {
  std::string network;  // zoo name, or the network file's path
  int input_h = 0, input_w = 0;
  std::uint32_t seed = 1;
  std::string datatype = "int8";
  std::string input_file;  // --input, or empty
  double weight_sparsity = 0;
  int batch = 1;
};

// The key's text: the fields above, the network file's and the input file's
// contents (as hashes) and the build (the version and the running
// executable's size and modification time: any rebuild makes a new key).
// Throws std::runtime_error naming a file that cannot be read.
std::string prepared_key_text(const PreparedKey& key);

// What the cache holds beside the network structure.
struct PreparedData {
  std::vector<runtime::QuantizedLayer> layers;
  std::vector<float> float_input, float_output;
  std::vector<double> sqnr_db;  // per layer, or empty (WorkloadOptions' LayerVerdicts::sqnr_db)
};

// The entry for `key_text` in `dir`, or nullopt when there is none. An entry
// that cannot be read whole, whose checksum or key differs, or whose layers do
// not fit `layer_count` is reported on stderr as a warning and not used.
std::optional<PreparedData> load_prepared(const std::string& dir, const std::string& key_text, std::size_t layer_count);

// Writes the entry for `key_text` into `dir` (created if missing) atomically;
// a cache that cannot be written is a warning on stderr, never a failed run.
void store_prepared(const std::string& dir, const std::string& key_text, const runtime::QuantizedNetwork& q,
                    const std::vector<double>& sqnr_db);

// The entry's file for `key_text` (tests corrupt it).
std::string prepared_entry_path(const std::string& dir, const std::string& key_text);

// $XDG_CACHE_HOME/npuvp, else $HOME/.cache/npuvp; empty when neither is set.
std::string default_cache_dir();

}  // namespace npuvp::apps
