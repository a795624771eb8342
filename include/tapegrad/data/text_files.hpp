// SPDX-License-Identifier: MIT
// Readers for labelled text: fastText's `__label__` training format and CSV/TSV files (RFC 4180).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tapegrad/detail/input.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/io/detail/file.hpp"
#include "tapegrad/io/vocabulary.hpp"

namespace tapegrad::data {

/// One labelled text as the readers return it.
struct LabeledText {
  std::vector<std::string> labels;  // one for CSV/TSV; every label of the line for fastText (in order)
  std::string text;
  std::size_t line = 0;  // the line of the file it starts on, from 1
  /// The first label: the class of single-label classification.
  const std::string& label() const { return labels.front(); }
};

/// One record of a CSV/TSV file: its fields and the line it starts on.
struct DelimitedRecord {
  std::vector<std::string> fields;
  std::size_t line = 0;
};

/// Options of the CSV/TSV reader.
struct DelimitedOptions {
  DelimitedOptions() = default;
  explicit DelimitedOptions(char delimiter) : delimiter_(delimiter) {}
  /// The field separator: ',' for CSV, '\t' for TSV.
  DelimitedOptions& delimiter(char v) { delimiter_ = v; return *this; }
  /// Whether the first record is a header (skipped; it sets the number of fields like any first record).
  DelimitedOptions& header(bool v) { header_ = v; return *this; }
  /// The field holding the label (from 0; default 0).
  DelimitedOptions& label_column(std::size_t v) { label_column_ = v; return *this; }
  /// The field holding the text (from 0; default 1).
  DelimitedOptions& text_column(std::size_t v) { text_column_ = v; return *this; }
  /// Lines starting with this character (outside a quoted field) are skipped; none by default.
  DelimitedOptions& comment(std::optional<char> v) { comment_ = v; return *this; }
  char delimiter() const noexcept { return delimiter_; }
  bool header() const noexcept { return header_; }
  std::size_t label_column() const noexcept { return label_column_; }
  std::size_t text_column() const noexcept { return text_column_; }
  std::optional<char> comment() const noexcept { return comment_; }

 private:
  char delimiter_ = ',';
  bool header_ = false;
  std::size_t label_column_ = 0, text_column_ = 1;
  std::optional<char> comment_;
};

namespace detail {

/// The whole file as a string (IoError if it cannot be read; FormatError above 4 GiB).
inline std::string read_text_file(const char* op, const std::filesystem::path& path) {
  io::detail::ReadFile file(op, path);
  constexpr std::uint64_t kMax = std::uint64_t(1) << 32;
  if (file.size() > kMax)
    file.fail(tapegrad::detail::cat("the file has ", file.size(), " bytes, more than the limit of ", kMax));
  return file.read_string(0, file.size(), "the text");
}

/// "op: name:line: problem", the message of every error the readers throw.
[[noreturn]] TAPEGRAD_COLD inline void fail_at(const char* op, const std::string& name, std::size_t line,
                                               const std::string& problem) {
  throw FormatError(tapegrad::detail::cat(op, ": ", name, ":", line, ": ", problem));
}

/// `content` without a UTF-8 byte order mark.
inline std::string_view strip_bom(std::string_view content) {
  return content.substr(0, 3) == "\xEF\xBB\xBF" ? content.substr(3) : content;
}

}  // namespace detail

/// Parses CSV/TSV text per RFC 4180: records end at LF or CRLF; a field that starts with '"' is quoted
/// and may hold the delimiter, line breaks and doubled quotes ("" for "); a quote inside an unquoted
/// field is taken literally (as Python's csv module does). Empty lines and, with a comment character,
/// lines starting with it are skipped. Every record must have as many fields as the first.
/// FormatError "op: name:line: problem" for a record with another number of fields, text after a
/// closing quote, or a quoted field still open at the end of the file.
inline std::vector<DelimitedRecord> parse_delimited(std::string_view content, const std::string& name,
                                                    const DelimitedOptions& options = {},
                                                    const char* op = "parse_delimited") {
  content = detail::strip_bom(content);
  const char delimiter = options.delimiter();
  std::vector<DelimitedRecord> records;
  std::size_t line = 1, i = 0;
  const std::size_t n = content.size();
  const auto at_line_end = [&](std::size_t k) { return k >= n || content[k] == '\n' || (content[k] == '\r' && k + 1 < n && content[k + 1] == '\n'); };
  const auto skip_line_end = [&](std::size_t& k) {
    if (k < n && content[k] == '\r') ++k;
    if (k < n && content[k] == '\n') ++k, ++line;
  };
  while (i < n) {
    if (at_line_end(i) || (options.comment() && content[i] == *options.comment())) {  // empty or comment line
      while (!at_line_end(i)) ++i;
      skip_line_end(i);
      continue;
    }
    DelimitedRecord record;
    record.line = line;
    for (;;) {  // one field per pass
      std::string field;
      if (content[i] == '"') {
        const std::size_t quote_line = line;
        ++i;
        for (;;) {
          if (i >= n) detail::fail_at(op, name, quote_line, tapegrad::detail::cat("field ", record.fields.size() + 1, " opens a quote that is never closed"));
          if (content[i] == '"') {
            if (i + 1 < n && content[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (content[i] == '\n') ++line;
          field += content[i++];
        }
        if (!at_line_end(i) && content[i] != delimiter)
          detail::fail_at(op, name, line, tapegrad::detail::cat("unexpected ", tapegrad::detail::quote(std::string(1, content[i])),
                                                               " after the closing quote of field ", record.fields.size() + 1,
                                                               " (a quote inside a quoted field is written \"\")"));
      } else {
        while (!at_line_end(i) && content[i] != delimiter) field += content[i++];
      }
      record.fields.push_back(std::move(field));
      if (at_line_end(i)) break;
      ++i;  // the delimiter
      if (i >= n) {  // a delimiter at the very end: one more, empty field
        record.fields.emplace_back();
        break;
      }
    }
    skip_line_end(i);
    if (!records.empty() && record.fields.size() != records.front().fields.size())
      detail::fail_at(op, name, record.line, tapegrad::detail::cat("expected ", records.front().fields.size(),
                                                                  records.front().fields.size() == 1 ? " field" : " fields",
                                                                  ", got ", record.fields.size()));
    records.push_back(std::move(record));
  }
  return records;
}

/// Labelled texts from CSV/TSV text (see parse_delimited for the format): the label and text of every
/// record after the optional header. FormatError naming the line if a column is missing or a label empty.
inline std::vector<LabeledText> parse_text_labels(std::string_view content, const std::string& name,
                                                  const DelimitedOptions& options = {},
                                                  const char* op = "parse_text_labels") {
  std::vector<DelimitedRecord> records = parse_delimited(content, name, options, op);
  std::vector<LabeledText> out;
  const std::size_t needed = std::max(options.label_column(), options.text_column()) + 1;
  for (std::size_t r = options.header() ? 1 : 0; r < records.size(); ++r) {
    DelimitedRecord& record = records[r];
    if (record.fields.size() < needed)
      detail::fail_at(op, name, record.line, tapegrad::detail::cat("expected at least ", needed, " fields (label in column ",
                                                                  options.label_column(), ", text in column ", options.text_column(),
                                                                  ", from 0), got ", record.fields.size()));
    std::string& label = record.fields[options.label_column()];
    if (label.empty()) detail::fail_at(op, name, record.line, tapegrad::detail::cat("empty label in column ", options.label_column()));
    out.push_back({{std::move(label)}, std::move(record.fields[options.text_column()]), record.line});
  }
  return out;
}

/// Labelled texts from a CSV file (per RFC 4180; `options` picks the columns, a header, comments).
/// Errors: IoError if the file cannot be read, FormatError "read_csv: file:line: problem".
inline std::vector<LabeledText> read_csv(const std::filesystem::path& path, DelimitedOptions options = {}) {
  return parse_text_labels(detail::read_text_file("read_csv", path), path.string(), options, "read_csv");
}

/// Labelled texts from a TSV file: read_csv with a tab as the delimiter.
inline std::vector<LabeledText> read_tsv(const std::filesystem::path& path, DelimitedOptions options = {}) {
  options.delimiter('\t');
  return parse_text_labels(detail::read_text_file("read_tsv", path), path.string(), options, "read_tsv");
}

/// Parses fastText's supervised training format: one example per line, words separated by whitespace;
/// every word that starts with `label_prefix` (anywhere in the line, as fastText reads it) is a label,
/// kept without the prefix, in order; the other words, joined by single spaces, are the text. Blank
/// lines are skipped. FormatError "op: name:line: problem" for a line without a label or with an empty one.
inline std::vector<LabeledText> parse_fasttext(std::string_view content, const std::string& name,
                                               const std::string& label_prefix = "__label__",
                                               const char* op = "parse_fasttext") {
  if (label_prefix.empty()) throw ValueError(tapegrad::detail::cat(op, ": the label prefix must not be empty"));
  content = detail::strip_bom(content);
  std::vector<LabeledText> out;
  std::size_t line = 0;
  for (std::size_t begin = 0; begin < content.size();) {
    ++line;
    std::size_t end = content.find('\n', begin);
    if (end == std::string_view::npos) end = content.size();
    const std::string_view text = content.substr(begin, end - begin);
    begin = end + 1;
    LabeledText example;
    example.line = line;
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\0'; };
    for (std::size_t i = 0; i < text.size();) {
      while (i < text.size() && is_space(text[i])) ++i;
      std::size_t j = i;
      while (j < text.size() && !is_space(text[j])) ++j;
      if (j == i) break;
      const std::string_view word = text.substr(i, j - i);
      i = j;
      if (word.substr(0, label_prefix.size()) == label_prefix) {
        if (word.size() == label_prefix.size())
          detail::fail_at(op, name, line, tapegrad::detail::cat("empty label ", tapegrad::detail::quote(label_prefix),
                                                               " (expected ", label_prefix, "<name>)"));
        example.labels.emplace_back(word.substr(label_prefix.size()));
      } else {
        if (!example.text.empty()) example.text += ' ';
        example.text += word;
      }
    }
    if (example.labels.empty() && example.text.empty()) continue;  // a blank line
    if (example.labels.empty())
      detail::fail_at(op, name, line, tapegrad::detail::cat("no label (expected words like ", label_prefix, "<name>, then the text)"));
    out.push_back(std::move(example));
  }
  return out;
}

/// Reads a fastText training file (see parse_fasttext). Errors: IoError if the file cannot be read,
/// FormatError "read_fasttext: file:line: problem".
inline std::vector<LabeledText> read_fasttext(const std::filesystem::path& path, const std::string& label_prefix = "__label__") {
  return parse_fasttext(detail::read_text_file("read_fasttext", path), path.string(), label_prefix, "read_fasttext");
}

/// The labels of `examples` (every label of multi-label ones) as a vocabulary, in byte order of the
/// names, like sklearn's LabelEncoder: ids 0..C-1 that do not depend on the order of the file.
inline io::Vocabulary label_vocabulary(const std::vector<LabeledText>& examples) {
  std::vector<std::string> names;
  for (const LabeledText& e : examples) names.insert(names.end(), e.labels.begin(), e.labels.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return io::Vocabulary(names);
}

}  // namespace tapegrad::data
