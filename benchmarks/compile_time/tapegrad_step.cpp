// SPDX-License-Identifier: MIT
// Compile-time probe: the whole library, training the end-to-end model (Embedding(10000, 64) ->
// mean over 16 tokens -> Linear(64, 2) -> cross_entropy -> SGD). compile_time.sh times this file
// against eigen_gemm.cpp; the build also links it, so it cannot rot.
#include <tapegrad/tapegrad.hpp>

#include <cstdio>

namespace tg = tapegrad;

int main() {
  tg::manual_seed(0);
  tg::nn::Embedding<float> emb(tg::nn::EmbeddingOptions(10000, 64));
  tg::nn::Linear<float> fc(64, 2);
  std::vector<tg::Tensor<float>> params = emb.parameters();
  for (auto& p : fc.parameters()) params.push_back(p);
  tg::optim::SGD<float> opt(params, tg::optim::SGDOptions(0.1));
  const auto idx = tg::randint(0, 10000, {32, 16});
  const auto labels = tg::randint(0, 2, {32});
  float loss_value = 0;
  for (int step = 0; step < 10; ++step) {
    opt.zero_grad();
    auto h = tg::mean(emb(idx), {1});
    auto loss = tg::cross_entropy(fc(h), labels);
    loss.backward();
    opt.step();
    loss_value = loss.item();
  }
  std::printf("loss after 10 steps: %f\n", static_cast<double>(loss_value));
  return 0;
}
