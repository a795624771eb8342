// SPDX-License-Identifier: MIT
// Tokenizer: splits text into tokens by whitespace, with optional lower-casing and punctuation handling.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tapegrad/data/detail/utf8.hpp"

namespace tapegrad::data {

/// What the tokenizer does with punctuation.
enum class Punctuation {
  Keep,   // part of the word it touches: plain whitespace splitting ("hello," stays one token)
  Split,  // every punctuation character is a token of its own ("hello", ",")
  Drop,   // punctuation separates tokens and is dropped
};

/// Options of a Tokenizer (defaults: lower-case, punctuation split off, CJK ideographs one per token).
struct TokenizerOptions {
  TokenizerOptions& lowercase(bool v) { lowercase_ = v; return *this; }
  TokenizerOptions& punctuation(Punctuation v) { punctuation_ = v; return *this; }
  TokenizerOptions& split_cjk(bool v) { split_cjk_ = v; return *this; }
  bool lowercase() const noexcept { return lowercase_; }
  Punctuation punctuation() const noexcept { return punctuation_; }
  bool split_cjk() const noexcept { return split_cjk_; }

 private:
  bool lowercase_ = true;
  Punctuation punctuation_ = Punctuation::Split;
  bool split_cjk_ = true;
};

/// Splits UTF-8 text into tokens. The rule, character by character:
/// - whitespace (ASCII, U+00A0, U+3000) ends the current word;
/// - punctuation (ASCII punctuation, CJK punctuation U+3001-U+303F, full-width ！，？ ...) is kept in
///   the word, split off as a token of its own, or dropped (TokenizerOptions::punctuation), except an
///   apostrophe with an ASCII letter or digit on both sides, which stays in the word ("don't");
/// - with split_cjk, every CJK ideograph is a token of its own (Chinese has no spaces between words);
/// - everything else (letters, digits, other non-ASCII characters) extends the current word.
/// lowercase lower-cases ASCII letters only (other bytes are left alone, so UTF-8 stays valid).
/// Malformed UTF-8 bytes count as word characters of their own; no byte is ever lost except
/// whitespace and dropped punctuation.
class Tokenizer {
 public:
  explicit Tokenizer(TokenizerOptions options = {}) : options_(options) {}

  /// The tokens of `text`, in order.
  std::vector<std::string> operator()(std::string_view text) const {
    std::vector<std::string> tokens;
    std::string word;
    const auto flush = [&] {
      if (!word.empty()) tokens.push_back(std::move(word));
      word.clear();
    };
    std::size_t previous_start = 0;  // where the character before this one starts
    for (std::size_t i = 0; i < text.size();) {
      const std::size_t start = i;
      const char32_t cp = detail::next_code_point(text, i);
      const std::string_view bytes = text.substr(start, i - start);
      if (detail::is_space(cp)) {
        flush();
      } else if (detail::is_punctuation(cp) && options_.punctuation() != Punctuation::Keep &&
                 !(cp == '\'' && inside_word(text, previous_start, start, i))) {
        flush();
        if (options_.punctuation() == Punctuation::Split) tokens.emplace_back(bytes);
      } else if (options_.split_cjk() && detail::is_cjk_ideograph(cp)) {
        flush();
        tokens.emplace_back(bytes);
      } else if (options_.lowercase() && cp >= 'A' && cp <= 'Z') {
        word += static_cast<char>(cp - 'A' + 'a');
      } else {
        word += bytes;
      }
      previous_start = start;
    }
    flush();
    return tokens;
  }

  const TokenizerOptions& options() const noexcept { return options_; }

 private:
  // Whether the apostrophe at [start, end) has an ASCII letter or digit right before and after it.
  static bool inside_word(std::string_view text, std::size_t previous_start, std::size_t start, std::size_t end) {
    if (start == 0 || end >= text.size()) return false;
    std::size_t p = previous_start, n = end;
    return detail::is_ascii_alnum(detail::next_code_point(text, p)) && detail::is_ascii_alnum(detail::next_code_point(text, n));
  }

  TokenizerOptions options_;
};

/// Tokenizes `text` with default options (or `options`): see Tokenizer for the rule.
inline std::vector<std::string> tokenize(std::string_view text, TokenizerOptions options = {}) {
  return Tokenizer(options)(text);
}

}  // namespace tapegrad::data
