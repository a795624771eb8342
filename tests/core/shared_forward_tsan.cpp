// SPDX-License-Identifier: MIT
// Built with -fsanitize=thread by ctest: eight threads run forwards with grad mode on through one shared
// model (Embedding, EmbeddingBag, Linear, a loss), recording graphs they never run backward on. The
// contract in docs/api.md allows this; ThreadSanitizer must report nothing (hardening issue, D6: the
// leaves' accumulators were created lazily by the first forward, racing).
#include <cstdio>
#include <thread>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;

int main() {
  tg::manual_seed(0);
  tg::nn::Embedding<float> emb(tg::nn::EmbeddingOptions(100, 8));
  tg::nn::EmbeddingBag<float> bag(tg::nn::EmbeddingBagOptions(100, 8));
  tg::nn::Linear<float> fc(tg::nn::LinearOptions(8, 3));
  std::vector<double> losses(8, 0.0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      tg::Generator gen(static_cast<std::uint64_t>(t));
      for (int i = 0; i < 100; ++i) {
        const auto ids = tg::randint<std::int64_t>(0, 100, {4, 5}, gen);
        const auto y = fc(tg::mean(emb(ids), {1})) + fc(bag(ids));
        losses[static_cast<std::size_t>(t)] += tg::cross_entropy(y, tg::randint<std::int64_t>(0, 3, {4}, gen)).item();
      }
    });
  for (auto& thread : threads) thread.join();
  std::printf("shared_forward_tsan: 8 threads x 100 forwards, loss of thread 0 %.4f\n", losses[0] / 100);
  return 0;
}
