// SPDX-License-Identifier: MIT
// NumPy files: .npy (one array) and .npz (a zip of .npy entries, as np.savez writes), read and written.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/io/detail/dtype.hpp"
#include "tapegrad/io/detail/file.hpp"
#include "tapegrad/io/detail/zip.hpp"
#include "tapegrad/io/load_options.hpp"
#include "tapegrad/nn/state_dict.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad::io {

/// Longest .npy header the readers accept, in bytes. NumPy writes about 128 bytes (and by default
/// refuses to read more than 10000); the bound keeps the memory a header can ask for small.
inline constexpr std::uint64_t kMaxNpyHeaderBytes = std::uint64_t(1) << 20;

namespace detail {

/// Bytes as they may appear in a message: printable ASCII kept, the rest as \xNN, cut after `max`.
inline std::string npy_quote(std::string_view s, std::size_t max = 80) {
  static const char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c >= 0x20 && c < 0x7F) out += static_cast<char>(c);
    else if (c == '\n') out += "\\n";
    else out += "\\x", out += hex[c >> 4], out += hex[c & 15];
  }
  out += s.size() > max ? "\"..." : "\"";
  return out;
}

/// The bytes of one .npy: a whole file, or one stored entry of an .npz ([base, base + size) of the
/// archive). Reads are bounded by the entry, not only by the file, and messages name the entry.
struct NpyBytes {
  const ReadFile& file;
  std::uint64_t base = 0, size = 0;
  std::string entry;  // the npz entry name ("w.npy"), or empty for a .npy file

  std::string context() const { return entry.empty() ? std::string() : cat("entry \"", entry, "\": "); }
  /// FormatError at `offset` (relative to the .npy's first byte; the message gives the file's offset).
  [[noreturn]] TAPEGRAD_COLD void fail(std::uint64_t offset, const std::string& problem) const {
    file.fail(base + offset, context() + problem);
  }
  void read(std::uint64_t offset, void* dst, std::uint64_t n, const std::string& what) const {
    std::uint64_t end = 0;
    if (!add_u64(offset, n, end) || end > size)
      fail(offset, cat(what, " needs ", n, " bytes, but the ", entry.empty() ? "file" : "entry", " has ",
                       offset < size ? size - offset : 0, " bytes from there (", size,
                       " in all); it is truncated or damaged"));
    file.read(base + offset, dst, n, what);
  }
};

/// What an .npy header says, checked: the data is `data_bytes` bytes at `data_offset`.
struct NpyHeader {
  std::string descr;
  DType dtype = DType::F32;
  bool swap = false;     // big-endian data
  bool fortran = false;  // column-major data
  Shape shape;
  std::string shape_text;  // the shape as the header wrote it, for messages
  std::uint64_t numel = 0, data_offset = 0, data_bytes = 0;
  std::string head;  // every byte before the data (the CRC of an npz entry covers them)
};

/// A value of the Python literal an .npy header is. Containers other than tuples are only skipped
/// (their contents are never needed), and a tuple keeps only its integers, so a header costs a
/// bounded multiple of its size in memory.
struct NpyLiteral {
  enum Kind { Str, Int, Bool, None, Tuple, List, Dict } kind = None;
  std::size_t pos = 0;        // where it starts in the header
  std::string_view source;    // its text in the header
  std::string str;            // Str: the content
  bool boolean = false;       // Bool
  std::int64_t integer = 0;   // Int
  bool too_big = false;       // Int: does not fit in int64
  std::vector<std::int64_t> ints;        // Tuple: its items, while all are integers that fit
  std::string_view bad_item;             // Tuple: the first item that is not such an integer
};

inline const char* npy_kind_name(NpyLiteral::Kind k) {
  switch (k) {
    case NpyLiteral::Str: return "a string";
    case NpyLiteral::Int: return "an integer";
    case NpyLiteral::Bool: return "a bool";
    case NpyLiteral::None: return "None";
    case NpyLiteral::Tuple: return "a tuple";
    case NpyLiteral::List: return "a list";
    case NpyLiteral::Dict: return "a dict";
  }
  return "?";
}

/// Parses the restricted Python literal an .npy header holds: strings without escapes, decimal
/// integers (with Python 2's `L` suffix in versions 1.0 and 2.0), True, False, None, tuples, lists
/// and dicts, nested at most 16 deep.
class NpyHeaderParser {
 public:
  NpyHeaderParser(const NpyBytes& src, std::uint64_t origin, std::string_view text, bool python2_longs)
      : src_(src), origin_(origin), text_(text), python2_longs_(python2_longs) {}

  [[noreturn]] TAPEGRAD_COLD void fail(std::size_t pos, const std::string& problem) const {
    src_.fail(origin_ + pos, cat("the header is not the Python dict NumPy writes: ", problem,
                                 " (header: ", npy_quote(text_), ")"));
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\f'))
      ++pos_;
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }
  std::size_t pos() const noexcept { return pos_; }
  std::string found() const {
    return pos_ < text_.size() ? cat("found ", npy_quote(text_.substr(pos_, 12), 12)) : "found the end of the header";
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) return ++pos_, true;
    return false;
  }
  void expect(char c, const char* where) {
    if (!accept(c)) fail(pos_, cat("expected '", c, "' ", where, ", ", found()));
  }

  NpyLiteral value(int depth = 0) {
    skip_space();
    if (depth > 16) fail(pos_, "values nested more than 16 deep");
    NpyLiteral v;
    v.pos = pos_;
    if (pos_ == text_.size()) fail(pos_, "expected a value, found the end of the header");
    const char c = text_[pos_];
    if (c == '\'' || c == '"') {
      v.kind = NpyLiteral::Str;
      const std::size_t close = text_.find(c, pos_ + 1);
      if (close == std::string_view::npos) fail(pos_, "a string is not closed");
      v.str.assign(text_.substr(pos_ + 1, close - pos_ - 1));
      if (v.str.find('\\') != std::string::npos) fail(pos_, "escape sequences in strings are not supported");
      if (v.str.find('\n') != std::string::npos) fail(pos_, "a string is not closed on its line");
      pos_ = close + 1;
    } else if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
      v.kind = NpyLiteral::Int;
      integer(v);
    } else if (c == '(' || c == '[' || c == '{') {
      container(v, depth);
    } else {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && ((text_[pos_] >= 'A' && text_[pos_] <= 'Z') || (text_[pos_] >= 'a' && text_[pos_] <= 'z') ||
                                     text_[pos_] == '_' || (text_[pos_] >= '0' && text_[pos_] <= '9')))
        ++pos_;
      const std::string_view word = text_.substr(start, pos_ - start);
      if (word == "True" || word == "False") v.kind = NpyLiteral::Bool, v.boolean = word == "True";
      else if (word == "None") v.kind = NpyLiteral::None;
      else pos_ = start, fail(start, cat("expected a value, ", found()));
    }
    v.source = text_.substr(v.pos, pos_ - v.pos);
    return v;
  }

 private:
  void integer(NpyLiteral& v) {
    bool negative = false;
    if (text_[pos_] == '-' || text_[pos_] == '+') negative = text_[pos_++] == '-';
    skip_space();  // Python allows "- 1"
    const std::size_t digits = pos_;
    std::uint64_t magnitude = 0;
    for (; pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; ++pos_)
      if (!mul_u64(magnitude, 10, magnitude) || !add_u64(magnitude, static_cast<std::uint64_t>(text_[pos_] - '0'), magnitude))
        v.too_big = true;
    if (pos_ == digits) fail(v.pos, cat("expected a decimal integer, ", found()));
    if (python2_longs_ && pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;
    if (pos_ < text_.size() && ((text_[pos_] >= 'A' && text_[pos_] <= 'Z') || (text_[pos_] >= 'a' && text_[pos_] <= 'z') ||
                                text_[pos_] == '_' || text_[pos_] == '.'))
      fail(v.pos, cat("only decimal integers are supported, ", found()));
    const std::uint64_t limit = negative ? std::uint64_t(1) << 63 : (std::uint64_t(1) << 63) - 1;
    if (magnitude > limit) v.too_big = true;
    if (!v.too_big)
      v.integer = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  }

  void container(NpyLiteral& v, int depth) {
    const char open = text_[pos_++];
    const char close = open == '(' ? ')' : open == '[' ? ']' : '}';
    v.kind = open == '(' ? NpyLiteral::Tuple : open == '[' ? NpyLiteral::List : NpyLiteral::Dict;
    std::size_t items = 0;
    bool comma = true;  // whether another item may follow
    while (!accept(close)) {
      if (!comma) fail(pos_, cat("expected ',' or '", close, "', ", found()));
      const NpyLiteral item = value(depth + 1);
      if (v.kind == NpyLiteral::Dict) {
        expect(':', "after a dict key");
        value(depth + 1);
      } else if (v.kind == NpyLiteral::Tuple && v.bad_item.empty()) {
        if (item.kind == NpyLiteral::Int && !item.too_big) v.ints.push_back(item.integer);
        else v.bad_item = item.source;
      }
      ++items;
      comma = accept(',');
    }
    // "(3)" is the integer 3 in Python, not a tuple.
    if (v.kind == NpyLiteral::Tuple && items == 1 && !comma) fail(v.pos, "a parenthesised value without a comma is not a tuple");
  }

  const NpyBytes& src_;
  std::uint64_t origin_;  // offset of the header text in the .npy
  std::string_view text_;
  bool python2_longs_;
  std::size_t pos_ = 0;
};

/// The element type a descr such as '<f4' names, or a FormatError saying why it is not supported.
inline void parse_npy_descr(const NpyBytes& src, std::uint64_t at, NpyHeader& h) {
  const std::string& d = h.descr;
  std::string_view code = d;
  char order = '=';
  if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=' || code[0] == '!'))
    order = code[0], code.remove_prefix(1);
  struct Known { const char* code; DType dtype; };
  static const Known known[] = {{"f2", DType::F16}, {"f4", DType::F32}, {"f8", DType::F64}, {"i1", DType::I8},
                                {"i2", DType::I16}, {"i4", DType::I32}, {"i8", DType::I64}, {"u1", DType::U8},
                                {"b1", DType::Bool}};
  for (const Known& k : known)
    if (code == k.code) {
      h.dtype = k.dtype;
      h.swap = (order == '>' || order == '!') && dtype_size(k.dtype) > 1;  // this library runs little-endian
      return;
    }
  const char kind = code.empty() ? '?' : code[0];
  const char* what = kind == 'O' ? "an array of Python objects (its data is a pickle, which is never run)"
                     : kind == 'U' ? "a unicode string dtype"
                     : kind == 'S' || kind == 'a' ? "a bytes dtype"
                     : kind == 'c' ? "a complex dtype"
                     : kind == 'u' ? "an unsigned integer dtype wider than one byte"
                     : kind == 'M' || kind == 'm' ? "a datetime dtype"
                     : kind == 'V' ? "a raw (void) dtype"
                     : "not a dtype this reader knows";
  src.fail(at, cat("descr ", npy_quote(d), " is ", what, "; only numeric dtypes are supported: f2, f4, f8, i1, i2, "
                   "i4, i8, u1, b1 (float16/32/64, int8/16/32/64, uint8, bool)"));
}

/// Reads and checks the magic, version and header of the .npy in `src`, and that its data fills the
/// rest exactly.
inline NpyHeader parse_npy_header(const NpyBytes& src) {
  NpyHeader h;
  constexpr char kMagic[] = "\x93NUMPY";
  const std::uint64_t first = std::min<std::uint64_t>(src.size, 8);
  std::string prefix(static_cast<std::size_t>(first), '\0');
  src.read(0, prefix.data(), first, "the magic string");
  if (src.size == 0)
    src.fail(0, cat("the ", src.entry.empty() ? "file" : "entry", " is empty (an .npy file starts with \"\\x93NUMPY\")"));
  if (first < 6 || prefix.compare(0, 6, kMagic, 6) != 0)
    src.fail(0, cat("not a NumPy .npy file: it starts with ", npy_quote(prefix), " instead of \"\\x93NUMPY\"",
                    src.entry.empty() && prefix.compare(0, 4, "PK\x03\x04") == 0
                        ? " (it is a zip archive: an .npz file is read with load_npz)" : ""));
  if (first < 8) src.read(6, nullptr, 2, "the format version");  // throws: the file ends here
  const unsigned major = static_cast<unsigned char>(prefix[6]), minor = static_cast<unsigned char>(prefix[7]);
  if (major < 1 || major > 3 || minor != 0)
    src.fail(6, cat("unsupported .npy format version ", major, ".", minor, " (this reader knows 1.0, 2.0 and 3.0)"));
  const std::uint64_t length_size = major == 1 ? 2 : 4;
  unsigned char length_bytes[4] = {};
  src.read(8, length_bytes, length_size, "the header length");
  const std::uint64_t length = major == 1 ? load_uint<std::uint16_t>(length_bytes, false)
                                          : load_uint<std::uint32_t>(length_bytes, false);
  const std::uint64_t start = 8 + length_size;
  if (length > src.size - std::min(src.size, start))
    src.fail(8, cat("the header length ", length, " runs past the end of the ", src.entry.empty() ? "file" : "entry",
                    " (", src.size - std::min(src.size, start), " bytes follow the length field)"));
  if (length > io::kMaxNpyHeaderBytes)
    src.fail(8, cat("the header length ", length, " is larger than the limit of ", io::kMaxNpyHeaderBytes, " bytes"));
  std::string text(static_cast<std::size_t>(length), '\0');
  src.read(start, text.data(), length, "the header");

  NpyHeaderParser p(src, start, text, major <= 2);
  p.expect('{', "at the start");
  bool have_descr = false, have_fortran = false, have_shape = false;
  NpyLiteral descr, shape;
  bool comma = true;
  while (!p.accept('}')) {
    if (!comma) p.fail(p.pos(), cat("expected ',' or '}', ", p.found()));
    const NpyLiteral key = p.value(1);
    if (key.kind != NpyLiteral::Str) p.fail(key.pos, cat("a key is ", npy_kind_name(key.kind), " (", key.source, "), not a string"));
    p.expect(':', "after a key");
    const NpyLiteral value = p.value(1);
    bool* seen = key.str == "descr" ? &have_descr : key.str == "fortran_order" ? &have_fortran : key.str == "shape" ? &have_shape : nullptr;
    if (!seen)
      p.fail(key.pos, cat("unknown key ", key.source, " (NumPy writes exactly 'descr', 'fortran_order' and 'shape')"));
    if (*seen) p.fail(key.pos, cat("the key ", key.source, " appears twice"));
    *seen = true;
    if (key.str == "descr") {
      if (value.kind == NpyLiteral::List)
        src.fail(start + value.pos, cat("descr ", npy_quote(value.source), " is a structured dtype; only numeric dtypes are "
                                        "supported: f2, f4, f8, i1, i2, i4, i8, u1, b1 (float16/32/64, int8/16/32/64, uint8, bool)"));
      if (value.kind != NpyLiteral::Str)
        p.fail(value.pos, cat("'descr' is ", npy_kind_name(value.kind), " (", value.source, "), not a string such as '<f4'"));
      descr = value;
    } else if (key.str == "fortran_order") {
      if (value.kind != NpyLiteral::Bool)
        p.fail(value.pos, cat("'fortran_order' is ", npy_kind_name(value.kind), " (", value.source, "), not True or False"));
      h.fortran = value.boolean;
    } else {
      if (value.kind != NpyLiteral::Tuple)
        p.fail(value.pos, cat("'shape' is ", npy_kind_name(value.kind), " (", value.source, "), not a tuple such as (2, 3)"));
      shape = value;
    }
    comma = p.accept(',');
  }
  if (!p.at_end()) p.fail(p.pos(), cat("text after the closing '}': ", p.found()));
  for (auto [seen, name] : {std::pair<bool, const char*>{have_descr, "descr"}, {have_fortran, "fortran_order"}, {have_shape, "shape"}})
    if (!seen) p.fail(0, cat("the key '", name, "' is missing"));

  h.descr = descr.str;
  parse_npy_descr(src, start + descr.pos, h);
  h.shape_text = std::string(shape.source);
  if (!shape.bad_item.empty()) {
    std::string_view item = shape.bad_item;
    const bool number = !item.empty() && (item[0] == '-' || item[0] == '+' || (item[0] >= '0' && item[0] <= '9'));
    src.fail(start + shape.pos, cat("shape ", h.shape_text, ": ", number ? cat("the dimension ", item, " does not fit in 64 bits")
                                                                         : cat("the item ", item, " is not an integer")));
  }
  bool empty = false;
  std::uint64_t nonzero = 1;
  for (std::int64_t d : shape.ints) {
    if (d < 0) src.fail(start + shape.pos, cat("shape ", h.shape_text, " has the negative dimension ", d));
    empty |= d == 0;
    // Overflow is judged on the non-zero sizes, as NumPy does: (0, 2**62, 4) is a valid empty array.
    if (d != 0 && (!mul_u64(nonzero, static_cast<std::uint64_t>(d), nonzero) || nonzero > std::uint64_t(INT64_MAX)))
      src.fail(start + shape.pos, cat("shape ", h.shape_text, " has more elements than fit in 64 bits"));
  }
  std::uint64_t nonzero_bytes = 0;
  if (!mul_u64(nonzero, dtype_size(h.dtype), nonzero_bytes) || nonzero_bytes > std::uint64_t(INT64_MAX))
    src.fail(start + shape.pos, cat("shape ", h.shape_text, " of ", npy_quote(h.descr), " needs more bytes than fit in 64 bits"));
  h.numel = empty ? 0 : nonzero;
  h.shape = Shape(shape.ints.begin(), shape.ints.end());
  h.data_offset = start + length;
  h.data_bytes = h.numel * dtype_size(h.dtype);
  const std::uint64_t available = src.size - h.data_offset;
  if (available < h.data_bytes)
    src.fail(h.data_offset, cat("the data is truncated: shape ", h.shape_text, " of ", npy_quote(h.descr), " needs ", h.data_bytes,
                                " bytes, but only ", available, " follow the header"));
  if (available > h.data_bytes)
    src.fail(h.data_offset + h.data_bytes, cat(available - h.data_bytes, " unexpected bytes after the data (shape ", h.shape_text,
                                               " of ", npy_quote(h.descr), " needs ", h.data_bytes, " bytes, ", available,
                                               " follow the header)"));
  h.head.reserve(static_cast<std::size_t>(h.data_offset));
  h.head.append(prefix).append(reinterpret_cast<const char*>(length_bytes), static_cast<std::size_t>(length_size)).append(text);
  return h;
}

/// Column-major `src` (shape `shape`) into row-major `dst`.
template <class T>
void fortran_to_c(const T* src, T* dst, const Shape& shape, std::uint64_t numel) {
  const std::size_t n = shape.size();
  if (numel == 0) return;
  std::vector<std::uint64_t> stride(n), index(n, 0);
  std::uint64_t s = 1;
  for (std::size_t k = 0; k < n; ++k) stride[k] = s, s *= static_cast<std::uint64_t>(shape[k]);
  std::uint64_t offset = 0;
  for (std::uint64_t i = 0; i < numel; ++i) {
    dst[i] = src[offset];
    for (std::size_t k = n; k-- > 0;) {  // the row-major odometer, keeping the column-major offset
      if (++index[k] < static_cast<std::uint64_t>(shape[k])) {
        offset += stride[k];
        break;
      }
      offset -= (index[k] - 1) * stride[k];
      index[k] = 0;
    }
  }
}

[[noreturn]] TAPEGRAD_COLD inline void throw_npy_crc(const NpyBytes& src, std::uint32_t expected, std::uint32_t crc) {
  auto hex8 = [](std::uint32_t v) {
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = "0123456789abcdef"[v & 15];
    return out;
  };
  src.fail(0, cat("CRC-32 mismatch (the archive says 0x", hex8(expected), ", the bytes give 0x", hex8(crc),
                  "): the archive is damaged"));
}

/// Checks the CRC-32 of all the bytes in `src` (read in pieces: only used on error paths).
inline void check_npy_crc(const NpyBytes& src, std::uint32_t expected) {
  std::vector<unsigned char> piece(static_cast<std::size_t>(std::min<std::uint64_t>(src.size, std::uint64_t(1) << 20)));
  std::uint32_t crc = 0;
  for (std::uint64_t done = 0; done < src.size;) {
    const std::uint64_t n = std::min<std::uint64_t>(src.size - done, piece.size());
    src.read(done, piece.data(), n, "the entry");
    crc = crc32(piece.data(), static_cast<std::size_t>(n), crc);
    done += n;
  }
  if (crc != expected) throw_npy_crc(src, expected, crc);
}

/// Loads the .npy in `src` as a Tensor<T>. `name` names the array in conversion errors; with
/// `expected_crc` the bytes must also match an npz entry's CRC-32.
template <class T>
Tensor<T> read_npy_bytes(const NpyBytes& src, const std::string& name, const LoadOptions& options,
                         const std::uint32_t* expected_crc = nullptr) {
  NpyHeader h;
  try {
    h = parse_npy_header(src);
  } catch (const FormatError&) {
    // In an archive, a damaged entry is the likelier cause of a bad header: say so if it is.
    if (expected_crc) check_npy_crc(src, *expected_crc);
    throw;
  }
  Tensor<T> out = tapegrad::detail::make_tensor<T>(h.shape, src.file.op());
  const bool direct = h.dtype == dtype_of<T>() && !h.swap && !h.fortran;
  std::vector<unsigned char> raw;
  unsigned char* bytes = nullptr;
  if (direct) {
    bytes = reinterpret_cast<unsigned char*>(out.data());
  } else {
    raw.resize(static_cast<std::size_t>(h.data_bytes));  // at most the bytes the file has
    bytes = raw.data();
  }
  src.read(h.data_offset, bytes, h.data_bytes, "the array data");
  if (expected_crc) {
    std::uint32_t crc = crc32(h.head.data(), h.head.size());
    crc = crc32(bytes, static_cast<std::size_t>(h.data_bytes), crc);
    if (crc != *expected_crc) throw_npy_crc(src, *expected_crc, crc);
  }
  if (!direct) {
    const std::string where = cat(src.file.op(), ": ", src.file.name());
    if (!h.fortran) {
      convert_elements(where, name, h.dtype, bytes, h.numel, out.data(), h.swap, options);
    } else {
      std::vector<T> column_major(static_cast<std::size_t>(h.numel));
      convert_elements(where, name, h.dtype, bytes, h.numel, column_major.data(), h.swap, options);
      fortran_to_c(column_major.data(), out.data(), h.shape, h.numel);
    }
  }
  return out;
}

/// Loads the .npy file (or memory block) `file`; the fuzz target's entry point.
template <class T>
Tensor<T> read_npy(const ReadFile& file, const LoadOptions& options = {}) {
  const NpyBytes src{file, 0, file.size(), {}};
  return read_npy_bytes<T>(src, std::filesystem::path(file.name()).filename().string(), options);
}

/// What to tell someone whose .npz has deflated entries.
inline const char* npz_compressed_hint() {
  return "tapegrad reads only stored (uncompressed) .npz entries: save with np.savez instead of "
         "np.savez_compressed, or re-save the file: np.savez(out, **dict(np.load(path)))";
}

/// Loads every entry of the .npz archive `file` (names without ".npy", in archive order).
template <class T>
nn::StateDict<T> read_npz(const ReadFile& file, const LoadOptions& options = {}) {
  char magic[6] = {};
  if (file.size() >= sizeof magic) {
    file.read(0, magic, sizeof magic, "the zip signature");
    if (std::memcmp(magic, "\x93NUMPY", sizeof magic) == 0)
      file.fail(0, "this is an .npy file (one array), not an .npz archive; read it with load_npy");
  }
  const ZipReader zip(file);
  nn::StateDict<T> out;
  for (const ZipEntry& e : zip.entries()) {
    const NpyBytes src{file, e.data_offset, e.size, e.name};
    if (e.method != 0)
      file.fail(e.data_offset, cat("entry \"", e.name, "\" is compressed (", e.method == 8 ? "deflate" : cat("method ", e.method),
                                   "); ", npz_compressed_hint()));
    if (e.compressed_size != e.size)
      src.fail(0, cat("a stored entry has a compressed size of ", e.compressed_size, " bytes but a size of ", e.size));
    file.check_range(e.data_offset, e.size, cat("entry \"", e.name, "\""));
    std::string key = e.name;
    if (key.size() >= 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
    if (out.contains(key)) src.fail(0, cat("a second array named \"", key, "\""));
    out.insert(key, read_npy_bytes<T>(src, key, options, &e.crc32));
  }
  return out;
}

/// The descr this library writes for T.
template <class T>
constexpr const char* npy_descr() {
  if constexpr (std::is_same_v<T, float>) return "<f4";
  else if constexpr (std::is_same_v<T, double>) return "<f8";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "<i8";
  else {
    static_assert(std::is_same_v<T, std::int32_t>, "npy: T must be float, double, int64 or int32");
    return "<i4";
  }
}

/// The header NumPy 1.24 writes for a C-order array of this shape and descr, magic to '\n', byte
/// for byte: the dict, spaces left for the first dimension to grow to 21 digits, then spaces and a
/// newline so the data starts on a 64-byte boundary; version 2.0 only if 1.0's u16 length overflows.
inline std::string npy_header(const char* descr, const Shape& shape) {
  std::string tuple = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) tuple += cat(i ? ", " : "", shape[i]);
  tuple += shape.size() == 1 ? ",)" : ")";
  std::string dict = cat("{'descr': '", descr, "', 'fortran_order': False, 'shape': ", tuple, ", }");
  if (!shape.empty()) {
    const std::size_t digits = std::to_string(shape[0]).size();
    if (digits < 21) dict.append(21 - digits, ' ');
  }
  const std::size_t text = dict.size() + 1;  // with the final '\n'
  std::size_t prefix = 10, pad = 64 - (prefix + text) % 64;
  int major = 1;
  if (text + pad > 65535) major = 2, prefix = 12, pad = 64 - (prefix + text) % 64;
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::uint64_t length = text + pad;
  for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((length >> (8 * i)) & 0xFF);
  out += dict;
  out.append(pad, ' ');
  out += '\n';
  return out;
}

/// Throws a ValueError if `tensor` cannot be written (undefined or sparse).
template <class T>
void check_npy_saveable(const char* op, const std::string& name, const Tensor<T>& tensor) {
  const std::string what = name.empty() ? std::string("the tensor") : cat("tensor \"", name, "\"");
  if (!tensor.defined()) throw ValueError(cat(op, ": ", what, " is undefined (default-constructed)"));
  if (tensor.is_sparse()) throw ValueError(cat(op, ": ", what, " is sparse; save tensor.to_dense() instead"));
  // The readers (ours and NumPy's) judge an empty array's size on its non-zero dimensions: a shape
  // whose non-zero sizes need more than 2^63 bytes would be written but never read back.
  std::uint64_t bytes = sizeof(T);
  for (std::int64_t d : tensor.shape())
    if (d != 0 && (!mul_u64(bytes, static_cast<std::uint64_t>(d), bytes) || bytes > std::uint64_t(INT64_MAX)))
      throw ValueError(cat(op, ": ", what, " has shape ", tapegrad::detail::shape_str(tensor.shape()), ", whose non-zero sizes need more ",
                           "than 2^63 bytes of ", npy_descr<T>(), ": NumPy could not read the file"));
}

/// Writes `tensor` as an .npy (format 1.0, little-endian, C order) to `out`.
template <class T>
void write_npy(Sink& out, const Tensor<T>& tensor) {
  check_npy_saveable("write_npy", "", tensor);
  out.write(npy_header(npy_descr<T>(), tensor.shape()));
  if (tensor.numel() > 0) out.write(tensor.data(), static_cast<std::size_t>(tensor.numel()) * sizeof(T));
}

/// Writes `dict` as an .npz archive to `out`, like np.savez: one stored entry "<name>.npy" each.
template <class T>
void write_npz(Sink& out, const nn::StateDict<T>& dict) {
  ZipWriter zip(out);
  for (const auto& [name, tensor] : dict) {
    MemorySink entry;
    write_npy(entry, tensor);
    zip.add(name + ".npy", entry.bytes.data(), entry.bytes.size());
  }
  zip.finish();
}

}  // namespace detail

/// Loads a NumPy .npy file as a Tensor<T>.
///
/// Reads format versions 1.0, 2.0 and 3.0 with element types float16/32/64 ('<f2', '<f4', '<f8'),
/// int8/16/32/64, uint8 and bool, little- or big-endian, in C or Fortran order (Fortran-order data
/// is rearranged into tapegrad's row-major layout). A 0-d array (shape ()) becomes a 0-d tensor.
/// Elements are converted to T only when every value converts exactly, unless
/// `options.allow_lossy(true)` (see LoadOptions); a value that changes is a ValueError.
///
/// Object arrays (pickles), strings, structured and complex dtypes, a malformed header, a shape that
/// is negative or overflows, and data that is shorter or longer than the shape needs are
/// FormatErrors naming the file, the byte offset and the value. IoError if the file cannot be read.
template <class T>
Tensor<T> load_npy(const std::filesystem::path& path, const LoadOptions& options = {}) {
  const detail::ReadFile file("load_npy", path);
  return detail::read_npy<T>(file, options);
}

/// Saves `tensor` as a NumPy .npy file that `np.load` reads: format 1.0 (2.0 for headers past 64 KiB,
/// i.e. tens of thousands of dimensions), little-endian '<f4', '<f8', '<i8' or '<i4', C order, the
/// header padded so the data starts on a 64-byte boundary, byte for byte what NumPy 1.24 writes.
/// The file is replaced only once completely written. ValueError for an undefined or sparse tensor.
template <class T>
void save_npy(const std::filesystem::path& path, const Tensor<T>& tensor) {
  detail::check_npy_saveable("save_npy", "", tensor);
  detail::write_atomically("save_npy", path, [&](detail::Sink& out) { detail::write_npy(out, tensor); });
}

/// Loads a NumPy .npz archive (as `np.savez` writes) as named tensors: the names are the entry names
/// without ".npy", in archive order; each entry is read as load_npy reads a file.
///
/// Only stored entries can be read: an archive from `np.savez_compressed` (deflated entries) is a
/// FormatError that says so and how to re-save it. Errors name the archive, the entry and the byte.
template <class T>
nn::StateDict<T> load_npz(const std::filesystem::path& path, const LoadOptions& options = {}) {
  const detail::ReadFile file("load_npz", path);
  return detail::read_npz<T>(file, options);
}

/// Saves `dict` as a NumPy .npz archive like `np.savez(path, **dict)`: one stored (uncompressed)
/// entry "<name>.npy" per tensor, in order, each as save_npy writes it. `np.load(path)[name]` gives
/// the tensor back. The file is replaced only once completely written.
template <class T>
void save_npz(const std::filesystem::path& path, const nn::StateDict<T>& dict) {
  for (const auto& [name, tensor] : dict) detail::check_npy_saveable("save_npz", name, tensor);
  detail::write_atomically("save_npz", path, [&](detail::Sink& out) { detail::write_npz(out, dict); });
}

}  // namespace tapegrad::io
