// SPDX-License-Identifier: MIT
// Vocabulary: tokens and their ids in the order they were added, with an optional unknown-token fallback.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tapegrad/detail/input.hpp"
#include "tapegrad/error.hpp"

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
        throw ValueError(detail::cat("Vocabulary: token ", detail::quote(t), " appears twice, at positions ", id,
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
    throw IndexError(detail::cat("Vocabulary::id: unknown token ", detail::quote(token), " in a vocabulary of ",
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
      throw IndexError(detail::cat("Vocabulary::token: id ", id, " is out of range [0, ", size(), ")"));
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
      throw IndexError(detail::cat("Vocabulary::set_unk_id: id ", *id, " is out of range [0, ", size(), ")"));
    unk_id_ = id;
  }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int64_t> ids_;
  std::optional<std::int64_t> unk_id_;
};

}  // namespace tapegrad::io
