// SPDX-License-Identifier: MIT
// VocabularyBuilder: counts tokens of a corpus and builds an io::Vocabulary from them, like
// torchtext's build_vocab_from_iterator.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tapegrad/detail/input.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/io/vocabulary.hpp"

namespace tapegrad::data {

/// Options for building a vocabulary (torchtext's build_vocab_from_iterator: min_freq, max_tokens,
/// specials, and set_default_index for the unknown token).
struct VocabularyOptions {
  /// Tokens seen fewer times are left out (min_freq; at least 1).
  VocabularyOptions& min_count(std::int64_t v) { min_count_ = v; return *this; }
  /// The most tokens the vocabulary holds, specials included (max_tokens); none: no limit.
  VocabularyOptions& max_size(std::optional<std::int64_t> v) { max_size_ = v; return *this; }
  /// Tokens given the first ids, in this order (default "<pad>" = 0, "<unk>" = 1).
  VocabularyOptions& specials(std::vector<std::string> v) { specials_ = std::move(v); return *this; }
  /// The special that unknown tokens map to (io::Vocabulary::set_unk_id); none: unknown tokens throw.
  VocabularyOptions& unk_token(std::optional<std::string> v) { unk_token_ = std::move(v); return *this; }
  std::int64_t min_count() const noexcept { return min_count_; }
  std::optional<std::int64_t> max_size() const noexcept { return max_size_; }
  const std::vector<std::string>& specials() const noexcept { return specials_; }
  const std::optional<std::string>& unk_token() const noexcept { return unk_token_; }

 private:
  std::int64_t min_count_ = 1;
  std::optional<std::int64_t> max_size_;
  std::vector<std::string> specials_{"<pad>", "<unk>"};
  std::optional<std::string> unk_token_ = std::string("<unk>");
};

/// Counts the tokens of a corpus, then builds a Vocabulary: the specials first, then every token
/// seen at least min_count times, most frequent first, ties in byte order of the token (torchtext's
/// rule, so the vocabulary does not depend on the order of the corpus), cut to max_size tokens in
/// all. A special that also occurs in the corpus keeps its special id and is not counted again.
class VocabularyBuilder {
 public:
  /// Counts every token of one document.
  void add(const std::vector<std::string>& tokens) {
    for (const std::string& t : tokens) ++counts_[t];
  }
  /// Counts one token once.
  void add_token(const std::string& token) { ++counts_[token]; }

  /// How often `token` has been seen.
  std::int64_t count(const std::string& token) const {
    const auto it = counts_.find(token);
    return it == counts_.end() ? 0 : it->second;
  }
  /// Number of distinct tokens seen.
  std::size_t distinct() const noexcept { return counts_.size(); }

  /// The vocabulary of the tokens counted so far. ValueError for min_count < 1, a max_size smaller
  /// than the number of specials, a repeated special or an unk_token that is not a special.
  io::Vocabulary build(const VocabularyOptions& options = {}) const {
    const auto& specials = options.specials();
    if (options.min_count() < 1)
      throw ValueError(tapegrad::detail::cat("VocabularyBuilder::build: min_count = ", options.min_count(), " must be at least 1"));
    if (options.max_size() && *options.max_size() < static_cast<std::int64_t>(specials.size()))
      throw ValueError(tapegrad::detail::cat("VocabularyBuilder::build: max_size = ", *options.max_size(),
                                             " leaves no room for the ", specials.size(), " specials"));
    io::Vocabulary vocab(specials);  // throws ValueError for a repeated special
    if (const auto& unk = options.unk_token()) {
      const auto id = vocab.find(*unk);
      if (!id)
        throw ValueError(tapegrad::detail::cat("VocabularyBuilder::build: unk_token ", tapegrad::detail::quote(*unk),
                                               " is not one of the specials"));
      vocab.set_unk_id(*id);
    }
    std::vector<std::pair<const std::string*, std::int64_t>> kept;
    for (const auto& [token, count] : counts_)
      if (count >= options.min_count() && !vocab.contains(token)) kept.emplace_back(&token, count);
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : *a.first < *b.first;
    });
    std::size_t room = kept.size();
    if (options.max_size()) room = std::min(room, static_cast<std::size_t>(*options.max_size() - vocab.size()));
    vocab.reserve(vocab.size() + static_cast<std::int64_t>(room));
    for (std::size_t i = 0; i < room; ++i) vocab.add(*kept[i].first);
    return vocab;
  }

 private:
  std::unordered_map<std::string, std::int64_t> counts_;
};

/// The vocabulary of tokenised documents (torchtext's build_vocab_from_iterator): see VocabularyBuilder.
inline io::Vocabulary build_vocabulary(const std::vector<std::vector<std::string>>& documents,
                                       const VocabularyOptions& options = {}) {
  VocabularyBuilder builder;
  for (const auto& d : documents) builder.add(d);
  return builder.build(options);
}

}  // namespace tapegrad::data
