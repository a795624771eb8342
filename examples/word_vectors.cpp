// SPDX-License-Identifier: MIT
// Pretrained word vectors: load a GloVe text file with tapegrad::io, put it in a frozen Embedding,
// then find nearest neighbours by cosine similarity and solve analogies such as
// king - man + woman = queen.
//
// Usage: word_vectors [vectors.txt]
//   Any GloVe text file works (glove.6B.50d.txt for instance). The default is the small synthetic
//   examples/data/tiny_vectors.txt that tools/make_tiny_vectors.py writes: 241 words, 32 dimensions.
#include <tapegrad/tapegrad.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#ifndef TAPEGRAD_EXAMPLES_DATA_DIR
#define TAPEGRAD_EXAMPLES_DATA_DIR "examples/data"
#endif

namespace tg = tapegrad;
namespace nn = tapegrad::nn;

namespace {

// The k (word, similarity) pairs with the largest similarities, leaving out the words in `skip`.
std::vector<std::pair<std::string, float>> top_k(const tg::Tensor<float>& similarities, const tg::io::Vocabulary& vocab,
                                                 std::size_t k, const std::vector<std::string>& skip) {
  const std::vector<float> s = similarities.to_vector();
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < vocab.size(); ++i)
    if (std::find(skip.begin(), skip.end(), vocab.token(i)) == skip.end()) ids.push_back(i);
  k = std::min(k, ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(),
                    [&](std::int64_t a, std::int64_t b) { return s[static_cast<std::size_t>(a)] > s[static_cast<std::size_t>(b)]; });
  std::vector<std::pair<std::string, float>> out;
  for (std::size_t j = 0; j < k; ++j) out.emplace_back(vocab.token(ids[j]), s[static_cast<std::size_t>(ids[j])]);
  return out;
}

int run(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : std::string(TAPEGRAD_EXAMPLES_DATA_DIR) + "/tiny_vectors.txt";

  // [snippet load]
  tg::io::WordVectors<float> vectors = tg::io::load_glove<float>(path);  // vocabulary + [words, dim] weight
  auto emb = nn::Embedding<float>::from_pretrained(vectors.weight);      // frozen: freeze defaults to true
  const tg::io::Vocabulary& vocab = vectors.vocab;
  std::cout << "loaded " << vectors.size() << " words of " << vectors.dim() << " dimensions from " << path << "\n"
            << emb << "\n";
  // [/snippet load]

  // [snippet cosine]
  tg::NoGradGuard no_grad;  // nothing here is trained, so nothing needs recording
  // Each row divided by its length: the cosine similarity of two words is then a dot product, and
  // one matrix-vector product gives a query's similarity to every word.
  auto unit_rows = emb.weight / tg::norm(emb.weight, 2, {1}, /*keepdim=*/true);  // [words, dim]
  auto similarity_to_all = [&](const tg::Tensor<float>& v) { return tg::matmul(unit_rows, v / tg::norm(v)); };
  auto vector_of = [&](const std::string& word) {  // an Embedding lookup: [dim]
    return emb(tg::scalar_tensor<std::int64_t>(vocab.id(word)));
  };
  // [/snippet cosine]

  std::cout << "\n== Nearest neighbours by cosine similarity\n";
  for (const std::string word : {"king", "paris", "dog", "good", "优"}) {
    std::cout << word << ":";
    for (const auto& [other, sim] : top_k(similarity_to_all(vector_of(word)), vocab, 5, {word}))
      std::printf(" %s (%.3f)", other.c_str(), sim);
    std::cout << "\n";
  }

  std::cout << "\n== Analogies: b - a + c, the nearest word other than a, b and c\n";
  int failures = 0;
  const std::vector<std::vector<std::string>> analogies{{"man", "king", "woman", "queen"},
                                                        {"france", "paris", "germany", "berlin"},
                                                        {"italy", "rome", "spain", "madrid"},
                                                        {"man", "woman", "boy", "girl"},
                                                        {"dog", "puppy", "cat", "kitten"}};
  for (const auto& q : analogies) {
    const std::string &a = q[0], &b = q[1], &c = q[2], &expected = q[3];
    // [snippet analogy]
    // king - man + woman, with each vector first scaled to length 1 (as gensim's most_similar does).
    auto unit = [&](const std::string& word) { return vector_of(word) / tg::norm(vector_of(word)); };
    auto target = unit(b) - unit(a) + unit(c);
    auto best = top_k(similarity_to_all(target), vocab, 1, {a, b, c}).front();
    // [/snippet analogy]
    std::printf("%s - %s + %s = %s (%.3f)%s\n", b.c_str(), a.c_str(), c.c_str(), best.first.c_str(), best.second,
                best.first == expected ? "" : ("   FAILED: expected " + expected).c_str());
    failures += best.first != expected;
  }

  std::cout << "\n== Words outside the vocabulary\n";
  // [snippet unknown]
  std::cout << "contains(\"unicorn\"): " << std::boolalpha << vocab.contains("unicorn") << "\n";
  try {
    vector_of("unicorn");
  } catch (const tg::IndexError& e) {
    std::cout << "IndexError: " << e.what() << "\n";
  }
  // [/snippet unknown]

  if (failures > 0) return 1;
  std::cout << "\nword_vectors: all checks passed\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a missing or malformed data file
    std::cerr << "word_vectors: " << e.what() << "\n";
    return 1;
  }
}
