#pragma once
// An output file that appears whole or not at all. It is written under a
// temporary name next to its final one (<path>.<pid>.part), flushed and checked,
// then renamed into place: a run that fails or is stopped never leaves a
// half-written file under the name a reader opens, and a write that fails
// (a full disk, a lost mount) is an error naming the file and the cause.

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace npuvp::io {

class OutputFile {
 public:
  // How the bytes reach the file. kBulk, for the large streamed traces, writes
  // past the kernel's page cache (O_DIRECT) in aligned megabyte blocks where
  // the file system allows it: writing a trace then costs no copy into cache
  // pages, which on a virtual machine may first have to be faulted in from
  // its host (measured: 0.3 to 0.5 s of system time for ResNet-50's 84 MB
  // VCD). The last partial block goes through the cache, and so does
  // everything after a flush. Where O_DIRECT is refused, kBulk is kCached.
  enum class Mode { kCached, kBulk };
  // O_DIRECT wants buffer, length and file offset aligned to the device's
  // logical block, which is at most this on Linux. A kBulk file handed whole
  // blocks from an address aligned to it, with nothing buffered before them,
  // writes them from there without a copy.
  static constexpr std::size_t kBlockBytes = 4096;

  // Opens `path`'s temporary. A path that exists and is not a regular file (a
  // device such as /dev/null, a FIFO, or a link to one) is written in place:
  // renaming over it would replace the device. Throws std::runtime_error
  // "cannot write <path>: <cause>".
  explicit OutputFile(std::string path, Mode mode = Mode::kCached);
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  // A file never committed leaves nothing behind: its temporary is removed.
  ~OutputFile();

  // Buffered; a failed write is remembered and reported by commit(). A
  // flush puts everything written so far in the file.
  std::ostream& stream() { return *stream_; }
  // Flushes, closes and checks the file, then renames it into place. Throws
  // std::runtime_error "cannot write <path>: <cause>" (the temporary is
  // removed). Does nothing the second time.
  void commit();

  const std::string& path() const { return path_; }

 private:
  class Buffer;
  void discard() noexcept;

  std::string path_;
  std::string temp_;  // empty when written in place
  int fd_ = -1;
  std::unique_ptr<Buffer> buffer_;
  std::unique_ptr<std::ostream> stream_;
  bool committed_ = false;
};

// Writes `content` to `path` through an OutputFile.
void write_file(const std::string& path, std::string_view content);

// Creates `dir` and its parents if missing and checks that a file can be
// created in it, so that a run finds out before it simulates, not after.
// Throws std::runtime_error "cannot write to output directory <dir>: <cause>".
void prepare_output_directory(const std::string& dir);

}  // namespace npuvp::io
