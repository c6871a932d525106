// The prepared-network cache as runs meet it: a second run reads what the
// first prepared and reports the same figures, a corrupt, truncated or foreign
// entry is never used, every input of the preparation is in the key; and one
// or two threads write the same files.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sw/apps/prepared_cache.h"
#include "tests/support/cli_runner.h"

namespace {

namespace fs = std::filesystem;
using npuvp::test::CliResult;

// A fresh directory of this test's own (ctest runs tests in parallel).
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("npuvp_cache_test_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

CliResult run(const std::string& args, const fs::path& out) {
  return npuvp::test::run_cli("run --network resnet20_cifar -q --traces none --out " + out.string() + " " + args);
}

nlohmann::json report(const fs::path& out) {
  std::ifstream is(out / "report.json");
  return nlohmann::json::parse(is);
}

nlohmann::json without_sim(nlohmann::json r) {
  r.erase("sim");
  return r;
}

std::vector<fs::path> entries(const fs::path& cache) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(cache)) files.push_back(e.path());
  return files;
}

TEST(PreparedCache, ASecondRunReadsTheEntryAndReportsTheSameFigures) {
  const fs::path dir = scratch("reuse");
  const std::string cache = "--cache " + (dir / "cache").string();
  const CliResult first = run(cache, dir / "first");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(entries(dir / "cache").size(), 1u);
  const CliResult second = run(cache, dir / "second");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const CliResult uncached = run("--no-cache", dir / "uncached");
  ASSERT_EQ(uncached.exit_code, 0) << uncached.err;
  EXPECT_EQ(second.err, "");
  EXPECT_FALSE(report(dir / "first")["sim"]["prepared_from_cache"].get<bool>());
  EXPECT_TRUE(report(dir / "second")["sim"]["prepared_from_cache"].get<bool>());
  EXPECT_FALSE(report(dir / "uncached")["sim"]["prepared_from_cache"].get<bool>());
  EXPECT_EQ(without_sim(report(dir / "second")), without_sim(report(dir / "first")));
  EXPECT_EQ(without_sim(report(dir / "uncached")), without_sim(report(dir / "first")));
  // Another seed prepares another network: a second entry, not a hit.
  ASSERT_EQ(run(cache + " --seed 2", dir / "seed2").exit_code, 0);
  EXPECT_FALSE(report(dir / "seed2")["sim"]["prepared_from_cache"].get<bool>());
  EXPECT_EQ(entries(dir / "cache").size(), 2u);
  fs::remove_all(dir);
}

// The key an entry holds, after its magic (prepared_cache.cpp's format).
std::string key_of_entry(const fs::path& entry) {
  std::ifstream is(entry, std::ios::binary);
  char magic[8];
  std::uint64_t length = 0;
  is.read(magic, sizeof magic);
  is.read(reinterpret_cast<char*>(&length), sizeof length);
  std::string key(length, '\0');
  is.read(key.data(), static_cast<std::streamsize>(length));
  return key;
}

// A run checks the NPU's outputs against digests: its entry holds the values
// of the network's input and output only, and every other layer's digest.
TEST(PreparedCache, AnEntryHoldsDigestsOfTheOutputsARunOnlyChecks) {
  const fs::path dir = scratch("digests");
  ASSERT_EQ(run("--cache " + (dir / "cache").string(), dir / "first").exit_code, 0);
  const std::vector<fs::path> files = entries(dir / "cache");
  ASSERT_EQ(files.size(), 1u);
  const std::size_t layers = report(dir / "first")["layers"].size();
  const auto data = npuvp::apps::load_prepared((dir / "cache").string(), key_of_entry(files[0]), layers);
  ASSERT_TRUE(data.has_value());
  EXPECT_FALSE(data->layers.front().expected.empty());
  EXPECT_EQ(data->layers.back().expected.size(), 10u);  // the classifier's outputs
  std::size_t digests = 0;
  for (std::size_t i = 1; i + 1 < data->layers.size(); ++i) {
    const auto& l = data->layers[i];
    EXPECT_TRUE(l.expected.empty()) << i;
    if (l.fused_into < 0) {
      EXPECT_NE(l.expected_digest.bytes, 0u) << i;
      ++digests;
    }
  }
  EXPECT_GT(digests, 10u);
  fs::remove_all(dir);
}

// Each layer's datatype is part of the entry: an int4 network read back runs
// as int4, with the uncached run's figures.
TEST(PreparedCache, AnInt4NetworkReadBackIsStillInt4) {
  const fs::path dir = scratch("int4");
  const std::string cache = "--datatype int4 --cache " + (dir / "cache").string();
  ASSERT_EQ(run(cache, dir / "first").exit_code, 0);
  const CliResult second = run(cache, dir / "second");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const nlohmann::json r = report(dir / "second");
  ASSERT_TRUE(r["sim"]["prepared_from_cache"].get<bool>());
  EXPECT_EQ(r["layers"][1]["datatype"], "int4");
  EXPECT_EQ(without_sim(r), without_sim(report(dir / "first")));
  fs::remove_all(dir);
}

TEST(PreparedCache, ACorruptEntryIsPreparedAgainWithAWarning) {
  const fs::path dir = scratch("corrupt");
  const std::string cache = "--cache " + (dir / "cache").string();
  ASSERT_EQ(run(cache, dir / "first").exit_code, 0);
  const fs::path entry = entries(dir / "cache").at(0);
  {
    // One byte of the expected outputs, near the end, flipped.
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-100, std::ios::end);
    const char c = static_cast<char>(f.get());
    f.seekp(-100, std::ios::end);
    f.put(static_cast<char>(c ^ 0x10));
  }
  const CliResult corrupt = run(cache, dir / "corrupt");
  ASSERT_EQ(corrupt.exit_code, 0) << corrupt.err;
  EXPECT_NE(corrupt.err.find("npuvp: warning: prepared-network cache: " + entry.string() +
                             ": checksum mismatch, not used (prepared again)"),
            std::string::npos)
      << corrupt.err;
  EXPECT_FALSE(report(dir / "corrupt")["sim"]["prepared_from_cache"].get<bool>());
  EXPECT_EQ(without_sim(report(dir / "corrupt")), without_sim(report(dir / "first")));
  // The entry was written again, whole.
  const CliResult again = run(cache, dir / "again");
  EXPECT_EQ(again.err, "");
  EXPECT_TRUE(report(dir / "again")["sim"]["prepared_from_cache"].get<bool>());
  // Half an entry (a writer that died without the rename cannot leave one; a
  // disk that filled up can) is never read.
  fs::resize_file(entry, fs::file_size(entry) / 2);
  const CliResult truncated = run(cache, dir / "truncated");
  EXPECT_NE(truncated.err.find(": truncated"), std::string::npos) << truncated.err;
  EXPECT_EQ(without_sim(report(dir / "truncated")), without_sim(report(dir / "first")));
  fs::remove_all(dir);
}

// Every file in `a` has its twin in `b`, byte for byte (report.html's footer,
// which says how long the run took, aside); returns how many were compared.
int expect_same_files(const fs::path& a, const fs::path& b) {
  int compared = 0;
  for (const auto& e : fs::directory_iterator(a)) {
    const std::string name = e.path().filename().string();
    if (name == "report.json") continue;
    std::string x = npuvp::test::slurp(e.path()), y = npuvp::test::slurp(b / name);
    if (name == "report.html") {
      x = x.substr(0, x.find("simulated in "));
      y = y.substr(0, y.find("simulated in "));
    }
    EXPECT_TRUE(x == y) << name << " differs";
    ++compared;
  }
  return compared;
}

TEST(PreparedCache, OneAndTwoThreadsWriteTheSameFiles) {
  const fs::path dir = scratch("threads");
  const auto run_with = [&](const std::string& name, int threads) {
    const CliResult r =
        npuvp::test::run_cli("run --network squeezenet1_1 -q --no-cache --out " + (dir / name).string() + " --dump " +
                             (dir / (name + "_dump")).string() + " --threads " + std::to_string(threads));
    EXPECT_EQ(r.exit_code, 0) << r.err;
  };
  run_with("one", 1);
  run_with("two", 2);
  EXPECT_EQ(report(dir / "one")["sim"]["threads"], 1);
  EXPECT_EQ(report(dir / "two")["sim"]["threads"], 2);
  EXPECT_EQ(without_sim(report(dir / "one")), without_sim(report(dir / "two")));
  // layers.csv, report.html, roofline.svg, trace.vcd, timeline.json,
  // power.csv, trace.gtkw and its three translate filters.
  EXPECT_EQ(expect_same_files(dir / "one", dir / "two"), 10);
  // Every layer's output, output.npy and manifest.json.
  EXPECT_GT(expect_same_files(dir / "one_dump", dir / "two_dump"), 60);
  fs::remove_all(dir);
}

TEST(PreparedCache, EveryInputOfThePreparationIsInTheKey) {
  using npuvp::apps::prepared_key_text;
  using npuvp::apps::PreparedKey;
  const fs::path dir = scratch("key");
  const PreparedKey base{"mobilenet_v1", 0, 0, 1, "int8", "", 0, 1};
  const std::string k = prepared_key_text(base);
  EXPECT_EQ(prepared_key_text(base), k);
  auto differs = [&](PreparedKey changed) { return prepared_key_text(changed) != k; };
  EXPECT_TRUE(differs({"squeezenet1_1", 0, 0, 1, "int8", "", 0, 1}));
  EXPECT_TRUE(differs({"mobilenet_v1", 112, 112, 1, "int8", "", 0, 1}));
  EXPECT_TRUE(differs({"mobilenet_v1", 0, 0, 2, "int8", "", 0, 1}));
  EXPECT_TRUE(differs({"mobilenet_v1", 0, 0, 1, "int4", "", 0, 1}));
  EXPECT_TRUE(differs({"mobilenet_v1", 0, 0, 1, "int8", "", 0.5, 1}));
  EXPECT_TRUE(differs({"mobilenet_v1", 0, 0, 1, "int8", "", 0, 2}));
  // A file is keyed by its contents, not only its name.
  const fs::path file = dir / "net.yaml";
  std::ofstream(file) << "a";
  const PreparedKey from_file{file.string(), 0, 0, 1, "int8", file.string(), 0, 1};
  const std::string before = prepared_key_text(from_file);
  std::ofstream(file) << "b";
  EXPECT_NE(prepared_key_text(from_file), before);
  EXPECT_NE(npuvp::apps::prepared_entry_path("d", k), npuvp::apps::prepared_entry_path("d", before));
  EXPECT_THROW(
      prepared_key_text({(dir / "missing.npy").string(), 0, 0, 1, "int8", (dir / "missing.npy").string(), 0, 1}),
      std::runtime_error);
  // The build is in the key: an entry another build wrote is another key's.
  EXPECT_NE(k.find("\nbuild npuvp "), std::string::npos) << k;
  fs::remove_all(dir);
}

// A cache that cannot be written is a warning naming the file and the cause,
// never a failed run, and leaves nothing behind.
TEST(PreparedCache, AnUnwritableCacheIsAWarning) {
  const fs::path dir = scratch("unwritable");
  std::ofstream(dir / "file") << "x";
  const std::string cache = (dir / "file" / "cache").string();  // under a regular file
  npuvp::runtime::QuantizedNetwork q{npuvp::runtime::Network("n", {1, 2, 2}), {}, {1.0f, 2.0f}, {3.0f}};
  q.layers.resize(1);
  testing::internal::CaptureStderr();
  npuvp::apps::store_prepared(cache, "key A", q, {});
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("npuvp: warning: prepared-network cache: " + cache + ": cannot write "), std::string::npos) << err;
  EXPECT_NE(err.find(": Not a directory, the network is prepared again next time"), std::string::npos) << err;
  EXPECT_EQ(entries(dir).size(), 1u);
  fs::remove_all(dir);
}

TEST(PreparedCache, AnEntryForAnotherKeyIsNotUsed) {
  const fs::path dir = scratch("foreign");
  npuvp::runtime::QuantizedNetwork q{npuvp::runtime::Network("n", {1, 2, 2}), {}, {1.0f, 2.0f}, {3.0f}};
  q.layers.resize(1);
  q.layers[0].expected = {1, 2, 3, 4};
  q.layers[0].expected_digest = {4, 0x1234};
  npuvp::apps::store_prepared(dir.string(), "key A", q, {0.5});
  const auto a = npuvp::apps::load_prepared(dir.string(), "key A", 1);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->layers.at(0).expected, q.layers[0].expected);
  EXPECT_EQ(a->layers.at(0).expected_digest, q.layers[0].expected_digest);
  EXPECT_EQ(a->float_input, q.float_input);
  EXPECT_EQ(a->sqnr_db, std::vector<double>{0.5});
  // An entry under key B's name that holds key A (a hash collision, or a file copied by hand).
  fs::copy_file(npuvp::apps::prepared_entry_path(dir.string(), "key A"),
                npuvp::apps::prepared_entry_path(dir.string(), "key B"));
  testing::internal::CaptureStderr();
  EXPECT_FALSE(npuvp::apps::load_prepared(dir.string(), "key B", 1).has_value());
  EXPECT_FALSE(npuvp::apps::load_prepared(dir.string(), "key A", 2).has_value());
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find(": made for another key, not used"), std::string::npos) << err;
  EXPECT_NE(err.find(": made for another network structure, not used"), std::string::npos) << err;
  // No temporaries are left beside the entries.
  EXPECT_EQ(entries(dir).size(), 2u);
  fs::remove_all(dir);
}

}  // namespace
