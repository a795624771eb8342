// SPDX-License-Identifier: MIT
// examples/data/tiny_vectors.txt (made by tools/make_tiny_vectors.py) loads with load_glove, and its
// nearest neighbours and analogies make sense by cosine similarity, computed here with plain loops.
#include <cmath>

#include "support/test.hpp"

namespace tiny_vectors_test {  // this file's tests and helpers: apart from other files' in a unity build

using namespace tapegrad;

namespace {

const std::string kTinyVectors = std::string(TAPEGRAD_EXAMPLE_DATA_DIR) + "/tiny_vectors.txt";

std::vector<double> unit_row(const io::WordVectors<float>& wv, std::int64_t id) {
  std::vector<double> v(wv.weight.data() + id * wv.dim(), wv.weight.data() + (id + 1) * wv.dim());
  double norm = 0;
  for (double x : v) norm += x * x;
  for (double& x : v) x /= std::sqrt(norm);
  return v;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

// The word most similar by cosine to `target`, leaving out `excluded` (the query words, as word2vec does).
std::string most_similar(const io::WordVectors<float>& wv, const std::vector<double>& target,
                         const std::vector<std::string>& excluded) {
  std::string best;
  double best_score = -2;
  for (std::int64_t i = 0; i < wv.size(); ++i) {
    const std::string& w = wv.vocab.token(i);
    if (std::find(excluded.begin(), excluded.end(), w) != excluded.end()) continue;
    const double s = cosine(unit_row(wv, i), target);
    if (s > best_score) best_score = s, best = w;
  }
  return best;
}

// b - a + c on unit vectors, answered by most_similar: "a is to b as c is to ?".
std::string analogy(const io::WordVectors<float>& wv, const std::string& a, const std::string& b, const std::string& c) {
  const auto va = unit_row(wv, wv.vocab.id(a)), vb = unit_row(wv, wv.vocab.id(b)), vc = unit_row(wv, wv.vocab.id(c));
  std::vector<double> target(va.size());
  for (std::size_t i = 0; i < target.size(); ++i) target[i] = vb[i] - va[i] + vc[i];
  return most_similar(wv, target, {a, b, c});
}

}  // namespace

TEST_CASE("tiny_vectors.txt loads as GloVe text with a few hundred words") {
  const auto wv = io::load_glove(kTinyVectors);
  CHECK(wv.size() >= 100);
  CHECK(wv.size() <= 300);
  CHECK(wv.dim() >= 16);
  CHECK(wv.dim() <= 32);
  for (const char* w : {"king", "queen", "man", "woman", "prince", "princess", "boy", "girl", "paris", "france",
                        "berlin", "germany", "rome", "italy", "good", "great", "bad", "terrible", "优", "良", "差"})
    CHECK(wv.vocab.contains(w));
}

TEST_CASE("tiny_vectors.txt: king - man + woman is nearest queen and paris - france + germany is nearest berlin") {
  const auto wv = io::load_glove(kTinyVectors);
  CHECK(analogy(wv, "man", "king", "woman") == "queen");
  CHECK(analogy(wv, "france", "paris", "germany") == "berlin");
  CHECK(analogy(wv, "man", "woman", "boy") == "girl");
  CHECK(analogy(wv, "italy", "rome", "spain") == "madrid");
  CHECK(analogy(wv, "dog", "puppy", "cat") == "kitten");
}

TEST_CASE("tiny_vectors.txt: nearest neighbours share meaning and sentiment") {
  const auto wv = io::load_glove(kTinyVectors);
  const auto sim = [&](const char* a, const char* b) {
    return cosine(unit_row(wv, wv.vocab.id(a)), unit_row(wv, wv.vocab.id(b)));
  };
  CHECK(sim("good", "great") > 0.8);
  CHECK(sim("good", "great") > sim("good", "bad") + 0.5);
  CHECK(sim("优", "良") > sim("优", "差") + 0.5);
  CHECK(sim("terrible", "awful") > sim("terrible", "wonderful") + 0.5);
  CHECK(most_similar(wv, unit_row(wv, wv.vocab.id("king")), {"king"}) == "emperor");
  CHECK(most_similar(wv, unit_row(wv, wv.vocab.id("monday")), {"monday"}) == "sunday");
}

}  // namespace tiny_vectors_test
