// SPDX-License-Identifier: MIT
// A small, strict JSON reader for file headers (safetensors), and the string escaping writers need.
//
// It is a pull reader, not a document tree: the caller asks for the value it expects next ("an
// object", "a non-negative integer"), so memory stays what the caller keeps, whatever the input.
// Strict RFC 8259: UTF-8 checked up front (no overlong forms, no surrogates, nothing past U+10FFFF),
// no comments, no trailing commas, no leading zeros or '+', control characters only escaped,
// \uXXXX surrogates only in pairs. Duplicate keys in one object are an error (the reference
// parsers silently keep one of them, and two readers could then disagree about a file). Nesting is
// limited, so hostile input cannot exhaust the stack. Errors are FormatErrors naming the file and
// the byte offset in the file.
#pragma once

#include <cctype>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tapegrad/detail/input.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/io/detail/file.hpp"

namespace tapegrad::io::detail {

/// The first byte at which `s` stops being valid UTF-8, or s.size() if all of it is valid.
inline std::size_t utf8_error_at(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = tapegrad::detail::utf8_sequence_length(s, i);  // 0: not a well-formed sequence
    if (len == 0) return i;
    i += len;
  }
  return s.size();
}

/// Appends `s` to `out` as a JSON string literal: quotes, backslash escapes for '"', '\\' and the
/// control characters; everything else (UTF-8 included) as it is. The caller checks UTF-8 first.
inline void append_json_string(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

/// `s` as a JSON string literal (see append_json_string).
inline std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

/// Pull reader over JSON text that sits at `base` bytes into `file` (used only for messages).
///
/// Typical use: `begin_object()`, then `while (next_member(key)) { ...read the value... }`.
/// Each read_* call checks that the next value has the expected kind and reports it otherwise,
/// naming `what` (e.g. "entry \"w\": \"shape\"") and the value found.
class JsonReader {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  JsonReader(std::string_view text, const ReadFile& file, std::uint64_t base, std::size_t max_depth = 64)
      : text_(text), file_(file), base_(base), max_depth_(max_depth) {
    const std::size_t bad = utf8_error_at(text_);
    if (bad != text_.size())
      fail_at(bad, cat("invalid UTF-8 (byte 0x", hex_byte(static_cast<unsigned char>(text_[bad])), ")"));
  }

  /// File offset of the next token (after whitespace).
  std::uint64_t offset() {
    skip_ws();
    return base_ + pos_;
  }

  /// The kind of the next value; a FormatError if there is none.
  Kind peek() {
    skip_ws();
    if (pos_ >= text_.size()) fail_at(pos_, "expected a value, found the end of the JSON text");
    const char c = text_[pos_];
    switch (c) {
      case '{': return Kind::Object;
      case '[': return Kind::Array;
      case '"': return Kind::String;
      case 't': case 'f': return Kind::Bool;
      case 'n': return Kind::Null;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return Kind::Number;
        fail_at(pos_, cat("expected a JSON value, found ", describe_char(c)));
    }
  }

  /// A short description of the next value for messages: the number or literal as written, a
  /// string quoted (cut at 40 bytes), or "an object" / "an array".
  std::string describe_next() {
    const Kind k = peek();
    if (k == Kind::Object) return "an object";
    if (k == Kind::Array) return "an array";
    const std::size_t start = pos_;
    std::string out;
    if (k == Kind::String) {
      JsonReader copy = *this;  // read ahead without consuming
      const std::string s = copy.parse_string();
      out = s.size() > 40 ? json_string(s.substr(0, 40)) + "..." : json_string(s);
      if (utf8_error_at(out) != out.size()) out = "a string";  // cut inside a character
      return "the string " + out;
    }
    std::size_t end = start;
    while (end < text_.size() && end - start < 40 && (std::isalnum(static_cast<unsigned char>(text_[end])) ||
                                                      text_[end] == '-' || text_[end] == '+' || text_[end] == '.'))
      ++end;
    return std::string(text_.substr(start, end - start));
  }

  /// Expects '{'. `what` names the value in messages.
  void begin_object(const std::string& what) {
    if (peek() != Kind::Object) fail_at(pos_, cat(what, " must be a JSON object, got ", describe_next()));
    enter();
    ++pos_;
    keys_.emplace_back();
    first_.push_back(true);
  }

  /// Reads the next member's key and the ':' after it, or the closing '}' (returns false). A key
  /// seen before in the same object is an error.
  bool next_member(std::string& key) {
    skip_ws();
    if (!first_.back()) {
      if (pos_ < text_.size() && text_[pos_] == '}') return close('}');
      expect(',', "',' or '}' after an object member");
      skip_ws();
    } else if (pos_ < text_.size() && text_[pos_] == '}') {
      return close('}');
    }
    first_.back() = false;
    if (pos_ >= text_.size() || text_[pos_] != '"') fail_at(pos_, cat("expected an object key (a string), found ", here()));
    const std::size_t key_at = pos_;
    key_offset_ = base_ + key_at;
    key = parse_string();
    if (!keys_.back().insert(key).second) fail_at(key_at, cat("duplicate key ", json_string(key), " in one object"));
    skip_ws();
    expect(':', "':' after an object key");
    return true;
  }

  /// File offset of the key next_member read last.
  std::uint64_t key_offset() const noexcept { return key_offset_; }

  /// Expects '['.
  void begin_array(const std::string& what) {
    if (peek() != Kind::Array) fail_at(pos_, cat(what, " must be a JSON array, got ", describe_next()));
    enter();
    ++pos_;
    keys_.emplace_back();
    first_.push_back(true);
  }

  /// Moves to the next element (true) or past the closing ']' (false).
  bool next_element() {
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == ']') return close(']');
    if (!first_.back()) {
      expect(',', "',' or ']' after an array element");
      skip_ws();
    }
    first_.back() = false;
    return true;
  }

  std::string read_string(const std::string& what) {
    if (peek() != Kind::String) fail_at(pos_, cat(what, " must be a string, got ", describe_next()));
    return parse_string();
  }

  /// A non-negative integer written without fraction or exponent that fits in 64 bits.
  std::uint64_t read_u64(const std::string& what) {
    const std::size_t start = pos_after_ws();
    bool negative = false;
    std::uint64_t magnitude = 0;
    if (!parse_integer(negative, magnitude) || negative)
      fail_at(start, cat(what, " must be a non-negative integer, got ", value_text(start)));
    return magnitude;
  }

  /// An integer written without fraction or exponent in [-2^63, 2^63).
  std::int64_t read_i64(const std::string& what) {
    const std::size_t start = pos_after_ws();
    bool negative = false;
    std::uint64_t magnitude = 0;
    const std::uint64_t min_magnitude = std::uint64_t(1) << 63;  // |INT64_MIN|
    if (!parse_integer(negative, magnitude) || magnitude > (negative ? min_magnitude : min_magnitude - 1))
      fail_at(start, cat(what, " must be an integer in [-2^63, 2^63), got ", value_text(start)));
    return negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  }

  /// Any JSON number, as the nearest double.
  double read_number(const std::string& what) {
    if (peek() != Kind::Number) fail_at(pos_, cat(what, " must be a number, got ", describe_next()));
    const std::size_t start = pos_;
    scan_number();
    return std::stod(std::string(text_.substr(start, pos_ - start)));
  }

  bool read_bool(const std::string& what) {
    if (peek() == Kind::Bool) {
      if (text_.substr(pos_, 4) == "true") {
        pos_ += 4;
        return true;
      }
      if (text_.substr(pos_, 5) == "false") {
        pos_ += 5;
        return false;
      }
    }
    fail_at(pos_after_ws(), cat(what, " must be true or false, got ", value_text(pos_)));
  }

  void read_null(const std::string& what) {
    if (peek() == Kind::Null && text_.substr(pos_, 4) == "null") {
      pos_ += 4;
      return;
    }
    fail_at(pos_after_ws(), cat(what, " must be null, got ", value_text(pos_)));
  }

  /// Skips one value of any kind (checking it as strictly as reading it would).
  void skip_value() {
    switch (peek()) {
      case Kind::Object: {
        begin_object("value");
        std::string key;
        while (next_member(key)) skip_value();
        break;
      }
      case Kind::Array:
        begin_array("value");
        while (next_element()) skip_value();
        break;
      case Kind::String: parse_string(); break;
      case Kind::Number: scan_number(); break;
      case Kind::Bool: read_bool("value"); break;
      case Kind::Null: read_null("value"); break;
    }
  }

  /// Checks that only whitespace remains.
  void finish() {
    skip_ws();
    if (pos_ != text_.size()) fail_at(pos_, cat("unexpected ", here(), " after the end of the JSON value"));
  }

  /// Throws the reader's FormatError at file offset `at`.
  [[noreturn]] TAPEGRAD_COLD void fail(std::uint64_t at, const std::string& problem) const { file_.fail(at, problem); }

 private:
  static std::string hex_byte(unsigned char c) {
    static const char hex[] = "0123456789ABCDEF";
    return std::string{hex[c >> 4], hex[c & 15]};
  }
  static std::string describe_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7F) return cat("'", c, "'");
    return cat("byte 0x", hex_byte(u));
  }
  std::string here() const { return pos_ < text_.size() ? describe_char(text_[pos_]) : "the end of the JSON text"; }

  [[noreturn]] TAPEGRAD_COLD void fail_at(std::size_t pos, const std::string& problem) const {
    file_.fail(base_ + pos, "header JSON: " + problem);
  }

  void skip_ws() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }
  std::size_t pos_after_ws() {
    skip_ws();
    return pos_;
  }

  void expect(char c, const char* what) {
    if (pos_ >= text_.size() || text_[pos_] != c) fail_at(pos_, cat("expected ", what, ", found ", here()));
    ++pos_;
  }

  void enter() {
    if (first_.size() >= max_depth_) fail_at(pos_, cat("nesting deeper than ", max_depth_, " levels"));
  }
  bool close(char) {
    ++pos_;
    keys_.pop_back();
    first_.pop_back();
    return false;
  }

  // The text of the value starting at `start`, for messages.
  std::string value_text(std::size_t start) {
    pos_ = start;
    return describe_next();
  }

  // Scans the JSON number grammar at pos_; returns whether it was an integer (no fraction or exponent).
  bool scan_number() {
    const std::size_t start = pos_;
    auto digit = [&](std::size_t i) { return i < text_.size() && text_[i] >= '0' && text_[i] <= '9'; };
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (!digit(pos_)) fail_at(start, "a number needs a digit after '-'");
    if (text_[pos_] == '0') {
      ++pos_;
      if (digit(pos_)) fail_at(start, "numbers must not have leading zeros");
    } else {
      while (digit(pos_)) ++pos_;
    }
    bool integer = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integer = false;
      ++pos_;
      if (!digit(pos_)) fail_at(pos_, "a number needs a digit after '.'");
      while (digit(pos_)) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digit(pos_)) fail_at(pos_, "a number needs a digit in its exponent");
      while (digit(pos_)) ++pos_;
    }
    return integer;
  }

  // An integer literal into sign and magnitude; false (pos_ unchanged) for anything else,
  // including integers whose magnitude does not fit in 64 bits.
  bool parse_integer(bool& negative, std::uint64_t& magnitude) {
    if (peek() != Kind::Number) return false;
    const std::size_t start = pos_;
    if (!scan_number()) {
      pos_ = start;
      return false;
    }
    negative = text_[start] == '-';
    magnitude = 0;
    for (std::size_t i = start + (negative ? 1 : 0); i < pos_; ++i)
      if (!mul_u64(magnitude, 10, magnitude) || !add_u64(magnitude, static_cast<std::uint64_t>(text_[i] - '0'), magnitude)) {
        pos_ = start;
        return false;
      }
    return true;
  }

  unsigned hex4(std::size_t at) const {
    if (at + 4 > text_.size()) fail_at(at - 2, "a \\u escape needs four hex digits");
    unsigned v = 0;
    for (std::size_t i = at; i < at + 4; ++i) {
      const char c = text_[i];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail_at(at - 2, "a \\u escape needs four hex digits");
    }
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // A string literal at pos_ (the opening quote), unescaped. The text is valid UTF-8 already.
  std::string parse_string() {
    const std::size_t start = pos_;
    ++pos_;
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail_at(start, "a string is not closed before the end of the JSON text");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        fail_at(pos_, cat("control character ", describe_char(c), " inside a string (it must be escaped)"));
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= text_.size()) fail_at(start, "a string is not closed before the end of the JSON text");
      const char e = text_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4(pos_);
          const std::size_t escape_at = pos_ - 2;
          pos_ += 4;
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at(escape_at, "a lone low surrogate \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (pos_ + 1 >= text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u')
              fail_at(escape_at, "a high surrogate \\u escape not followed by a low one");
            const unsigned low = hex4(pos_ + 2);
            if (low < 0xDC00 || low > 0xDFFF) fail_at(escape_at, "a high surrogate \\u escape not followed by a low one");
            pos_ += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: fail_at(pos_ - 2, cat("unknown escape \\", describe_char(e), " in a string"));
      }
    }
  }

  std::string_view text_;
  const ReadFile& file_;
  std::uint64_t base_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
  std::uint64_t key_offset_ = 0;
  std::vector<std::set<std::string>> keys_;  // keys seen in each open object (empty for arrays)
  std::vector<bool> first_;                  // per open container: no member/element read yet
};

}  // namespace tapegrad::io::detail
