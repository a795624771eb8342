// SPDX-License-Identifier: MIT
// UTF-8 decoding and the character classes the tokenizer needs.
#pragma once

#include <cstddef>
#include <string_view>

namespace tapegrad::data::detail {

/// Decodes the UTF-8 character at s[i] and advances i past it. A malformed byte decodes as itself
/// (so nothing is ever skipped or read past the end).
inline char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  const std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + len > s.size()) return byte(i++);
  for (std::size_t k = 1; k < len; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return byte(i++);
  char32_t cp = len == 1 ? b : b & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (byte(i + k) & 0x3F);
  i += len;
  return cp;
}

/// ASCII whitespace (space, \t, \n, \v, \f, \r), U+00A0 and the ideographic space U+3000.
inline bool is_space(char32_t cp) { return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0xA0 || cp == 0x3000; }

/// ASCII punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~), CJK punctuation (U+3001-U+303F) and the
/// full-width forms of ASCII punctuation (，！？：；（） ...).
inline bool is_punctuation(char32_t cp) {
  const bool ascii = (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
                     (cp >= 0x7B && cp <= 0x7E);
  const bool full_width = (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
                          (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65);
  return ascii || (cp >= 0x3001 && cp <= 0x303F) || full_width;
}

/// CJK ideographs (the unified blocks and their extensions, and the compatibility block).
inline bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF);
}

/// ASCII letters and digits.
inline bool is_ascii_alnum(char32_t cp) {
  return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
}

}  // namespace tapegrad::data::detail
