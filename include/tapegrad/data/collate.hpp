// SPDX-License-Identifier: MIT
// Collate functions: turn the examples of one batch into tensors (DataLoader's collate_fn).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "tapegrad/data/dataset.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/factories.hpp"
#include "tapegrad/ops/shape.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad::data {

/// A tokenised text and its class: what the text collates below take.
struct TokenExample {
  std::vector<std::int64_t> ids;  // token ids, any length (0 too)
  std::int64_t label = 0;         // class index
};

/// A batch in EmbeddingBag's layout: every example's ids one after another, where each starts, and
/// the labels. Feed it as `bag(batch.indices, batch.offsets)`.
struct BagBatch {
  Tensor<std::int64_t> indices;  // [total tokens]
  Tensor<std::int64_t> offsets;  // [B]: offsets[0] = 0, offsets[b] = tokens of examples 0..b-1
  Tensor<std::int64_t> labels;   // [B]
  /// Number of examples.
  std::int64_t size() const { return labels.numel(); }
};

/// A batch of token lists padded to one length: ids[b, t] is token t of example b, or padding_idx
/// past its end.
struct PaddedBatch {
  Tensor<std::int64_t> ids;      // [B, L], L the longest (kept) length in the batch
  Tensor<std::int64_t> lengths;  // [B]: the number of real tokens in each row
  Tensor<std::int64_t> labels;   // [B]
  /// Number of examples.
  std::int64_t size() const { return labels.numel(); }
};

/// Packs token lists into EmbeddingBag's (indices, offsets) plus labels. An empty list gives an
/// empty bag (two equal offsets), which EmbeddingBag turns into a row of zeros, as PyTorch.
inline BagBatch collate_bags(const std::vector<TokenExample>& examples) {
  std::vector<std::int64_t> indices, offsets, labels;
  std::size_t total = 0;
  for (const TokenExample& e : examples) total += e.ids.size();
  indices.reserve(total);
  offsets.reserve(examples.size());
  labels.reserve(examples.size());
  for (const TokenExample& e : examples) {
    offsets.push_back(static_cast<std::int64_t>(indices.size()));
    indices.insert(indices.end(), e.ids.begin(), e.ids.end());
    labels.push_back(e.label);
  }
  return {tensor<std::int64_t>(indices), tensor<std::int64_t>(offsets), tensor<std::int64_t>(labels)};
}

/// Pads token lists to the longest one with `padding_idx` (the id Embedding's padding_idx names, usually
/// that of "<pad>"), as torch.nn.utils.rnn.pad_sequence(batch_first=True, padding_value=padding_idx).
/// With `max_length`, longer lists are cut to their first max_length tokens (ValueError if negative).
inline PaddedBatch collate_padded(const std::vector<TokenExample>& examples, std::int64_t padding_idx,
                                  std::optional<std::int64_t> max_length = std::nullopt) {
  if (max_length && *max_length < 0)
    throw ValueError(detail::cat("collate_padded: max_length = ", *max_length, " must be non-negative"));
  const auto kept = [&](const TokenExample& e) {
    const auto n = static_cast<std::int64_t>(e.ids.size());
    return max_length ? std::min(n, *max_length) : n;
  };
  std::int64_t width = 0;
  for (const TokenExample& e : examples) width = std::max(width, kept(e));
  const auto rows = static_cast<std::int64_t>(examples.size());
  if (width > 0 && rows > std::numeric_limits<std::int64_t>::max() / width)
    throw ValueError(detail::cat("collate_padded: ", rows, " rows of ", width, " tokens overflow int64"));
  std::vector<std::int64_t> ids(static_cast<std::size_t>(rows * width), padding_idx), lengths, labels;
  lengths.reserve(examples.size());
  labels.reserve(examples.size());
  for (std::size_t b = 0; b < examples.size(); ++b) {
    const std::int64_t n = kept(examples[b]);
    std::copy_n(examples[b].ids.begin(), n, ids.begin() + static_cast<std::ptrdiff_t>(b) * width);
    lengths.push_back(n);
    labels.push_back(examples[b].label);
  }
  return {tensor<std::int64_t>(ids, {rows, width}), tensor<std::int64_t>(lengths), tensor<std::int64_t>(labels)};
}

/// A batch of TensorDataset examples: the inputs and targets stacked along a new dim 0.
template <class T, class Target = std::int64_t>
struct TensorBatch {
  Tensor<T> inputs;        // [B, ...]
  Tensor<Target> targets;  // [B, ...]
  /// Number of examples.
  std::int64_t size() const { return targets.size(0); }
};

/// The collate_fn that hands the examples over as they are (a std::vector of them).
struct NoCollate {
  template <class Example>
  const std::vector<Example>& operator()(const std::vector<Example>& examples) const {
    return examples;
  }
};

/// The collate_fn for TokenExample batches in EmbeddingBag's layout (collate_bags).
struct BagCollate {
  BagBatch operator()(const std::vector<TokenExample>& examples) const { return collate_bags(examples); }
};

/// The collate_fn for TokenExample batches padded to [B, L] (collate_padded).
struct PadCollate {
  std::int64_t padding_idx = 0;
  std::optional<std::int64_t> max_length;
  PaddedBatch operator()(const std::vector<TokenExample>& examples) const {
    return collate_padded(examples, padding_idx, max_length);
  }
};

/// The collate_fn for TensorDataset batches: stacks inputs and targets, as PyTorch's default_collate.
struct StackCollate {
  template <class T, class Target>
  TensorBatch<T, Target> operator()(const std::vector<TensorExample<T, Target>>& examples) const {
    if (examples.empty()) throw ValueError("StackCollate: a batch needs at least one example");
    std::vector<Tensor<T>> inputs;
    std::vector<Tensor<Target>> targets;
    for (const auto& e : examples) {
      inputs.push_back(e.input);
      targets.push_back(e.target);
    }
    return {stack(inputs, 0), stack(targets, 0)};
  }
};

}  // namespace tapegrad::data
