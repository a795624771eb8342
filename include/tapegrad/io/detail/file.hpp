// SPDX-License-Identifier: MIT
// Files for the model-file formats: positioned, bounds-checked reads, and writes that replace the
// target only once the new file is complete on disk (a temporary in the same folder, fsync, rename).
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define TAPEGRAD_POSIX_FILES 1
#else
#define TAPEGRAD_POSIX_FILES 0
#endif

#include "tapegrad/error.hpp"

namespace tapegrad::io::detail {

using tapegrad::detail::cat;

/// a + b, or false if it does not fit in 64 bits.
inline bool add_u64(std::uint64_t a, std::uint64_t b, std::uint64_t& out) { return !__builtin_add_overflow(a, b, &out); }
/// a * b, or false if it does not fit in 64 bits.
inline bool mul_u64(std::uint64_t a, std::uint64_t b, std::uint64_t& out) { return !__builtin_mul_overflow(a, b, &out); }

[[noreturn]] TAPEGRAD_COLD inline void throw_io(const char* op, const std::string& file, const std::string& what,
                                                int error) {
  throw IoError(cat(op, ": ", file, ": cannot ", what, ": ", std::generic_category().message(error)));
}

/// A file opened for reading at any offset. Every read is checked against the size the file had when
/// it was opened, so a length read from a hostile header can never make a reader run past the end or
/// allocate more than the file could back.
class ReadFile {
 public:
  /// Reads the bytes of a memory block instead (fuzz targets, tests); `name` stands for the file in
  /// messages. The block must outlive the ReadFile.
  ReadFile(const char* op, std::string_view bytes, std::string name)
      : op_(op), name_(std::move(name)), size_(bytes.size()), memory_(bytes.data()) {}

  ReadFile(const char* op, const std::filesystem::path& path) : op_(op), name_(path.string()) {
#if TAPEGRAD_POSIX_FILES
    fd_ = ::open(name_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw_io(op_, name_, "open it", errno);
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int error = errno;
      ::close(fd_);
      throw_io(op_, name_, "read its size", error);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw FormatError(cat(op_, ": ", name_, ": not a regular file"));
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
#else
    file_ = std::fopen(name_.c_str(), "rb");
    if (!file_) throw_io(op_, name_, "open it", errno);
    std::error_code ec;
    size_ = std::filesystem::file_size(path, ec);
    if (ec) {
      std::fclose(file_);
      throw_io(op_, name_, "read its size", ec.value());
    }
#endif
  }
  ~ReadFile() {
    if (memory_) return;
#if TAPEGRAD_POSIX_FILES
    ::close(fd_);
#else
    std::fclose(file_);
#endif
  }
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;

  const char* op() const noexcept { return op_; }
  const std::string& name() const noexcept { return name_; }
  std::uint64_t size() const noexcept { return size_; }

  /// Throws the FormatError every reader uses: "op: file: byte N: problem".
  [[noreturn]] TAPEGRAD_COLD void fail(std::uint64_t offset, const std::string& problem) const {
    throw FormatError(cat(op_, ": ", name_, ", byte ", offset, ": ", problem));
  }
  /// Throws "op: file: problem" (for problems without one place).
  [[noreturn]] TAPEGRAD_COLD void fail(const std::string& problem) const {
    throw FormatError(cat(op_, ": ", name_, ": ", problem));
  }

  /// Checks that [offset, offset + n) lies inside the file; `what` names the bytes in the message.
  void check_range(std::uint64_t offset, std::uint64_t n, const std::string& what) const {
    std::uint64_t end = 0;
    if (!add_u64(offset, n, end) || end > size_)
      fail(offset, cat(what, " needs ", n, " bytes, but the file has ", offset < size_ ? size_ - offset : 0,
                       " bytes from there (", size_, " in all); the file is truncated or damaged"));
  }

  /// Reads exactly n bytes at `offset` into dst, after check_range.
  void read(std::uint64_t offset, void* dst, std::uint64_t n, const std::string& what) const {
    check_range(offset, n, what);
    auto* out = static_cast<char*>(dst);
    if (memory_) {
      if (n > 0) std::memcpy(out, memory_ + offset, static_cast<std::size_t>(n));
      return;
    }
#if TAPEGRAD_POSIX_FILES
    while (n > 0) {
      const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(n, std::uint64_t(1) << 30));
      const ssize_t got = ::pread(fd_, out, chunk, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw_io(op_, name_, cat("read ", what, " at byte ", offset), errno);
      if (got == 0) fail(offset, cat(what, ": the file ended early (it shrank while being read)"));
      out += got, offset += static_cast<std::uint64_t>(got), n -= static_cast<std::uint64_t>(got);
    }
#else
    if (std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0 || std::fread(out, 1, n, file_) != n)
      throw_io(op_, name_, cat("read ", what, " at byte ", offset), errno);
#endif
  }

  /// The n bytes at `offset` as a string (for headers; callers bound n first).
  std::string read_string(std::uint64_t offset, std::uint64_t n, const std::string& what) const {
    check_range(offset, n, what);
    std::string out(static_cast<std::size_t>(n), '\0');
    read(offset, out.data(), n, what);
    return out;
  }

 private:
  const char* op_;
  std::string name_;
  std::uint64_t size_ = 0;
  const char* memory_ = nullptr;  // the bytes, when reading a memory block
#if TAPEGRAD_POSIX_FILES
  int fd_ = -1;
#else
  std::FILE* file_ = nullptr;
#endif
};

/// Where the writers put their bytes, front to back.
class Sink {
 public:
  virtual void write(const void* data, std::size_t n) = 0;
  /// Bytes written so far.
  virtual std::uint64_t written() const noexcept = 0;

  void write(const std::string& s) { write(s.data(), s.size()); }
  /// Writes `n` zero bytes (padding).
  void pad(std::size_t n) {
    static const char zeros[64] = {};
    for (; n > 0; n -= std::min<std::size_t>(n, sizeof zeros)) write(zeros, std::min<std::size_t>(n, sizeof zeros));
  }
  /// Writes `value` as little-endian bytes.
  template <class U>
  void write_le(U value) {
    unsigned char bytes[sizeof(U)];
    for (std::size_t i = 0; i < sizeof(U); ++i) bytes[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(value) >> (8 * i));
    write(bytes, sizeof bytes);
  }

 protected:
  ~Sink() = default;
};

/// A Sink that collects bytes in memory (tests, and small entries built before they are written).
class MemorySink final : public Sink {
 public:
  void write(const void* data, std::size_t n) override { bytes.append(static_cast<const char*>(data), n); }
  std::uint64_t written() const noexcept override { return bytes.size(); }
  std::string bytes;
};

/// The file behind write_atomically: buffered writes to a temporary that only becomes the target in
/// commit(). Until then the target is untouched; destroying an uncommitted file removes the temporary.
///
/// On Linux the temporary has no name at all (O_TMPFILE) until the moment it is linked and renamed,
/// so even a process killed mid-write leaves nothing behind. Elsewhere it is a hidden
/// ".<name>.tmp-XXXXXX" beside the target, removed on any error the process lives through.
class AtomicFile final : public Sink {
 public:
  AtomicFile(const char* op, std::filesystem::path target) : op_(op), target_(std::move(target)) {
    dir_ = target_.parent_path();
    if (dir_.empty()) dir_ = ".";
    if (target_.filename().empty()) throw ValueError(cat(op_, ": ", target_.string(), " names a folder, not a file"));
    buffer_.reserve(kBuffer);
#if TAPEGRAD_POSIX_FILES
#ifdef O_TMPFILE
    fd_ = ::open(dir_.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#endif
    if (fd_ < 0) {  // no O_TMPFILE here (or on this file system): a named temporary
      std::string pattern = (dir_ / ("." + target_.filename().string() + ".tmp-XXXXXX")).string();
      fd_ = ::mkstemp(pattern.data());
      if (fd_ < 0) throw_io(op_, target_.string(), cat("create a temporary file in ", dir_.string()), errno);
      temp_name_ = pattern;
      const mode_t mask = ::umask(0);  // mkstemp makes 0600; give the file the mode open() would
      ::umask(mask);
      (void)::fchmod(fd_, 0666 & ~mask);
    }
#else
    temp_name_ = (dir_ / ("." + target_.filename().string() + ".tmp")).string();
    file_ = std::fopen(temp_name_.c_str(), "wb");
    if (!file_) throw_io(op_, target_.string(), "create a temporary file", errno);
#endif
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() { discard(); }

  void write(const void* data, std::size_t n) override {
    if (n >= kBuffer) {  // large blocks (tensor data) go straight to the file: no extra copy
      flush();
      write_fully(data, n);
    } else {
      if (buffer_.size() + n > kBuffer) flush();
      buffer_.append(static_cast<const char*>(data), n);
    }
    written_ += n;
  }
  std::uint64_t written() const noexcept override { return written_; }

  /// Makes the complete file the target: flush, fsync, then rename over the target (and fsync the
  /// folder, so the rename itself survives a crash).
  void commit() {
    flush();
#if TAPEGRAD_POSIX_FILES
    if (::fsync(fd_) != 0) throw_io(op_, target_.string(), "flush the file to disk", errno);
    if (temp_name_.empty()) {  // an O_TMPFILE: give it a name, then rename that over the target
      std::string link_name;
      for (int attempt = 0;; ++attempt) {
        link_name = (dir_ / cat(".", target_.filename().string(), ".tmp-", ::getpid(), "-", attempt)).string();
        const std::string fd_path = cat("/proc/self/fd/", fd_);
        if (::linkat(AT_FDCWD, fd_path.c_str(), AT_FDCWD, link_name.c_str(), AT_SYMLINK_FOLLOW) == 0) break;
        if (errno != EEXIST || attempt > 100) throw_io(op_, target_.string(), "name the new file", errno);
      }
      temp_name_ = link_name;
    }
    if (::rename(temp_name_.c_str(), target_.c_str()) != 0) throw_io(op_, target_.string(), "replace the file", errno);
    temp_name_.clear();
    ::close(fd_);
    fd_ = -1;
    const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_CLOEXEC);
    if (dir_fd >= 0) {
      (void)::fsync(dir_fd);  // best effort: some file systems refuse fsync on a folder
      ::close(dir_fd);
    }
#else
    if (std::fflush(file_) != 0 || std::fclose(file_) != 0) {
      file_ = nullptr;
      throw_io(op_, target_.string(), "write the file", errno);
    }
    file_ = nullptr;
    std::error_code ec;
    std::filesystem::rename(temp_name_, target_, ec);
    if (ec) throw_io(op_, target_.string(), "replace the file", ec.value());
    temp_name_.clear();
#endif
  }

 private:
  static constexpr std::size_t kBuffer = std::size_t(1) << 20;

  void flush() {
    if (buffer_.empty()) return;
    write_fully(buffer_.data(), buffer_.size());
    buffer_.clear();
  }

  void write_fully(const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
#if TAPEGRAD_POSIX_FILES
    while (n > 0) {
      const ssize_t put = ::write(fd_, p, std::min<std::size_t>(n, std::size_t(1) << 30));
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) throw_io(op_, target_.string(), cat("write (", written_, " bytes written so far; the previous file, if any, is unchanged)"), errno);
      p += put, n -= static_cast<std::size_t>(put);
    }
#else
    if (std::fwrite(p, 1, n, file_) != n) throw_io(op_, target_.string(), "write", errno);
#endif
  }

  void discard() noexcept {
#if TAPEGRAD_POSIX_FILES
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!temp_name_.empty()) ::unlink(temp_name_.c_str());
#else
    if (file_) std::fclose(file_);
    file_ = nullptr;
    if (!temp_name_.empty()) std::remove(temp_name_.c_str());
#endif
    temp_name_.clear();
  }

  const char* op_;
  std::filesystem::path target_, dir_;
  std::string temp_name_;  // empty while the temporary has no name
  std::string buffer_;
  std::uint64_t written_ = 0;
#if TAPEGRAD_POSIX_FILES
  int fd_ = -1;
#else
  std::FILE* file_ = nullptr;
#endif
};

/// Writes `path` through `fill(Sink&)` so that it is replaced only by a complete file: if fill throws,
/// the disk fills up or the process dies, the previous file stays as it was and no temporary remains.
template <class Fill>
void write_atomically(const char* op, const std::filesystem::path& path, Fill&& fill) {
  AtomicFile file(op, path);
  fill(static_cast<Sink&>(file));
  file.commit();
}

}  // namespace tapegrad::io::detail
