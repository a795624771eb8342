// SPDX-License-Identifier: MIT
// Byte input for the file loaders: a buffered file or a memory block, lines, strict numbers, quoted snippets.
#pragma once

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <locale>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "tapegrad/error.hpp"

namespace tapegrad::detail {

/// The longest text line a loader accepts: far above any real vector file (a 300-d GloVe line is ~3 KB),
/// low enough that a file without newlines cannot make the line buffer grow without bound.
inline constexpr std::size_t kMaxLineBytes = std::size_t(1) << 24;

/// Where a loader is in its input, for messages such as "load_glove: words.txt, line 3: ...".
struct InputPlace {
  const char* op;
  std::string_view file;
  const char* unit;  // "line" or "byte"
  std::int64_t pos;
};

[[noreturn]] TAPEGRAD_COLD inline void throw_format(const InputPlace& at, const std::string& problem) {
  throw FormatError(cat(at.op, ": ", at.file, ", ", at.unit, " ", at.pos, ": ", problem));
}

[[noreturn]] TAPEGRAD_COLD inline void throw_format(const char* op, std::string_view file, const std::string& problem) {
  throw FormatError(cat(op, ": ", file, ": ", problem));
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 if the bytes there are not one.
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte (excludes overlongs and surrogates)
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  if (n == 0 || i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

/// `s` in double quotes for a message: at most `max_bytes` bytes (then "..."), UTF-8 kept, other
/// non-printable bytes written as \xNN so a message never carries raw binary.
inline std::string quote(std::string_view s, std::size_t max_bytes = 40) {
  std::string out = "\"";
  const std::size_t n = std::min(s.size(), max_bytes);
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(s, i);
      if (len > 0 && i + len <= n) {
        out.append(s.data() + i, len);
        i += len;
        continue;
      }
      if (len > 0) break;  // a character cut by the limit: stop before it
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7F) {
      static const char hex[] = "0123456789ABCDEF";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += i < s.size() ? "\"..." : "\"";
  return out;
}

/// Bytes from a file (read in chunks into a reused buffer) or from a memory block, consumed front to back.
class Input {
 public:
  /// Reads `bytes` in place (they must outlive the Input); `name` stands for the file in messages.
  Input(const char* op, std::string_view bytes, std::string name)
      : op_(op), name_(std::move(name)), data_(bytes.data()), end_(bytes.size()), size_(bytes.size()), eof_(true) {}

  /// Opens `path`; throws FormatError with the system's reason if it cannot be opened or sized.
  Input(const char* op, const std::filesystem::path& path) : op_(op), name_(path.string()) {
    errno = 0;
    file_.reset(std::fopen(name_.c_str(), "rb"));
    if (!file_) throw_format(op_, name_, cat("cannot open: ", std::generic_category().message(errno)));
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec) throw_format(op_, name_, cat("cannot read: ", ec.message()));
    size_ = size;
    // Small files fit in one read; large ones stream through 1 MiB.
    buffer_.resize(static_cast<std::size_t>(std::min<std::uintmax_t>(size + 1, kChunk)));
    data_ = buffer_.data();
  }

  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  const char* op() const noexcept { return op_; }
  const std::string& name() const noexcept { return name_; }
  /// Total bytes (the file's size when it was opened).
  std::uint64_t size() const noexcept { return size_; }
  /// Bytes consumed so far: the position of cursor() in the file.
  std::uint64_t offset() const noexcept { return consumed_ + pos_; }
  /// Bytes after offset(), by the size at opening (0 if the file has grown since).
  std::uint64_t bytes_left() const noexcept { return size_ > offset() ? size_ - offset() : 0; }
  const char* cursor() const noexcept { return data_ + pos_; }
  std::size_t available() const noexcept { return end_ - pos_; }
  /// Consumes `n` <= available() bytes.
  void advance(std::size_t n) noexcept { pos_ += n; }

  /// Makes at least `n` bytes available unless the input ends first; returns available().
  /// Invalidates pointers from cursor().
  std::size_t require(std::size_t n) {
    if (available() >= n || eof_) return available();
    const std::size_t keep = available();
    std::memmove(buffer_.data(), buffer_.data() + pos_, keep);
    consumed_ += pos_;
    pos_ = 0;
    end_ = keep;
    if (n > buffer_.size()) buffer_.resize(std::max(n, 2 * buffer_.size()));
    data_ = buffer_.data();
    while (end_ < buffer_.size()) {
      const std::size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_.get());
      end_ += got;
      if (got == 0) {
        if (std::ferror(file_.get()))
          throw_format(op_, name_, cat("read error at byte ", offset() + available(), ": ",
                                       std::generic_category().message(errno)));
        eof_ = true;
        break;
      }
    }
    return available();
  }

 private:
  static constexpr std::size_t kChunk = std::size_t(1) << 20;
  struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };

  const char* op_;
  std::string name_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::vector<char> buffer_;
  const char* data_ = nullptr;
  std::size_t pos_ = 0, end_ = 0;  // the unread bytes are data_[pos_, end_)
  std::uint64_t consumed_ = 0;     // bytes dropped from the front of the buffer
  std::uint64_t size_ = 0;
  bool eof_ = false;
};

/// Splits an Input into lines. Every line, the last included, must end with '\n': the writers of
/// GloVe, word2vec and fastText all end their lines so, and a missing one is how truncation shows.
/// A '\r' before the '\n' is dropped (files saved on Windows), and so is a UTF-8 byte-order mark.
class LineReader {
 public:
  explicit LineReader(Input& in) : in_(in) {
    if (in_.require(3) >= 3 && std::memcmp(in_.cursor(), "\xEF\xBB\xBF", 3) == 0) in_.advance(3);
  }

  /// The next line without its line ending, valid until the next call; false at the end of the input.
  bool next(std::string_view& line) {
    std::size_t avail = in_.require(1);
    if (avail == 0) return false;
    std::size_t scanned = 0;
    for (;;) {
      const char* base = in_.cursor();
      if (const void* nl = std::memchr(base + scanned, '\n', avail - scanned)) {
        std::size_t len = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
        ++number_;
        if (len > kMaxLineBytes) too_long(number_);
        in_.advance(len + 1);
        if (len > 0 && base[len - 1] == '\r') --len;
        line = std::string_view(base, len);
        return true;
      }
      scanned = avail;
      if (avail > kMaxLineBytes) too_long(number_ + 1);
      const std::size_t more = in_.require(std::min(2 * avail + 4096, kMaxLineBytes + 2));
      if (more == avail)
        throw_format(next_place(), "the file ends without a newline, so it looks truncated (GloVe, word2vec and "
                                   "fastText end every line with '\\n'; add one if the file is complete)");
      avail = more;
    }
  }

  /// Number of the line next() returned last (1-based).
  std::int64_t number() const noexcept { return number_; }
  InputPlace place() const noexcept { return {in_.op(), in_.name(), "line", number_}; }
  InputPlace next_place() const noexcept { return {in_.op(), in_.name(), "line", number_ + 1}; }

 private:
  [[noreturn]] TAPEGRAD_COLD void too_long(std::int64_t line) const {
    throw_format(InputPlace{in_.op(), in_.name(), "line", line},
                 cat("line is longer than the limit of ", kMaxLineBytes, " bytes"));
  }

  Input& in_;
  std::int64_t number_ = 0;
};

/// Result of parsing one number.
enum class ParseStatus { ok, bad, out_of_range };

/// Parses all of [first, last) (no '+'; parse_real strips it) as a decimal number in the C locale with
/// std::istringstream: the fallback for standard libraries without floating-point std::from_chars. It
/// rejects the words "nan" and "inf" and reports every overflow or underflow as bad.
template <class T>
ParseStatus parse_real_stream(const char* first, const char* last, T& out) {
  if (first == last || *first == ' ' || *first == '+') return ParseStatus::bad;
  std::istringstream in(std::string(first, last));
  in.imbue(std::locale::classic());
  T value{};
  in >> std::noskipws >> value;
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) return ParseStatus::bad;
  out = value;
  return ParseStatus::ok;
}

/// Parses the decimal number of type T at the start of [first, last), which must end at a space or at
/// `last`; `end` receives where it ends. No leading spaces, an optional sign ('+' too), "nan" and "inf"
/// accepted (the caller decides about them), never locale-dependent. A value too small for T rounds to
/// zero or a subnormal; one too large for T is out_of_range.
template <class T>
ParseStatus parse_field(const char* first, const char* last, T& out, const char*& end) {
  static_assert(std::is_floating_point_v<T>, "parse_field: T must be float or double");
  end = first;
  if (first != last && *first == '+') {
    ++first;
    if (first == last || *first == '+' || *first == '-') return ParseStatus::bad;
  }
#if defined(__cpp_lib_to_chars)
  auto [ptr, ec] = std::from_chars(first, last, out);
  end = ptr;
  if (ec == std::errc::invalid_argument || (ptr != last && *ptr != ' ')) return ParseStatus::bad;
  if (ec == std::errc::result_out_of_range) {
    // from_chars reports underflow like overflow; a wider type tells them apart.
    long double wide = 0;
    auto [wide_ptr, wide_ec] = std::from_chars(first, ptr, wide);
    if (wide_ec != std::errc() || wide_ptr != ptr || !(std::fabs(wide) < 1)) return ParseStatus::out_of_range;
    out = static_cast<T>(wide);  // between zero and T's smallest subnormal: rounds, well defined
  }
  return ParseStatus::ok;
#else
  const void* space = std::memchr(first, ' ', static_cast<std::size_t>(last - first));
  end = space ? static_cast<const char*>(space) : last;
  return parse_real_stream(first, end, out);
#endif
}

/// Parses all of [first, last) as parse_field does.
template <class T>
ParseStatus parse_real(const char* first, const char* last, T& out) {
  const char* end = nullptr;
  const ParseStatus status = parse_field(first, last, out, end);
  return status == ParseStatus::ok && end != last ? ParseStatus::bad : status;
}

/// Parses all of [first, last) as a decimal int64 (optional '-', no '+', no spaces); false otherwise.
inline bool parse_int64(std::string_view text, std::int64_t& out) {
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), last, out);
  return ec == std::errc() && ptr == last && !text.empty();
}

/// Appends the shortest decimal text that reads back as exactly `value` (C locale).
template <class T>
void append_real(std::string& out, T value) {
#if defined(__cpp_lib_to_chars)
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
#else
  std::ostringstream os;
  os.imbue(std::locale::classic());
  os.precision(std::numeric_limits<T>::max_digits10);
  os << value;
  out += os.str();
#endif
}

}  // namespace tapegrad::detail
