// SPDX-License-Identifier: MIT
// Embedding versus Linear: a bias-free Linear applied to one-hot vectors computes exactly what an
// Embedding lookup computes (outputs and gradients), and a timing at a realistic vocabulary size
// shows why the lookup (a gather of rows) is the one to use.
// Usage: embedding_vs_linear [--quick]   (--quick: a small vocabulary, for ctest)
#include <tapegrad/tapegrad.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <limits>
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

float max_abs_diff(const tg::Tensor<float>& a, const tg::Tensor<float>& b) {
  return (a.flat() - b.flat()).abs().maxCoeff();
}

// The fastest of `reps` runs of f, in seconds: the least disturbed by whatever else the machine does.
template <class F>
double min_seconds(int reps, F&& f) {
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

void same_computation() {
  std::cout << "== One-hot times a bias-free Linear equals an Embedding lookup\n";
  // [snippet equivalence]
  tg::manual_seed(1);
  nn::Embedding<float> emb(3, 5);                             // weight W: [3, 5]
  nn::Linear<float> lin(nn::LinearOptions(3, 5).bias(false));  // weight: [out, in] = [5, 3]
  lin.weight = emb.weight.t();                                 // so the Linear holds Wᵀ

  auto ids = tg::tensor<std::int64_t>({0, 2, 1, 2});
  auto one_hot = tg::one_hot<float>(ids, 3);  // [4, 3]: row i is 1 at column ids[i]
  auto by_lookup = emb(ids);                  // rows of W: [4, 5]
  auto by_matmul = lin(one_hot);              // one_hot · W: [4, 5]
  // [/snippet equivalence]
  std::cout << "ids = " << ids << "\none_hot(ids) =\n" << one_hot << "\n";
  std::cout << "emb(ids) =\n" << by_lookup << "\nlin(one_hot(ids)) =\n" << by_matmul << "\n";
  std::cout << "max |difference| of the outputs: " << max_abs_diff(by_lookup, by_matmul) << "\n";
  check(max_abs_diff(by_lookup, by_matmul) == 0, "the outputs are identical");

  // [snippet gradients]
  auto upstream = tg::randn<float>({4, 5});  // any gradient arriving from the layers above
  by_lookup.backward(upstream);
  by_matmul.backward(upstream);
  auto emb_grad = emb.weight.grad();       // [3, 5]: row k sums the upstream rows where ids == k
  auto lin_grad = lin.weight.grad().t();   // [5, 3] transposed back to [3, 5]
  // [/snippet gradients]
  std::cout << "\nemb.weight.grad() =\n" << emb_grad << "\nlin.weight.grad().t() =\n" << lin_grad << "\n";
  std::cout << "max |difference| of the gradients: " << max_abs_diff(emb_grad, lin_grad) << "\n";
  check(max_abs_diff(emb_grad, lin_grad) < 1e-6f, "the gradients are identical");
}

void timing(bool quick) {
  const std::int64_t vocab = quick ? 5000 : 50000, dim = 128, batch = quick ? 128 : 256;
  const int reps = 3;
  std::cout << "\n== Timing: vocabulary " << vocab << ", dimension " << dim << ", a batch of " << batch
            << " ids (min of " << reps << " runs)\n";
  tg::manual_seed(0);
  nn::Embedding<float> emb(vocab, dim);
  nn::Linear<float> lin(nn::LinearOptions(vocab, dim).bias(false));
  lin.weight = emb.weight.t();
  auto ids = tg::randint(0, vocab, {batch});

  // [snippet timing]
  // Inference: the lookup copies batch x dim numbers; the one-hot product multiplies a
  // [batch, vocab] matrix of zeros and ones by a [vocab, dim] one: batch x vocab x dim multiply-adds.
  const double lookup_infer = min_seconds(reps, [&] {
    tg::NoGradGuard no_grad;
    emb(ids);
  });
  const double matmul_infer = min_seconds(reps, [&] {
    tg::NoGradGuard no_grad;
    lin(tg::one_hot<float>(ids, vocab));
  });
  // Training: forward, backward into a dense [vocab, dim] weight gradient, as an optimiser needs it.
  const double lookup_train = min_seconds(reps, [&] {
    emb.zero_grad();
    tg::sum(emb(ids)).backward();
  });
  const double matmul_train = min_seconds(reps, [&] {
    lin.zero_grad();
    tg::sum(lin(tg::one_hot<float>(ids, vocab))).backward();
  });
  // [/snippet timing]
  // Most of the lookup's training time is clearing and filling the dense [vocab, dim] gradient;
  // with sparse=true the gradient holds only the rows looked up.
  auto sparse_emb = nn::Embedding<float>::from_pretrained(
      emb.weight, nn::EmbeddingFromPretrainedOptions().freeze(false).sparse(true));
  const double sparse_train = min_seconds(reps, [&] {
    sparse_emb.zero_grad(/*set_to_none=*/true);
    tg::sum(sparse_emb(ids)).backward();
  });
  std::printf("the one-hot product does %.3g multiply-adds per forward; all but 1 in %lld multiply by zero\n",
              static_cast<double>(batch) * static_cast<double>(vocab) * static_cast<double>(dim),
              static_cast<long long>(vocab));
  std::printf("%-10s %14s %16s %8s\n", "", "lookup", "one-hot Linear", "ratio");
  std::printf("%-10s %11.3f ms %13.3f ms %7.0fx\n", "inference", lookup_infer * 1e3, matmul_infer * 1e3,
              matmul_infer / lookup_infer);
  std::printf("%-10s %11.3f ms %13.3f ms %7.0fx\n", "training", lookup_train * 1e3, matmul_train * 1e3,
              matmul_train / lookup_train);
  std::printf("training with a sparse gradient (Embedding sparse=true): %.3f ms\n", sparse_train * 1e3);
  check(lookup_infer < matmul_infer && lookup_train < matmul_train, "the lookup is faster");
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  same_computation();
  timing(quick);
  if (failures > 0) return 1;
  std::cout << "\nembedding_vs_linear: all checks passed\n";
  return 0;
}
