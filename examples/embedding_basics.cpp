// SPDX-License-Identifier: MIT
// The tutorial's Embedding walkthrough in C++: a 3 x 5 table for the words 优, 良, 差, lookups that
// are row selections, the error for an id outside the table, and an Embedding built from a given matrix.
#include <tapegrad/tapegrad.hpp>

#include <iostream>
#include <string>

namespace tg = tapegrad;
namespace nn = tapegrad::nn;

namespace {

int failures = 0;

// Every claim the program prints is also checked, so ctest notices if one stops being true.
void check(bool ok, const std::string& claim) {
  if (!ok) {
    std::cout << "FAILED: " << claim << "\n";
    ++failures;
  }
}

bool same_values(const tg::Tensor<float>& a, const tg::Tensor<float>& b) {
  return a.shape() == b.shape() && a.to_vector() == b.to_vector();
}

}  // namespace

int main() {
  std::cout << "== An Embedding for the vocabulary {优, 良, 差}\n";
  // [snippet create]
  // Same seed, same calls, same numbers: this is the weight torch.manual_seed(1) followed by
  // torch.nn.Embedding(3, 5) gives in PyTorch 1.13, digit for digit.
  tg::manual_seed(1);
  tg::io::Vocabulary vocab({"优", "良", "差"});  // ids 0, 1, 2 in this order
  nn::Embedding<float> emb(vocab.size(), 5);     // num_embeddings = 3, embedding_dim = 5
  std::cout << emb << "\n";
  // [/snippet create]

  std::cout << "\n== Looking up each word\n";
  // [snippet lookup]
  for (const std::string& word : vocab.tokens()) {
    const std::int64_t id = vocab.id(word);
    std::cout << word << " (id " << id << "):\n" << emb(tg::tensor<std::int64_t>({id})) << "\n";
  }
  // [/snippet lookup]

  std::cout << "\n== The weight holds one row per word\n";
  // [snippet weight]
  std::cout << emb.weight << "\n";
  // [/snippet weight]

  std::cout << "\n== A lookup selects rows of the weight\n";
  // [snippet rows]
  auto ids = tg::tensor<std::int64_t>(vocab.ids({"差", "优", "差"}));  // [2, 0, 2]
  auto looked_up = emb(ids);                                            // shape [3, 5]
  auto rows = tg::index_select(emb.weight, 0, ids);                     // rows 2, 0 and 2 of the weight
  std::cout << "emb(" << ids << ") =\n" << looked_up << "\n";
  std::cout << "same as rows 2, 0, 2 of the weight: " << (same_values(looked_up, rows) ? "yes" : "no") << "\n";
  // [/snippet rows]
  check(same_values(looked_up, rows), "a lookup returns the weight's rows");
  // Any shape of ids works: [2, 2] ids give [2, 2, 5] vectors.
  auto batch = emb(tg::tensor<std::int64_t>({0, 1, 2, 0}, {2, 2}));
  std::cout << "ids of shape [2, 2] give vectors of shape " << batch.shape() << "\n";
  check(batch.shape() == tg::Shape{2, 2, 5}, "[2, 2] ids give [2, 2, 5]");

  std::cout << "\n== Ids outside the table\n";
  // [snippet out_of_range]
  try {
    emb(tg::tensor<std::int64_t>({3}));  // a 4th word: the table has rows 0, 1, 2
  } catch (const tg::IndexError& e) {
    std::cout << "IndexError: " << e.what() << "\n";
  }
  // [/snippet out_of_range]
  // In a batch, the message says where the bad id sits (PyTorch: "index out of range in self").
  try {
    emb(tg::tensor<std::int64_t>({0, 1, 2, 7}, {2, 2}));
    check(false, "id 7 is refused");
  } catch (const tg::IndexError& e) {
    std::cout << "IndexError: " << e.what() << "\n";
  }
  // A word that is not in the vocabulary is caught one step earlier, by the vocabulary.
  try {
    vocab.id("中");
    check(false, "an unknown word is refused");
  } catch (const tg::IndexError& e) {
    std::cout << "IndexError: " << e.what() << "\n";
  }

  std::cout << "\n== An Embedding built from a given matrix\n";
  // [snippet pretrained]
  auto given = tg::rand<float>({3, 5}, /*requires_grad=*/true);  // torch.rand(3, 5) after the draws above
  auto emb2 = nn::Embedding<float>::from_pretrained(given);        // freeze = true by default
  std::cout << "given matrix:\n" << given << "\n";
  std::cout << "emb2([0]) =\n" << emb2(tg::tensor<std::int64_t>({0})) << "\n";
  std::cout << "emb2.weight:\n" << emb2.weight << "\n";
  // [/snippet pretrained]
  check(same_values(emb2.weight, given), "from_pretrained keeps the given values");
  check(emb2.weight.shares_storage(given), "from_pretrained shares the given tensor's elements");
  // [snippet freeze]
  // freeze, not the given tensor's requires_grad, decides whether training may change the table.
  std::cout << "requires_grad with freeze=true (the default): " << std::boolalpha << emb2.weight.requires_grad() << "\n";
  auto trainable = nn::Embedding<float>::from_pretrained(given, nn::EmbeddingFromPretrainedOptions().freeze(false));
  std::cout << "requires_grad with freeze=false: " << trainable.weight.requires_grad() << "\n";
  // [/snippet freeze]
  check(!emb2.weight.requires_grad() && trainable.weight.requires_grad(), "freeze decides requires_grad");

  if (failures > 0) return 1;
  std::cout << "\nembedding_basics: all checks passed\n";
  return 0;
}
