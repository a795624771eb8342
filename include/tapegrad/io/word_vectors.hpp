// SPDX-License-Identifier: MIT
// Pretrained word vectors: GloVe text, word2vec text and binary, fastText .vec loaders, and word2vec savers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/detail/input.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/factories.hpp"
#include "tapegrad/io/vocabulary.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad::io {

/// Longest token the loaders accept, in bytes. word2vec's own tools overflow a 50-byte slot on
/// longer ones; real vocabularies stay far below this bound, which keeps memory per token bounded.
inline constexpr std::size_t kMaxTokenBytes = 4096;

/// Largest vector dimension the loaders accept (published embeddings use 25 to a few thousand).
inline constexpr std::int64_t kMaxWordVectorDim = 65536;

/// The file formats the loaders read.
enum class WordVectorFormat {
  Glove,           ///< GloVe text: no header, "token v1 ... vdim" per line; tokens may contain spaces
  Word2VecText,    ///< word2vec text: header "count dim", then "token v1 ... vdim" per line
  Word2VecBinary,  ///< word2vec binary: header "count dim\n", then token, ' ', dim little-endian float32 each
  FastText,        ///< fastText .vec: the word2vec text layout
};

/// A vocabulary and its vectors: row i of `weight` ([vocab.size(), dim]) is the vector of token i,
/// ready for `nn::Embedding<T>::from_pretrained(vectors.weight)`.
template <class T = float>
struct WordVectors {
  static_assert(std::is_floating_point_v<T>, "WordVectors<T>: T must be float or double");

  Vocabulary vocab;
  Tensor<T> weight;
  /// Rows skipped because lowercase(true) mapped their token onto one already loaded.
  std::int64_t lowercase_collisions = 0;

  /// Length of each vector.
  std::int64_t dim() const { return weight.size(1); }
  /// Number of tokens (and rows).
  std::int64_t size() const { return vocab.size(); }
  /// A copy of the vector of `token` (the unknown-token row for an absent token if the vocabulary has one).
  Tensor<T> vector(const std::string& token) const {
    const std::int64_t i = vocab.id(token);
    std::vector<T> row(weight.data() + i * dim(), weight.data() + (i + 1) * dim());
    return tapegrad::tensor<T>(row);
  }
};

/// Options of the loaders, set by chaining: `WordVectorLoadOptions().max_vectors(50000).add_unk(true)`.
class WordVectorLoadOptions {
 public:
  /// Read at most `n` >= 0 vectors from the file and stop there; rows skipped by lowercase count too.
  WordVectorLoadOptions& max_vectors(std::int64_t n) {
    if (n < 0) throw ValueError(tapegrad::detail::cat("WordVectorLoadOptions::max_vectors: n = ", n, " must be >= 0"));
    max_vectors_ = n;
    return *this;
  }
  std::optional<std::int64_t> max_vectors() const noexcept { return max_vectors_; }

  /// Lower-case A-Z in tokens (other bytes, non-ASCII letters included, are kept). When two tokens
  /// become equal the first one wins and the later row is skipped and counted in lowercase_collisions.
  WordVectorLoadOptions& lowercase(bool on) {
    lowercase_ = on;
    return *this;
  }
  bool lowercase() const noexcept { return lowercase_; }

  /// Put a row of zeros for pad_token() at id 0.
  WordVectorLoadOptions& add_pad(bool on) {
    add_pad_ = on;
    return *this;
  }
  bool add_pad() const noexcept { return add_pad_; }

  /// Add a row for unk_token() (after the pad row) holding the mean of the loaded vectors, and make it
  /// the vocabulary's unknown-token fallback. A file row for unk_token() is used instead of the mean.
  WordVectorLoadOptions& add_unk(bool on) {
    add_unk_ = on;
    return *this;
  }
  bool add_unk() const noexcept { return add_unk_; }

  /// Token of the pad row (default "<pad>").
  WordVectorLoadOptions& pad_token(std::string token) {
    if (token.empty()) throw ValueError("WordVectorLoadOptions::pad_token: the token must not be empty");
    pad_token_ = std::move(token);
    return *this;
  }
  const std::string& pad_token() const noexcept { return pad_token_; }

  /// Token of the unknown-token row (default "<unk>").
  WordVectorLoadOptions& unk_token(std::string token) {
    if (token.empty()) throw ValueError("WordVectorLoadOptions::unk_token: the token must not be empty");
    unk_token_ = std::move(token);
    return *this;
  }
  const std::string& unk_token() const noexcept { return unk_token_; }

  /// Accept NaN and infinite values. Off by default: they mean a damaged file or a diverged
  /// training run, and would silently poison every similarity computed from the vectors.
  WordVectorLoadOptions& allow_nonfinite(bool on) {
    allow_nonfinite_ = on;
    return *this;
  }
  bool allow_nonfinite() const noexcept { return allow_nonfinite_; }

 private:
  std::optional<std::int64_t> max_vectors_;
  bool lowercase_ = false, add_pad_ = false, add_unk_ = false, allow_nonfinite_ = false;
  std::string pad_token_ = "<pad>", unk_token_ = "<unk>";
};

}  // namespace tapegrad::io

namespace tapegrad::detail {

inline void check_load_options(const char* op, const io::WordVectorLoadOptions& opt) {
  if (opt.add_pad() && opt.add_unk() && opt.pad_token() == opt.unk_token())
    throw ValueError(cat(op, ": pad_token and unk_token are both ", quote(opt.pad_token()), "; they must differ"));
}

/// Collects the rows of a loader run: pad and unk rows first, then the file's rows in file order.
template <class T>
class WordVectorTable {
 public:
  WordVectorTable(const char* unit, const io::WordVectorLoadOptions& opt) : unit_(unit), opt_(opt) {
    if (opt.add_pad()) vocab_.add(opt.pad_token());
    if (opt.add_unk()) unk_id_ = vocab_.add(opt.unk_token());
    specials_ = vocab_.size();
  }

  /// Sets the dimension and reserves room for `expected_rows` file rows (callers bound it by the file size).
  void start(std::int64_t dim, std::int64_t expected_rows) {
    dim_ = dim;
    const auto n = static_cast<std::size_t>(dim);
    rows_.reserve((static_cast<std::size_t>(specials_) + static_cast<std::size_t>(expected_rows)) * n);
    rows_.assign(static_cast<std::size_t>(specials_) * n, T(0));
    where_.reserve(static_cast<std::size_t>(expected_rows));
    // The hash table is filled as it is reserved, so a count not yet backed by rows only gets a capped share.
    vocab_.reserve(specials_ + std::min<std::int64_t>(expected_rows, 1 << 20));
  }

  std::int64_t dim() const noexcept { return dim_; }
  /// Rows taken from the file so far, kept or skipped.
  std::int64_t rows_read() const noexcept { return rows_read_; }
  /// Whether max_vectors() allows reading another row.
  bool may_read_more() const noexcept { return !opt_.max_vectors() || rows_read_ < *opt_.max_vectors(); }

  /// Room for the next row's values; commit() then files it under its token or drops it.
  T* row() {
    rows_.resize(rows_.size() + static_cast<std::size_t>(dim_));
    return rows_.data() + rows_.size() - dim_;
  }

  /// Files the row just written under `token`; throws for empty, overlong, duplicate or reserved tokens.
  void commit(std::string_view token, const InputPlace& at) {
    ++rows_read_;
    if (token.empty()) throw_format(at, "empty token");
    if (token.size() > io::kMaxTokenBytes)
      throw_format(at, cat("token of ", token.size(), " bytes is longer than the limit of ", io::kMaxTokenBytes,
                           " bytes: ", quote(token)));
    key_.assign(token.data(), token.size());
    if (opt_.lowercase())
      for (char& c : key_)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (opt_.add_pad() && key_ == opt_.pad_token())
      throw_format(at, cat("token ", quote(key_), " is reserved for the padding row by add_pad; rename that "
                           "row with pad_token(...) or load without add_pad"));
    if (opt_.add_unk() && key_ == opt_.unk_token()) {
      if (unk_where_) {
        repeated(*unk_where_, at);
      } else {  // the file has its own unknown-token vector (GloVe can write one): use it
        std::copy(rows_.end() - dim_, rows_.end(), rows_.begin() + unk_id_ * dim_);
        unk_where_ = at.pos;
      }
      drop_row();
      return;
    }
    const std::int64_t before = vocab_.size();
    const std::int64_t id = vocab_.add(key_);
    if (vocab_.size() == before) {
      repeated(where_[static_cast<std::size_t>(id - specials_)], at);
      drop_row();
      return;
    }
    where_.push_back(at.pos);
  }

  /// The vocabulary and weight; the unk row gets the mean of the file's rows unless the file had one.
  io::WordVectors<T> finish() && {
    const std::int64_t n = vocab_.size();
    if (opt_.add_unk()) {
      if (!unk_where_ && n > specials_) {
        std::vector<double> sum(static_cast<std::size_t>(dim_), 0.0);
        for (std::int64_t r = specials_; r < n; ++r)
          for (std::int64_t j = 0; j < dim_; ++j) sum[j] += static_cast<double>(rows_[r * dim_ + j]);
        for (std::int64_t j = 0; j < dim_; ++j)
          rows_[unk_id_ * dim_ + j] = static_cast<T>(sum[j] / static_cast<double>(n - specials_));
      }
      vocab_.set_unk_id(unk_id_);
    }
    Tensor<T> weight = empty<T>({n, dim_});
    std::copy(rows_.begin(), rows_.end(), weight.data());
    return io::WordVectors<T>{std::move(vocab_), std::move(weight), collisions_};
  }

 private:
  void drop_row() { rows_.resize(rows_.size() - static_cast<std::size_t>(dim_)); }

  // A token seen before: a lower-casing collision (counted) or a duplicate (an error).
  void repeated(std::int64_t first, const InputPlace& at) {
    if (opt_.lowercase()) {
      ++collisions_;
      return;
    }
    const bool line = std::strcmp(unit_, "line") == 0;
    throw_format(at, cat("duplicate token ", quote(key_), " (first ", line ? "on line " : "at byte ", first, ")"));
  }

  const char* unit_;
  const io::WordVectorLoadOptions& opt_;
  io::Vocabulary vocab_;
  std::vector<T> rows_;               // row-major, specials first
  std::vector<std::int64_t> where_;   // line or byte offset of each kept file row, for duplicate messages
  std::optional<std::int64_t> unk_where_;
  std::string key_;                   // the current token, lower-cased if asked (reused: no allocation per row)
  std::int64_t dim_ = 0, specials_ = 0, unk_id_ = 0, rows_read_ = 0, collisions_ = 0;
};

// Drops the spaces a word2vec writer leaves after the last value.
inline std::string_view trim_trailing_spaces(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Checks a parsed value; `what` names it in the message ("value 3 of 300").
template <class T>
void check_value(ParseStatus status, std::string_view text, T value, bool allow_nonfinite, const InputPlace& at,
                 const std::string& what) {
  if (status == ParseStatus::bad) {
    if (text.empty()) throw_format(at, cat(what, " is empty (two spaces in a row?)"));
    throw_format(at, cat("bad number ", quote(text), " (", what, ")"));
  }
  if (status == ParseStatus::out_of_range)
    throw_format(at, cat("number ", quote(text), " (", what, ") is out of range for ", dtype_name<T>()));
  if (!allow_nonfinite && !std::isfinite(value))
    throw_format(at, cat("non-finite number ", quote(text), " (", what, "); pass allow_nonfinite(true) to accept "
                         "NaN and infinity"));
}

/// Parses a text row into its token and `dim` values written to `out`, and returns the token. The last
/// `dim` space-separated fields are the values and the rest of the line is the token (GloVe has tokens
/// such as ". . ."); with `spaces_in_token` false (word2vec, fastText) a space in the token is an error.
template <class T>
std::string_view parse_text_row(std::string_view line, std::int64_t dim, bool spaces_in_token, bool allow_nonfinite,
                                T* out, const InputPlace& at) {
  line = trim_trailing_spaces(line);
  if (line.empty()) throw_format(at, cat("empty line (expected a token and ", dim, " numbers)"));
  const char* const begin = line.data();
  const char* const end = begin + line.size();
  // Fast path, one pass: a token without spaces and exactly `dim` numbers after it (every well-formed
  // word2vec row and nearly every GloVe row). Anything else is settled by the definition below.
  if (const void* sp = std::memchr(begin, ' ', line.size()); sp && sp != begin) {
    const char* q = static_cast<const char*>(sp);
    std::int64_t i = 0;
    while (i < dim && q != end) {
      if (parse_field(q + 1, end, out[i], q) != ParseStatus::ok || (!allow_nonfinite && !std::isfinite(out[i]))) break;
      ++i;
    }
    if (i == dim && q == end) return std::string_view(begin, static_cast<std::size_t>(static_cast<const char*>(sp) - begin));
  }
  const char* p = end;
  std::int64_t spaces = 0;
  while (p > begin) {
    if (*--p == ' ' && ++spaces == dim) break;
  }
  if (spaces < dim)
    throw_format(at, cat("expected a token and ", dim, " numbers, found ", spaces + 1, " field", spaces ? "s" : ""));
  const std::string_view token(begin, static_cast<std::size_t>(p - begin));
  if (!spaces_in_token && token.find(' ') != std::string_view::npos) {
    const auto fields = dim + 1 + static_cast<std::int64_t>(std::count(token.begin(), token.end(), ' '));
    throw_format(at, cat("expected ", dim + 1, " fields (a token and ", dim, " numbers), found ", fields,
                         " (word2vec and fastText tokens cannot contain spaces)"));
  }
  const char* field = p + 1;
  for (std::int64_t i = 0; i < dim; ++i) {
    const char* field_end = i + 1 < dim ? static_cast<const char*>(std::memchr(field, ' ', end - field)) : end;
    const ParseStatus status = parse_real(field, field_end, out[i]);
    if (status != ParseStatus::ok || (!allow_nonfinite && !std::isfinite(out[i])))
      check_value(status, std::string_view(field, static_cast<std::size_t>(field_end - field)), out[i],
                  allow_nonfinite, at, cat("value ", i + 1, " of ", dim));
    field = field_end + 1;
  }
  return token;
}

/// The "count dim" header of word2vec and fastText files.
struct VectorHeader {
  std::int64_t count = 0, dim = 0;
};

inline VectorHeader parse_header(std::string_view line, const InputPlace& at, const char* hint) {
  line = trim_trailing_spaces(line);
  const std::size_t space = line.find(' ');
  VectorHeader h;
  if (space == std::string_view::npos || !parse_int64(line.substr(0, space), h.count) ||
      !parse_int64(line.substr(space + 1), h.dim))
    throw_format(at, cat("expected a header \"count dim\" (two integers), found ", quote(line), hint));
  if (h.count < 0) throw_format(at, cat("negative vector count ", h.count, " in the header"));
  if (h.dim <= 0) throw_format(at, cat("dimension ", h.dim, " in the header must be positive"));
  if (h.dim > io::kMaxWordVectorDim)
    throw_format(at, cat("dimension ", h.dim, " in the header exceeds the limit of ", io::kMaxWordVectorDim));
  return h;
}

// The rows a header-driven loader will read, after checking they can fit in the bytes left: the check
// runs before any allocation, so a lying header cannot make the loader reserve more than the file holds.
inline std::int64_t rows_to_read(const VectorHeader& h, const io::WordVectorLoadOptions& opt, std::uint64_t bytes_left,
                                 std::int64_t min_row_bytes, const InputPlace& at) {
  const std::int64_t rows = opt.max_vectors() ? std::min(h.count, *opt.max_vectors()) : h.count;
  const std::uint64_t capacity = bytes_left / static_cast<std::uint64_t>(min_row_bytes);
  if (static_cast<std::uint64_t>(rows) > capacity)
    throw_format(at, cat("the header announces ", h.count, " vectors of dimension ", h.dim, ", but the ", bytes_left,
                         " bytes that follow can hold at most ", capacity, " (each takes at least ", min_row_bytes,
                         " bytes): the file is truncated or the header is wrong"));
  return rows;
}

template <class T>
io::WordVectors<T> read_glove(Input& in, const io::WordVectorLoadOptions& opt) {
  LineReader lines(in);
  std::string_view line;
  if (!lines.next(line)) throw_format(in.op(), in.name(), "the file is empty");
  const std::string_view first = trim_trailing_spaces(line);
  // The first line fixes the dimension; its token must therefore not contain spaces.
  const std::int64_t dim = static_cast<std::int64_t>(std::count(first.begin(), first.end(), ' '));
  if (dim == 0)
    throw_format(lines.place(), cat("expected a token followed by its numbers, found ", quote(first)));
  if (dim > io::kMaxWordVectorDim)
    throw_format(lines.place(), cat("the line has ", dim, " numbers, more than the limit of ", io::kMaxWordVectorDim));
  std::int64_t a = 0, b = 0;
  const std::size_t space = first.find(' ');
  if (dim == 1 && parse_int64(first.substr(0, space), a) && parse_int64(first.substr(space + 1), b) && a >= 0 && b > 0)
    throw_format(lines.place(), cat("the line ", quote(first), " looks like a word2vec header, but GloVe files have "
                                    "no header; use load_word2vec_text or load_fasttext"));
  // GloVe has no count: guess it from the first line's length (lines vary little), which stays within
  // the file's bound on rows, and spares a 100k-row file a dozen regrowths.
  std::int64_t guess = static_cast<std::int64_t>(in.bytes_left() / (line.size() + 1)) + 1;
  if (opt.max_vectors()) guess = std::min(guess, *opt.max_vectors());
  WordVectorTable<T> table("line", opt);
  table.start(dim, guess);
  do {
    if (!table.may_read_more()) break;
    const InputPlace at = lines.place();
    T* row = table.row();
    const std::string_view token = parse_text_row(line, dim, true, opt.allow_nonfinite(), row, at);
    table.commit(token, at);
  } while (lines.next(line));
  return std::move(table).finish();
}

template <class T>
io::WordVectors<T> read_word2vec_text(Input& in, const io::WordVectorLoadOptions& opt) {
  LineReader lines(in);
  std::string_view line;
  if (!lines.next(line)) throw_format(in.op(), in.name(), "the file is empty (expected a header \"count dim\")");
  const VectorHeader h = parse_header(line, lines.place(), "; GloVe files have no header: use load_glove");
  // The shortest row: a 1-byte token and dim values of one digit, each after a space, and '\n'.
  const std::int64_t rows = rows_to_read(h, opt, in.bytes_left(), 2 * h.dim + 2, lines.place());
  WordVectorTable<T> table("line", opt);
  table.start(h.dim, rows);
  while (table.rows_read() < rows) {
    if (!lines.next(line))
      throw_format(lines.next_place(), cat("the file ends after ", table.rows_read(), " of the ", h.count,
                                           " vectors the header announces (truncated file or wrong count)"));
    const InputPlace at = lines.place();
    T* row = table.row();
    const std::string_view token = parse_text_row(line, h.dim, false, opt.allow_nonfinite(), row, at);
    table.commit(token, at);
  }
  if (rows == h.count && lines.next(line))
    throw_format(lines.place(), cat("more lines than the ", h.count, " vectors the header announces (wrong count?)"));
  return std::move(table).finish();
}

// A little-endian IEEE float32, whatever the host's byte order.
inline float load_float32_le(const unsigned char* p) {
  const std::uint32_t bits = std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
                             std::uint32_t(p[3]) << 24;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Whether bytes that should be float32s are really printed numbers (a text file read as binary).
inline bool looks_like_text(const char* p, std::size_t n) {
  if (n < 8) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (!std::strchr("0123456789.-+eE \r\n", p[i]) || p[i] == '\0') return false;
  return true;
}

template <class T>
io::WordVectors<T> read_word2vec_binary(Input& in, const io::WordVectorLoadOptions& opt) {
  const auto place = [&](std::uint64_t offset) {
    return InputPlace{in.op(), in.name(), "byte", static_cast<std::int64_t>(offset)};
  };
  // The header is a short text line: "count dim\n".
  constexpr std::size_t kMaxHeaderBytes = 64;
  const std::size_t head = in.require(kMaxHeaderBytes);
  if (head == 0) throw_format(in.op(), in.name(), "the file is empty (expected a header \"count dim\")");
  const void* nl = std::memchr(in.cursor(), '\n', head);
  if (!nl)
    throw_format(place(0), cat("expected a header line \"count dim\" ending in a newline, found ",
                               quote(std::string_view(in.cursor(), head))));
  std::string_view header(in.cursor(), static_cast<std::size_t>(static_cast<const char*>(nl) - in.cursor()));
  if (!header.empty() && header.back() == '\r') header.remove_suffix(1);
  const VectorHeader h = parse_header(header, place(0), "");
  in.advance(static_cast<std::size_t>(static_cast<const char*>(nl) - in.cursor()) + 1);
  // The shortest row: a 1-byte token, a space and dim float32s (the '\n' after them is optional).
  const std::int64_t vector_bytes = 4 * h.dim;
  const std::int64_t rows = rows_to_read(h, opt, in.bytes_left(), vector_bytes + 2, place(0));
  WordVectorTable<T> table("byte", opt);
  table.start(h.dim, rows);
  std::string token_copy;  // reused, so rows cost no allocation for the token beyond the vocabulary's own
  while (table.rows_read() < rows) {
    if (in.require(1) > 0 && *in.cursor() == '\n') in.advance(1);  // the optional newline after a vector
    const std::uint64_t token_at = in.offset();
    const std::size_t avail = in.require(io::kMaxTokenBytes + 1);
    if (avail == 0)
      throw_format(place(token_at), cat("the file ends after ", table.rows_read(), " of the ", h.count,
                                        " vectors the header announces (truncated file or wrong count)"));
    const std::size_t scan = std::min(avail, io::kMaxTokenBytes + 1);
    const void* space = std::memchr(in.cursor(), ' ', scan);
    if (!space) {
      if (avail > io::kMaxTokenBytes)
        throw_format(place(token_at), cat("no space within ", io::kMaxTokenBytes + 1, " bytes: a token is longer than "
                                          "the limit of ", io::kMaxTokenBytes, " bytes, or the file is damaged"));
      throw_format(place(token_at), cat("the file ends inside a token: ", quote(std::string_view(in.cursor(), avail))));
    }
    const std::string_view token(in.cursor(), static_cast<std::size_t>(static_cast<const char*>(space) - in.cursor()));
    if (token.find('\n') != std::string_view::npos)
      throw_format(place(token_at), cat("token ", quote(token), " contains a newline (at most one '\\n' may "
                                        "separate two vectors)"));
    const InputPlace at = place(token_at);
    T* row = table.row();
    // The token's bytes live in the input buffer, which the next require() may move: copy them first.
    token_copy.assign(token.data(), token.size());
    in.advance(token.size() + 1);
    const std::uint64_t vector_at = in.offset();
    const std::size_t got = in.require(static_cast<std::size_t>(vector_bytes));
    if (got < static_cast<std::size_t>(vector_bytes))
      throw_format(place(vector_at), cat("the file ends inside the vector of token ", quote(token_copy), " (",
                                         vector_bytes, " bytes needed, ", got, " left)"));
    if (table.rows_read() == 0 && looks_like_text(in.cursor(), static_cast<std::size_t>(vector_bytes)))
      throw_format(place(vector_at), cat("the vector of token ", quote(token_copy), " looks like text (",
                                         quote(std::string_view(in.cursor(), static_cast<std::size_t>(vector_bytes))),
                                         "); for word2vec text files use load_word2vec_text"));
    const auto* bytes = reinterpret_cast<const unsigned char*>(in.cursor());
    for (std::int64_t j = 0; j < h.dim; ++j) {
      const float v = load_float32_le(bytes + 4 * j);
      if (!opt.allow_nonfinite() && !std::isfinite(v))
        throw_format(place(vector_at + 4 * j),
                     cat("non-finite value ", v, " (value ", j + 1, " of ", h.dim, " of token ", quote(token_copy),
                         "); pass allow_nonfinite(true) to accept NaN and infinity"));
      row[j] = static_cast<T>(v);
    }
    in.advance(static_cast<std::size_t>(vector_bytes));
    table.commit(token_copy, at);
  }
  if (rows == h.count) {
    if (in.require(1) > 0 && *in.cursor() == '\n') in.advance(1);
    if (in.require(1) > 0)
      throw_format(place(in.offset()), cat("unexpected data after the ", h.count,
                                           " vectors the header announces (wrong count?)"));
  }
  return std::move(table).finish();
}

template <class T>
io::WordVectors<T> read_word_vectors(Input& in, io::WordVectorFormat format, const io::WordVectorLoadOptions& opt) {
  switch (format) {
    case io::WordVectorFormat::Glove: return read_glove<T>(in, opt);
    case io::WordVectorFormat::Word2VecText:
    case io::WordVectorFormat::FastText: return read_word2vec_text<T>(in, opt);
    case io::WordVectorFormat::Word2VecBinary: return read_word2vec_binary<T>(in, opt);
  }
  throw ValueError(cat(in.op(), ": unknown WordVectorFormat ", static_cast<int>(format)));
}

inline const char* loader_name(io::WordVectorFormat format) {
  switch (format) {
    case io::WordVectorFormat::Glove: return "load_glove";
    case io::WordVectorFormat::Word2VecText: return "load_word2vec_text";
    case io::WordVectorFormat::Word2VecBinary: return "load_word2vec_binary";
    case io::WordVectorFormat::FastText: return "load_fasttext";
  }
  throw ValueError(cat("load_word_vectors: unknown WordVectorFormat ", static_cast<int>(format)));
}

/// Checks that `vectors` can be written as word2vec (and read back), before any file is touched.
template <class T>
void check_saveable(const char* op, const io::WordVectors<T>& vectors, bool binary) {
  const Tensor<T>& w = vectors.weight;
  if (!w.defined()) throw ValueError(cat(op, ": the weight is undefined"));
  if (w.is_sparse()) throw ValueError(cat(op, ": the weight is sparse; save its to_dense()"));
  const std::int64_t n = vectors.vocab.size();
  if (w.dim() != 2 || w.size(0) != n || w.size(1) < 1 || w.size(1) > io::kMaxWordVectorDim)
    throw ShapeError(cat(op, ": weight of shape ", shape_str(w.shape()), " does not fit a vocabulary of ", n,
                         " tokens (expected [", n, ", dim] with dim in [1, ", io::kMaxWordVectorDim + 1, "))"));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::string& t = vectors.vocab.token(i);
    const char* problem = t.empty()                                ? "is empty"
                          : t.size() > io::kMaxTokenBytes          ? "is longer than kMaxTokenBytes"
                          : t.find(' ') != std::string::npos       ? "contains a space"
                          : t.find('\n') != std::string::npos      ? "contains a newline"
                                                                   : nullptr;
    if (problem)
      throw ValueError(cat(op, ": token ", i, " (", quote(t), ") ", problem, ", which a word2vec file cannot hold"));
  }
  if (binary && std::is_same_v<T, double>) {
    const T* p = w.data();
    for (std::int64_t k = 0; k < w.numel(); ++k)
      if (std::isfinite(p[k]) && std::fabs(p[k]) > std::numeric_limits<float>::max())
        throw ValueError(cat(op, ": value ", p[k], " at [", k / w.size(1), ", ", k % w.size(1),
                             "] is out of range for float32, the only type word2vec binary files hold"));
  }
}

/// Writes word2vec text or binary to `out` (anything with append(const char*, std::size_t)).
template <class T, class Sink>
void write_word2vec(Sink& out, const io::WordVectors<T>& vectors, bool binary) {
  const std::int64_t n = vectors.vocab.size(), dim = vectors.weight.size(1);
  std::string buf = cat(n, " ", dim, "\n");
  out.append(buf.data(), buf.size());
  const T* p = vectors.weight.data();
  for (std::int64_t i = 0; i < n; ++i, p += dim) {
    buf = vectors.vocab.token(i);
    if (binary) {
      buf += ' ';
      for (std::int64_t j = 0; j < dim; ++j) {
        const float f = static_cast<float>(p[j]);
        std::uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        for (int k = 0; k < 4; ++k) buf += static_cast<char>((bits >> (8 * k)) & 0xFF);
      }
    } else {
      for (std::int64_t j = 0; j < dim; ++j) {
        buf += ' ';
        append_real(buf, p[j]);
      }
    }
    buf += '\n';
    out.append(buf.data(), buf.size());
  }
}

/// A file opened for writing that reports every failure as FormatError.
class FileSink {
 public:
  FileSink(const char* op, const std::filesystem::path& path) : op_(op), name_(path.string()) {
    errno = 0;
    file_ = std::fopen(name_.c_str(), "wb");
    if (!file_) throw_format(op_, name_, cat("cannot create: ", std::generic_category().message(errno)));
  }
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;
  ~FileSink() {
    if (file_) std::fclose(file_);
  }
  void append(const char* p, std::size_t n) {
    if (std::fwrite(p, 1, n, file_) != n)
      throw_format(op_, name_, cat("write error: ", std::generic_category().message(errno)));
  }
  void close() {
    std::FILE* f = std::exchange(file_, nullptr);
    if (std::fclose(f) != 0) throw_format(op_, name_, cat("write error: ", std::generic_category().message(errno)));
  }

 private:
  const char* op_;
  std::string name_;
  std::FILE* file_ = nullptr;
};

}  // namespace tapegrad::detail

namespace tapegrad::io {

/// Loads a GloVe text file: no header; each line is a token and its numbers, the last `dim` fields
/// being the numbers (so tokens may contain spaces) and `dim` coming from the first line.
template <class T = float>
WordVectors<T> load_glove(const std::filesystem::path& path, const WordVectorLoadOptions& options = {}) {
  tapegrad::detail::check_load_options("load_glove", options);
  tapegrad::detail::Input in("load_glove", path);
  return tapegrad::detail::read_glove<T>(in, options);
}

/// Loads a word2vec text file: a header "count dim", then one "token v1 ... vdim" line per vector.
template <class T = float>
WordVectors<T> load_word2vec_text(const std::filesystem::path& path, const WordVectorLoadOptions& options = {}) {
  tapegrad::detail::check_load_options("load_word2vec_text", options);
  tapegrad::detail::Input in("load_word2vec_text", path);
  return tapegrad::detail::read_word2vec_text<T>(in, options);
}

/// Loads a word2vec binary file: a header line "count dim", then per vector the token, a space, `dim`
/// little-endian float32s and an optional '\n'.
template <class T = float>
WordVectors<T> load_word2vec_binary(const std::filesystem::path& path, const WordVectorLoadOptions& options = {}) {
  tapegrad::detail::check_load_options("load_word2vec_binary", options);
  tapegrad::detail::Input in("load_word2vec_binary", path);
  return tapegrad::detail::read_word2vec_binary<T>(in, options);
}

/// Loads a fastText .vec file (the word2vec text layout).
template <class T = float>
WordVectors<T> load_fasttext(const std::filesystem::path& path, const WordVectorLoadOptions& options = {}) {
  tapegrad::detail::check_load_options("load_fasttext", options);
  tapegrad::detail::Input in("load_fasttext", path);
  return tapegrad::detail::read_word2vec_text<T>(in, options);
}

/// Loads a file in `format`, as the format's own loader does (its name starts the error messages).
template <class T = float>
WordVectors<T> load_word_vectors(const std::filesystem::path& path, WordVectorFormat format,
                                 const WordVectorLoadOptions& options = {}) {
  const char* op = tapegrad::detail::loader_name(format);
  tapegrad::detail::check_load_options(op, options);
  tapegrad::detail::Input in(op, path);
  return tapegrad::detail::read_word_vectors<T>(in, format, options);
}

/// Parses `bytes` laid out as a file in `format`; `name` stands for the file in error messages.
template <class T = float>
WordVectors<T> parse_word_vectors(std::string_view bytes, WordVectorFormat format,
                                  const WordVectorLoadOptions& options = {}, std::string name = "<memory>") {
  const char* op = tapegrad::detail::loader_name(format);
  tapegrad::detail::check_load_options(op, options);
  tapegrad::detail::Input in(op, bytes, std::move(name));
  return tapegrad::detail::read_word_vectors<T>(in, format, options);
}

/// Writes `vectors` as word2vec text: "count dim", then "token v1 ... vdim" per line, each value the
/// shortest text that reads back exactly. Tokens must be non-empty, without spaces or newlines.
template <class T>
void save_word2vec_text(const std::filesystem::path& path, const WordVectors<T>& vectors) {
  tapegrad::detail::check_saveable("save_word2vec_text", vectors, false);
  tapegrad::detail::FileSink out("save_word2vec_text", path);
  tapegrad::detail::write_word2vec(out, vectors, false);
  out.close();
}

/// Writes `vectors` as word2vec binary (values as little-endian float32, each vector followed by '\n').
template <class T>
void save_word2vec_binary(const std::filesystem::path& path, const WordVectors<T>& vectors) {
  tapegrad::detail::check_saveable("save_word2vec_binary", vectors, true);
  tapegrad::detail::FileSink out("save_word2vec_binary", path);
  tapegrad::detail::write_word2vec(out, vectors, true);
  out.close();
}

}  // namespace tapegrad::io
