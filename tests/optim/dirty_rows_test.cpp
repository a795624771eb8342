// SPDX-License-Identifier: MIT
// A dense embedding gradient remembers which rows its backward wrote (detail::DirtyRows), and
// zero_grad() and SGD then visit only those. Every case below is checked against updates computed
// by hand here, including the ways a gradient can change behind that bookkeeping's back.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "optim_support.hpp"

namespace dirty_rows_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
namespace optim = tapegrad::optim;
using Rows = std::vector<std::int64_t>;
using Values = std::vector<float>;

namespace {

constexpr std::int64_t kRows = 12, kDim = 3;
constexpr float kLr = 0.5f;

nn::Embedding<float> make_embedding(std::int64_t padding_idx = -1) {
  Values w(kRows * kDim);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.25f * static_cast<float>(i) - 1.0f;
  nn::EmbeddingFromPretrainedOptions opts;  // built in place: GCC 12 -O1 misreads a copied std::optional
  opts.freeze(false);
  if (padding_idx >= 0) opts.padding_idx(padding_idx);
  return nn::Embedding<float>::from_pretrained(tg::tensor<float>(w, {kRows, kDim}), opts);
}

// Distinct non-zero weights for the looked-up rows: sum(emb(idx) * c) has a different gradient per row.
Values coefficients(std::size_t n, float base) {
  Values c(n * kDim);
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = base + 0.5f * static_cast<float>(i);
  return c;
}

tg::Tensor<float> loss_of(nn::Embedding<float>& e, const Rows& idx, const Values& c) {
  const auto n = static_cast<std::int64_t>(idx.size());
  return (e(tg::tensor<std::int64_t>(idx, {n})) * tg::tensor<float>(c, {n, kDim})).sum();
}

// That loss's gradient for the table, by hand: row idx[i] gets c[i, :] (the padding row nothing).
Values scatter(const Rows& idx, const Values& c, std::int64_t padding_idx = -1) {
  Values g(kRows * kDim, 0.0f);
  for (std::size_t i = 0; i < idx.size(); ++i)
    if (idx[i] != padding_idx)
      for (std::int64_t j = 0; j < kDim; ++j)
        g[static_cast<std::size_t>(idx[i] * kDim + j)] += c[i * kDim + static_cast<std::size_t>(j)];
  return g;
}

Values plus(Values a, const Values& b) {
  for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

// SGD's update p + (-lr) * g, element by element.
Values sgd(Values p, const Values& g) {
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = p[i] + -kLr * g[i];
  return p;
}

tg_test::Comparison same(const tg::Tensor<float>& t, const Values& expected) {
  return tg_test::close(t, std::vector<double>(expected.begin(), expected.end()), 1e-6, 1e-6);
}

// The rows the gradient's storage says may be non-zero (sorted), or {-1} when it does not know.
Rows dirty(const tg::Tensor<float>& w) {
  const tg::detail::DirtyRows* t = w.grad().impl()->storage.dirty_rows();
  if (!t || t->overflowed) return {-1};
  Rows r = t->rows;
  std::sort(r.begin(), r.end());
  return r;
}

const Values kZeros(kRows * kDim, 0.0f);

}  // namespace

TEST_CASE("dirty rows: zero_grad/backward/step cycles match hand-computed SGD updates") {
  auto e = make_embedding(/*padding_idx=*/7);
  Values w = e.weight.to_vector();
  optim::SGD<float> opt(e.parameters(), optim::SGDOptions(kLr));
  const std::vector<Rows> batches{{3, 1, 3, 7, 10}, {0, 11, 7}, {5, 5, 5, 2}, {1, 3}};
  for (std::size_t step = 0; step < batches.size(); ++step) {
    CAPTURE(step);
    opt.zero_grad();
    if (step > 0) CHECK(same(e.weight.grad(), kZeros));
    const Values c = coefficients(batches[step].size(), 1.0f + static_cast<float>(step));
    loss_of(e, batches[step], c).backward();
    const Values g = scatter(batches[step], c, 7);
    CHECK(same(e.weight.grad(), g));
    Rows expected_rows = batches[step];
    expected_rows.erase(std::remove(expected_rows.begin(), expected_rows.end(), 7), expected_rows.end());
    std::sort(expected_rows.begin(), expected_rows.end());
    expected_rows.erase(std::unique(expected_rows.begin(), expected_rows.end()), expected_rows.end());
    CHECK(dirty(e.weight) == expected_rows);  // the bookkeeping is in use (else this is the plain path)
    opt.step();
    w = sgd(w, g);
    CHECK(same(e.weight, w));
  }
}

TEST_CASE("dirty rows: two backward passes before a step add up") {
  auto e = make_embedding();
  optim::SGD<float> opt(e.parameters(), optim::SGDOptions(kLr));
  const Values w0 = e.weight.to_vector();
  const Values c1 = coefficients(2, 1.0f), c2 = coefficients(2, -3.0f);
  loss_of(e, {4, 9}, c1).backward();
  loss_of(e, {9, 0}, c2).backward();
  const Values g = plus(scatter({4, 9}, c1), scatter({9, 0}, c2));
  CHECK(dirty(e.weight) == Rows{0, 4, 9});
  opt.step();
  CHECK(same(e.weight, sgd(w0, g)));
}

TEST_CASE("dirty rows: a write through a grad() handle is applied and then zeroed") {
  auto e = make_embedding();
  optim::SGD<float> opt(e.parameters(), optim::SGDOptions(kLr));
  opt.zero_grad();
  const Values w0 = e.weight.to_vector();
  const Values c = coefficients(2, 1.0f);
  loss_of(e, {2, 6}, c).backward();
  tg::Tensor<float> handle = e.weight.grad();
  handle.data()[5 * kDim + 1] = 3.0f;  // row 5: no lookup touched it
  Values g = scatter({2, 6}, c);
  g[5 * kDim + 1] = 3.0f;
  CHECK(dirty(e.weight) == Rows{-1});
  opt.step();
  CHECK(same(e.weight, sgd(w0, g)));
  opt.zero_grad();
  CHECK(same(handle, kZeros));
  // The handle could still hold a pointer: this gradient stays on the full path from now on.
  const Values w1 = e.weight.to_vector();
  const Values c1 = coefficients(1, 5.0f);
  loss_of(e, {2}, c1).backward();
  CHECK(dirty(e.weight) == Rows{-1});
  opt.step();
  CHECK(same(e.weight, sgd(w1, scatter({2}, c1))));
}

TEST_CASE("dirty rows: writes through an Eigen map kept across zero_grad and backward are applied") {
  auto e = make_embedding();
  optim::SGD<float> opt(e.parameters(), optim::SGDOptions(kLr));
  loss_of(e, {0}, coefficients(1, 1.0f)).backward();
  auto map = e.weight.mutable_grad().matrix();  // kept for the whole loop
  Values w = e.weight.to_vector();
  const Values c = coefficients(1, 2.0f);
  for (int step = 0; step < 2; ++step) {
    CAPTURE(step);
    opt.zero_grad();
    CHECK(same(e.weight.grad(), kZeros));
    loss_of(e, {1}, c).backward();
    map(5, 0) += 2.0f;  // row 5: no lookup writes it
    Values g = scatter({1}, c);
    g[5 * kDim] = 2.0f;
    opt.step();
    w = sgd(w, g);
    CHECK(same(e.weight, w));
  }
}

TEST_CASE("dirty rows: a write through a reference to the grad slot taken before is applied") {
  auto e = make_embedding();
  optim::SGD<float> opt(e.parameters(), optim::SGDOptions(kLr));
  loss_of(e, {1}, coefficients(1, 1.0f)).backward();
  tg::Tensor<float>& slot = e.weight.mutable_grad();  // kept across the next zero_grad and backward
  opt.zero_grad();
  const Values w0 = e.weight.to_vector();
  const Values c = coefficients(1, 2.0f);
  loss_of(e, {8}, c).backward();
  slot.data()[0] = -1.0f;  // row 0
  Values g = scatter({8}, c);
  g[0] = -1.0f;
  opt.step();
  CHECK(same(e.weight, sgd(w0, g)));
  e.zero_grad();  // the module's zero_grad shares the optimiser's
  CHECK(same(e.weight.grad(), kZeros));
}

TEST_CASE("dirty rows: two parameters sharing one gradient storage") {
  auto a = make_embedding(), b = make_embedding();
  std::vector<tg::Tensor<float>> params = a.parameters();
  for (auto& p : b.parameters()) params.push_back(p);
  optim::SGD<float> opt(params, optim::SGDOptions(kLr));
  loss_of(a, {0}, coefficients(1, 1.0f)).backward();
  b.weight.mutable_grad() = a.weight.grad();  // one gradient for both
  opt.zero_grad();
  const Values w0 = a.weight.to_vector();
  const Values c = coefficients(3, 1.0f);
  loss_of(b, {3, 10, 3}, c).backward();  // through b only; a's grad() is the same storage
  const Values g = scatter({3, 10, 3}, c);
  CHECK(same(a.weight.grad(), g));
  opt.step();
  CHECK(same(a.weight, sgd(w0, g)));
  CHECK(same(b.weight, sgd(w0, g)));
}

TEST_CASE("dirty rows: a table also used densely (weight tying) gets the whole gradient") {
  auto e = make_embedding();
  optim::SGD<float> opt(e.parameters(), optim::SGDOptions(kLr));
  Values m(kRows * kDim);
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = 0.125f * static_cast<float>(i % 5) - 0.25f;
  const tg::Tensor<float> mt = tg::tensor<float>(m, {kRows, kDim});
  const Values w0 = e.weight.to_vector();
  const Values c = coefficients(2, 1.0f);
  SECTION("lookup first in the loss") {
    opt.zero_grad();
    (loss_of(e, {4, 4}, c) + (e.weight * mt).sum()).backward();
  }
  SECTION("dense use first in the loss") {
    opt.zero_grad();
    ((e.weight * mt).sum() + loss_of(e, {4, 4}, c)).backward();
  }
  const Values g = plus(scatter({4, 4}, c), m);
  CHECK(same(e.weight.grad(), g));
  opt.step();
  CHECK(same(e.weight, sgd(w0, g)));
  opt.zero_grad();
  CHECK(same(e.weight.grad(), kZeros));
}

TEST_CASE("dirty rows: more than a quarter of the rows falls back to the full pass") {
  auto e = make_embedding();
  optim::SGD<float> opt(e.parameters(), optim::SGDOptions(kLr));
  opt.zero_grad();
  const Values w0 = e.weight.to_vector();
  const Rows idx{0, 2, 4, 6, 8};  // 5 of 12 rows
  const Values c = coefficients(idx.size(), 1.0f);
  loss_of(e, idx, c).backward();
  CHECK(dirty(e.weight) == Rows{-1});
  opt.step();
  CHECK(same(e.weight, sgd(w0, scatter(idx, c))));
  opt.zero_grad();
  CHECK(same(e.weight.grad(), kZeros));
  loss_of(e, {1}, coefficients(1, 1.0f)).backward();  // listed again: zero_grad cleared everything
  CHECK(dirty(e.weight) == Rows{1});
}

TEST_CASE("dirty rows: set_to_none, then a fresh gradient") {
  auto e = make_embedding();
  optim::SGD<float> opt(e.parameters(), optim::SGDOptions(kLr));
  loss_of(e, {1, 2}, coefficients(2, 1.0f)).backward();
  opt.zero_grad(/*set_to_none=*/true);
  CHECK_FALSE(e.weight.grad().defined());
  const Values w0 = e.weight.to_vector();
  const Values c = coefficients(1, 4.0f);
  loss_of(e, {11}, c).backward();
  CHECK(dirty(e.weight) == Rows{11});
  CHECK(same(e.weight.grad(), scatter({11}, c)));
  opt.step();
  CHECK(same(e.weight, sgd(w0, scatter({11}, c))));
}

TEST_CASE("dirty rows: zeroing rows in place keeps a value saved for backward intact") {
  auto e = make_embedding();
  optim::SGD<float> opt(e.parameters(), optim::SGDOptions(kLr));
  opt.zero_grad();
  const Values c = coefficients(1, 2.0f);
  loss_of(e, {6}, c).backward();
  const Values g = scatter({6}, c);
  // A graph that saved the gradient's elements: y = sum(grad * x), so dy/dx is the gradient as it was.
  auto x = tg::ones<float>({kRows, kDim}, true);
  auto y = (e.weight.grad() * x).sum();
  opt.zero_grad();
  CHECK(same(e.weight.grad(), kZeros));
  y.backward();
  CHECK(same(x.grad(), g));
}

TEST_CASE("dirty rows: SGD with momentum or weight decay still moves every row") {
  auto e = make_embedding();
  optim::SGD<float> opt(e.parameters(), optim::SGDOptions(kLr).weight_decay(0.5));
  opt.zero_grad();
  const Values w0 = e.weight.to_vector();
  const Values c = coefficients(1, 1.0f);
  loss_of(e, {3}, c).backward();
  opt.step();
  // d = g + 0.5 p; p - lr * d
  const Values g = scatter({3}, c);
  Values expected = w0;
  for (std::size_t i = 0; i < w0.size(); ++i) expected[i] = w0[i] + -kLr * (g[i] + 0.5f * w0[i]);
  CHECK(same(e.weight, expected));
}

TEST_CASE("dirty rows: EmbeddingBag (mean, dense gradient) is tracked the same way") {
  Values w0(kRows * kDim);
  for (std::size_t i = 0; i < w0.size(); ++i) w0[i] = 0.5f - 0.125f * static_cast<float>(i);
  auto bag = nn::EmbeddingBag<float>::from_pretrained(
      tg::tensor<float>(w0, {kRows, kDim}),
      nn::EmbeddingBagFromPretrainedOptions().freeze(false).mode(nn::EmbeddingBagMode::Mean));
  optim::SGD<float> opt(bag.parameters(), optim::SGDOptions(kLr));
  opt.zero_grad();
  // Bags {9, 2, 9} and {4}; loss = sum(out * c): row k gets c[bag] / len(bag) per occurrence.
  const Rows idx{9, 2, 9, 4};
  const Values c = coefficients(2, 1.0f);
  auto out = bag(tg::tensor<std::int64_t>(idx, {4}), tg::tensor<std::int64_t>({0, 3}, {2}));
  (out * tg::tensor<float>(c, {2, kDim})).sum().backward();
  Values g(kRows * kDim, 0.0f);
  for (std::int64_t j = 0; j < kDim; ++j) {
    const auto cj = static_cast<std::size_t>(j);
    g[static_cast<std::size_t>(9 * kDim + j)] += c[cj] / 3.0f + c[cj] / 3.0f;
    g[static_cast<std::size_t>(2 * kDim + j)] += c[cj] / 3.0f;
    g[static_cast<std::size_t>(4 * kDim + j)] += c[kDim + cj];
  }
  CHECK(same(bag.weight.grad(), g));
  CHECK(dirty(bag.weight) == Rows{2, 4, 9});
  opt.step();
  CHECK(same(bag.weight, sgd(w0, g)));
  opt.zero_grad();
  CHECK(same(bag.weight.grad(), kZeros));
}

}  // namespace dirty_rows_test
