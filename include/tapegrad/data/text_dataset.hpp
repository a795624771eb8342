// SPDX-License-Identifier: MIT
// Turning labelled texts into a dataset of token ids and class indices, ready for a DataLoader.
#pragma once

#include <string>
#include <vector>

#include "tapegrad/data/collate.hpp"
#include "tapegrad/data/dataset.hpp"
#include "tapegrad/data/text_files.hpp"
#include "tapegrad/data/tokenizer.hpp"
#include "tapegrad/detail/input.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/io/vocabulary.hpp"

namespace tapegrad::data {

/// Tokenizes each text and maps its tokens through `vocab` (unknown tokens to its unk id; IndexError
/// without one) and its first label through `labels` (ValueError naming the line for a label
/// `labels` lacks). Multi-label fastText lines keep their first label only.
inline VectorDataset<TokenExample> encode_texts(const std::vector<LabeledText>& texts, const Tokenizer& tokenizer,
                                                const io::Vocabulary& vocab, const io::Vocabulary& labels) {
  std::vector<TokenExample> out;
  out.reserve(texts.size());
  for (const LabeledText& t : texts) {
    if (t.labels.empty())
      throw ValueError(tapegrad::detail::cat("encode_texts: the text of line ", t.line, " has no label"));
    const auto label = labels.find(t.label());
    if (!label)
      throw ValueError(tapegrad::detail::cat("encode_texts: the label ", tapegrad::detail::quote(t.label()), " of line ", t.line,
                                             " is not one of the ", labels.size(), " known labels"));
    out.push_back({vocab.ids(tokenizer(t.text)), *label});
  }
  return VectorDataset<TokenExample>(std::move(out));
}

}  // namespace tapegrad::data
