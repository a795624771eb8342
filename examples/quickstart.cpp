// SPDX-License-Identifier: MIT
// Quick start (the README's example): an Embedding -> Linear model learns which words are positive.
// [snippet]
#include <tapegrad/tapegrad.hpp>
#include <cstdio>
namespace tg = tapegrad;

int main() {
  tg::manual_seed(0);                   // same seed, same calls: the numbers PyTorch 1.13 prints
  tg::nn::Embedding<float> emb(3, 4);   // word id -> 4-d vector
  tg::nn::Linear<float> fc(4, 2);       // 4-d vector -> scores for {negative, positive}
  auto words = tg::tensor<std::int64_t>({0, 1, 2});   // 优 (excellent), 良 (good), 差 (poor)
  auto labels = tg::tensor<std::int64_t>({1, 1, 0});  // 1 = positive, 0 = negative
  tg::optim::Adam<float> opt({emb.weight, fc.weight, fc.bias}, tg::optim::AdamOptions(0.05));
  for (int step = 0; step <= 40; ++step) {
    auto loss = tg::cross_entropy(fc(emb(words)), labels);
    if (step % 10 == 0) std::printf("step %2d  loss %.4f\n", step, loss.item());
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  std::printf("predicted: %s\n", tg::to_string(fc(emb(words)).argmax(1)).c_str());  // methods as in libtorch
}
// [/snippet]
