// SPDX-License-Identifier: MIT
// Vocabulary: tokens and their ids in the order they were added, with an optional unknown-token fallback.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tapegrad/detail/input.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/io/detail/file.hpp"
#include "tapegrad/io/detail/json.hpp"

namespace tapegrad::io {

/// Maps tokens (byte strings, usually UTF-8) to ids 0, 1, 2... in the order they were added.
class Vocabulary {
 public:
  Vocabulary() = default;

  /// A vocabulary holding `tokens` with ids 0, 1, 2...; throws ValueError if a token repeats.
  explicit Vocabulary(const std::vector<std::string>& tokens) {
    for (const std::string& t : tokens) {
      const std::int64_t before = size();
      const std::int64_t id = add(t);
      if (size() == before)
        throw ValueError(tapegrad::detail::cat("Vocabulary: token ", tapegrad::detail::quote(t), " appears twice, at positions ", id,
                                     " and ", before));
    }
  }

  /// Adds `token` if it is new and returns its id (the id it already has otherwise).
  std::int64_t add(std::string token) {
    const auto [it, inserted] = ids_.try_emplace(token, size());
    if (inserted) tokens_.push_back(std::move(token));
    return it->second;
  }

  /// Makes room for `n` tokens in all, so adding them does not regrow the tables.
  void reserve(std::int64_t n) {
    if (n <= 0) return;
    tokens_.reserve(static_cast<std::size_t>(n));
    ids_.reserve(static_cast<std::size_t>(n));
  }

  /// The id of `token`. An absent token gets the unknown-token id if one is set, else IndexError.
  std::int64_t id(const std::string& token) const {
    if (const auto it = ids_.find(token); it != ids_.end()) return it->second;
    if (unk_id_) return *unk_id_;
    throw IndexError(tapegrad::detail::cat("Vocabulary::id: unknown token ", tapegrad::detail::quote(token), " in a vocabulary of ",
                                 size(), " tokens without an unknown-token id (test with contains() or find(), "
                                 "or set a fallback with set_unk_id())"));
  }

  /// The ids of `tokens`, each as id() gives it: ready for an Embedding lookup.
  std::vector<std::int64_t> ids(const std::vector<std::string>& tokens) const {
    std::vector<std::int64_t> out;
    out.reserve(tokens.size());
    for (const std::string& t : tokens) out.push_back(id(t));
    return out;
  }

  /// The id of `token`, or nothing if it is absent (never the unknown-token id).
  std::optional<std::int64_t> find(const std::string& token) const {
    if (const auto it = ids_.find(token); it != ids_.end()) return it->second;
    return std::nullopt;
  }

  /// Whether `token` has an id of its own.
  bool contains(const std::string& token) const { return ids_.count(token) != 0; }

  /// The token with id `id`; IndexError outside [0, size()).
  const std::string& token(std::int64_t id) const {
    if (id < 0 || id >= size())
      throw IndexError(tapegrad::detail::cat("Vocabulary::token: id ", id, " is out of range [0, ", size(), ")"));
    return tokens_[static_cast<std::size_t>(id)];
  }

  /// Number of tokens.
  std::int64_t size() const noexcept { return static_cast<std::int64_t>(tokens_.size()); }
  /// Whether there are no tokens.
  bool empty() const noexcept { return tokens_.empty(); }
  /// All tokens in id order.
  const std::vector<std::string>& tokens() const noexcept { return tokens_; }

  /// The id that id() returns for unknown tokens, if any.
  std::optional<std::int64_t> unk_id() const noexcept { return unk_id_; }

  /// Makes id() return `id` for unknown tokens (std::nullopt turns the fallback off); IndexError outside [0, size()).
  void set_unk_id(std::optional<std::int64_t> id) {
    if (id && (*id < 0 || *id >= size()))
      throw IndexError(tapegrad::detail::cat("Vocabulary::set_unk_id: id ", *id, " is out of range [0, ", size(), ")"));
    unk_id_ = id;
  }

  /// The vocabulary as JSON: {"tokens": [...], "unk_id": 3} (null when there is no fallback).
  /// Tokens must be valid UTF-8 (ValueError naming the first that is not).
  std::string to_json() const {
    std::string out = "{\"tokens\":[";
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      if (detail::utf8_error_at(tokens_[i]) != tokens_[i].size())
        throw ValueError(tapegrad::detail::cat("Vocabulary: token ", i, " (", tapegrad::detail::quote(tokens_[i]),
                                               ") is not valid UTF-8, which JSON cannot hold"));
      if (i > 0) out += ',';
      detail::append_json_string(out, tokens_[i]);
    }
    out += "],\"unk_id\":";
    out += unk_id_ ? std::to_string(*unk_id_) : std::string("null");
    return out + "}";
  }

  /// Reads to_json()'s text; FormatError naming `name` (the file) and the byte for anything else:
  /// a repeated token, an unk_id out of range, another field.
  static Vocabulary from_json(const std::string& text, const std::string& name) {
    detail::ReadFile source("Vocabulary::from_json", text, name);
    detail::JsonReader json(text, source, 0);
    Vocabulary out;
    std::optional<std::int64_t> unk;
    bool has_tokens = false;
    std::string key;
    json.begin_object("the vocabulary");
    while (json.next_member(key)) {
      if (key == "tokens") {
        has_tokens = true;
        json.begin_array("\"tokens\"");
        while (json.next_element()) {
          const std::uint64_t at = json.offset();
          std::string token = json.read_string("a token");
          const std::int64_t before = out.size();
          const std::int64_t id = out.add(std::move(token));
          if (out.size() == before)
            source.fail(at, tapegrad::detail::cat("token ", tapegrad::detail::quote(out.token(id)), " appears twice, at ",
                                                  id, " and ", before));
        }
      } else if (key == "unk_id") {
        if (json.peek() == detail::JsonReader::Kind::Null) json.read_null("\"unk_id\"");
        else unk = json.read_i64("\"unk_id\"");
      } else {
        source.fail(json.offset(), "unexpected field \"" + key + "\" (expected \"tokens\" and \"unk_id\")");
      }
    }
    json.finish();
    if (!has_tokens) source.fail("no \"tokens\" field");
    if (unk && (*unk < 0 || *unk >= out.size()))
      source.fail(tapegrad::detail::cat("unk_id ", *unk, " is out of range [0, ", out.size(), ")"));
    out.unk_id_ = unk;
    return out;
  }

  /// Writes the vocabulary to `path` as to_json() (the file is replaced only once complete).
  void save(const std::filesystem::path& path) const {
    const std::string text = to_json();
    detail::write_atomically("Vocabulary::save", path, [&](detail::Sink& sink) { sink.write(text); });
  }

  /// Reads a vocabulary saved with save(), its unknown-token id included.
  static Vocabulary load(const std::filesystem::path& path) {
    detail::ReadFile file("Vocabulary::load", path);
    constexpr std::uint64_t kMax = std::uint64_t(1) << 32;  // far above real vocabularies; bounds the read
    if (file.size() > kMax) file.fail(tapegrad::detail::cat("the file has ", file.size(), " bytes, more than the limit of ", kMax));
    return from_json(file.read_string(0, file.size(), "the vocabulary"), file.name());
  }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int64_t> ids_;
  std::optional<std::int64_t> unk_id_;
};

}  // namespace tapegrad::io
