#include "models/common/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <stdexcept>
#include <streambuf>
#include <system_error>

namespace npuvp::io {
namespace {

std::runtime_error write_error(const std::string& path, int error) {
  return std::runtime_error("cannot write " + path + ": " + std::strerror(error));
}

bool is_special_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
}

}  // namespace

// A stream buffer over a file descriptor that keeps the first error: ofstream
// turns every failure into one bit and loses the cause (ENOSPC, EIO, ...).
// In direct mode (the descriptor has O_DIRECT) it writes whole blocks from an
// aligned buffer, keeping the rest for the next write.
class OutputFile::Buffer : public std::streambuf {
 public:
  Buffer(int fd, bool direct)
      : fd_(fd),
        direct_(direct),
        size_(direct ? kDirectBytes : kCachedBytes),
        data_(static_cast<char*>(std::aligned_alloc(kBlock, size_)), &std::free) {
    if (!data_) throw std::bad_alloc();
    setp(data_.get(), data_.get() + size_);
  }

  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain(false)) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }

  std::streamsize xsputn(const char* s, std::streamsize n) override {
    // Large pieces (the VCD's megabyte chunks) skip the copy, unless direct
    // writes need them in the aligned buffer: those already aligned do not.
    if (direct_) {
      const auto size = static_cast<std::size_t>(n);
      const bool aligned = reinterpret_cast<std::uintptr_t>(s) % kBlock == 0 && size % kBlock == 0;
      if (!aligned || pptr() != pbase() || n < epptr() - pptr()) return std::streambuf::xsputn(s, n);
      return write_all(s, size) ? n : 0;
    }
    if (n < epptr() - pptr()) return std::streambuf::xsputn(s, n);
    if (!drain(true) || !write_all(s, static_cast<std::size_t>(n))) return 0;
    return n;
  }

  int sync() override { return drain(true) ? 0 : -1; }

 private:
  static constexpr std::size_t kBlock = kBlockBytes;
  static constexpr std::size_t kCachedBytes = std::size_t{1} << 16;
  static constexpr std::size_t kDirectBytes = std::size_t{1} << 20;

  // Writes what is buffered; in direct mode only whole blocks unless `all`,
  // which moves the file to cached writes for the rest.
  bool drain(bool all) {
    const char* p = pbase();
    std::size_t n = static_cast<std::size_t>(pptr() - pbase());
    bool ok = true;
    if (direct_) {
      const std::size_t whole = n & ~(kBlock - 1);
      ok = write_all(p, whole);
      p += whole;
      n -= whole;
      if (!all) {
        std::memmove(data_.get(), p, n);
        setp(data_.get(), data_.get() + size_);
        pbump(static_cast<int>(n));
        return ok;
      }
      if (n > 0) stop_direct();
    }
    ok = write_all(p, n) && ok;
    setp(data_.get(), data_.get() + size_);
    return ok;
  }

  void stop_direct() {
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT);
    direct_ = false;
  }

  bool write_all(const char* p, std::size_t n) {
    if (error_ != 0) return false;
    while (n > 0) {
      const ssize_t written = ::write(fd_, p, n);
      if (written < 0 && errno == EINTR) continue;  // a signal the run handles itself
      if (written < 0 && errno == EINVAL && direct_) {
        // The file system took O_DIRECT at open but not this write (or a
        // short direct write left the offset unaligned): write cached.
        stop_direct();
        continue;
      }
      if (written <= 0) {
        error_ = written < 0 ? errno : EIO;
        return false;
      }
      p += written;
      n -= static_cast<std::size_t>(written);
    }
    return true;
  }

  int fd_;
  bool direct_;
  std::size_t size_;
  std::unique_ptr<char, decltype(&std::free)> data_;
  int error_ = 0;
};

OutputFile::OutputFile(std::string path, Mode mode) : path_(std::move(path)) {
  const bool in_place = is_special_file(path_);
  // The process id keeps two runs writing into one directory (two test
  // suites sharing /tmp) from writing into one temporary.
  if (!in_place) temp_ = path_ + "." + std::to_string(::getpid()) + ".part";
  const std::string& opened = in_place ? path_ : temp_;
  const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  const bool direct = mode == Mode::kBulk && !in_place;
  fd_ = direct ? ::open(opened.c_str(), flags | O_DIRECT, 0666) : -1;
  // tmpfs, for one, refuses O_DIRECT.
  const bool got_direct = fd_ >= 0;
  if (!got_direct) fd_ = ::open(opened.c_str(), flags, 0666);
  if (fd_ < 0) throw write_error(path_, errno);
  buffer_ = std::make_unique<Buffer>(fd_, got_direct);
  stream_ = std::make_unique<std::ostream>(buffer_.get());
}

OutputFile::~OutputFile() {
  if (!committed_) discard();
}

void OutputFile::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  committed_ = true;
}

void OutputFile::commit() {
  if (committed_) return;
  stream_->flush();
  int error = buffer_->error();
  if (error == 0 && !*stream_) error = EIO;
  if (::close(fd_) != 0 && error == 0) error = errno;
  fd_ = -1;
  if (error == 0 && !temp_.empty() && std::rename(temp_.c_str(), path_.c_str()) != 0) error = errno;
  if (error != 0) {
    discard();
    throw write_error(path_, error);
  }
  committed_ = true;
}

void write_file(const std::string& path, std::string_view content) {
  OutputFile file(path);
  file.stream().write(content.data(), static_cast<std::streamsize>(content.size()));
  file.commit();
}

void prepare_output_directory(const std::string& dir) {
  const auto fail = [&](const std::string& cause) {
    return std::runtime_error("cannot write to output directory " + dir + ": " + cause);
  };
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw fail(ec.message());
  if (!std::filesystem::is_directory(dir)) throw fail("not a directory");
  // Permission bits alone do not tell (root ignores them, a read-only mount
  // does not): create a file and remove it again.
  const std::string probe = (std::filesystem::path(dir) / (".npuvp-probe-" + std::to_string(::getpid()))).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw fail(std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace npuvp::io
