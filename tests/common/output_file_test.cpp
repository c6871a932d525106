// Output files appear whole or not at all, and a failed write names the file
// and the cause. Tests run as root, which ignores permission bits: unwritable
// places are made of paths through a regular file, and a full disk is
// /dev/full.
#include "models/common/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;
using npuvp::io::OutputFile;

fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("npuvp_output_file_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(OutputFile, IsWrittenUnderATemporaryNameAndRenamedIntoPlaceOnCommit) {
  const fs::path dir = scratch_dir("commit");
  const fs::path path = dir / "report.json";
  {
    std::ofstream(path) << "previous run";
    OutputFile file(path.string());
    file.stream() << "new run";
    file.stream().flush();
    EXPECT_EQ(read(dir / ("report.json." + std::to_string(::getpid()) + ".part")), "new run");
    EXPECT_EQ(read(path), "previous run") << "the final name is untouched until commit";
    file.commit();
  }
  EXPECT_EQ(read(path), "new run");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1) << "the temporary is gone";
  fs::remove_all(dir);
}

TEST(OutputFile, AFileNeverCommittedLeavesNothingBehind) {
  const fs::path dir = scratch_dir("discard");
  {
    OutputFile file((dir / "trace.vcd").string());
    file.stream() << std::string(200'000, 'x');  // past the buffer: on disk already
  }
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

// Whether `path`'s directory takes O_DIRECT (tmpfs does not).
bool takes_direct_writes(const fs::path& dir) {
  const std::string probe = (dir / "probe").string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT, 0666);
  if (fd >= 0) ::close(fd);
  ::unlink(probe.c_str());
  return fd >= 0;
}

// The open flags of the descriptor this process holds on `path`.
std::string open_flags_of(const fs::path& path) {
  for (const auto& fd : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(fd.path(), ec) != path) continue;
    std::ifstream info("/proc/self/fdinfo/" + fd.path().filename().string());
    for (std::string key; info >> key;)
      if (key == "flags:" && info >> key) return key;
  }
  return "(not open)";
}

TEST(OutputFile, ABulkFileHoldsEveryByteInOrderWhateverThePieces) {
  const fs::path dir = scratch_dir("bulk");
  const fs::path path = dir / "trace.vcd";
  std::string expected;
  {
    OutputFile file(path.string(), OutputFile::Mode::kBulk);
    // Pieces smaller and larger than a block and than the buffer, so blocks
    // straddle them, then a tail that is no whole block.
    for (std::size_t n : {1u, 4095u, 4097u, 3u << 20, 7u, 1u << 20, 12345u}) {
      const std::string piece(n, static_cast<char>('a' + expected.size() % 26));
      file.stream().write(piece.data(), static_cast<std::streamsize>(n));
      expected += piece;
    }
    file.stream() << "end\n";
    expected += "end\n";
    file.commit();
  }
  EXPECT_EQ(read(path), expected);
  fs::remove_all(dir);
}

TEST(OutputFile, ABulkFileBypassesThePageCacheUntilFlushedThenShowsAll) {
  const fs::path dir = scratch_dir("direct");
  if (!takes_direct_writes(dir)) GTEST_SKIP() << dir << " does not take O_DIRECT";
  const fs::path path = dir / "trace.vcd";
  const fs::path part = dir / ("trace.vcd." + std::to_string(::getpid()) + ".part");
  OutputFile file(path.string(), OutputFile::Mode::kBulk);
  const int kODirect = 040000;  // octal, as /proc shows flags
  EXPECT_NE(std::stoi(open_flags_of(part), nullptr, 8) & kODirect, 0);
  file.stream() << std::string(10000, 'x');
  file.stream().flush();  // two whole blocks directly, the rest cached
  EXPECT_EQ(read(part), std::string(10000, 'x'));
  EXPECT_EQ(std::stoi(open_flags_of(part), nullptr, 8) & kODirect, 0);
  file.stream() << "y";
  file.commit();
  EXPECT_EQ(read(path), std::string(10000, 'x') + "y");
  fs::remove_all(dir);
}

TEST(OutputFile, AFullDiskIsAnErrorNamingTheFileAndTheCause) {
  // A device is written in place (renaming over it would replace it), so
  // /dev/full stands for a disk that fills up.
  OutputFile small("/dev/full");
  small.stream() << "a few bytes, still in the buffer";
  EXPECT_EQ(error_of([&] { small.commit(); }), "cannot write /dev/full: No space left on device");
  EXPECT_EQ(error_of([] { npuvp::io::write_file("/dev/full", std::string(1 << 20, 'x')); }),
            "cannot write /dev/full: No space left on device");
}

TEST(OutputFile, ADeviceIsWrittenInPlaceNotReplaced) {
  npuvp::io::write_file("/dev/null", "discarded");
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_FALSE(fs::exists("/dev/null.part"));
}

TEST(OutputFile, AMissingDirectoryIsAnErrorNamingTheFile) {
  const fs::path dir = scratch_dir("missing");
  const std::string path = (dir / "gone" / "layers.csv").string();
  EXPECT_EQ(error_of([&] { npuvp::io::write_file(path, "x"); }),
            "cannot write " + path + ": No such file or directory");
  fs::remove_all(dir);
}

TEST(OutputDirectory, IsCreatedWithItsParents) {
  const fs::path dir = scratch_dir("create");
  const fs::path out = dir / "a" / "b";
  npuvp::io::prepare_output_directory(out.string());
  EXPECT_TRUE(fs::is_directory(out));
  EXPECT_TRUE(fs::is_empty(out)) << "the probe file is removed";
  fs::remove_all(dir);
}

TEST(OutputDirectory, APathThroughARegularFileOrARegularFileItselfIsRefusedWithTheCause) {
  const fs::path dir = scratch_dir("file");
  const fs::path file = dir / "not_a_dir";
  std::ofstream(file) << "x";
  const std::string below = (file / "out").string();
  EXPECT_EQ(error_of([&] { npuvp::io::prepare_output_directory(below); }),
            "cannot write to output directory " + below + ": Not a directory");
  EXPECT_EQ(error_of([&] { npuvp::io::prepare_output_directory(file.string()); }),
            "cannot write to output directory " + file.string() + ": Not a directory");
  fs::remove_all(dir);
}

TEST(OutputDirectory, ADirectoryThatCannotHoldFilesIsRefused) {
  // /proc/self exists and is a directory, but no file can be created in it,
  // whatever the permission bits say to root.
  EXPECT_EQ(error_of([] {
              npuvp::io::prepare_output_directory("/proc/self");
            }).rfind("cannot write to output directory /proc/self: ", 0),
            0u);
}

}  // namespace
